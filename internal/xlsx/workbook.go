package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"

	"feedgen/internal/msg"
)

// Limits bound what a workbook may inflate to (zip-bomb protection).
type Limits struct {
	// MaxUnzipSize caps the total declared uncompressed size of all parts;
	// zero means 1 GiB. archive/zip refuses to inflate a part beyond its
	// declared size, so the cap also bounds the data actually inflated.
	MaxUnzipSize int64
	// SpillSize is the declared uncompressed size of a shared-string table
	// from which all but its shortest strings are kept in a temporary file
	// instead of memory; zero means 32 MiB. A smaller table makes no file.
	SpillSize int64
}

const defaultMaxUnzipSize = 1 << 30

// Spreadsheet limits and the reader's own bounds.
const (
	maxRows = 1 << 20 // Excel's last row, 1,048,576
	maxCols = 1 << 14 // Excel's last column, XFD
	// maxUnit bounds the bytes of XML one row (or one shared string) may
	// span, so that a crafted sheet cannot make the reader buffer all of
	// it; the window holds at most twice as much.
	maxUnit = 16 << 20
	// MaxCellBytes bounds one cell's value and MaxRowBytes the values of
	// one row, whatever their layout: a shared string can be used by any
	// number of cells. Excel itself stops at 32,767 characters a cell.
	MaxCellBytes = 4 << 20
	MaxRowBytes  = 16 << 20
	// MaxSharedStrings bounds the shared-string table, whose index takes
	// 8 bytes a string even for empty ones: an export of 300k products
	// has about 3.4 million.
	MaxSharedStrings = 8 << 20
	// maxDepth bounds element nesting inside skipped elements.
	maxDepth = 256
	// chunkCount is the number of buffers the inflate goroutine fills.
	chunkCount = 3
	// growAfter is the size from which a unit makes the window grow
	// geometrically.
	growAfter = 64 << 10
)

// chunkSize is the size of those buffers; tests shrink it to split the XML
// at every byte.
var chunkSize = 256 << 10

var (
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	zipMagic = []byte("PK\x03\x04")
)

// Workbook is an opened .xlsx package. Its methods may be called from
// several goroutines. Close it once its row readers are closed: a large
// shared-string table keeps a temporary file until then.
type Workbook struct {
	src       *source
	parts     map[string]*zip.File // by lower-case part name
	sheets    []sheetEntry
	date1904  bool
	sstPart   string // lower-case part name; "" when the package has none
	spillSize uint64

	sstMu  sync.Mutex
	sst    *sharedStrings
	sstErr error
	closed bool
}

type sheetEntry struct {
	name string
	part string // lower-case part name; "" when the relationship is missing
	kind string // last segment of the relationship type, e.g. "worksheet"
}

// Open reads the package structure of the workbook in r: the zip
// directory, the workbook part and its relationships. Sheets and shared
// strings are read later, by Rows, so r must stay readable until the row
// readers are closed. Only the parts it needs are read: a damaged part
// that excelize would also load, such as the styles, goes unnoticed.
func Open(r io.ReaderAt, size int64, lim Limits) (*Workbook, error) {
	if size < 0 {
		return nil, msg.Errorf("%w: invalid file size %d", ErrNotXLSX, size)
	}
	limit := lim.MaxUnzipSize
	if limit <= 0 {
		limit = defaultMaxUnzipSize
	}
	head := make([]byte, min(size, int64(len(oleMagic))))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, msg.Errorf("reading the workbook header: %w", &ReadError{err})
	}
	switch {
	case bytes.Equal(head, oleMagic):
		return nil, classifyCompoundFile(r, size)
	case !bytes.HasPrefix(head, zipMagic):
		return nil, msg.Errorf("%w: %v", ErrNotXLSX, describeContent(head))
	}
	src := &source{r: r}
	zr, err := zip.NewReader(src, size)
	if err != nil {
		if err := src.failure(err); errors.As(err, new(*ReadError)) {
			return nil, msg.Errorf("reading the zip directory: %w", err)
		}
		return nil, msg.Errorf("%w: cannot read the zip directory, the file may be truncated: %v", ErrCorrupt, err)
	}
	wb := &Workbook{src: src, parts: make(map[string]*zip.File, len(zr.File)), spillSize: defaultSpillSize}
	if lim.SpillSize > 0 {
		wb.spillSize = uint64(lim.SpillSize)
	}
	var total uint64
	for _, f := range zr.File {
		if f.UncompressedSize64 > uint64(limit)-total {
			return nil, msg.Errorf("%w: the parts inflate to more than %d bytes", ErrTooLarge, limit)
		}
		total += f.UncompressedSize64
		name := partKey(f.Name)
		if strings.HasSuffix(name, "/") {
			continue
		}
		if _, dup := wb.parts[name]; dup {
			return nil, msg.Errorf("%w: part %s appears twice", ErrCorrupt, f.Name)
		}
		wb.parts[name] = f
	}
	if err := wb.readStructure(); err != nil {
		return nil, err
	}
	return wb, nil
}

// partKey normalises a zip entry name or resolved target to the form used as
// a key of workbook.parts: OPC part names are case-insensitive.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/"))
}

// SheetNames returns the names of all sheets, in workbook order.
func (wb *Workbook) SheetNames() []string {
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = s.name
	}
	return names
}

// Date1904 reports whether date serials count from 1904 instead of 1900.
func (wb *Workbook) Date1904() bool { return wb.date1904 }

// Close releases the shared strings' temporary file. Row readers still open
// then fail on a string that was in it, and Rows fails.
func (wb *Workbook) Close() error {
	wb.sstMu.Lock()
	defer wb.sstMu.Unlock()
	if wb.closed {
		return nil
	}
	wb.closed = true
	if wb.sst == nil {
		return nil
	}
	return wb.sst.close()
}

// Rows starts streaming the rows of the named sheet; "" means the first
// sheet. Names match case-insensitively, as in Excel.
func (wb *Workbook) Rows(sheet string) (*Rows, error) {
	if len(wb.sheets) == 0 {
		return nil, msg.Errorf("%w: the workbook lists no sheets", ErrNoSheet)
	}
	e := wb.sheets[0]
	if sheet != "" {
		i := 0
		for i < len(wb.sheets) && !strings.EqualFold(wb.sheets[i].name, sheet) {
			i++
		}
		if i == len(wb.sheets) {
			return nil, msg.Errorf("%w: %q; the workbook has %s", ErrNoSheet, sheet, quoteList(wb.SheetNames()))
		}
		e = wb.sheets[i]
	}
	if e.kind != "worksheet" {
		return nil, msg.Errorf("%w: %q is a %s, not a worksheet", ErrNoSheet, e.name, e.kind)
	}
	f := wb.parts[e.part]
	switch {
	case e.part == "":
		return nil, msg.Errorf("%w: sheet %q has no relationship to its part", ErrCorrupt, e.name)
	case f == nil:
		return nil, msg.Errorf("%w: part %s of sheet %q is missing", ErrCorrupt, e.part, e.name)
	}
	sst, err := wb.sharedStrings()
	if err != nil {
		return nil, err
	}
	s, err := openPart(wb.src, f, e.part)
	if err != nil {
		return nil, err
	}
	return &Rows{p: xmlParser{s: s}, part: e.part, sheet: e.name, sst: sst}, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
