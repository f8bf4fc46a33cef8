package feedgen

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"feedgen/internal/exportgen"
	"feedgen/internal/tempdir"
)

// checkFeedsWellFormed asserts what every channel needs of a file: the XML
// parses with the item count, every TSV line and CSV record has the
// header's number of columns, and the JSON is an array of the products.
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
	lines := strings.Split(strings.TrimSuffix(string(files["google-tsv"]), "\n"), "\n")
	if len(lines) != items+1 {
		t.Errorf("catalog.tsv has %d lines, want a header and %d items", len(lines), items)
	}
	for i, line := range lines {
		if n := strings.Count(line, "\t") + 1; n != len(googleTSVColumns) {
			t.Fatalf("catalog.tsv line %d has %d columns, want %d: %q", i+1, n, len(googleTSVColumns), line)
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
}

// writeFormats writes c in every format.
func writeFormats(t *testing.T, c *Catalog) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for name := range feedFormats {
		var buf bytes.Buffer
		if err := writeAll(&buf, c, name, true, nil); err != nil {
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
		c := &Catalog{CatalogInfo: CatalogInfo{Title: name, ShopURL: "https://shop.example.com", Currency: "TWD"}, Products: []CatalogProduct{p}}
		checkFeedsWellFormed(t, writeFormats(t, c), 2, 1)
	})
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
