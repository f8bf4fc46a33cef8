package xlsx

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
	rc, err := zipEntry(tb, data, name).Open()
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

var sentinels = []error{ErrNotXLSX, ErrOpenDocument, ErrLegacyXLS, ErrEncrypted, ErrTooLarge, ErrOverLimit, ErrCorrupt, ErrNoSheet}

// hasUTF16Part reports whether a part of the zip starts as UTF-16 does.
func hasUTF16Part(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			continue
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(rc, head)
		rc.Close()
		if utf16Decoder(head[:n]) != nil {
			return true
		}
	}
	return false
}

// sheetDataOf returns what is inside <sheetData> of a worksheet.
func sheetDataOf(sheet []byte) []byte {
	_, rest, _ := bytes.Cut(sheet, []byte("<sheetData>"))
	rows, _, _ := bytes.Cut(rest, []byte("</sheetData>"))
	return rows
}

// Fuzzing modes: what the data of an input is.
const (
	fuzzFile      = iota // a whole file
	fuzzSheet            // a worksheet part
	fuzzSheetData        // the content of <sheetData>
	fuzzModes
)

// FuzzWorkbookReader feeds the reader mutated files, worksheet parts and
// rows; parts and rows are packaged with a fixed shared-string table. The
// reader must not panic or hang, must classify every error, and whenever it
// reports no error, its rows must equal excelize's.
//
// For whole files, inputs excelize cannot read are skipped: excelize reads
// every part, such as the styles, and this reader only the ones it needs.
func FuzzWorkbookReader(f *testing.F) {
	shared := sharedWorkbook(f, mixedRows())
	sst := string(partBytes(f, shared, "xl/sharedStrings.xml"))
	addSheet := func(sheet []byte) {
		f.Add(uint8(fuzzSheet), sheet)
		f.Add(uint8(fuzzSheetData), sheetDataOf(sheet))
	}
	for _, data := range generatedWorkbooks(f) {
		f.Add(uint8(fuzzFile), data)
		addSheet(partBytes(f, data, "xl/worksheets/sheet1.xml"))
	}
	for _, c := range rawCases {
		f.Add(uint8(fuzzFile), rawWorkbook(f, c.sheet, c.sst))
		addSheet([]byte(c.sheet))
	}
	f.Add(uint8(fuzzFile), encryptedWorkbook(f))
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		mode %= fuzzModes
		switch mode {
		case fuzzSheet:
			data = rawWorkbook(t, string(data), sst)
		case fuzzSheetData:
			data = rawWorkbook(t, sheetXML(string(data)), sst)
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
		if hasUTF16Part(data) {
			return // excelize reads a UTF-16 sheet as empty
		}
		want, err := excelizeRowsSafe(data)
		if err != nil {
			if mode == fuzzFile {
				return
			}
			t.Fatalf("the reader accepted %d rows where excelize failed: %v", len(got), err)
		}
		if d := diffRows(want, got); d != "" {
			t.Fatalf("against excelize: %s", d)
		}
	})
}
