package feedgen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// The tabular feeds: Google's text feed (tab-separated, no quoting) and
// Meta's CSV. Both have a header row of attribute names and one row per item.

var googleTSVColumns = []string{
	"id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link",
	"availability", "price", "sale_price", "brand", "product_type", "condition", "mpn",
}

type googleTSV struct {
	bw       *bufio.Writer
	currency string
	expand   bool
	n        int
	err      error
}

func newGoogleTSV(w io.Writer, info *CatalogInfo, expand bool) (feedWriter, error) {
	t := &googleTSV{bw: bufio.NewWriterSize(w, 64<<10), currency: cleanText(info.Currency), expand: expand}
	t.row(googleTSVColumns)
	return t, t.err
}

// row writes one line. Google's text feed has no quoting, so tabs and line
// breaks inside values become spaces.
func (t *googleTSV) row(vals []string) {
	for i, v := range vals {
		if t.err != nil {
			return
		}
		if i > 0 {
			t.err = t.bw.WriteByte('\t')
		}
		if t.err == nil {
			_, t.err = t.bw.WriteString(flattenSpace(v))
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
			p.Link, p.Images[0], extra, it.Availability, money(it.Price, t.currency), money(it.SalePrice, t.currency),
			p.Brand, p.ProductType, "new", it.SKU,
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
	"link", "image_link", "additional_image_link", "brand", "mpn", "product_type",
}

type metaCSV struct {
	w        *csv.Writer
	bw       *bufio.Writer
	currency string
	expand   bool
	n        int
}

func newMetaCSV(w io.Writer, info *CatalogInfo, expand bool) (feedWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	m := &metaCSV{w: csv.NewWriter(bw), bw: bw, currency: cleanText(info.Currency), expand: expand}
	return m, m.w.Write(metaCSVColumns)
}

// metaAvailability spells availability as Meta does.
var metaAvailability = map[string]string{InStock: "in stock", OutOfStock: "out of stock", Backorder: "available for order"}

func (m *metaCSV) product(p *CatalogProduct) error {
	extra := strings.Join(additionalImages(p), ",")
	for _, it := range productItems(p, m.expand) {
		// Meta wants one of brand, gtin or mpn: the SKU stands in as the
		// part number when the product has no brand.
		mpn := it.SKU
		if p.Brand == "" && mpn == "" {
			mpn = it.ID
		}
		rec := []string{
			it.ID, it.GroupID, truncate(it.Title, metaLimits.title), truncate(p.Description, metaLimits.description),
			metaAvailability[it.Availability], "new", money(it.Price, m.currency), money(it.SalePrice, m.currency),
			p.Link, p.Images[0], extra, p.Brand, mpn, p.ProductType,
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
