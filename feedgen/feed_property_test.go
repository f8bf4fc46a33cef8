package feedgen

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"feedgen/internal/exportgen"
	"feedgen/internal/tempdir"
)

// checkFeedsWellFormed asserts what every channel needs of a file: the XML
// parses with the item count, every TSV line and CSV record has the
// header's number of columns, the JSON is an array of the products, and
// the category file an array of categories, each after its parent, that
// has every id the products name.
func checkFeedsWellFormed(t *testing.T, files map[string][]byte, items, products int) {
	t.Helper()
	var rss struct {
		Items []struct {
			ID string `xml:"http://base.google.com/ns/1.0 id"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(files["google-xml"], &rss); err != nil {
		t.Fatalf("catalog.xml does not parse: %v", err)
	}
	if len(rss.Items) != items {
		t.Errorf("catalog.xml has %d items, want %d", len(rss.Items), items)
	}
	rows, err := parseGoogleText(files["google-tsv"])
	if err != nil {
		t.Fatalf("catalog.txt: %v", err)
	}
	if len(rows) != items+1 {
		t.Errorf("catalog.txt has %d lines, want a header and %d items", len(rows), items)
	}
	for i, row := range rows {
		if len(row) != len(googleTSVColumns) {
			t.Fatalf("catalog.txt line %d has %d columns, want %d: %q", i+1, len(row), len(googleTSVColumns), row)
		}
	}
	cr := csv.NewReader(bytes.NewReader(files["meta-csv"]))
	cr.FieldsPerRecord = len(metaCSVColumns)
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("catalog.csv: %v", err)
	}
	if len(records) != items+1 {
		t.Errorf("catalog.csv has %d records, want a header and %d items", len(records), items)
	}
	var objs []map[string]any
	if err := json.Unmarshal(files["line-json"], &objs); err != nil {
		t.Fatalf("products.json does not parse: %v", err)
	}
	if len(objs) != products {
		t.Errorf("products.json has %d products, want %d", len(objs), products)
	}
	var cats []map[string]string
	if err := json.Unmarshal(files["line-categories"], &cats); err != nil {
		t.Fatalf("categories.json does not parse as an array of string objects: %v", err)
	}
	ids := map[string]bool{"0": true}
	for _, c := range cats {
		if !ids[c["category_value_parent"]] || c["category_title"] == "" || ids[c["category_value"]] {
			t.Errorf("categories.json: %q comes before its parent, has no title or repeats an id", c)
		}
		ids[c["category_value"]] = true
	}
	for _, o := range objs {
		v, _ := o["product_category_value"].(string)
		for id := range strings.SplitSeq(v, ",") {
			if !ids[id] {
				t.Errorf("product %v: product_category_value %q names %q, which categories.json lacks", o["product_id"], v, id)
			}
		}
	}
}

// parseGoogleText reads a text feed as Google does with quoting on
// (answer/14998273): tab-separated values, one item a line; a value that
// starts with a quote runs to the closing quote, a doubled quote in it
// standing for one. Each line must end where its last value does.
func parseGoogleText(b []byte) ([][]string, error) {
	var rows [][]string
	s := string(b)
	for len(s) > 0 {
		var row []string
		for {
			var v string
			if strings.HasPrefix(s, `"`) {
				i := 1
				for {
					j := strings.IndexByte(s[i:], '"')
					if j < 0 {
						return nil, fmt.Errorf("line %d: a quoted value is never closed", len(rows)+1)
					}
					i += j + 1
					if !strings.HasPrefix(s[i:], `"`) {
						break
					}
					i++
				}
				v, s = strings.ReplaceAll(s[1:i-1], `""`, `"`), s[i:]
				if s != "" && s[0] != '\t' && s[0] != '\n' {
					return nil, fmt.Errorf("line %d: text after a closing quote: %.20q", len(rows)+1, s)
				}
			} else {
				end := strings.IndexAny(s, "\t\n")
				if end < 0 {
					end = len(s)
				}
				v, s = s[:end], s[end:]
			}
			row = append(row, v)
			if s == "" || s[0] == '\n' {
				s = strings.TrimPrefix(s, "\n")
				break
			}
			s = s[1:] // the tab
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// writeFormats writes c in every format.
func writeFormats(t *testing.T, c *Catalog) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for name := range feedFormats {
		var buf bytes.Buffer
		if err := writeAll(&buf, c, name, feedOptions{expand: true, feedgenKeys: true}, nil); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		files[name] = buf.Bytes()
	}
	return files
}

// FuzzFeedsWellFormed puts arbitrary text in every field a merchant
// controls: whatever it is, every format stays well formed.
func FuzzFeedsWellFormed(f *testing.F) {
	f.Add("T恤", "<p>a & b</p>", "紅", "SKU-1", "木標", "上衣 > T恤")
	f.Add("a\tb\nc\r\"d\"", "]]>\x00\x0b\ufffe\xff", ",;\"'", "=cmd|' /C calc'!A0", "\u2028", "\t")
	f.Fuzz(func(t *testing.T, name, desc, option, sku, brand, ptype string) {
		p := CatalogProduct{ID: "1001", Name: name, Summary: desc, HTML: desc, Description: htmlToText(desc),
			Link: "https://shop.example.com/products/x", Images: []string{"https://cdn.example.com/1.jpg", "https://cdn.example.com/2.jpg"},
			Brand: brand, ProductType: ptype,
			Items: []Item{
				{ID: "5001", GroupID: "1001", SKU: sku, Title: name + " - " + option, Options: []Option{{Name: option, Value: option}}, Price: "100", SalePrice: "90", Availability: InStock},
				{ID: "5002", GroupID: "1001", SKU: name, Title: option, Price: "120", Availability: Backorder},
			}}
		p.Categories, _ = productCategories(ptype, option+";"+name)
		c := &Catalog{CatalogInfo: CatalogInfo{Title: name, ShopURL: "https://shop.example.com", Currency: "TWD"}, Products: []CatalogProduct{p}}
		files := writeFormats(t, c)
		checkFeedsWellFormed(t, files, 2, 1)
		// Google reads back the brand the writer meant (a valid UTF-8
		// brand short of the limits, which nothing cuts).
		if rows, _ := parseGoogleText(files["google-tsv"]); utf8.ValidString(brand) && len(brand) < 70 {
			want := strings.TrimSpace(flattenSpace(cleanText(brand)))
			if got := strings.TrimSpace(rows[1][slices.Index(googleTSVColumns, "brand")]); got != want {
				t.Errorf("Google reads brand %q, want %q", got, want)
			}
		}
	})
}

// TestGoogleTextQuotesAsGoogleReads: values with quotes, as in 12" 鑄鐵鍋,
// are quoted with their quotes doubled, so Google reads each column whole.
func TestGoogleTextQuotesAsGoogleReads(t *testing.T) {
	p := CatalogProduct{ID: "1001", Name: `12" 鑄鐵鍋`, Description: `"限定" 款`, Link: "https://shop.example.com/products/x",
		Images: []string{"https://cdn.example.com/1.jpg"}, Brand: `"木標"`, ProductType: `鍋具 > 12"`,
		Items: []Item{{ID: "1001", Title: `12" 鑄鐵鍋`, Price: "100", Availability: InStock}}}
	c := &Catalog{CatalogInfo: CatalogInfo{ShopURL: "https://shop.example.com", Currency: "TWD"}, Products: []CatalogProduct{p}}
	var buf bytes.Buffer
	if err := writeAll(&buf, c, "google-tsv", feedOptions{expand: true}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\t\"12\"\" 鑄鐵鍋\"\t") {
		t.Errorf("title not quoted with its quote doubled:\n%s", buf.String())
	}
	rows, err := parseGoogleText(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, col := range googleTSVColumns {
		got[col] = rows[1][i]
	}
	want := map[string]string{"title": `12" 鑄鐵鍋`, "description": `"限定" 款`, "brand": `"木標"`, "product_type": `鍋具 > 12"`, "price": "100 TWD"}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("Google reads %s = %q, want %q", col, got[col], w)
		}
	}
}

// TestGeneratedExportsMakeWellFormedFeeds runs the whole pipeline over
// generated exports in both string layouts.
func TestGeneratedExportsMakeWellFormedFeeds(t *testing.T) {
	for _, opt := range []exportgen.BulkOptions{
		{Products: 300, Seed: 1}, {Products: 300, Seed: 2, SharedStrings: true}, {Products: 57, Seed: 3},
	} {
		dir := tempdir.New(t)
		export := filepath.Join(dir, "export.xlsx")
		var buf bytes.Buffer
		if err := exportgen.WriteBulk(&buf, opt); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(export, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := sampleConfig(t, filepath.Join(dir, "out"))
		cfg.Export, cfg.Feeds = export, allFeeds
		sum, err := Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt})
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		files := map[string][]byte{}
		for _, f := range allFeeds {
			b, err := os.ReadFile(filepath.Join(cfg.Out, f.File))
			if err != nil {
				t.Fatal(err)
			}
			files[f.Format] = b
		}
		checkFeedsWellFormed(t, files, sum.Items, sum.Eligible)
		if sum.Products != opt.Products || sum.Eligible == 0 || sum.Excluded == 0 {
			t.Errorf("%+v: %d products, %d eligible, %d excluded; want all read, some in, some out", opt, sum.Products, sum.Eligible, sum.Excluded)
		}
	}
}
