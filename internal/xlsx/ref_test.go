package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// sheetRow is one non-empty row as both readers are compared: its number
// and its cells without trailing empty ones.
type sheetRow struct {
	num   int
	cells []string
}

func trimRow(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}

// excelizeRows is the reference: the rows of a sheet as excelize's Rows and
// Columns return them with RawCellValue, which is what this package used
// before it had its own reader.
func excelizeRows(data []byte, sheet string) ([]sheetRow, error) {
	// The size limit keeps excelize from allocating gigabytes for a fuzzed
	// declared size: it reserves each part's declared size up front.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true, UnzipSizeLimit: 64 << 20})
	if err != nil {
		return nil, fmt.Errorf("excelize open: %w", err)
	}
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("excelize rows: %w", err)
	}
	defer rows.Close()
	var out []sheetRow
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return out, fmt.Errorf("excelize row %d: %w", n, err)
		}
		if cells = trimRow(cells); len(cells) > 0 {
			out = append(out, sheetRow{n, slices.Clone(cells)})
		}
	}
	if err := rows.Error(); err != nil {
		return out, fmt.Errorf("excelize: %w", err)
	}
	return out, nil
}

// readerRows reads a sheet with this package's reader, in the same shape.
func readerRows(data []byte, sheet string) ([]sheetRow, error) {
	wb, err := openBytes(data, Limits{})
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	rr, err := wb.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	var out []sheetRow
	for rr.Next() {
		num, cells := rr.Row()
		if cells = trimRow(cells); len(cells) > 0 {
			out = append(out, sheetRow{num, slices.Clone(cells)})
		}
	}
	return out, rr.Err()
}

// diffRows describes the first difference between two row lists.
func diffRows(want, got []sheetRow) string {
	for i := range min(len(want), len(got)) {
		w, g := want[i], got[i]
		if w.num != g.num {
			return fmt.Sprintf("row #%d: number %d, want %d", i, g.num, w.num)
		}
		if !slices.Equal(w.cells, g.cells) {
			for c := range max(len(w.cells), len(g.cells)) {
				var wc, gc string
				if c < len(w.cells) {
					wc = w.cells[c]
				}
				if c < len(g.cells) {
					gc = g.cells[c]
				}
				if wc != gc {
					return fmt.Sprintf("row %d column %d: %q, want %q", w.num, c+1, gc, wc)
				}
			}
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	return ""
}

// saveWorkbook serialises an excelize file.
func saveWorkbook(tb testing.TB, f *excelize.File, opts ...excelize.Options) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf, opts...); err != nil {
		tb.Fatalf("writing workbook: %v", err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tricky are cell texts that exercise escaping and decoding.
var tricky = []string{
	"商品名稱 限量版",
	`a&b<c>d"e'f`,
	"tab\there",
	"line1\nline2",
	"crlf\r\nend",
	"ctl\x01\x02\x1f",
	"_x0041_ literal escape",
	"_x005F_ and _xD800_",
	"  leading and trailing  ",
	"]]> in text",
	"emoji 😀 and 𠀋",
	"<p>HTML 描述 &amp; entity</p>",
	strings.Repeat("長", 3000),
}

// streamWorkbook writes rows with excelize's StreamWriter, which writes
// inline strings.
func streamWorkbook(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	for i, row := range rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return saveWorkbook(tb, f)
}

// sharedWorkbook writes rows with SetSheetRow, which uses the shared-string
// table.
func sharedWorkbook(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			tb.Fatal(err)
		}
	}
	return saveWorkbook(tb, f)
}

// mixedRows is a small table with gaps, types and tricky strings.
func mixedRows() [][]any {
	date := time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)
	rows := [][]any{
		{"商品 id", "商品款式 id", "商品名稱", "價格", "公開", "上架時間", "說明"},
		{int64(4710088412345), 1, "咖啡豆 500g", 1280.5, true, date, tricky[1]},
		nil,
		{nil, nil, "gap before", nil, false, nil, nil, nil, "far right"},
		nil, nil,
	}
	for i, s := range tricky {
		rows = append(rows, []any{i, s, nil, -0.25 * float64(i), s})
	}
	rows = append(rows, []any{excelize.Cell{Formula: "SUM(1,2)"}, excelize.Cell{Value: "cached", Formula: `"cac"&"hed"`}})
	return rows
}

// bigWorkbook generates an export-like sheet of n rows by 58 columns.
func bigWorkbook(tb testing.TB, n int, shared bool) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"咖啡", "有機", "限量", "禮盒", "手工", "茶葉", "Premium", "台灣", "新品", "冷凍"}
	phrase := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.String()
	}
	rows := make([][]any, 0, n+1)
	header := make([]any, 58)
	for c := range header {
		header[c] = fmt.Sprintf("[%d]欄位%d", c+1, c+1)
	}
	rows = append(rows, header)
	for i := range n {
		row := make([]any, 58)
		for c := range row {
			switch {
			case c < 2:
				row[c] = 100000 + i*3 + c
			case c == 17:
				row[c] = "<p>" + phrase(40) + "</p><img src=\"https://cdn.example.com/" + phrase(2) + ".jpg\">"
			case c%7 == 3:
				row[c] = float64(rng.IntN(100000)) / 100
			case c%7 == 5:
				if rng.IntN(2) == 0 {
					row[c] = "是"
				} else {
					row[c] = "否"
				}
			case c%11 == 4:
				// left empty, as many export columns are
			default:
				row[c] = phrase(1 + rng.IntN(4))
			}
		}
		rows = append(rows, row)
	}
	if shared {
		return sharedWorkbook(tb, rows)
	}
	return streamWorkbook(tb, rows)
}

// rawPart is a part of a hand-built package.
type rawPart struct{ name, body string }

// rawWorkbook builds a package around raw worksheet XML (and shared strings
// when sst is not empty), for what excelize does not write.
func rawWorkbook(tb testing.TB, sheet, sst string, extra ...rawPart) []byte {
	tb.Helper()
	return zipParts(tb, append(rawParts(sheet, sst), extra...))
}

// rawParts are the parts of a rawWorkbook: content types, package
// relationships, workbook, its relationships, the sheet and the strings.
func rawParts(sheet, sst string) []rawPart {
	sstRel := ""
	if sst != "" {
		sstRel = `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	parts := []rawPart{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` + sstRel + `</Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	if sst != "" {
		parts = append(parts, rawPart{"xl/sharedStrings.xml", sst})
	}
	return parts
}

// zipParts writes parts into a zip; a later part replaces an earlier one of
// the same name.
func zipParts(tb testing.TB, parts []rawPart) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, p := range parts {
		if slices.ContainsFunc(parts[i+1:], func(q rawPart) bool { return q.name == p.name }) {
			continue
		}
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// sheetXML wraps rows in a worksheet.
func sheetXML(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1"/><sheetData>` +
		rows + `</sheetData></worksheet>`
}

// sstXML wraps string items in a shared-string table.
func sstXML(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + strings.Join(items, "") + `</sst>`
}
