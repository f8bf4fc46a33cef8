package feedgen

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// benchWorkbook writes an export-like workbook of 20,000 rows by 58
// columns, with inline or shared strings, into dir and returns its path and
// the inflated size of its sheet part.
func benchWorkbook(b *testing.B, dir string, shared bool) (string, int64) {
	b.Helper()
	p := filepath.Join(dir, fmt.Sprintf("bench-%t.xlsx", shared))
	if err := os.WriteFile(p, bigWorkbook(b, 20000, shared), 0o644); err != nil {
		b.Fatal(err)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			return p, int64(f.UncompressedSize64)
		}
	}
	b.Fatal("no sheet1.xml")
	return "", 0
}

func BenchmarkWorkbookRows(b *testing.B) {
	for _, v := range []struct {
		name   string
		shared bool
	}{{"inline", false}, {"shared", true}} {
		p, size := benchWorkbook(b, b.TempDir(), v.shared)
		b.Run(v.name+"/inflate", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				zr, err := zip.OpenReader(p)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range zr.File {
					if f.Name == "xl/worksheets/sheet1.xml" {
						rc, _ := f.Open()
						if _, err := io.Copy(io.Discard, rc); err != nil {
							b.Fatal(err)
						}
						rc.Close()
					}
				}
				zr.Close()
			}
		})
		b.Run(v.name+"/reader", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				fi, _ := f.Stat()
				wb, err := openWorkbook(f, fi.Size(), WorkbookLimits{})
				if err != nil {
					b.Fatal(err)
				}
				rr, err := wb.Rows("")
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rr.Next() {
					_, cells := rr.Row()
					n += len(cells)
				}
				if err := rr.Err(); err != nil {
					b.Fatal(err)
				}
				rr.Close()
				wb.Close()
				f.Close()
			}
		})
		b.Run(v.name+"/excelize", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				f, err := excelize.OpenFile(p, excelize.Options{RawCellValue: true})
				if err != nil {
					b.Fatal(err)
				}
				rows, err := f.Rows("Sheet1")
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					if _, err := rows.Columns(); err != nil {
						b.Fatal(err)
					}
				}
				rows.Close()
				f.Close()
			}
		})
	}
}
