package feedgen

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// partBytes returns the inflated content of a part of a zip.
func partBytes(tb testing.TB, data []byte, name string) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	tb.Fatalf("no part %s", name)
	return nil
}

// excelizeRowsSafe is excelizeRows that reports a panic as an error: the
// reference has had panics on malformed input before.
func excelizeRowsSafe(data []byte) (rows []sheetRow, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("excelize panicked: %v", r)
		}
	}()
	return excelizeRows(data, "")
}

var sentinels = []error{ErrNotXLSX, ErrLegacyXLS, ErrEncrypted, ErrTooLarge, ErrCorrupt, ErrNoSheet}

// FuzzWorkbookReader feeds the reader mutated sheets (whole is false: data
// is the sheet XML, packaged with a fixed shared-string table) and mutated
// files (whole is true). The reader must not panic or hang, must classify
// every error, and whenever it reports no error, its rows must equal
// excelize's.
//
// For whole files, inputs excelize cannot read are skipped: excelize reads
// every part, such as the styles, and this reader only the ones it needs.
func FuzzWorkbookReader(f *testing.F) {
	shared := sharedWorkbook(f, mixedRows())
	sst := string(partBytes(f, shared, "xl/sharedStrings.xml"))
	for _, data := range generatedWorkbooks(f) {
		f.Add(true, data)
		f.Add(false, partBytes(f, data, "xl/worksheets/sheet1.xml"))
	}
	for _, c := range rawCases {
		f.Add(true, rawWorkbook(f, c.sheet, c.sst))
		f.Add(false, []byte(c.sheet))
	}
	f.Add(true, encryptedWorkbook(f))
	f.Fuzz(func(t *testing.T, whole bool, data []byte) {
		if !whole {
			data = rawWorkbook(t, string(data), sst)
		}
		got, err := readerRows(data, "")
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("unclassified error: %v", err)
		}
		want, err := excelizeRowsSafe(data)
		if err != nil {
			if whole {
				return
			}
			t.Fatalf("the reader accepted %d rows where excelize failed: %v", len(got), err)
		}
		if d := diffRows(want, got); d != "" {
			t.Fatalf("against excelize: %s", d)
		}
	})
}
