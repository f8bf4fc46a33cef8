package feedgen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// The tabular feeds: Google's text feed (tab-separated) and Meta's CSV.
// Both have a header row of attribute names and one row per item.

var googleTSVColumns = []string{
	"id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link",
	"availability", "availability_date", "price", "sale_price", "brand", "product_type", "condition", "gtin", "mpn", "identifier_exists",
	"color", "size", "material", "pattern", "age_group", "gender",
}

type googleTSV struct {
	bw            *bufio.Writer
	currency      string
	backorderDate string
	expand        bool
	n             int
	err           error
}

func newGoogleTSV(w io.Writer, info *CatalogInfo, opt feedOptions) (feedWriter, error) {
	t := &googleTSV{bw: bufio.NewWriterSize(w, 64<<10), currency: cleanText(info.Currency), backorderDate: cleanText(info.BackorderDate), expand: opt.expand}
	t.row(googleTSVColumns)
	return t, t.err
}

// row writes one line. Tabs and line breaks inside values become spaces,
// which keeps each item on one line for any reader. Google reads a value
// that starts with a quote as quoted, up to the closing quote, tabs and
// all (answer/14998273): a value with a quote in it is quoted, its quotes
// doubled, so that `12" pan` is neither cut nor swallows the next column.
func (t *googleTSV) row(vals []string) {
	for i, v := range vals {
		if t.err != nil {
			return
		}
		if i > 0 {
			t.err = t.bw.WriteByte('\t')
		}
		v = flattenSpace(v)
		if t.err == nil && strings.IndexByte(v, '"') >= 0 {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		if t.err == nil {
			_, t.err = t.bw.WriteString(v)
		}
	}
	if t.err == nil {
		t.err = t.bw.WriteByte('\n')
	}
}

func (t *googleTSV) product(p *CatalogProduct) error {
	extra := strings.Join(additionalImages(p), ",")
	for _, it := range productItems(p, t.expand) {
		t.row([]string{
			it.ID, it.GroupID, truncate(it.Title, googleLimits.title), truncate(p.Description, googleLimits.description),
			p.ItemLink(&it), p.Images[0], extra, it.Availability, availabilityDate(it, t.backorderDate), money(it.Price, t.currency), money(it.SalePrice, t.currency),
			p.Brand, p.ProductType, "new", it.GTIN, it.MPN, identifierExists(it),
			truncate(it.Color, googleLimits.attribute), truncate(it.Size, googleLimits.attribute),
			truncate(it.Material, googleLimits.material), truncate(it.Pattern, googleLimits.attribute), it.AgeGroup, it.Gender,
		})
		t.n++
	}
	return t.err
}

func (t *googleTSV) finish(*exclusionList) error {
	if t.err != nil {
		return t.err
	}
	return t.bw.Flush()
}

func (t *googleTSV) items() int { return t.n }

var metaCSVColumns = []string{
	"id", "item_group_id", "title", "description", "availability", "condition", "price", "sale_price",
	"link", "image_link", "additional_image_link", "brand", "gtin", "mpn", "product_type",
	"color", "size", "material", "pattern", "age_group", "gender",
}

type metaCSV struct {
	w        *csv.Writer
	bw       *bufio.Writer
	currency string
	expand   bool
	n        int
}

func newMetaCSV(w io.Writer, info *CatalogInfo, opt feedOptions) (feedWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	m := &metaCSV{w: csv.NewWriter(bw), bw: bw, currency: cleanText(info.Currency), expand: opt.expand}
	return m, m.w.Write(metaCSVColumns)
}

// metaAvailability spells availability as Meta does.
var metaAvailability = map[string]string{InStock: "in stock", OutOfStock: "out of stock", Backorder: "available for order"}

func (m *metaCSV) product(p *CatalogProduct) error {
	extra := strings.Join(additionalImages(p), ",")
	for _, it := range productItems(p, m.expand) {
		// Meta wants one of brand, gtin or mpn; none is ever made up (the
		// run warns of a product without a brand).
		// Meta's variants of a group keep the product's title, their
		// options in the variant fields, when those tell them apart.
		title := it.Title
		if it.Distinct {
			title = p.Name
		}
		rec := []string{
			it.ID, it.GroupID, truncate(title, metaLimits.title), truncate(p.Description, metaLimits.description),
			metaAvailability[it.Availability], "new", money(it.Price, m.currency), money(it.SalePrice, m.currency),
			p.ItemLink(&it), p.Images[0], extra, p.Brand, it.GTIN, it.MPN, p.ProductType,
			truncate(it.Color, metaLimits.attribute), truncate(it.Size, metaLimits.attribute),
			truncate(it.Material, metaLimits.material), truncate(it.Pattern, metaLimits.attribute), it.AgeGroup, it.Gender,
		}
		for i := range rec {
			rec[i] = flattenSpace(rec[i])
		}
		if err := m.w.Write(rec); err != nil {
			return err
		}
		m.n++
	}
	return nil
}

func (m *metaCSV) finish(*exclusionList) error {
	m.w.Flush()
	if err := m.w.Error(); err != nil {
		return err
	}
	return m.bw.Flush()
}

func (m *metaCSV) items() int { return m.n }

// money writes a price with its currency, or nothing for no price.
func money(amount, currency string) string {
	if amount == "" {
		return ""
	}
	return amount + " " + currency
}

// flattenSpace turns tabs and line breaks into spaces, for formats where
// they would split a value.
func flattenSpace(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// countLines counts the rows of a published text feed, less the header.
func countLines(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return max(n-1, 0), nil
}

// countCSVRecords counts the records of a published CSV feed, less the header.
func countCSVRecords(r io.Reader) (int, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	n := 0
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return max(n-1, 0), nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}
