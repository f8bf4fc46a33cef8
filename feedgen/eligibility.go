package feedgen

import (
	"feedgen/internal/msg"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Reason codes, stable for reports and scripts.
const (
	ReasonNotPublic   = "not_public"
	ReasonNotOnSale   = "not_on_sale"
	ReasonExcludedTag = "excluded_tag"
	ReasonInvalid     = "invalid"
)

// Reason says why a product is left out of the catalog, in terms of the
// export's own cells so that a merchant can find and fix them.
type Reason struct {
	Code    string `json:"code"`
	Column  string `json:"column,omitempty"`
	Row     int    `json:"row,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

func (r Reason) String() string { return r.Text(msg.English) }

// Text is the reason with its cell, in l; the message is in the language
// it was made in, the run's.
func (r Reason) Text(l msg.Lang) string {
	if r.Row == 0 {
		return r.Message
	}
	if r.Column != "" {
		for _, col := range []string{" (" + r.Column + ")", "（" + r.Column + "）"} {
			if m, ok := strings.CutSuffix(r.Message, col); ok {
				return l.T("%s (%s, row %d)", m, r.Column, r.Row)
			}
		}
	}
	return l.T("%s (row %d)", r.Message, r.Row)
}

// rules evaluates the platform's three eligibility rules: public, on sale
// at the evaluation time, and not carrying an excluded tag.
type rules struct {
	cols        Columns
	public      map[string]bool
	onSale      map[string]bool
	offSale     map[string]bool
	excludeTags map[string]string // normalised tag -> tag as configured
	loc         *time.Location
	date1904    bool
	lang        msg.Lang // of the reasons' messages
}

func newRules(cfg *Config, date1904 bool) *rules {
	set := func(vals []string) map[string]bool {
		m := make(map[string]bool, len(vals))
		for _, v := range vals {
			m[normalizeText(v)] = true
		}
		return m
	}
	r := &rules{
		cols:        cfg.Columns,
		public:      set(cfg.Rules.PublicValues),
		onSale:      set(cfg.Rules.OnSaleValues),
		offSale:     set(cfg.Rules.OffSaleValues),
		excludeTags: make(map[string]string, len(cfg.Rules.ExcludeTags)),
		loc:         cfg.Location(),
		lang:        cfg.Language,
		date1904:    date1904,
	}
	for _, t := range append(slices.Clip(platformExcludeTags), cfg.Rules.ExcludeTags...) {
		if _, dup := r.excludeTags[normalizeText(t)]; !dup {
			r.excludeTags[normalizeText(t)] = t
		}
	}
	return r
}

// platformExcludeTags keep a product out of the platform's own catalog,
// so they always apply: a config's exclude_tags adds to them. A merchant
// who wrote exclude_tags = ["贈品"] would otherwise lose the other rule.
var platformExcludeTags = []string{"贈品", "排除product feed"}

// check returns every reason p is not eligible at time at; none means it is.
func (r *rules) check(p *Product, at time.Time) []Reason {
	var reasons []Reason
	if !r.public[normalizeText(p.Public)] {
		reasons = append(reasons, Reason{
			Code: ReasonNotPublic, Column: r.cols.Public, Row: p.rowOf(fPublic), Value: p.Public,
			Message: r.lang.T("not public: %s is 「%s」", r.cols.Public, p.Public),
		})
	}
	reasons = append(reasons, r.onSaleAt(p, at)...)
	var found []string
	for _, tag := range splitTags(p.Tags) {
		conf, ok := r.excludeTags[normalizeText(tag)]
		if !ok && strings.ContainsRune(tag, '\u3000') {
			// 「禮盒　贈品」: a full-width space between tags, unless the
			// whole is one tag, as 「排除product　feed」 is.
			for _, t := range strings.Split(tag, "\u3000") {
				if conf, ok = r.excludeTags[normalizeText(t)]; ok {
					tag = strings.TrimSpace(t)
					break
				}
			}
		}
		if ok && !slices.Contains(found, conf) {
			found = append(found, conf)
			reasons = append(reasons, Reason{
				Code: ReasonExcludedTag, Column: r.cols.Tags, Row: p.rowOf(fTags), Value: tag,
				Message: r.lang.T("%s has 「%s」", r.cols.Tags, conf),
			})
		}
	}
	return reasons
}

// onSaleAt applies 已上架: a 上架狀態 column when the export has one, and the
// sale window start <= at < end, where a blank bound is open.
func (r *rules) onSaleAt(p *Product, at time.Time) []Reason {
	var reasons []Reason
	if st := normalizeText(p.Status); st != "" && !r.onSale[st] {
		text := r.lang.T("not on sale: %s is 「%s」", r.cols.Status, p.Status)
		if !r.offSale[st] {
			text = r.lang.T("not on sale: %s is 「%s」, which is not one of the on-sale values (rules.on_sale_values)", r.cols.Status, p.Status)
		}
		reasons = append(reasons, Reason{Code: ReasonNotOnSale, Column: r.cols.Status, Row: p.rowOf(fStatus), Value: p.Status, Message: text})
	}
	start, err := parseShopTime(p.Start, r.loc, r.date1904)
	if err != nil {
		reasons = append(reasons, Reason{Code: ReasonNotOnSale, Column: r.cols.Start, Row: p.rowOf(fStart), Value: p.Start,
			Message: r.lang.T("not on sale: %s 「%s」 is not a date (write it like 2024/11/20 10:00)", r.cols.Start, p.Start)})
	} else if !start.IsZero() && at.Before(start) {
		reasons = append(reasons, Reason{Code: ReasonNotOnSale, Column: r.cols.Start, Row: p.rowOf(fStart), Value: p.Start,
			Message: r.lang.T("not on sale until %s (%s)", start.Format("2006-01-02 15:04"), r.cols.Start)})
	}
	end, err := parseShopTime(p.End, r.loc, r.date1904)
	if err != nil {
		reasons = append(reasons, Reason{Code: ReasonNotOnSale, Column: r.cols.End, Row: p.rowOf(fEnd), Value: p.End,
			Message: r.lang.T("not on sale: %s 「%s」 is not a date (write it like 2024/11/20 10:00)", r.cols.End, p.End)})
	} else if !end.IsZero() && !at.Before(end) {
		reasons = append(reasons, Reason{Code: ReasonNotOnSale, Column: r.cols.End, Row: p.rowOf(fEnd), Value: p.End,
			Message: r.lang.T("sale ended %s (%s)", end.Format("2006-01-02 15:04"), r.cols.End)})
	}
	return reasons
}

// splitTags splits 商品標籤 on commas and semicolons, ASCII and full-width,
// and the enumeration comma 、, as merchants type lists of tags.
func splitTags(s string) []string {
	var tags []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",，、;；", r) }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// meridiem reads Excel's zh-TW 上午/下午 as the layouts' AM/PM.
var meridiem = strings.NewReplacer("上午", " AM ", "下午", " PM ")

// shopTimeLayouts are the text forms of 上架時間 seen in exports and typed by
// merchants; all but RFC 3339 are read in the shop's time zone.
var shopTimeLayouts = []string{
	"2006/1/2 PM 3:04:05", // Excel's zh-TW text form, 上午/下午 read as AM/PM
	"2006/1/2 PM 3:04",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"2006-1-2 PM 3:04:05",
	"2006-1-2 PM 3:04",
	"2006-1-2 15:04:05",
	"2006-1-2 15:04",
	"2006-1-2",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
}

// maxExcelSerial is the day after Excel's last date, 9999-12-31.
const maxExcelSerial = 2958466

// parseShopTime reads a date cell: an Excel serial number (a date-formatted
// cell read raw) or text. Blank is the zero time, meaning no bound.
func parseShopTime(s string, loc *time.Location, date1904 bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if serial, err := strconv.ParseFloat(s, 64); err == nil {
		// NaN, Inf and serials past Excel's last day (9999-12-31) parse as
		// floats but are no date: excelize turns them into nonsense times.
		if !(serial > 0 && serial < maxExcelSerial) {
			return time.Time{}, msg.Errorf("date serial %q is not a date Excel can hold", s)
		}
		t, err := excelize.ExcelDateToTime(serial, date1904)
		if err != nil {
			return time.Time{}, err
		}
		// Round to the second: serials carry float noise (…:59.9999).
		t = t.Round(time.Second)
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	text := s
	if strings.Contains(s, "午") {
		// 上午/下午 as Excel writes them, or typed without spaces around.
		text = strings.Join(strings.Fields(meridiem.Replace(s)), " ")
	}
	text = chineseDate(text)
	for _, layout := range shopTimeLayouts {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, msg.Errorf("unrecognised date %q; write it like 2026/12/31, 2026-12-31 14:00 or 民國115/12/31", s)
}

// dateWordSpace is the space around 年 and 月, and before 日.
var dateWordSpace = regexp.MustCompile(`\s*(年|月)\s*|\s*(日)`)

// chineseDate rewrites the dates merchants type in Taiwan as 2006/1/2:
// 2026年11月1日, 2026.11.1, and 民國 years, 115/11/01 or 民國115年11月1日
// (民國 1 is 1912). A year of three digits is 民國 (100 is 2011); one of
// one or two only after 民國: 26/12/31 may mean 2026 as well as 民國 26
// (1937), so it is left to fail as a date rather than read as either.
func chineseDate(s string) string {
	s, roc := strings.CutPrefix(strings.TrimSpace(s), "民國")
	// 民國 115 年 1 月 2 日, as some type it: the spaces around 年 and 月,
	// and before 日, go; the one after 日 parts the date from the time.
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "年月") {
		s = dateWordSpace.ReplaceAllString(s, "$1$2")
	}
	date, clock, _ := strings.Cut(strings.Replace(s, "日", " ", 1), " ")
	date = strings.NewReplacer("年", "/", "月", "/", ".", "/").Replace(date)
	parts := strings.Split(date, "/")
	if len(parts) != 3 {
		return s
	}
	if y, err := strconv.Atoi(parts[0]); err == nil && y > 0 && (len(parts[0]) == 3 || roc && len(parts[0]) < 3) {
		parts[0] = strconv.Itoa(y + 1911)
	}
	date = strings.Join(parts, "/")
	if clock != "" {
		return date + " " + strings.TrimSpace(clock)
	}
	return date
}

// ParseTime reads an evaluation time given on the command line: RFC 3339,
// or one of the export's date forms in the shop's time zone.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return time.Time{}, msg.Errorf("%q is not a time; write it like 2026-11-25T10:00:00+08:00 or \"2026-11-25 10:00\"", s)
	}
	t, err := parseShopTime(s, loc, false)
	if err != nil || t.IsZero() {
		return time.Time{}, msg.Errorf("%q is not a time; write it like 2026-11-25T10:00:00+08:00 or \"2026-11-25 10:00\"", s)
	}
	return t, nil
}
