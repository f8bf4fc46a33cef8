package xlsx

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"feedgen/internal/tempdir"
)

const (
	benchSheet = "xl/worksheets/sheet1.xml"
	benchSST   = "xl/sharedStrings.xml"
)

// benchWorkbook writes an export-like workbook of 20,000 rows by 58
// columns, with inline or shared strings, into dir and returns its path and
// the inflated size of its sheet part.
func benchWorkbook(b *testing.B, dir string, shared bool) (string, int64) {
	b.Helper()
	p := filepath.Join(dir, "inline.xlsx")
	if shared {
		p = filepath.Join(dir, "shared.xlsx")
	}
	if err := os.WriteFile(p, bigWorkbook(b, 20000, shared), 0o644); err != nil {
		b.Fatal(err)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == benchSheet {
			return p, int64(f.UncompressedSize64)
		}
	}
	b.Fatalf("no %s", benchSheet)
	return "", 0
}

// inflateParts inflates the named parts of the zip at p to io.Discard: the
// floor any reader of those parts has to pay.
func inflateParts(b *testing.B, p string, names ...string) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !slices.Contains(names, f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// BenchmarkWorkbookRows reports MB/s of sheet XML for: inflating the sheet
// alone (the floor), inflating the sheet and the shared strings, reading
// every row with this package's reader, and reading them with excelize.
func BenchmarkWorkbookRows(b *testing.B) {
	dir := tempdir.New(b)
	for _, shared := range []bool{false, true} {
		name := "inline"
		if shared {
			name = "shared"
		}
		p, size := benchWorkbook(b, dir, shared)
		b.Run(name+"/inflate", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				inflateParts(b, p, benchSheet)
			}
		})
		if shared {
			b.Run(name+"/inflate-with-sst", func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					inflateParts(b, p, benchSheet, benchSST)
				}
			})
		}
		b.Run(name+"/reader", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				fi, err := f.Stat()
				if err != nil {
					b.Fatal(err)
				}
				wb, err := Open(f, fi.Size(), Limits{})
				if err != nil {
					b.Fatal(err)
				}
				rr, err := wb.Rows("")
				if err != nil {
					b.Fatal(err)
				}
				for rr.Next() {
				}
				if err := rr.Err(); err != nil {
					b.Fatal(err)
				}
				rr.Close()
				wb.Close()
				f.Close()
			}
		})
		b.Run(name+"/excelize", func(b *testing.B) {
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
