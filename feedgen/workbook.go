package feedgen

import "errors"

// Errors a workbook reader returns, so that the command line can tell a
// merchant what is wrong with the file instead of calling everything corrupt.
var (
	ErrNotXLSX   = errors.New("not an .xlsx workbook")
	ErrLegacyXLS = errors.New("legacy .xls workbook")
	ErrEncrypted = errors.New("workbook is password-protected")
	ErrTooLarge  = errors.New("workbook exceeds the unzip size limit")
	ErrCorrupt   = errors.New("workbook is damaged")
	ErrNoSheet   = errors.New("no such sheet")
)

// rowReader streams the rows of one worksheet. Rows missing from the sheet
// are skipped, so Row reports the row's own 1-based number.
type rowReader interface {
	// Next advances to the next row that is present in the sheet.
	Next() bool
	// Row returns the current row's number and its raw cell values, indexed
	// by 0-based column; trailing empty cells may be missing. The slice is
	// only valid until the next call to Next.
	Row() (num int, cells []string)
	// Err reports why Next returned false, nil at the clean end of the sheet.
	Err() error
	Close() error
}
