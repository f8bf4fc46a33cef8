package feedgen

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Temporary reader over excelize until the streaming scanner lands.

type WorkbookLimits struct{ MaxUnzipSize int64 }

type workbook struct {
	f *excelize.File
}

func openWorkbook(r io.ReaderAt, size int64, lim WorkbookLimits) (*workbook, error) {
	head := make([]byte, 8)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("%w: file is empty or unreadable", ErrNotXLSX)
	}
	if bytes.Equal(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) {
		return nil, ErrEncrypted
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		if bytes.HasPrefix(head, []byte("PK")) {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, ErrNotXLSX
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f.Name, err)
		}
	}
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{RawCellValue: true, UnzipSizeLimit: lim.MaxUnzipSize})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &workbook{f: f}, nil
}

func (wb *workbook) Date1904() bool {
	p, err := wb.f.GetWorkbookProps()
	return err == nil && p.Date1904 != nil && *p.Date1904
}

func (wb *workbook) Rows(sheet string) (rowReader, error) {
	if sheet == "" {
		sheet = wb.f.GetSheetName(0)
	}
	rows, err := wb.f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSheet, sheet)
	}
	return &excelizeRows{rows: rows}, nil
}

type excelizeRows struct {
	rows  *excelize.Rows
	num   int
	cells []string
	err   error
}

func (r *excelizeRows) Next() bool {
	for r.rows.Next() {
		r.num++
		r.cells, r.err = r.rows.Columns()
		if r.err != nil {
			return false
		}
		if len(r.cells) > 0 {
			return true
		}
	}
	return false
}
func (r *excelizeRows) Row() (int, []string) { return r.num, r.cells }
func (r *excelizeRows) Err() error {
	return errors.Join(r.err, r.rows.Error())
}
func (r *excelizeRows) Close() error { return r.rows.Close() }
