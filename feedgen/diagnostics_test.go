package feedgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

// TestDiagnostics: each problem a channel would report about an item gets
// its code, with the items it concerns when they are not all the
// product's, and nothing else does.
func TestDiagnostics(t *testing.T) {
	color := func(id, c string, more ...Option) Variant {
		return Variant{ID: id, Row: 2, Price: "100", GTIN: "4710000000001", Options: append([]Option{{Name: "顏色", Value: c}}, more...)}
	}
	branded := func(p *Product) *Product { p.Vendor = "木標"; return p }
	mapGTIN := func(c *Config) { c.Columns.GTIN, c.Columns.MPN = "條碼", "原廠料號" }
	tests := []struct {
		name    string
		product *Product
		config  func(*Config)
		want    map[string][]string // code → its items; nil = all
		message string              // in one of the messages
	}{
		{"none", branded(mappable(color("5001", "紅"), color("5002", "藍"))), nil, map[string][]string{}, ""},
		{"no brand", mappable(color("5001", "紅")), nil, map[string][]string{DiagNoBrand: nil}, "商品廠商 is blank"},
		{"the config's brand", mappable(color("5001", "紅")), func(c *Config) { c.Brand = "小店" }, map[string][]string{}, ""},
		{"variants alike by an option that is no attribute", branded(mappable(color("5001", "紅", Option{"款式", "長袖"}), color("5002", "紅", Option{"款式", "短袖"}), color("5003", "藍", Option{"款式", "長袖"}))), nil,
			map[string][]string{DiagVariantsAlike: {"5001", "5002"}}, "the option 「款式」 is none of them"},
		{"variants without options", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100", GTIN: "1"}, Variant{ID: "5002", Row: 3, Price: "100", GTIN: "2"})), nil,
			map[string][]string{DiagVariantsAlike: nil}, "no option that tells them apart"},
		{"an unmapped option, told apart by color", branded(mappable(color("5001", "紅", Option{"款式", "長袖"}), color("5002", "藍", Option{"款式", "長袖"}))), nil, map[string][]string{}, ""},
		{"variants priced apart on one page", branded(mappable(color("5001", "紅"), Variant{ID: "5002", Row: 3, Price: "120", GTIN: "1", Options: []Option{{"顏色", "藍"}}})), nil,
			map[string][]string{DiagSharedPage: nil}, "differ in price"},
		{"variants priced apart, each its page", branded(mappable(Variant{ID: "5001", SKU: "A", Row: 2, Price: "100", GTIN: "1", Options: []Option{{"顏色", "紅"}}}, Variant{ID: "5002", SKU: "B", Row: 3, Price: "120", GTIN: "2", Options: []Option{{"顏色", "藍"}}})),
			func(c *Config) { c.VariantLink = "{link}?sku={sku}" }, map[string][]string{}, ""},
		{"no identifier on one item", branded(mappable(color("5001", "紅"), Variant{ID: "5002", Row: 3, Price: "100", Options: []Option{{"顏色", "藍"}}})), mapGTIN,
			map[string][]string{DiagNoIdentifier: {"5002"}}, "no GTIN or MPN"},
		{"no identifier on any item", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100"})), mapGTIN, map[string][]string{DiagNoIdentifier: nil}, "no GTIN or MPN"},
		{"no identifier column", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100"})), nil, map[string][]string{}, ""},
		{"an MPN is an identifier", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100", MPN: "X-1"})), mapGTIN, map[string][]string{}, ""},
		{"a title over 150 with the options", branded(mappable(color("5001", strings.Repeat("紅", 149)), color("5002", "藍"))), nil,
			map[string][]string{DiagTitleCut: {"5001"}, DiagValueCut: {"5001"}}, "Google gets the first 150"},
		{"a long description", func() *Product {
			p := branded(mappable(color("5001", "紅")))
			p.Description = strings.Repeat("好", 5001)
			return p
		}(), nil,
			map[string][]string{DiagDescriptionCut: nil}, "5001 characters as plain text"},
		{"a long HTML description", func() *Product {
			p := branded(mappable(color("5001", "紅")))
			p.Description = strings.Repeat("<b></b>", 9000)
			return p
		}(), nil, map[string][]string{DiagLongDescriptionCut: nil}, "63000 characters of HTML"},
		{"an option over 200", branded(mappable(color("5001", strings.Repeat("紅", 201)))), nil,
			map[string][]string{DiagValueCut: {"5001"}}, "over 200 characters"},
		// A variant left out for its price is no item a channel flags.
		{"an option over 200 on a variant left out", branded(mappable(Variant{ID: "5001", Row: 2, Price: "免費", GTIN: "1", Options: []Option{{"顏色", strings.Repeat("紅", 201)}}}, color("5002", "藍"))), nil,
			map[string][]string{}, ""},
		{"told apart by gender", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100", GTIN: "1", Options: []Option{{"性別", "男款"}}}, Variant{ID: "5002", Row: 3, Price: "100", GTIN: "2", Options: []Option{{"性別", "女款"}}})), nil, map[string][]string{}, ""},
		{"a gender Google has no word for", branded(mappable(Variant{ID: "5001", Row: 2, Price: "100", GTIN: "1", Options: []Option{{"性別", "男款"}}}, Variant{ID: "5002", Row: 3, Price: "100", GTIN: "2", Options: []Option{{"性別", "情侶款"}}})), nil,
			map[string][]string{DiagUnknownValue: {"5002"}}, "性別 「情侶款」: not an age group or gender"},
		{"images at http", func() *Product {
			p := branded(mappable(color("5001", "紅")))
			p.Images = []string{"HTTP://cdn.example.com/1.jpg", "//cdn.example.com/2.jpg", "http://cdn.example.com/3.jpg"}
			return p
		}(), nil, map[string][]string{DiagImageHTTP: nil}, "2 images at http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tt.config != nil {
				tt.config(cfg)
			}
			cp, reasons, _ := mapProduct(tt.product, cfg)
			if len(reasons) > 0 {
				t.Fatalf("reasons %v", reasons)
			}
			got := map[string][]string{}
			found := tt.message == ""
			for _, d := range cp.Diagnostics {
				if _, dup := got[d.Code]; dup {
					t.Errorf("code %s twice", d.Code)
				}
				got[d.Code] = d.Items
				found = found || strings.Contains(d.Message, tt.message)
				if strings.Contains(d.Message, cp.ID) {
					t.Errorf("%s: message %q names the product, which it comes with", d.Code, d.Message)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diagnostics %v, want %v", cp.Diagnostics, tt.want)
			}
			if !found {
				t.Errorf("no message has %q: %v", tt.message, cp.Diagnostics)
			}
		})
	}
}

// TestDiagnosisList: the counts are by code, of products and of items,
// naming the first products; every diagnosed product is read back, from
// memory and from the temporary file, and a product without diagnostics
// is not listed.
func TestDiagnosisList(t *testing.T) {
	tempdir.Use(t)
	l := new(diagnosisList)
	defer l.close()
	var want []Diagnosed
	n := 3*markdownExcludedRows + 1
	for i := range n {
		p := &CatalogProduct{ID: fmt.Sprint(1000 + i), Name: fmt.Sprintf("商品 %d\x00\"", i), Row: 2 + i, Items: make([]Item, 3)}
		if i%2 == 0 {
			p.diagnose(Diagnostic{Code: DiagNoBrand, Column: "商品廠商", Message: "no brand"})
		}
		if i%3 == 0 {
			p.diagnose(Diagnostic{Code: DiagNoIdentifier, Items: []string{"a", "b"}, Row: 9, Message: "no GTIN or MPN"})
		}
		if err := l.add(p); err != nil {
			t.Fatal(err)
		}
		if len(p.Diagnostics) > 0 {
			want = append(want, Diagnosed{ID: p.ID, Name: p.Name, Row: p.Row, Items: 3, Diagnostics: p.Diagnostics})
		}
	}
	brand, ids := (n+1)/2, (n+2)/3
	wantCounts := map[string]DiagnosisCount{
		DiagNoBrand:      {Products: brand, Items: 3 * brand, First: []string{"1000", "1002", "1004", "1006", "1008"}},
		DiagNoIdentifier: {Products: ids, Items: 2 * ids, First: []string{"1000", "1003", "1006", "1009", "1012"}},
	}
	if got := l.counts(); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("counts %v, want %v", got, wantCounts)
	}
	var got []Diagnosed
	for p, err := range l.All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	if l.spilled == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("%d read back (%d from the file), want the %d added", len(got), l.spilled, len(want))
	}
}

// TestReportListsDiagnosed: report.json counts the codes and lists each
// diagnosed product; the Markdown counts them without naming products.
func TestReportListsDiagnosed(t *testing.T) {
	l := new(diagnosisList)
	p := &CatalogProduct{ID: "1001", Name: "祕密新品", Row: 2, Items: make([]Item, 2)}
	p.diagnose(Diagnostic{Code: DiagVariantsAlike, Message: "variants 5001, 5002 have the same size, color, material and pattern"})
	if err := l.add(p); err != nil {
		t.Fatal(err)
	}
	sum := &Summary{Export: "x.xlsx", ExcludedBy: map[string]int{}, Diagnosed: l.counts()}
	var buf bytes.Buffer
	if err := sum.writeJSON(&buf, new(exclusionList), l); err != nil {
		t.Fatal(err)
	}
	var report struct {
		ByCode    map[string]DiagnosisCount `json:"diagnosed_by_code"`
		Diagnosed []Diagnosed               `json:"diagnosed_products"`
	}
	if err := json.Unmarshal(buf.Bytes(), &report); err != nil {
		t.Fatalf("report.json: %v\n%s", err, buf.String())
	}
	if c := report.ByCode[DiagVariantsAlike]; c.Products != 1 || c.Items != 2 || len(report.Diagnosed) != 1 || report.Diagnosed[0].Diagnostics[0].Code != DiagVariantsAlike {
		t.Errorf("report.json:\n%s", buf.String())
	}
	buf.Reset()
	if err := sum.WriteMarkdown(&buf, false); err != nil {
		t.Fatal(err)
	}
	if md := buf.String(); !strings.Contains(md, "| `variants_alike` | 2 | 1 | variants Google cannot tell apart") || strings.Contains(md, "祕密") {
		t.Errorf("Markdown:\n%s", md)
	}
}

// TestDiagnosticTitles: every code has a title, once, and a row in the
// README's table and the Chinese guide's.
func TestDiagnosticTitles(t *testing.T) {
	codes := []string{DiagNoBrand, DiagVariantsAlike, DiagSharedPage, DiagNoIdentifier, DiagTitleCut, DiagDescriptionCut, DiagLongDescriptionCut, DiagValueCut, DiagImageHTTP, DiagUnknownValue, DiagUnsafeHTML}
	if len(diagnosticTitles) != len(codes) || len(diagnosticOrder) != len(codes) {
		t.Errorf("%d titles for %d codes", len(diagnosticTitles), len(codes))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile("../README.zh-TW.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if DiagnosticTitle(msg.English, c) == c {
			t.Errorf("%s has no title", c)
		}
		if !strings.Contains(string(readme), "\n| `"+c+"` | ") {
			t.Errorf("the README's table of codes lacks %s", c)
		}
		if !strings.Contains(string(guide), "`"+c+"`") {
			t.Errorf("README.zh-TW.md's table of codes lacks %s", c)
		}
	}
}
