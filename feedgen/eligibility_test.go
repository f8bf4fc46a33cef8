package feedgen

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func taipei(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// testRules are the default rules, with cfg changed by edit first.
func testRules(t *testing.T, date1904 bool, edit func(*Config)) *rules {
	t.Helper()
	cfg := DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return newRules(&cfg, date1904)
}

// eligible is a product that passes every rule; tests change one field.
func eligible() *Product {
	return &Product{ID: "1001", Row: 2, Name: "T恤", Public: "是", Tags: "新品"}
}

// show prints reasons with every field, for failure messages.
func show(rs []Reason) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "{%s %s row %d %q %q} ", r.Code, r.Column, r.Row, r.Value, r.Message)
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

func codes(rs []Reason) []string {
	var c []string
	for _, r := range rs {
		c = append(c, r.Code)
	}
	return c
}

func TestRulesPublic(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))
	tests := []struct {
		name   string
		value  string
		extra  []string // added to rules.public_values
		public bool
	}{
		{"是 is public", "是", nil, true},
		{"公開 is public", "公開", nil, true},
		{"white space around 是 is ignored", " 是 ", nil, true},
		{"否 is not public", "否", nil, false},
		{"blank is not public", "", nil, false},
		{"an unknown value is not public", "Y", nil, false},
		{"a configured extra value is public", "Y", []string{"Y"}, true},
		{"a configured extra value matches case-insensitively", "y", []string{"Y"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRules(t, false, func(c *Config) { c.Rules.PublicValues = append(c.Rules.PublicValues, tt.extra...) })
			p := eligible()
			p.Public = tt.value
			got := r.check(p, at)
			if tt.public {
				if len(got) != 0 {
					t.Errorf("check(Public=%q) = %s, want no reasons", tt.value, show(got))
				}
				return
			}
			want := []Reason{{Code: ReasonNotPublic, Column: "商品是否公開", Row: 2, Value: tt.value,
				Message: "not public: 商品是否公開 is 「" + tt.value + "」"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("check(Public=%q) = %s, want %s", tt.value, show(got), show(want))
			}
		})
	}
}

func TestRulesTags(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))
	tests := []struct {
		name    string
		tags    string
		exclude []string // rules.exclude_tags; nil keeps the default
		want    []Reason // Value and Message only
	}{
		{"no tags is eligible", "", nil, nil},
		{"an ordinary tag is eligible", "新品,夏季", nil, nil},
		{"贈品 excludes", "贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"排除product feed excludes, any case and padding", " 排除Product Feed ", nil,
			[]Reason{{Value: "排除Product Feed", Message: "商品標籤 has 「排除product feed」"}}},
		{"full-width letters are the same tag", "排除ｐｒｏｄｕｃｔ ｆｅｅｄ", nil,
			[]Reason{{Value: "排除ｐｒｏｄｕｃｔ ｆｅｅｄ", Message: "商品標籤 has 「排除product feed」"}}},
		{"a full-width comma separates tags", "加購，贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"an ASCII comma separates tags", "新品, 贈品 ,夏季", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"贈品袋 is a different tag", "贈品袋", nil, nil},
		{"a tag containing 贈品 is a different tag", "送贈品", nil, nil},
		{"two excluded tags give two reasons", "贈品,排除product feed", nil, []Reason{
			{Value: "贈品", Message: "商品標籤 has 「贈品」"},
			{Value: "排除product feed", Message: "商品標籤 has 「排除product feed」"},
		}},
		{"a configured exclude tag excludes", "清倉", []string{"清倉"}, []Reason{{Value: "清倉", Message: "商品標籤 has 「清倉」"}}},
		{"configured exclude tags add to the platform's", "贈品、清倉", []string{"清倉"}, []Reason{
			{Value: "贈品", Message: "商品標籤 has 「贈品」"},
			{Value: "清倉", Message: "商品標籤 has 「清倉」"},
		}},
		{"the platform's tags apply with exclude_tags empty", "排除product feed", []string{}, []Reason{{Value: "排除product feed", Message: "商品標籤 has 「排除product feed」"}}},
		{"an enumeration comma separates tags", "禮盒、贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"semicolons separate tags", "禮盒；新品;贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"a full-width space separates tags", "禮盒　贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
		{"a full-width space inside a tag is the tag's", "排除product　feed", nil, []Reason{{Value: "排除product　feed", Message: "商品標籤 has 「排除product feed」"}}},
		{"a tag twice is one reason", "贈品,贈品", nil, []Reason{{Value: "贈品", Message: "商品標籤 has 「贈品」"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRules(t, false, func(c *Config) {
				if tt.exclude != nil {
					c.Rules.ExcludeTags = tt.exclude
				}
			})
			p := eligible()
			p.Tags = tt.tags
			var want []Reason
			for _, w := range tt.want {
				w.Code, w.Column, w.Row = ReasonExcludedTag, "商品標籤", 2
				want = append(want, w)
			}
			if got := r.check(p, at); !reflect.DeepEqual(got, want) {
				t.Errorf("check(Tags=%q) = %s, want %s", tt.tags, show(got), show(want))
			}
		})
	}
}

func TestRulesSplitTags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ，", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{"a，b", []string{"a", "b"}},
		{" a , ,b ，c ", []string{"a", "b", "c"}},
		{"a、b；c;d", []string{"a", "b", "c", "d"}},
		{"排除product feed", []string{"排除product feed"}},
	}
	for _, tt := range tests {
		if got := splitTags(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitTags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRulesSaleWindow(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))
	const (
		startCol = "商品上架時間"
		endCol   = "商品下架時間"
	)
	tests := []struct {
		name       string
		start, end string
		want       []Reason // Code and Row are filled in
	}{
		{"blank bounds are open: always on sale", "", "", nil},
		{"start == at is on sale", "2026/11/25 10:00", "", nil},
		{"start one second after at is not yet on sale", "2026/11/25 10:00:01", "",
			[]Reason{{Column: startCol, Value: "2026/11/25 10:00:01", Message: "not on sale until 2026-11-25 10:00 (商品上架時間)"}}},
		{"start a day after at is not yet on sale", "2026/11/26", "",
			[]Reason{{Column: startCol, Value: "2026/11/26", Message: "not on sale until 2026-11-26 00:00 (商品上架時間)"}}},
		{"end == at is off sale", "", "2026/11/25 10:00",
			[]Reason{{Column: endCol, Value: "2026/11/25 10:00", Message: "sale ended 2026-11-25 10:00 (商品下架時間)"}}},
		{"end one second after at is on sale", "", "2026/11/25 10:00:01", nil},
		{"inside the window is on sale", "2026/11/01", "2026/12/01", nil},
		{"start after end is never on sale", "2026/12/01", "2026/11/01", []Reason{
			{Column: startCol, Value: "2026/12/01", Message: "not on sale until 2026-12-01 00:00 (商品上架時間)"},
			{Column: endCol, Value: "2026/11/01", Message: "sale ended 2026-11-01 00:00 (商品下架時間)"},
		}},
		{"an unparseable start is not on sale, naming the column", "tomorrow", "",
			[]Reason{{Column: startCol, Value: "tomorrow", Message: "not on sale: 商品上架時間 「tomorrow」 is not a date (write it like 2024/11/20 10:00)"}}},
		{"an unparseable end is not on sale, naming the column", "", "2026/13/01",
			[]Reason{{Column: endCol, Value: "2026/13/01", Message: "not on sale: 商品下架時間 「2026/13/01」 is not a date (write it like 2024/11/20 10:00)"}}},
		{"NaN is not a date serial", "NaN", "",
			[]Reason{{Column: startCol, Value: "NaN", Message: "not on sale: 商品上架時間 「NaN」 is not a date (write it like 2024/11/20 10:00)"}}},
		{"Inf is not a date serial", "", "Inf",
			[]Reason{{Column: endCol, Value: "Inf", Message: "not on sale: 商品下架時間 「Inf」 is not a date (write it like 2024/11/20 10:00)"}}},
		{"an Excel serial start in the past is on sale", "46000", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRules(t, false, nil)
			p := eligible()
			p.Start, p.End = tt.start, tt.end
			var want []Reason
			for _, w := range tt.want {
				w.Code, w.Row = ReasonNotOnSale, 2
				want = append(want, w)
			}
			if got := r.check(p, at); !reflect.DeepEqual(got, want) {
				t.Errorf("check(Start=%q, End=%q) = %s, want %s", tt.start, tt.end, show(got), show(want))
			}
		})
	}
}

func TestRulesStatus(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))
	tests := []struct {
		name, status, message string // message "" means on sale
	}{
		{"blank status leaves it to the dates", "", ""},
		{"已上架 is on sale", "已上架", ""},
		{"已上架 with padding is on sale", " 已上架 ", ""},
		{"未上架 is not on sale", "未上架", "not on sale: 上架狀態 is 「未上架」"},
		{"已下架 is not on sale", "已下架", "not on sale: 上架狀態 is 「已下架」"},
		{"an unknown value is not on sale and says which values are", "審核中",
			"not on sale: 上架狀態 is 「審核中」, which is not one of the on-sale values (rules.on_sale_values)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := eligible()
			p.Status = tt.status
			var want []Reason
			if tt.message != "" {
				want = []Reason{{Code: ReasonNotOnSale, Column: "上架狀態", Row: 2, Value: tt.status, Message: tt.message}}
			}
			if got := testRules(t, false, nil).check(p, at); !reflect.DeepEqual(got, want) {
				t.Errorf("check(Status=%q) = %s, want %s", tt.status, show(got), show(want))
			}
		})
	}

	t.Run("status 已上架 does not override a sale window that has ended", func(t *testing.T) {
		p := eligible()
		p.Status, p.End = "已上架", "2026/11/01"
		if got := codes(testRules(t, false, nil).check(p, at)); !reflect.DeepEqual(got, []string{ReasonNotOnSale}) {
			t.Errorf("check(Status=已上架, End=2026/11/01) codes = %q, want [not_on_sale]", got)
		}
	})
}

func TestRulesSeveralReasons(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))
	t.Run("every reason is kept, in rule order", func(t *testing.T) {
		p := eligible()
		p.Public, p.Start, p.End, p.Tags, p.Status = "否", "2026/12/01", "2026/11/01", "贈品,排除product feed", "未上架"
		got := codes(testRules(t, false, nil).check(p, at))
		want := []string{ReasonNotPublic, ReasonNotOnSale, ReasonNotOnSale, ReasonNotOnSale, ReasonExcludedTag, ReasonExcludedTag}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("codes = %q, want %q", got, want)
		}
	})

	t.Run("a reason points at the row its value came from", func(t *testing.T) {
		first := product("1001", "5001", "T恤")
		delete(first, "商品是否公開")
		delete(first, "商品標籤")
		second := variant("1001", "5002", "100")
		second["商品是否公開"] = "否"
		third := variant("1001", "5003", "100")
		third["商品標籤"] = "贈品"
		third["商品上架時間"] = "someday"
		ex := mustRead(t, sheet(testHeaders, first, second, third))
		got := testRules(t, false, nil).check(ex.Products[0], at)
		var rows []string
		for _, r := range got {
			rows = append(rows, r.Code+"@"+r.Column+"@"+strconv.Itoa(r.Row))
		}
		want := []string{"not_public@商品是否公開@3", "not_on_sale@商品上架時間@4", "excluded_tag@商品標籤@4"}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("reasons = %q, want %q", rows, want)
		}
	})

	t.Run("a blank value's reason points at the product's first row", func(t *testing.T) {
		first := product("1001", "5001", "T恤")
		delete(first, "商品是否公開")
		ex := mustRead(t, sheet(testHeaders, first, variant("1001", "5002", "1")))
		got := testRules(t, false, nil).check(ex.Products[0], at)
		if len(got) != 1 || got[0].Row != 2 || got[0].Code != ReasonNotPublic {
			t.Errorf("check = %s, want one not_public reason on row 2", show(got))
		}
	})
}

func TestEligibilityParseShopTime(t *testing.T) {
	loc := taipei(t)
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time { return time.Date(y, mo, d, h, mi, s, 0, loc) }
	tests := []struct {
		name     string
		in       string
		date1904 bool
		want     time.Time
	}{
		{"blank is no bound", "", false, time.Time{}},
		{"white space is no bound", "  ", false, time.Time{}},
		{"slashes with seconds", "2026/11/25 10:00:05", false, at(2026, 11, 25, 10, 0, 5)},
		{"slashes with minutes", "2026/11/25 10:00", false, at(2026, 11, 25, 10, 0, 0)},
		{"slashes, date only", "2026/11/25", false, at(2026, 11, 25, 0, 0, 0)},
		{"slashes without leading zeros", "2026/1/5 9:05", false, at(2026, 1, 5, 9, 5, 0)},
		{"dashes with seconds", "2026-11-25 10:00:05", false, at(2026, 11, 25, 10, 0, 5)},
		{"dashes with minutes", "2026-11-25 10:00", false, at(2026, 11, 25, 10, 0, 0)},
		{"dashes, date only", "2026-11-25", false, at(2026, 11, 25, 0, 0, 0)},
		{"ISO T with seconds, shop zone", "2026-11-25T10:00:05", false, at(2026, 11, 25, 10, 0, 5)},
		{"ISO T with minutes, shop zone", "2026-11-25T10:00", false, at(2026, 11, 25, 10, 0, 0)},
		{"padded text", " 2026/11/25 10:00 ", false, at(2026, 11, 25, 10, 0, 0)},
		{"民國 year", "115/11/01", false, at(2026, 11, 1, 0, 0, 0)},
		{"民國 year with a time", "115/11/01 10:30", false, at(2026, 11, 1, 10, 30, 0)},
		{"民國 year in words", "民國115年11月1日", false, at(2026, 11, 1, 0, 0, 0)},
		{"年月日", "2026年11月1日", false, at(2026, 11, 1, 0, 0, 0)},
		{"年月日 with a time", "2026年11月1日 10:00", false, at(2026, 11, 1, 10, 0, 0)},
		{"年月日 with a time, no space", "2026年11月1日10:00", false, at(2026, 11, 1, 10, 0, 0)},
		{"年月日, Excel's 下午", "2026年11月1日 下午 2:00", false, at(2026, 11, 1, 14, 0, 0)},
		{"dots", "2026.11.1", false, at(2026, 11, 1, 0, 0, 0)},
		{"dots with a time", "2026.11.01 09:00", false, at(2026, 11, 1, 9, 0, 0)},
		{"Excel zh-TW text, afternoon", "2024/11/20 下午 02:00:00", false, at(2024, 11, 20, 14, 0, 0)},
		{"Excel zh-TW text, morning", "2024/11/20 上午 9:30", false, at(2024, 11, 20, 9, 30, 0)},
		{"Excel zh-TW text, noon", "2024/11/20 下午 12:00:00", false, at(2024, 11, 20, 12, 0, 0)},
		{"下午 typed without spaces", "2024/11/20下午2:00", false, at(2024, 11, 20, 14, 0, 0)},
		{"上午 typed after 日", "2026年11月1日上午9:30", false, at(2026, 11, 1, 9, 30, 0)},
		{"民國 with a two-digit year", "民國99/12/31", false, at(2010, 12, 31, 0, 0, 0)},
		{"民國 in words with spaces", "民國 115 年 1 月 2 日 10:00", false, at(2026, 1, 2, 10, 0, 0)},
		{"dashes with 上午", "2026-11-20 上午 10:00", false, at(2026, 11, 20, 10, 0, 0)},
		{"dashes with 下午 and seconds", "2026-11-20 下午 2:30:15", false, at(2026, 11, 20, 14, 30, 15)},
		{"RFC 3339 keeps its own offset", "2026-11-25T02:00:00Z", false, at(2026, 11, 25, 10, 0, 0)},
		{"RFC 3339 with offset", "2026-11-25T10:00:00+08:00", false, at(2026, 11, 25, 10, 0, 0)},
		{"Excel serial, 1900 system", "46000", false, at(2025, 12, 9, 0, 0, 0)},
		{"Excel serial with a time, 1900 system", "46000.5", false, at(2025, 12, 9, 12, 0, 0)},
		{"Excel serial, 1904 system", "46000", true, at(2029, 12, 10, 0, 0, 0)},
		{"Excel serial with a time, 1904 system", "46000.75", true, at(2029, 12, 10, 18, 0, 0)},
		{"float noise just below midnight rounds to the second", "46000.99999999", false, at(2025, 12, 10, 0, 0, 0)},
		{"float noise just below 06:00 rounds to the second", "46000.2499999999", false, at(2025, 12, 9, 6, 0, 0)},
		{"float noise just above 06:00 rounds to the second", "46000.2500000001", false, at(2025, 12, 9, 6, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseShopTime(tt.in, loc, tt.date1904)
			if err != nil {
				t.Fatalf("parseShopTime(%q) error: %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
				t.Errorf("parseShopTime(%q, 1904=%v) = %v, want %v", tt.in, tt.date1904, got, tt.want)
			}
		})
	}

	t.Run("text and serials are read in the shop's zone", func(t *testing.T) {
		for _, in := range []string{"2026/11/25 10:00", "46000"} {
			got, err := parseShopTime(in, loc, false)
			if err != nil || got.Location() != loc {
				t.Errorf("parseShopTime(%q) = %v, %v; want a time in %v", in, got, err, loc)
			}
		}
	})

	for _, in := range []string{"tomorrow", "2026/13/01", "2026-11-25 25:00", "25/11/2026", "0", "-1", "NaN", "Inf", "-Inf", "1e300", "99999999", "2026年13月1日", "115/02/30", "1/2/2026", "民國", "年月日",
		"26/12/31", "26.12.31"} { // 2026 or 民國 26 (1937)? Neither is a guess worth making
		t.Run("rejects "+in, func(t *testing.T) {
			if got, err := parseShopTime(in, loc, false); err == nil {
				t.Errorf("parseShopTime(%q) = %v, want an error", in, got)
			} else if !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Errorf("parseShopTime(%q) error %q does not quote what was typed", in, err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	loc := taipei(t)
	want := time.Date(2026, 11, 25, 10, 0, 0, 0, loc)
	tests := []struct {
		name, in string
	}{
		{"RFC 3339", "2026-11-25T10:00:00+08:00"},
		{"RFC 3339 in UTC", "2026-11-25T02:00:00Z"},
		{"export form in the shop's zone", "2026-11-25 10:00"},
		{"slash form in the shop's zone", "2026/11/25 10:00"},
	}
	for _, tt := range tests {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			got, err := ParseTime(tt.in, loc)
			if err != nil || !got.Equal(want) {
				t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, want)
			}
		})
	}
	for _, in := range []string{"45000", "tomorrow", "", " ", "NaN"} {
		t.Run("rejects "+in, func(t *testing.T) {
			got, err := ParseTime(in, loc)
			if err == nil {
				t.Fatalf("ParseTime(%q) = %v, want an error", in, got)
			}
			if !strings.Contains(err.Error(), "2026-11-25T10:00:00+08:00") {
				t.Errorf("ParseTime(%q) error %q does not show the expected form", in, err)
			}
		})
	}
}

// TestUnreadableDateWarns: a sale date that cannot be read keeps the
// product out and is a warning naming the cell, for the run's summary; a
// date that is read, in the future, is no warning.
func TestUnreadableDateWarns(t *testing.T) {
	cfg := testConfig(t)
	b := newCatalogBuilder(cfg, &Export{}, time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t)))
	p := mappable()
	p.Start, p.End = "下週一", "115/12/31"
	p.rows[fStart] = 7
	cp, excl, warns := b.add(p)
	if cp != nil || excl == nil || len(warns) != 1 || warns[0].Row != 7 || warns[0].Column != cfg.Columns.Start || !strings.Contains(warns[0].Message, "「下週一」 is not a date") {
		t.Errorf("add = %v, %v, %v; want excluded with one warning for row 7, 商品上架時間", cp, excl, warns)
	}
	p.Start = "115/12/01"
	if _, excl, warns := b.add(p); excl == nil || len(warns) != 0 {
		t.Errorf("a start in December: excluded %v, warnings %v; want excluded, no warning", excl, warns)
	}
}
