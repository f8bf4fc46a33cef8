package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"feedgen/internal/memtest"
)

// streamedPart is a part of a hostile workbook, written in pieces so that
// the test never holds its inflated size in memory.
type streamedPart struct {
	name  string
	write func(w io.Writer)
}

// hostileWorkbook is rawWorkbook's package with parts written by functions.
func hostileWorkbook(tb testing.TB, sheet, sst func(w io.Writer)) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	parts := rawParts("", "x")
	for _, p := range parts[:4] {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	for _, p := range []streamedPart{{"xl/worksheets/sheet1.xml", sheet}, {"xl/sharedStrings.xml", sst}} {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		p.write(w)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// sheetOf writes a worksheet whose rows come from rows.
func sheetOf(rows func(w io.Writer)) func(io.Writer) {
	return func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		rows(w)
		io.WriteString(w, `</sheetData></worksheet>`)
	}
}

// tableOf writes a shared-string table whose items come from items.
func tableOf(items func(w io.Writer)) func(io.Writer) {
	return func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
		items(w)
		io.WriteString(w, `</sst>`)
	}
}

// repeat writes s n times.
func repeat(w io.Writer, s string, n int) {
	chunk := strings.Repeat(s, max(1, (64<<10)/len(s)))
	per := len(chunk) / len(s)
	for ; n >= per; n -= per {
		io.WriteString(w, chunk)
	}
	io.WriteString(w, strings.Repeat(s, n))
}

// TestWorkbookHostileBounds reads workbooks made to inflate a few
// megabytes into gigabytes of memory or output: each is refused with
// ErrOverLimit naming the bound, within a small, measured heap.
func TestWorkbookHostileBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("large inflated parts")
	}
	big := strings.Repeat("商品介紹", 1<<20/12+1) // a little over 1 MiB
	cases := []struct {
		name       string
		sheet, sst func(io.Writer)
		msg        string
	}{
		{"nine million empty shared strings",
			sheetOf(func(w io.Writer) {}),
			tableOf(func(w io.Writer) { repeat(w, "<si/>", 9<<20) }),
			"more than 8388608 strings"},
		{"a row of 40 MiB of XML",
			sheetOf(func(w io.Writer) {
				io.WriteString(w, `<row r="1">`)
				cell := `<c t="inlineStr"><is><t>` + strings.Repeat("x", 2500) + `</t></is></c>`
				repeat(w, cell, maxCols)
				io.WriteString(w, `</row>`)
			}),
			tableOf(func(w io.Writer) {}),
			"one row or string spans more than 16 MiB of XML"},
		{"a cell of 20 MiB",
			sheetOf(func(w io.Writer) {
				io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>`)
				repeat(w, "x", 20<<20)
				io.WriteString(w, `</t></is></c></row>`)
			}),
			tableOf(func(w io.Writer) {}),
			"column A holds 20.0 MiB"},
		{"a cell of 5 MiB",
			sheetOf(func(w io.Writer) {
				io.WriteString(w, `<row r="1"><c r="B1" t="inlineStr"><is><t>`)
				repeat(w, "y", 5<<20)
				io.WriteString(w, `</t></is></c></row>`)
			}),
			tableOf(func(w io.Writer) {}),
			"column B holds 5.0 MiB, more than the 4 MiB a cell may"},
		{"a row of shared strings adding up to 20 MiB",
			sheetOf(func(w io.Writer) {
				io.WriteString(w, `<row r="1">`)
				for c := range 20 {
					fmt.Fprintf(w, `<c r="%s1" t="s"><v>%d</v></c>`, ColumnName(c+1), c)
				}
				io.WriteString(w, `</row>`)
			}),
			tableOf(func(w io.Writer) {
				for c := range 20 {
					fmt.Fprintf(w, "<si><t>%d%s</t></si>", c, big)
				}
			}),
			"more than the 16 MiB a row may"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := hostileWorkbook(t, c.sheet, c.sst)
			var err error
			grew := memtest.PeakDuring(func() { _, err = readAll(data) })
			if !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want ErrOverLimit mentioning %q", err, c.msg)
			}
			if grew > 256<<20 {
				t.Errorf("the heap grew by %d MiB refusing a %d KiB file", grew>>20, len(data)>>10)
			}
			t.Logf("%d KiB file: heap grew by %.1f MiB: %v", len(data)>>10, float64(grew)/(1<<20), err)
		})
	}
}
