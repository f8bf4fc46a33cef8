package xlsx

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"sync"

	"feedgen/internal/msg"
)

// Errors a workbook reader returns, so that the command line can tell a
// merchant what is wrong with the file instead of calling everything corrupt.
// Every error about a workbook's content wraps exactly one of them; a failure
// to read the file itself or to use the temporary file of the shared strings
// (a disk or network error) wraps the system's error instead.
var (
	// ErrNotXLSX: neither a zip nor a compound file, such as an empty file,
	// a CSV renamed to .xlsx, or a web page saved instead of the export.
	ErrNotXLSX = msg.New("not an .xlsx workbook")
	// ErrOpenDocument: an OpenDocument file (.ods, as LibreOffice saves by
	// default) with the .xlsx name.
	ErrOpenDocument = msg.New("OpenDocument file, not an .xlsx workbook")
	// ErrLegacyXLS: a compound (OLE2) file without encryption streams, which
	// is what Excel 97-2003 writes.
	ErrLegacyXLS = msg.New("legacy .xls workbook")
	// ErrEncrypted: a compound file holding an encrypted .xlsx package.
	ErrEncrypted = msg.New("workbook is password-protected")
	// ErrTooLarge: the parts would inflate to more than the limit allows.
	ErrTooLarge = msg.New("workbook exceeds the unzip size limit")
	// ErrOverLimit: a cell, a row or the shared-string table is larger
	// than the reader's fixed bounds, which no genuine export comes near.
	ErrOverLimit = msg.New("workbook is over a size limit of the reader")
	// ErrCorrupt: a zip that cannot be read, a missing part, damaged
	// compressed data, or XML that is malformed or inconsistent. The sheet
	// readers return it instead of ending a sheet early.
	ErrCorrupt = msg.New("workbook is damaged")
	// ErrNoSheet: the requested sheet does not exist or is not a worksheet.
	ErrNoSheet = msg.New("no such sheet")
)

// Where in a part an error is met, for failure.
var (
	opening = msg.New("opening")
	reading = msg.New("reading")
)

// syntaxError is malformed or inconsistent XML, at an offset in the part.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.off) }

// damageError reports that the compressed data of a part is damaged.
type damageError struct{ err error }

func (e *damageError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *damageError) Text(l msg.Lang) string {
	var why string
	switch {
	case errors.Is(e.err, zip.ErrChecksum):
		why = l.T("checksum mismatch")
	case errors.Is(e.err, zip.ErrFormat):
		why = l.T("it inflates to more than its declared size")
	case errors.Is(e.err, io.ErrUnexpectedEOF):
		why = l.T("it ends early")
	default:
		why = msg.Text(l, e.err)
	}
	return l.T("the compressed data is damaged (%s)", why)
}

// ReadError reports that reading the file failed, which says nothing about
// the workbook.
type ReadError struct{ err error }

func (e *ReadError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *ReadError) Text(l msg.Lang) string { return l.T("cannot read the file: %v", e.err) }

func (e *ReadError) Unwrap() error { return e.err }

// source is the workbook file. It records the first error the file itself
// reports, which tells a failing disk or network share from damaged data:
// archive/zip turns both into errors of its own.
type source struct {
	r      io.ReaderAt
	mu     sync.Mutex
	failed error
}

func (s *source) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	// A negative offset comes from a damaged zip directory, not the file.
	if err != nil && err != io.EOF && off >= 0 {
		s.mu.Lock()
		if s.failed == nil {
			s.failed = err
		}
		s.mu.Unlock()
	}
	return n, err
}

// failure classifies an error from archive/zip as a ReadError when reading
// the file has failed, and as damaged data otherwise.
func (s *source) failure(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return &ReadError{s.failed}
	}
	return &damageError{err}
}

// failure describes err, met in part at where (a message: opening,
// reading, row 3), as ErrCorrupt unless it is
// a ReadError.
func failure(part string, where, err error) error {
	var re *ReadError
	if errors.As(err, &re) || errors.Is(err, ErrOverLimit) {
		return msg.Errorf("%s: %s: %w", part, where, err)
	}
	return msg.Errorf("%w: %s: %s: %v", ErrCorrupt, part, where, err)
}
