package feedgen

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"feedgen/internal/exportgen"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// googleRSS is what a consumer reads back from WriteGoogleXML.
type googleRSS struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		Link  string `xml:"link"`
		Items []struct {
			ID          string   `xml:"http://base.google.com/ns/1.0 id"`
			Group       string   `xml:"http://base.google.com/ns/1.0 item_group_id"`
			Title       string   `xml:"http://base.google.com/ns/1.0 title"`
			Description string   `xml:"http://base.google.com/ns/1.0 description"`
			Link        string   `xml:"http://base.google.com/ns/1.0 link"`
			Image       string   `xml:"http://base.google.com/ns/1.0 image_link"`
			More        []string `xml:"http://base.google.com/ns/1.0 additional_image_link"`
			Price       string   `xml:"http://base.google.com/ns/1.0 price"`
			Sale        string   `xml:"http://base.google.com/ns/1.0 sale_price"`
			Brand       string   `xml:"http://base.google.com/ns/1.0 brand"`
			Type        string   `xml:"http://base.google.com/ns/1.0 product_type"`
			MPN         string   `xml:"http://base.google.com/ns/1.0 mpn"`
			GTIN        string   `xml:"http://base.google.com/ns/1.0 gtin"`
			// IdentifierExists is "no" for an item with neither.
			IdentifierExists string `xml:"http://base.google.com/ns/1.0 identifier_exists"`
		} `xml:"item"`
	} `xml:"channel"`
}

func TestCleanTextKeepsGoogleXMLWellFormed(t *testing.T) {
	const nasty = "A & B <c> ]]> \"q\" 'x'\x00\x01\x0b\ufffe\xff end\ttab\nline"
	const clean = "A & B <c> ]]> \"q\" 'x' end\ttab\nline"
	// A catalog built by hand has not been through Config.Validate: even
	// its currency is cleaned.
	c := &Catalog{CatalogInfo: CatalogInfo{Title: "小店 & <Co>", ShopURL: testShop + "/?a=1&b=2", Currency: "TW\x01D"}, Products: []CatalogProduct{{
		ID: "1001", Name: nasty, Description: nasty, Brand: nasty, ProductType: "上衣 > T恤",
		Link:   testShop + "/products/x?a=1&b=2",
		Images: []string{"https://cdn.example.com/1.jpg?a=1&b=2", "https://cdn.example.com/2.jpg"},
		Items: []Item{
			{ID: "5001", GroupID: "1001", Title: nasty, SKU: "SKU", MPN: "MPN<&>\x01", GTIN: "4710\x01", Price: "1280", SalePrice: "1000", Availability: InStock},
			{ID: "5002", GroupID: "1001", Title: "]]>", Price: "99.5", Availability: OutOfStock},
		},
	}}}
	var buf bytes.Buffer
	if err := WriteGoogleXML(&buf, c); err != nil {
		t.Fatalf("WriteGoogleXML = %v", err)
	}
	if !utf8.Valid(buf.Bytes()) {
		t.Fatalf("output is not valid UTF-8")
	}

	// Every token must read in strict mode, to the end.
	d := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the feed is not well-formed XML: %v\n%s", err, buf.String())
		}
	}

	var got googleRSS
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("xml.Unmarshal = %v", err)
	}
	if got.Version != "2.0" || got.Channel.Title != "小店 & <Co>" || got.Channel.Link != testShop+"/?a=1&b=2" {
		t.Errorf("rss version, title, link = %q, %q, %q", got.Version, got.Channel.Title, got.Channel.Link)
	}
	if len(got.Channel.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(got.Channel.Items))
	}
	it := got.Channel.Items[0]
	checks := []struct{ field, got, want string }{
		{"g:id", it.ID, "5001"},
		{"g:item_group_id", it.Group, "1001"},
		{"g:title", it.Title, clean},
		{"g:description", it.Description, clean},
		{"g:brand", it.Brand, clean},
		{"g:product_type", it.Type, "上衣 > T恤"},
		{"g:link", it.Link, testShop + "/products/x?a=1&b=2"},
		{"g:image_link", it.Image, "https://cdn.example.com/1.jpg?a=1&b=2"},
		{"g:price", it.Price, "1280 TWD"},
		{"g:sale_price", it.Sale, "1000 TWD"},
		{"g:mpn", it.MPN, "MPN<&>"},
		{"g:gtin", it.GTIN, "4710"},
		{"g:identifier_exists", it.IdentifierExists, ""},
		{"second g:identifier_exists", got.Channel.Items[1].IdentifierExists, "no"},
		{"second g:mpn", got.Channel.Items[1].MPN, ""},
		{"second g:title", got.Channel.Items[1].Title, "]]>"},
		{"second g:price", got.Channel.Items[1].Price, "99.5 TWD"},
		{"second g:sale_price", got.Channel.Items[1].Sale, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(it.More) != 1 || it.More[0] != "https://cdn.example.com/2.jpg" {
		t.Errorf("g:additional_image_link = %q, want [https://cdn.example.com/2.jpg]", it.More)
	}
}

// FuzzLineJSONMatchesEncodingJSON: the hand-written LINE encoder writes
// exactly what encoding/json writes for the same object.
func FuzzLineJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("1001", "T恤 <b>&</b>", "\u2028\u2029\x00\x1f\"\\\b\f\n\r\t", "\xff\xfe bad", "", true)
	f.Add("", "", "", "", "紅", false)
	f.Fuzz(func(t *testing.T, id, name, desc, html, opt string, withVariants bool) {
		lp := lineProduct{ProductID: id, ProductName: name, Description: desc, LDescription: html,
			Link: html, ImageLink: desc, AdditionalImageLink: opt, Price: id, SalePrice: opt,
			Availability: name, ProductCategoryValue: html, ProductType: "normal", AgeGroup: "normal", Brand: opt, Color: name, Size: opt, Category: desc}
		if withVariants {
			lp.Variants = []lineVariant{
				{VariantID: id, SKU: opt, Title: name, Price: desc, Availability: html},
				{VariantID: opt, Title: desc, Options: []Option{{Name: name, Value: opt}, {Name: desc, Value: html}}, SalePrice: id},
			}
		}
		want, err := json.Marshal(lp)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendLineProduct(nil, &lp); !bytes.Equal(got, want) {
			t.Errorf("appendLineProduct =\n%s\nencoding/json =\n%s", got, want)
		}
	})
}

// TestIdentifiersOnlyFromMappedColumns: Google and Meta get a GTIN or MPN
// only from the columns the config maps to them, never the shop's SKU nor
// a made-up value; an item with neither says identifier_exists = no.
func TestIdentifiersOnlyFromMappedColumns(t *testing.T) {
	rows := exportgen.SampleRows()
	rows[0]["商品款式廠商編號"] = "ACME-TS-01"
	var buf bytes.Buffer
	if err := exportgen.WriteSample(&buf, "商品", rows); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ShopURL, cfg.Columns.MPN = testShop, "商品款式廠商編號"
	ex, err := ReadExport(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := buildCatalog(ex, &cfg, exportgen.SampleAt)
	files := writeFormats(t, c)

	xmlFeed := string(files["google-xml"])
	if !strings.Contains(xmlFeed, "<g:id>5000101</g:id>") || !strings.Contains(xmlFeed, "<g:mpn>ACME-TS-01</g:mpn>") {
		t.Errorf("catalog.xml lacks the mapped MPN of 5000101")
	}
	if n := strings.Count(xmlFeed, "<g:mpn>"); n != 1 {
		t.Errorf("catalog.xml has %d MPNs, want the one mapped", n)
	}
	if got, want := strings.Count(xmlFeed, "<g:identifier_exists>no</g:identifier_exists>"), c.Items()-1; got != want {
		t.Errorf("catalog.xml says identifier_exists no on %d items, want %d (all but 5000101)", got, want)
	}
	for _, sku := range []string{"TEE-W-S", "TEE-W-M"} {
		if strings.Contains(xmlFeed, sku) || strings.Contains(string(files["meta-csv"]), sku) || strings.Contains(string(files["google-tsv"]), sku) {
			t.Errorf("the SKU %s went out as an identifier", sku)
		}
	}
	records, err := csv.NewReader(bytes.NewReader(files["meta-csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	mpn := slices.Index(metaCSVColumns, "mpn")
	for _, rec := range records[1:] {
		if want := map[bool]string{true: "ACME-TS-01"}[rec[0] == "5000101"]; rec[mpn] != want {
			t.Errorf("Meta item %s has mpn %q, want %q", rec[0], rec[mpn], want)
		}
	}
}

// TestVariantLink: with variant_link set, each variant of a product with
// several lands on its own page in Google's and Meta's feeds, its SKU
// escaped; LINE keeps the product's page, and the run's note is gone.
func TestVariantLink(t *testing.T) {
	cfg := testConfig(t)
	cfg.VariantLink = "{link}?sku={sku}"
	p := mappable(Variant{ID: "5001", Row: 2, SKU: "TEE W/S", Price: "100"}, Variant{ID: "5002", Row: 3, SKU: "TEE-W-M", Price: "120"})
	b := newCatalogBuilder(cfg, &Export{}, time.Date(2026, 11, 23, 5, 0, 0, 0, taipei(t)))
	cp, _, _ := b.add(p)
	c := &Catalog{CatalogInfo: b.info(), Products: []CatalogProduct{*cp}}
	files := writeFormats(t, c)
	for _, format := range []string{"google-xml", "google-tsv", "meta-csv"} {
		for _, want := range []string{testShop + "/products/t-shirt?sku=TEE+W%2FS", testShop + "/products/t-shirt?sku=TEE-W-M"} {
			if !strings.Contains(string(files[format]), want) {
				t.Errorf("%s lacks the variant link %s", format, want)
			}
		}
	}
	if got := lineObject(cp).Link; got != testShop+"/products/t-shirt" {
		t.Errorf("LINE link = %q, want the product's page", got)
	}
	if hasDiagnostic(cp, DiagSharedPage) {
		t.Errorf("%s with variant_link set", DiagSharedPage)
	}
	cfg.VariantLink = ""
	b = newCatalogBuilder(cfg, &Export{}, time.Now())
	if cp, _, _ := b.add(p); cp == nil || !hasDiagnostic(cp, DiagSharedPage) {
		t.Errorf("no %s for variants that differ in price sharing one page", DiagSharedPage)
	}
	for tmpl, want := range map[string]string{
		"https://evil.example/?u={link}": "must start with {link}",
		"{link}?sku={SKU}":               "use only {link}, {variant_id}, {sku}",
		"{link}?v={variant_id} x":        "no spaces",
	} {
		cfg.VariantLink = tmpl
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "variant_link") {
			t.Errorf("Validate(variant_link = %q) = %v, want %q", tmpl, err, want)
		}
	}
}

// TestVariantAttributes: options named as the config's [options] lists
// become Google's and Meta's variant attributes, and LINE's color and
// size gather the variants' values; an option that is no attribute stays
// in the title, and is a diagnostic only when the attributes do not tell
// the variants apart.
func TestVariantAttributes(t *testing.T) {
	cfg := testConfig(t)
	cfg.Options.Size = append(cfg.Options.Size, "號碼")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	v := func(id, color, size, style string) Variant {
		return Variant{ID: id, Row: 2, Price: "100", Options: []Option{{Name: "Color", Value: color}, {Name: "號碼", Value: size}, {Name: "款式", Value: style}}}
	}
	cp, _, warns := mapProduct(mappable(v("5001", "紅", "S", "長袖"), v("5002", "紅", "M", "短袖"), v("5003", "藍", "M", "長袖")), cfg)
	if it := cp.Items[1]; it.Color != "紅" || it.Size != "M" || it.Title != "T恤 - 紅 / M / 短袖" {
		t.Errorf("item 5002: color %q, size %q, title %q", it.Color, it.Size, it.Title)
	}
	if len(warns) != 0 || hasDiagnostic(&cp, DiagVariantsAlike) {
		t.Errorf("warnings %v, diagnostics %v: want none, color and size tell the variants apart", warns, cp.Diagnostics)
	}
	alike, _, _ := mapProduct(mappable(v("5001", "紅", "S", "長袖"), v("5002", "紅", "S", "短袖")), cfg)
	if !hasDiagnostic(&alike, DiagVariantsAlike) {
		t.Errorf("variants told apart only by 款式: diagnostics %v, want %s", alike.Diagnostics, DiagVariantsAlike)
	}
	if lp := lineObject(&cp); lp.Color != "紅,藍" || lp.Size != "S,M" {
		t.Errorf("LINE color %q, size %q; want 紅,藍 and S,M", lp.Color, lp.Size)
	}
	files := writeFormats(t, &Catalog{CatalogInfo: CatalogInfo{ShopURL: testShop, Currency: "TWD"}, Products: []CatalogProduct{cp}})
	for _, want := range []string{"<g:color>藍</g:color>\n<g:size>M</g:size>\n"} {
		if !strings.Contains(string(files["google-xml"]), want) {
			t.Errorf("catalog.xml lacks %q", want)
		}
	}
	records, err := csv.NewReader(bytes.NewReader(files["meta-csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	color, size := slices.Index(metaCSVColumns, "color"), slices.Index(metaCSVColumns, "size")
	if r := records[3]; r[color] != "藍" || r[size] != "M" {
		t.Errorf("Meta 5003: color %q, size %q", r[color], r[size])
	}
	// 款式 is no attribute: Meta's title keeps it, the variants would be
	// alike without it.
	if r := records[3]; r[slices.Index(metaCSVColumns, "title")] != "T恤 - 藍 / M / 長袖" {
		t.Errorf("Meta 5003 title %q, want the variant's", r[slices.Index(metaCSVColumns, "title")])
	}
	rows, err := parseGoogleText(files["google-tsv"])
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[1]; r[slices.Index(googleTSVColumns, "size")] != "S" {
		t.Errorf("text feed 5001 size %q, want S", r[slices.Index(googleTSVColumns, "size")])
	}
	// A Config used without Validate, as a library caller may: the
	// builder indexes the default [options] itself.
	raw := DefaultConfig()
	raw.ShopURL = testShop
	if cp, _, _ := newCatalogBuilder(&raw, &Export{}, time.Now()).add(mappable(v("5001", "紅", "S", "長袖"), v("5002", "藍", "M", "長袖"))); cp == nil || cp.Items[0].Color != "紅" {
		t.Errorf("an unvalidated config maps no color: %+v", cp)
	}
}

// TestLineJSONOwnKeysOptIn: products.json has only the keys the known LINE
// implementations send, unless feedgen_keys adds category and variants.
func TestLineJSONOwnKeysOptIn(t *testing.T) {
	p := mappable(Variant{ID: "5001", Row: 2, Price: "100"})
	p.Type = "服飾"
	cp, _, _ := mapProduct(p, testConfig(t))
	c := &Catalog{Products: []CatalogProduct{cp}}
	for _, keys := range []bool{false, true} {
		var buf bytes.Buffer
		if err := writeAll(&buf, c, "line-json", feedOptions{feedgenKeys: keys}, nil); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
			t.Fatal(err)
		}
		_, hasVariants := objs[0]["variants"]
		_, hasCategory := objs[0]["category"]
		if hasVariants != keys || hasCategory != keys {
			t.Errorf("feedgen_keys %v: variants %v, category %v", keys, hasVariants, hasCategory)
		}
	}
	cfg, err := ParseConfig(strings.NewReader("[[feed]]\nformat = \"line-json\"\nfeedgen_keys = true\n"), DefaultConfig())
	if err != nil || !cfg.Feeds[0].FeedgenKeys {
		t.Errorf("feedgen_keys from TOML: %v, %+v", err, cfg.Feeds)
	}
}

func hasDiagnostic(p *CatalogProduct, code string) bool {
	return slices.ContainsFunc(p.Diagnostics, func(d Diagnostic) bool { return d.Code == code })
}

// TestAgeGroupAndGender: options named as age group or gender reach
// Google and Meta in Google's words, whatever way the shop writes them;
// a value without a word stays in the title only.
func TestAgeGroupAndGender(t *testing.T) {
	cfg := testConfig(t)
	tests := []struct {
		option           Option
		ageGroup, gender string
	}{
		{Option{"性別", "男款"}, "", "male"},
		{Option{"性別", " Ｗｏｍｅｎ "}, "", "female"},
		{Option{"適用性別", "男女適用"}, "", "unisex"},
		{Option{"年齡層", "童裝"}, "kids", ""},
		{Option{"年齡", "成人"}, "adult", ""},
		{Option{"Age Group", "Toddler"}, "toddler", ""},
		{Option{"性別", "情侶款"}, "", ""},
		{Option{"顏色", "男"}, "", ""},
	}
	for _, tt := range tests {
		var it Item
		setAttribute(&it, cfg, tt.option)
		if it.AgeGroup != tt.ageGroup || it.Gender != tt.gender {
			t.Errorf("%v: age_group %q, gender %q; want %q, %q", tt.option, it.AgeGroup, it.Gender, tt.ageGroup, tt.gender)
		}
	}
	cp, _, _ := mapProduct(mappable(
		Variant{ID: "5001", Row: 2, Price: "100", Options: []Option{{"性別", "男款"}, {"年齡", "兒童"}}},
		Variant{ID: "5002", Row: 3, Price: "100", Options: []Option{{"性別", "女款"}, {"年齡", "兒童"}}}), cfg)
	files := writeFormats(t, &Catalog{CatalogInfo: CatalogInfo{ShopURL: testShop, Currency: "TWD"}, Products: []CatalogProduct{cp}})
	if want := "<g:age_group>kids</g:age_group>\n<g:gender>female</g:gender>\n"; !strings.Contains(string(files["google-xml"]), want) {
		t.Errorf("catalog.xml lacks %q:\n%s", want, files["google-xml"])
	}
	for _, format := range []string{"google-tsv", "meta-csv"} {
		if !strings.Contains(string(files[format]), "age_group") || !strings.Contains(string(files[format]), "kids") || !strings.Contains(string(files[format]), "female") {
			t.Errorf("%s lacks age_group and gender:\n%s", format, files[format])
		}
	}
	if hasDiagnostic(&cp, DiagVariantsAlike) || hasDiagnostic(&cp, DiagUnknownValue) || !cp.Items[0].Distinct {
		t.Errorf("variants told apart by gender: diagnostics %v, distinct %v", cp.Diagnostics, cp.Items[0].Distinct)
	}
}
