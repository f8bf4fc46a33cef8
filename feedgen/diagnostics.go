package feedgen

import (
	"encoding/binary"
	"feedgen/internal/msg"
	"strings"
)

// Diagnostic codes: what a channel would flag, cut or read otherwise about
// the items feedgen sends, found before the channel sees them, as Merchant
// Center lists its item issues. A product with a diagnostic is still in the
// catalog. The codes are stable, for scripts reading report.json.
const (
	DiagNoBrand            = "no_brand"
	DiagVariantsAlike      = "variants_alike"
	DiagSharedPage         = "shared_page"
	DiagNoIdentifier       = "no_identifier"
	DiagTitleCut           = "title_cut"
	DiagDescriptionCut     = "description_cut"
	DiagLongDescriptionCut = "long_description_cut"
	DiagValueCut           = "value_cut"
	DiagImageHTTP          = "image_http"
	DiagUnknownValue       = "unknown_value"
	DiagUnsafeHTML         = "unsafe_html"
)

// diagnosticTitles say what each code means and what to do about it, in
// the run's summary, the job summary and the README's table, in the order
// they are listed.
var diagnosticTitles = []struct{ code, title string }{
	{DiagNoBrand, msg.N("no brand: Google wants one for branded goods, your shop's own included, and Meta a brand, GTIN or MPN; fill 商品廠商, or set brand in the config")},
	{DiagVariantsAlike, msg.N("variants Google cannot tell apart (same size, color, material, pattern, age group and gender), which it may flag or disapprove; add the option's name under [options] in the config")},
	{DiagSharedPage, msg.N("variants that differ in price or availability all link to the product's page, which shows the default variant; set variant_link if your shop opens a variant by its address")},
	{DiagNoIdentifier, msg.N("no GTIN or MPN in the columns the config maps to them: sent with identifier_exists = no, which is right only for your own or custom-made goods; fill in the barcode")},
	{DiagUnknownValue, msg.N("an age group or gender option with a value Google has no word for, which stays in the title only; write 男 / 女 / 中性, or 新生兒 / 嬰兒 / 幼兒 / 兒童 / 成人")},
	{DiagTitleCut, msg.N("title over 150 characters: Google shows the first 150")},
	{DiagDescriptionCut, msg.N("description over 5,000 characters as plain text: Google takes the first 5,000, Meta 9,999")},
	{DiagLongDescriptionCut, msg.N("description over 60,000 characters of HTML: LINE gets the first 60,000")},
	{DiagValueCut, msg.N("an option, or a size, color, material or pattern, longer than the channels take: cut")},
	{DiagUnsafeHTML, msg.N("descriptions with scripts or other unsafe HTML, which LINE's l_description gets without; check how the page looks, and take them out of 商品介紹")},
	{DiagImageHTTP, msg.N("images at http:// addresses, sent as https://: check that they open so, or the channel cannot fetch them")},
}

// diagnosticOrder is each code's place in diagnosticTitles.
var diagnosticOrder = func() map[string]int {
	m := make(map[string]int, len(diagnosticTitles))
	for i, t := range diagnosticTitles {
		m[t.code] = i
	}
	return m
}()

// DiagnosticTitle is what code means, in a merchant's words, in l.
func DiagnosticTitle(l msg.Lang, code string) string {
	if i, ok := diagnosticOrder[code]; ok {
		return l.T(diagnosticTitles[i].title)
	}
	return code
}

// Diagnostic is one problem a channel would report about a product's
// items. Its message does not name the product, which it comes with.
type Diagnostic struct {
	Code string `json:"code"`
	// Items are the ids of the items it concerns; none means every item
	// of the product.
	Items   []string `json:"items,omitempty"`
	Row     int      `json:"row,omitempty"`
	Column  string   `json:"column,omitempty"`
	Message string   `json:"message"`
}

func (d Diagnostic) String() string { return d.Text(msg.English) }

// Text is the diagnostic with its cell and code, in l; the message is in
// the language it was made in, the run's.
func (d Diagnostic) Text(l msg.Lang) string {
	return cellText(l, d.Row, d.Column, d.Message) + " [" + d.Code + "]"
}

// cellText is message after the row and column it is about, as many as
// are known, in l.
func cellText(l msg.Lang, row int, column, message string) string {
	switch {
	case row > 0 && column != "":
		return l.T("row %d: %s: %s", row, column, message)
	case row > 0:
		return l.T("row %d: %s", row, message)
	case column != "":
		return l.T("%s: %s", column, message)
	}
	return message
}

// items is how many of a product's n items d concerns.
func (d *Diagnostic) items(n int) int {
	if len(d.Items) == 0 {
		return n
	}
	return len(d.Items)
}

// Diagnosed is a product in the catalog with its diagnostics, as
// report.json lists it.
type Diagnosed struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Row         int          `json:"row"`
	Items       int          `json:"items"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// DiagnosisCount is how many products, and items, a code concerns in a
// run; First names the first products.
type DiagnosisCount struct {
	Products int      `json:"products"`
	Items    int      `json:"items"`
	First    []string `json:"-"`
}

// Counts says how many items and products, in words, in l.
func (c DiagnosisCount) Counts(l msg.Lang) string {
	return l.T("%s in %s", plural(l, c.Items, msg.N("1 item"), msg.N("%d items")), plural(l, c.Products, msg.N("1 product"), msg.N("%d products")))
}

// plural is n with the noun that goes with it, in l: one is the message
// for 1, many the one for n.
func plural(l msg.Lang, n int, one, many string) string {
	if n == 1 {
		return l.T(one)
	}
	return l.T(many, n)
}

// diagnosisFirst is how many products a DiagnosisCount names.
const diagnosisFirst = 5

// diagnosisList is a run's diagnosed products, in the order of the
// export, and the count of each code.
type diagnosisList struct {
	spillList[Diagnosed, diagnosedCodec]
	byCode map[string]*DiagnosisCount
}

// add records p's diagnostics, if it has any.
func (l *diagnosisList) add(p *CatalogProduct) error {
	if len(p.Diagnostics) == 0 {
		return nil
	}
	if l.byCode == nil {
		l.byCode = map[string]*DiagnosisCount{}
	}
	for i := range p.Diagnostics {
		d := &p.Diagnostics[i]
		c := l.byCode[d.Code]
		if c == nil {
			c = new(DiagnosisCount)
			l.byCode[d.Code] = c
		}
		if c.Products++; len(c.First) < diagnosisFirst {
			c.First = append(c.First, p.ID)
		}
		c.Items += d.items(len(p.Items))
	}
	return l.spillList.add(Diagnosed{ID: p.ID, Name: p.Name, Row: p.Row, Items: len(p.Items), Diagnostics: p.Diagnostics})
}

// counts returns the counts by code, a copy that outlives the list.
func (l *diagnosisList) counts() map[string]DiagnosisCount {
	m := make(map[string]DiagnosisCount, len(l.byCode))
	for code, c := range l.byCode {
		m[code] = *c
	}
	return m
}

// diagnosedCodec is the record of a Diagnosed.
type diagnosedCodec struct{}

func (diagnosedCodec) what() noun { return noun(msg.N("diagnosed products")) }

func (diagnosedCodec) append(b []byte, p *Diagnosed) []byte {
	b = appendString(b, p.ID)
	b = appendString(b, p.Name)
	b = binary.AppendVarint(b, int64(p.Row))
	b = binary.AppendVarint(b, int64(p.Items))
	b = binary.AppendUvarint(b, uint64(len(p.Diagnostics)))
	for _, d := range p.Diagnostics {
		b = appendString(b, d.Code)
		b = binary.AppendUvarint(b, uint64(len(d.Items)))
		for _, id := range d.Items {
			b = appendString(b, id)
		}
		b = binary.AppendVarint(b, int64(d.Row))
		b = appendString(b, d.Column)
		b = appendString(b, d.Message)
	}
	return b
}

func (diagnosedCodec) read(d *recordDecoder) Diagnosed {
	p := Diagnosed{ID: d.string(), Name: d.string(), Row: d.int(), Items: d.int()}
	p.Diagnostics = make([]Diagnostic, d.count())
	for i := range p.Diagnostics {
		g := Diagnostic{Code: d.string()}
		if n := d.count(); n > 0 {
			g.Items = make([]string, n)
			for j := range g.Items {
				g.Items[j] = d.string()
			}
		}
		g.Row, g.Column, g.Message = d.int(), d.string(), d.string()
		p.Diagnostics[i] = g
	}
	return p
}

// diagnoseItems adds to p the diagnostics of its items as mapped: what a
// channel checks item by item. unmapped names the options that are no
// attribute.
func diagnoseItems(p *CatalogProduct, cfg *Config, unmapped []string) {
	l := cfg.Language
	if p.Brand == "" {
		p.diagnose(Diagnostic{Code: DiagNoBrand, Column: cfg.Columns.Vendor,
			Message: l.T("no brand (%s is blank, and brand is not set in the config)", cfg.Columns.Vendor)})
	}
	if alike := alikeItems(p.Items); len(alike) > 0 {
		text := l.T("variants %s have the same size, color, material, pattern, age group and gender; they have no option that tells them apart", strings.Join(alike, ", "))
		if len(unmapped) > 0 {
			text = l.T("variants %s have the same size, color, material, pattern, age group and gender; the option 「%s」 is none of them", strings.Join(alike, ", "), strings.Join(unmapped, "」, 「"))
		}
		if len(alike) == len(p.Items) {
			alike = nil
		}
		p.diagnose(Diagnostic{Code: DiagVariantsAlike, Items: alike, Message: text})
	}
	if cfg.VariantLink == "" && variantsDiffer(p.Items) {
		p.diagnose(Diagnostic{Code: DiagSharedPage,
			Message: l.T("its variants differ in price or availability, and each links to the product's page")})
	}
	// Without a column for either, no item has one, by the config's
	// choice, which its comment explains: said once, not per item.
	mapped := cfg.Columns.GTIN != "" || cfg.Columns.MPN != ""
	if ids, some := itemsWhere(p.Items, func(it *Item) bool { return it.GTIN == "" && it.MPN == "" }); some && mapped {
		p.diagnose(Diagnostic{Code: DiagNoIdentifier, Items: ids, Message: l.T("no GTIN or MPN")})
	}
	// A title has no more characters than bytes: most are never counted.
	if ids, some := itemsWhere(p.Items, func(it *Item) bool {
		return len(it.Title) > googleLimits.title && runeCount(it.Title) > googleLimits.title
	}); some {
		p.diagnose(Diagnostic{Code: DiagTitleCut, Items: ids, Column: cfg.Columns.Name,
			Message: l.T("the title, with the options, is over %d characters; Google gets the first %d, Meta and LINE the first %d",
				googleLimits.title, googleLimits.title, metaLimits.title)})
	}
}

// itemsWhere returns the ids of the items for which is holds, as a
// Diagnostic's Items (nil when it holds for all), and whether it holds for
// any. The common cases, all and none, allocate nothing.
func itemsWhere(items []Item, is func(*Item) bool) ([]string, bool) {
	n := 0
	for i := range items {
		if is(&items[i]) {
			n++
		}
	}
	if n == 0 || n == len(items) {
		return nil, n > 0
	}
	ids := make([]string, 0, n)
	for i := range items {
		if is(&items[i]) {
			ids = append(ids, items[i].ID)
		}
	}
	return ids, true
}

// alikeItems returns the ids of the items of a group that share all six
// attributes with another of the group: Google tells a group's items
// apart by them (answer/6324507).
func alikeItems(items []Item) []string {
	if len(items) < 2 {
		return nil
	}
	type attrs struct{ size, color, material, pattern, ageGroup, gender string }
	key := func(it *Item) attrs { return attrs{it.Size, it.Color, it.Material, it.Pattern, it.AgeGroup, it.Gender} }
	var alike func(*Item) bool
	if len(items) <= 16 { // most products: compared pair by pair, no map
		alike = func(it *Item) bool {
			for j := range items {
				if &items[j] != it && key(&items[j]) == key(it) {
					return true
				}
			}
			return false
		}
	} else {
		seen := make(map[attrs]int, len(items))
		for i := range items {
			seen[key(&items[i])]++
		}
		alike = func(it *Item) bool { return seen[key(it)] > 1 }
	}
	var ids []string
	for i := range items {
		if alike(&items[i]) {
			ids = append(ids, items[i].ID)
		}
	}
	return ids
}

func (p *CatalogProduct) diagnose(d Diagnostic) {
	p.Diagnostics = append(p.Diagnostics, d)
}
