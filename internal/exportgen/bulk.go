package exportgen

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// BulkOptions shape a generated export.
type BulkOptions struct {
	Products int
	// SharedStrings stores text in a shared-string table, as Excel does;
	// otherwise cells carry inline strings, as streaming writers do.
	SharedStrings bool
	// Shuffle writes the same rows in a random order, as a merchant who
	// sorted the export by a variant's column would save it: a product's
	// rows end up apart.
	Shuffle bool
	// Hidden makes every product not public (商品是否公開 否), with one
	// variant and a one-line description: a shop's archive of products
	// off the shop, every one of which the report lists as excluded.
	Hidden bool
	Seed   uint64
}

// WriteBulk streams a large export in the CYBERBIZ layout: about 2.5
// variant rows per product, every product-level cell repeated on each row
// (the heavier of the two ways exports are seen), a long HTML description,
// and a mix of products that are excluded for each reason. Memory stays
// flat for inline strings; the shared-string table grows with its size,
// and shuffled rows take some 40 bytes a product.
func WriteBulk(w io.Writer, opt BulkOptions) error {
	zw := zip.NewWriter(w)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes(opt.SharedStrings)},
		{"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbookXML},
		{"xl/_rels/workbook.xml.rels", workbookRels(opt.SharedStrings)},
		{"xl/styles.xml", stylesXML},
	} {
		pw, err := zw.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, part.body); err != nil {
			return err
		}
	}
	sw, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	g := &bulkWriter{w: bufio.NewWriterSize(sw, 256<<10), shared: opt.SharedStrings, index: map[string]int{}}
	if err := g.sheet(opt); err != nil {
		return err
	}
	if opt.SharedStrings {
		sst, err := zw.Create("xl/sharedStrings.xml")
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(sst, 256<<10)
		fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, g.refs, len(g.strings))
		for _, s := range g.strings {
			bw.WriteString("<si><t>")
			writeEscaped(bw, s)
			bw.WriteString("</t></si>")
		}
		bw.WriteString("</sst>")
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	return zw.Close()
}

type bulkWriter struct {
	w       *bufio.Writer
	shared  bool
	index   map[string]int
	strings []string
	refs    int
	cell    []byte
}

func (g *bulkWriter) sheet(opt BulkOptions) error {
	src := rand.NewPCG(opt.Seed, 0x5eed)
	rng := rand.New(src)
	g.w.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<cols><col min="1" max="2" width="0" hidden="1" customWidth="1"/></cols><sheetData>`)
	row := 1
	header := make([]Cell, len(Headers))
	for i, h := range Headers {
		header[i] = h
	}
	g.row(row, header)
	vals := make([]Cell, len(Headers))
	variant := 5_000_000
	if !opt.Shuffle {
		for p := range opt.Products {
			bp := bulkProductAt(rng, p, opt.Hidden)
			for v := range bp.stocks {
				row++
				variant++
				bp.variantRow(vals, v, variant)
				g.row(row, vals)
			}
		}
	} else {
		// The rows of the export in order, as the random state each
		// product starts from and each row's product and variant, so that
		// a row can be made again anywhere.
		states := make([]rand.PCG, opt.Products)
		firsts := make([]int, opt.Products) // each product's first variant id
		var order []int                     // product<<2 | variant
		for p := range opt.Products {
			states[p] = *src
			firsts[p] = variant + 1
			bp := bulkProductAt(rng, p, opt.Hidden)
			variant += len(bp.stocks)
			for v := range bp.stocks {
				order = append(order, p<<2|v)
			}
		}
		rand.New(rand.NewPCG(opt.Seed, 0x5eed2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, pv := range order {
			p, v := pv>>2, pv&3
			state := states[p]
			bp := bulkProductAt(rand.New(&state), p, opt.Hidden)
			row++
			bp.variantRow(vals, v, firsts[p]+v)
			g.row(row, vals)
		}
	}
	g.w.WriteString(`</sheetData></worksheet>`)
	return g.w.Flush()
}

// bulkProduct is one product of a generated export, what its rows have.
type bulkProduct struct {
	id, name, desc, vendor, public, tags string
	end                                  Cell
	price                                int
	stocks                               []int // one a variant: 1–4 variants, 2.5 on average
}

var bulkStart = Serial(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))

// bulkProductAt makes product p from rng, a hidden one if hidden.
func bulkProductAt(rng *rand.Rand, p int, hidden bool) bulkProduct {
	bp := bulkProduct{id: strconv.Itoa(1_000_000 + p), public: "是", tags: "新品,熱銷"}
	nv := 1 + rng.IntN(4)
	switch p % 20 {
	case 3:
		bp.public = "否"
	case 7:
		bp.tags = "贈品"
	case 11:
		bp.tags = "夏季, 排除product feed"
	case 13:
		bp.end = Date{Serial: bulkStart + 30}
	}
	bp.name, bp.vendor = fmt.Sprintf("商品 %d 號 經典款", p), "品牌"+strconv.Itoa(p%50)
	if hidden {
		nv, bp.public, bp.desc = 1, "否", "<p>型號 "+bp.id+"</p>"
	} else {
		bp.desc = description(rng, p)
	}
	bp.price = 100 + rng.IntN(5000)
	bp.stocks = make([]int, nv)
	for v := range bp.stocks {
		bp.stocks[v] = rng.IntN(20)
	}
	return bp
}

// variantRow fills vals with the row of variant v, whose id is variant.
func (bp *bulkProduct) variantRow(vals []Cell, v, variant int) {
	clear(vals)
	vals[0], vals[1] = bp.id, strconv.Itoa(variant)
	vals[2], vals[3], vals[4], vals[5] = bp.name, "本店", Date{Serial: bulkStart}, bp.end
	vals[6], vals[9], vals[10] = bp.public, "簡單說明 "+bp.id, "product-"+bp.id
	vals[12], vals[14], vals[15], vals[16], vals[17] = "全部商品;新品", "服飾", bp.vendor, bp.tags, bp.desc
	vals[22], vals[23] = "尺寸", []string{"S", "M", "L", "XL"}[v]
	vals[28], vals[29] = bp.price, bp.price+200
	vals[33], vals[35], vals[36] = "SKU-"+strconv.Itoa(variant), "是", bp.stocks[v]
	vals[39] = "停止銷售"
	vals[45] = "//cdn.example.com/img/" + bp.id + "-1.jpg"
	vals[46] = "//cdn.example.com/img/" + bp.id + "-2.jpg"
}

// description is 商品介紹 as CYBERBIZ's editor writes it: images with
// protocol-relative src, as in every real export, inline styles, and in
// one product of 150 a script or an inline handler, as some shops' are
// (5 of 745 products in one export had a script).
func description(rng *rand.Rand, p int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<p style="text-align: center;"><img alt="" src="//cdn.example.com/s/files/ckeditor/%d-1.jpg" style="width: 800px; height: 800px;" /></p>`, p)
	b.WriteString(`<p><span style="font-size:16px;"><strong>商品特色</strong></span></p><p>`)
	for i := 0; i < 12+rng.IntN(8); i++ {
		fmt.Fprintf(&b, "第%d段：舒適好穿的棉質商品，適合日常穿搭 &amp; 送禮。", i)
	}
	fmt.Fprintf(&b, `</p><p>型號 %d</p><p><img alt="細節" src="//cdn.example.com/s/files/ckeditor/%d-2.jpg" width="100%%" /></p>`, p, p)
	switch p % 150 {
	case 17:
		b.WriteString(`<script type="text/javascript">var _gaq = _gaq || []; _gaq.push(['_trackEvent', 'product']);</script>`)
	case 89:
		fmt.Fprintf(&b, `<p><img src="//cdn.example.com/s/files/ckeditor/%d-3.jpg" onerror="this.style.display='none'" /></p>`, p)
	}
	return b.String()
}

func (g *bulkWriter) row(num int, vals []Cell) {
	g.w.WriteString(`<row r="`)
	g.w.WriteString(strconv.Itoa(num))
	g.w.WriteString(`">`)
	for c, v := range vals {
		if v == nil {
			continue
		}
		g.cell = g.cell[:0]
		g.cell = appendColName(g.cell, c)
		g.cell = strconv.AppendInt(g.cell, int64(num), 10)
		switch v := v.(type) {
		case string:
			if g.shared {
				i, ok := g.index[v]
				if !ok {
					i = len(g.strings)
					g.index[v] = i
					g.strings = append(g.strings, v)
				}
				g.refs++
				fmt.Fprintf(g.w, `<c r="%s" t="s"><v>%d</v></c>`, g.cell, i)
			} else {
				fmt.Fprintf(g.w, `<c r="%s" t="inlineStr"><is><t>`, g.cell)
				writeEscaped(g.w, v)
				g.w.WriteString(`</t></is></c>`)
			}
		case int:
			fmt.Fprintf(g.w, `<c r="%s"><v>%d</v></c>`, g.cell, v)
		case Date:
			fmt.Fprintf(g.w, `<c r="%s" s="1"><v>%s</v></c>`, g.cell, strconv.FormatFloat(v.Serial, 'f', -1, 64))
		}
	}
	g.w.WriteString(`</row>`)
}

func appendColName(b []byte, c int) []byte {
	var tmp [3]byte
	i := len(tmp)
	for c++; c > 0; c = (c - 1) / 26 {
		i--
		tmp[i] = byte('A' + (c-1)%26)
	}
	return append(b, tmp[i:]...)
}

func writeEscaped(w *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		case '>':
			w.WriteString("&gt;")
		default:
			w.WriteByte(s[i])
		}
	}
}

// Serial returns the Excel serial of a date-time in the 1900 date system:
// days since 1899-12-30, the fraction being the time of day.
func Serial(t time.Time) float64 {
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	return wall.Sub(epoch).Hours() / 24
}

func contentTypes(shared bool) string {
	sst := ""
	if shared {
		sst = `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
	}
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		sst + `</Types>`
}

const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
	`</Relationships>`

const workbookXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
	`<sheets><sheet name="商品" sheetId="1" r:id="rId1"/></sheets></workbook>`

func workbookRels(shared bool) string {
	sst := ""
	if shared {
		sst = `<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		sst + `</Relationships>`
}

// stylesXML has one date format (style 1) for the date cells.
const stylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/mm/dd hh:mm"/></numFmts>` +
	`<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`</styleSheet>`
