package feedgen

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
)

// Errors a workbook reader returns, so that the command line can tell a
// merchant what is wrong with the file instead of calling everything corrupt.
// Every error about a workbook's content wraps exactly one of them; a failure
// to read the file itself or to use the temporary file of the shared strings
// (a disk or network error) wraps the system's error instead.
var (
	// ErrNotXLSX: neither a zip nor a compound file, such as an empty file,
	// a CSV renamed to .xlsx, or a web page saved instead of the export.
	ErrNotXLSX = errors.New("not an .xlsx workbook")
	// ErrLegacyXLS: a compound (OLE2) file without encryption streams, which
	// is what Excel 97-2003 writes.
	ErrLegacyXLS = errors.New("legacy .xls workbook")
	// ErrEncrypted: a compound file holding an encrypted .xlsx package.
	ErrEncrypted = errors.New("workbook is password-protected")
	// ErrTooLarge: the parts would inflate to more than the limit allows.
	ErrTooLarge = errors.New("workbook exceeds the unzip size limit")
	// ErrCorrupt: a zip that cannot be read, a missing part, damaged
	// compressed data, or XML that is malformed or inconsistent. The sheet
	// readers return it instead of ending a sheet early.
	ErrCorrupt = errors.New("workbook is damaged")
	// ErrNoSheet: the requested sheet does not exist or is not a worksheet.
	ErrNoSheet = errors.New("no such sheet")
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

// WorkbookLimits bound what a workbook may inflate to (zip-bomb protection).
type WorkbookLimits struct {
	// MaxUnzipSize caps the total declared uncompressed size of all parts;
	// zero means 1 GiB. archive/zip refuses to inflate a part beyond its
	// declared size, so the cap also bounds the data actually inflated.
	MaxUnzipSize int64
}

const defaultMaxUnzipSize = 1 << 30

// Spreadsheet limits and the reader's own bounds.
const (
	maxRows = 1 << 20 // Excel's last row, 1,048,576
	maxCols = 1 << 14 // Excel's last column, XFD
	// maxUnit bounds the bytes one row (or one shared string) may span, so
	// that a crafted sheet cannot make the reader buffer all of it.
	maxUnit = 64 << 20
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

// workbook is an opened .xlsx package. Its methods may be called from
// several goroutines. Close it once its row readers are closed: a large
// shared-string table keeps a temporary file until then.
type workbook struct {
	src      *source
	parts    map[string]*zip.File // by lower-case part name
	sheets   []sheetEntry
	date1904 bool
	sstPart  string // lower-case part name; "" when the package has none

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

// openWorkbook reads the package structure of the workbook in r: the zip
// directory, the workbook part and its relationships. Sheets and shared
// strings are read later, by Rows, so r must stay readable until the row
// readers are closed. Only the parts it needs are read: a damaged part
// that excelize would also load, such as the styles, goes unnoticed.
func openWorkbook(r io.ReaderAt, size int64, lim WorkbookLimits) (*workbook, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: invalid file size %d", ErrNotXLSX, size)
	}
	limit := lim.MaxUnzipSize
	if limit <= 0 {
		limit = defaultMaxUnzipSize
	}
	head := make([]byte, min(size, int64(len(oleMagic))))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the workbook header: %w", err)
	}
	switch {
	case bytes.Equal(head, oleMagic):
		return nil, classifyCompoundFile(r, size)
	case !bytes.HasPrefix(head, zipMagic):
		return nil, fmt.Errorf("%w: %s", ErrNotXLSX, describeContent(head))
	}
	src := &source{r: r}
	zr, err := zip.NewReader(src, size)
	if err != nil {
		if err := src.failure(err); errors.As(err, new(*readError)) {
			return nil, fmt.Errorf("reading the zip directory: %w", err)
		}
		return nil, fmt.Errorf("%w: cannot read the zip directory, the file may be truncated: %v", ErrCorrupt, err)
	}
	wb := &workbook{src: src, parts: make(map[string]*zip.File, len(zr.File))}
	var total uint64
	for _, f := range zr.File {
		if f.UncompressedSize64 > uint64(limit)-total {
			return nil, fmt.Errorf("%w: the parts inflate to more than %d bytes", ErrTooLarge, limit)
		}
		total += f.UncompressedSize64
		name := partKey(f.Name)
		if strings.HasSuffix(name, "/") {
			continue
		}
		if _, dup := wb.parts[name]; dup {
			return nil, fmt.Errorf("%w: part %s appears twice", ErrCorrupt, f.Name)
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

// classifyCompoundFile tells a password-protected .xlsx, which Excel stores
// as an encrypted package inside a compound file, from a legacy .xls.
func classifyCompoundFile(r io.ReaderAt, size int64) (err error) {
	// mscfb parses untrusted bytes; a panic in it still means "not
	// something we can read", not a crash.
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%w: unreadable compound file", ErrLegacyXLS)
		}
	}()
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return fmt.Errorf("%w: unreadable compound file: %v", ErrLegacyXLS, err)
	}
	for _, f := range doc.File {
		if f.Name == "EncryptionInfo" || f.Name == "EncryptedPackage" {
			return fmt.Errorf("%w: remove the password in Excel and export again", ErrEncrypted)
		}
	}
	return fmt.Errorf("%w: save it as an Excel Workbook (.xlsx) and try again", ErrLegacyXLS)
}

// describeContent guesses, from its first bytes, what a file that is not a
// workbook is, to make the error actionable.
func describeContent(head []byte) string {
	text := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	switch {
	case len(head) == 0:
		return "the file is empty"
	case bytes.HasPrefix(bytes.TrimLeft(text, " \t\r\n"), []byte("<")):
		return "it looks like a web page or XML, not a spreadsheet export"
	case utf8.Valid(text) && bytes.IndexFunc(text, func(r rune) bool {
		return r < ' ' && r != '\t' && r != '\r' && r != '\n'
	}) < 0:
		return "it looks like text, such as a CSV file renamed to .xlsx"
	}
	return fmt.Sprintf("unrecognised content starting % x", head)
}

// SheetNames returns the names of all sheets, in workbook order.
func (wb *workbook) SheetNames() []string {
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = s.name
	}
	return names
}

// Date1904 reports whether date serials count from 1904 instead of 1900.
func (wb *workbook) Date1904() bool { return wb.date1904 }

// Close releases the shared strings' temporary file. Row readers still open
// then fail on a string that was in it, and Rows fails.
func (wb *workbook) Close() error {
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
func (wb *workbook) Rows(sheet string) (rowReader, error) {
	if len(wb.sheets) == 0 {
		return nil, fmt.Errorf("%w: the workbook lists no sheets", ErrNoSheet)
	}
	e := wb.sheets[0]
	if sheet != "" {
		i := 0
		for i < len(wb.sheets) && !strings.EqualFold(wb.sheets[i].name, sheet) {
			i++
		}
		if i == len(wb.sheets) {
			return nil, fmt.Errorf("%w: %q; the workbook has %s", ErrNoSheet, sheet, quoteList(wb.SheetNames()))
		}
		e = wb.sheets[i]
	}
	if e.kind != "worksheet" {
		return nil, fmt.Errorf("%w: %q is a %s, not a worksheet", ErrNoSheet, e.name, e.kind)
	}
	f := wb.parts[e.part]
	switch {
	case e.part == "":
		return nil, fmt.Errorf("%w: sheet %q has no relationship to its part", ErrCorrupt, e.name)
	case f == nil:
		return nil, fmt.Errorf("%w: part %s of sheet %q is missing", ErrCorrupt, e.part, e.name)
	}
	sst, err := wb.sharedStrings()
	if err != nil {
		return nil, err
	}
	s, err := openPart(wb.src, f, e.part)
	if err != nil {
		return nil, err
	}
	return &sheetReader{p: xmlParser{s: s}, part: e.part, sst: sst}, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// Relationship types are matched on their last segment, which transitional
// and strict OOXML share.
func relKind(typ string) string { return typ[strings.LastIndexByte(typ, '/')+1:] }

type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

// readStructure locates the workbook part, its sheets and shared strings.
func (wb *workbook) readStructure() error {
	wbPart := "xl/workbook.xml"
	if _, ok := wb.parts["_rels/.rels"]; ok {
		rels, err := wb.readRels("_rels/.rels", "")
		if err != nil {
			return err
		}
		for _, r := range rels {
			if relKind(r.Type) == "officeDocument" {
				wbPart = r.Target
				break
			}
		}
	}
	if wb.parts[wbPart] == nil {
		return fmt.Errorf("%w: the package has no %s; the download may be incomplete", ErrCorrupt, wbPart)
	}
	var doc struct {
		XMLName    xml.Name
		WorkbookPr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := wb.decodePart(wbPart, &doc); err != nil {
		return err
	}
	if doc.XMLName.Local != "workbook" {
		return fmt.Errorf("%w: %s has root <%s>, want <workbook>", ErrCorrupt, wbPart, doc.XMLName.Local)
	}
	if v := strings.TrimSpace(doc.WorkbookPr.Date1904); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%w: %s: invalid date1904 %q", ErrCorrupt, wbPart, v)
		}
		wb.date1904 = b
	}
	dir := path.Dir(wbPart)
	relsPart := path.Join(dir, "_rels", path.Base(wbPart)+".rels")
	var rels []relationship
	if _, ok := wb.parts[relsPart]; ok {
		var err error
		if rels, err = wb.readRels(relsPart, dir); err != nil {
			return err
		}
	}
	byID := make(map[string]relationship, len(rels))
	for _, r := range rels {
		byID[r.ID] = r
		if relKind(r.Type) == "sharedStrings" && wb.sstPart == "" {
			wb.sstPart = r.Target
		}
	}
	if wb.sstPart == "" && wb.parts["xl/sharedstrings.xml"] != nil {
		wb.sstPart = "xl/sharedstrings.xml"
	}
	for _, s := range doc.Sheets {
		e := sheetEntry{name: s.Name, kind: "worksheet"}
		for _, a := range s.Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				if r, ok := byID[a.Value]; ok {
					e.part, e.kind = r.Target, relKind(r.Type)
				}
			}
		}
		for _, o := range wb.sheets {
			if strings.EqualFold(o.name, e.name) {
				return fmt.Errorf("%w: two sheets are named %q", ErrCorrupt, e.name)
			}
		}
		wb.sheets = append(wb.sheets, e)
	}
	return nil
}

// readRels reads a relationships part and resolves its internal targets
// against dir, the folder of the part the relationships belong to.
func (wb *workbook) readRels(name, dir string) ([]relationship, error) {
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	if err := wb.decodePart(name, &doc); err != nil {
		return nil, err
	}
	rels := doc.Rels[:0]
	for _, r := range doc.Rels {
		if strings.EqualFold(r.Mode, "External") {
			continue
		}
		t := strings.ReplaceAll(r.Target, `\`, "/")
		if !strings.HasPrefix(t, "/") {
			t = path.Join("/", dir, t)
		}
		r.Target = partKey(path.Clean(t))
		rels = append(rels, r)
	}
	return rels, nil
}

// decodePart unmarshals a small XML part with encoding/xml, then reads the
// part to its end so that archive/zip verifies its checksum.
func (wb *workbook) decodePart(name string, v any) error {
	rc, err := wb.parts[name].Open()
	if err != nil {
		return failure(name, "opening", wb.src.failure(err))
	}
	defer rc.Close()
	err = xml.NewDecoder(rc).Decode(v)
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
	}
	var syntax *xml.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax) || err == io.EOF:
		return failure(name, "reading", err)
	}
	return failure(name, "reading", wb.src.failure(err))
}

// sharedStrings loads the shared-string table on first use.
func (wb *workbook) sharedStrings() (*sharedStrings, error) {
	wb.sstMu.Lock()
	defer wb.sstMu.Unlock()
	if wb.closed {
		return nil, errors.New("reading the shared strings of a closed workbook")
	}
	if wb.sst == nil && wb.sstErr == nil {
		wb.sst, wb.sstErr = wb.loadSharedStrings()
	}
	return wb.sst, wb.sstErr
}

// sharedStrings is the shared-string table. Strings in memory are
// substrings of a few large chunks, so a cell costs no copy. A large table
// would not fit the memory budget: an export stores each product's
// description, name, image addresses and so on as strings of their own.
// There, all but the shortest strings are in a temporary file, and memory
// holds 8 bytes per string and the short values that rows repeat. Once
// loaded, the table is read-only and may be shared by several row readers.
type sharedStrings struct {
	index  []uint64 // an entry per string; see lenBits
	chunks []string // the text of the strings in memory
	// spill reads the spilled strings back: it is file, except in tests
	// that inject errors.
	spill io.ReaderAt
	file  *os.File // nil when no string was spilled
	// name is the file's name if close must remove it: the file is
	// unlinked as soon as it is created, where the system allows.
	name string
}

// An index entry locates a string in 8 bytes: its length in the low lenBits
// bits and, above them, for a string in memory its chunk and its offset in
// the chunk, or for a spilled string (spilledBit set) its offset in the
// file. A string is under 256 MiB, as it fits the window (see
// partStream.more), and the table is under 4 GiB, which bounds the file
// offsets and the number of chunks: each chunk is either over three
// quarters full or holds a string of over a quarter of arenaChunk.
const (
	lenBits      = 28
	lenMask      = 1<<lenBits - 1
	chunkOffBits = 20
	chunkOffMask = 1<<chunkOffBits - 1
	spilledBit   = 1 << 63
	maxSSTText   = 1<<32 - 1
	// arenaChunk is the size of the chunks of strings kept in memory; a
	// string over a quarter of it gets a chunk of its own.
	arenaChunk = 1 << chunkOffBits
)

// Thresholds of spilling; tests lower them.
var (
	// spillTableSize is the declared uncompressed size of the shared-string
	// part from which strings are spilled; a smaller table is kept in
	// memory and makes no temporary file.
	spillTableSize uint64 = 32 << 20
	// spillOver is the length, in bytes, over which a string is spilled.
	// Little more than a number or a yes stays in memory: medium strings
	// such as names and addresses add up to as much as the descriptions,
	// and the reads ahead make a spilled string cheap.
	spillOver = 16
)

func (t *sharedStrings) len() int { return len(t.index) }

func (t *sharedStrings) empty(i int) bool { return t.index[i]&lenMask == 0 }

// get returns string i, reading a spilled one through c. The string stays
// valid after later lookups.
func (t *sharedStrings) get(i int, c *spillCache) (string, error) {
	e := t.index[i]
	n := int(e & lenMask)
	switch {
	case n == 0:
		return "", nil
	case e&spilledBit != 0:
		return c.read(t.spill, i, int64((e&^spilledBit)>>lenBits), n)
	}
	off := int((e >> lenBits) & chunkOffMask)
	return t.chunks[e>>(lenBits+chunkOffBits)][off : off+n], nil
}

// close closes the temporary file, and removes it unless it was unlinked
// when it was created.
func (t *sharedStrings) close() error {
	if t.file == nil {
		return nil
	}
	err := t.file.Close()
	if t.name != "" {
		err = errors.Join(err, os.Remove(t.name))
	}
	if err != nil {
		return fmt.Errorf("releasing the temporary file of the shared strings: %w", err)
	}
	return nil
}

// Bounds of a spillCache.
const (
	spillCacheLen = 64
	// spillCacheBytes bounds the bytes of the strings kept, so that a
	// crafted table cannot make the cache hold spillCacheLen huge strings.
	spillCacheBytes = 4 << 20
	// spillWindow is how much of the file a read fetches while the lookups
	// move forward through it.
	spillWindow = 64 << 10
)

// spillCache is what a row reader keeps of the temporary file: the spilled
// strings it looked up last, as the variant rows of a product follow each
// other and share its description, and a window of the file, as a table
// lists its strings in the order the sheet first uses them, so that most
// lookups cost no system call.
type spillCache struct {
	keys   [spillCacheLen]int // string index + 1; 0 marks an empty slot
	vals   [spillCacheLen]string
	used   [spillCacheLen]uint64 // when each slot was last looked up
	tick   uint64
	size   int    // bytes of the strings kept
	win    []byte // the bytes of the file from winOff
	winOff int64
	buf    []byte // reused for a string read on its own
	last   int64  // where the last string read on its own ends
}

// read returns spilled string i, n bytes at off in r.
func (c *spillCache) read(r io.ReaderAt, i int, off int64, n int) (string, error) {
	c.tick++
	lru := 0
	for k, key := range c.keys {
		if key == i+1 {
			c.used[k] = c.tick
			return c.vals[k], nil
		}
		if c.used[k] < c.used[lru] {
			lru = k
		}
	}
	var b []byte
	switch end := c.winOff + int64(len(c.win)); {
	case off >= c.winOff && off+int64(n) <= end:
		b = c.win[off-c.winOff:][:n]
	case off >= c.winOff && off <= end+spillWindow, off >= c.last && off <= c.last+spillWindow:
		// The lookups move forward: read ahead.
		m, err := readSpill(r, &c.win, off, max(n, spillWindow), n)
		if err != nil {
			c.win = c.win[:0]
			return "", fmt.Errorf("reading shared string %d from the temporary file: %w", i, err)
		}
		c.win, c.winOff = c.win[:m], off
		b = c.win[:n]
	default:
		// A string looked up again, or lookups in no order: read just the
		// string, and keep the window for the lookups that move forward.
		if _, err := readSpill(r, &c.buf, off, n, n); err != nil {
			return "", fmt.Errorf("reading shared string %d from the temporary file: %w", i, err)
		}
		c.last = off + int64(n)
		b = c.buf[:n]
	}
	s := string(b)
	c.keep(lru, i, s)
	return s, nil
}

// keep remembers string i in slot k, the least recently used, and evicts
// the next least recently used strings while the cache is over its bytes.
func (c *spillCache) keep(k, i int, s string) {
	if len(s) > spillCacheBytes {
		return
	}
	c.size -= len(c.vals[k])
	for c.size+len(s) > spillCacheBytes {
		old := -1
		for j, key := range c.keys {
			if j != k && key != 0 && (old < 0 || c.used[j] < c.used[old]) {
				old = j
			}
		}
		c.size -= len(c.vals[old])
		c.keys[old], c.vals[old], c.used[old] = 0, "", 0
	}
	c.keys[k], c.vals[k], c.used[k] = i+1, s, c.tick
	c.size += len(s)
}

// readSpill reads up to size bytes at off into *buf, growing it as needed,
// and fails unless it gets at least need bytes.
func readSpill(r io.ReaderAt, buf *[]byte, off int64, size, need int) (int, error) {
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	m, err := r.ReadAt((*buf)[:size], off)
	if m >= need {
		return m, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return m, err
}

// sstBuilder collects the shared strings as the part is read. Each chunk is
// allocated once at its full size and never grows, which avoids the peaks
// of a growing buffer holding its old and its new copy.
type sstBuilder struct {
	t        *sharedStrings
	size     int             // of a chunk: arenaChunk, or less for a small table
	cur      strings.Builder // the chunk being filled, t.chunks[at] once sealed
	at       int
	total    uint64 // bytes of text so far
	spilling bool   // whether strings over spillOver go to the file
	w        *bufio.Writer
	off      int64 // bytes written to the file
}

func newSSTBuilder(partSize uint64) *sstBuilder {
	return &sstBuilder{
		t:        &sharedStrings{},
		size:     int(min(partSize, arenaChunk)),
		spilling: partSize > spillTableSize,
	}
}

// add appends string b to the table.
func (sb *sstBuilder) add(b []byte) error {
	n := len(b)
	switch {
	case n > lenMask:
		return fmt.Errorf("%w: a shared string exceeds %d MiB", ErrTooLarge, lenMask>>20)
	case sb.total+uint64(n) > maxSSTText:
		return fmt.Errorf("%w: shared strings exceed 4 GiB", ErrTooLarge)
	}
	sb.total += uint64(n)
	var e uint64
	switch {
	case n == 0:
	case sb.spilling && n > spillOver:
		off, err := sb.write(b)
		if err != nil {
			return err
		}
		e = spilledBit | uint64(off)<<lenBits
	case n > arenaChunk/4:
		sb.t.chunks = append(sb.t.chunks, string(b))
		e = uint64(len(sb.t.chunks)-1) << (lenBits + chunkOffBits)
	default:
		if sb.cur.Cap()-sb.cur.Len() < n {
			sb.seal()
			sb.cur.Grow(max(n, sb.size))
			sb.at = len(sb.t.chunks)
			sb.t.chunks = append(sb.t.chunks, "")
		}
		e = uint64(sb.at)<<(lenBits+chunkOffBits) | uint64(sb.cur.Len())<<lenBits
		sb.cur.Write(b)
	}
	sb.t.index = append(sb.t.index, e|uint64(n))
	return nil
}

// write appends b to the temporary file, creating it on first use, and
// returns its offset.
func (sb *sstBuilder) write(b []byte) (int64, error) {
	if sb.w == nil {
		f, err := os.CreateTemp("", "feedgen-sst-*")
		if err != nil {
			return 0, fmt.Errorf("creating a temporary file for the shared strings: %w", err)
		}
		sb.t.file, sb.t.spill = f, f
		// Unlinked at once, the file cannot outlive the process, even one
		// that crashes; where the system refuses (Windows), close removes it.
		if os.Remove(f.Name()) != nil {
			sb.t.name = f.Name()
		}
		sb.w = bufio.NewWriterSize(f, 256<<10)
	}
	if _, err := sb.w.Write(b); err != nil {
		return 0, fmt.Errorf("writing shared strings to a temporary file: %w", err)
	}
	sb.off += int64(len(b))
	return sb.off - int64(len(b)), nil
}

// seal makes the chunk being filled readable.
func (sb *sstBuilder) seal() {
	if sb.cur.Cap() > 0 {
		sb.t.chunks[sb.at] = sb.cur.String()
		sb.cur = strings.Builder{}
	}
}

// finish returns the table once every string is added.
func (sb *sstBuilder) finish() (*sharedStrings, error) {
	sb.seal()
	if sb.w != nil {
		if err := sb.w.Flush(); err != nil {
			return nil, fmt.Errorf("writing shared strings to a temporary file: %w", err)
		}
	}
	return sb.t, nil
}

// Namespaces the root of the shared-string part must be in; excelize refuses
// any other.
const (
	nsMainTransitional = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsMainStrict       = "http://purl.oclc.org/ooxml/spreadsheetml/main"
)

func (wb *workbook) loadSharedStrings() (_ *sharedStrings, err error) {
	// A missing table reads as an empty one, as in excelize: a cell that
	// refers to it is then out of range.
	f := wb.parts[wb.sstPart]
	if f == nil {
		return &sharedStrings{}, nil
	}
	s, err := openPart(wb.src, f, wb.sstPart)
	if err != nil {
		return nil, err
	}
	defer s.close()
	p := &xmlParser{s: s}
	sb := newSSTBuilder(f.UncompressedSize64)
	defer func() {
		if err != nil {
			// The error that stopped the reading is the one to report.
			_ = sb.t.close()
		}
	}()
	fail := func(err error) (*sharedStrings, error) {
		return nil, failure(wb.sstPart, fmt.Sprintf("string %d", sb.t.len()), p.explain(err))
	}
	var root []byte
	var empty bool
	err = p.unit(func(i int) (int, error) {
		t, j, err := p.prolog(i)
		if err != nil {
			return i, err
		}
		if string(p.b[t.ls:t.qe]) != "sst" {
			return i, p.fail(t.qs, "root element <%s>, want <sst>", p.b[t.qs:t.qe])
		}
		ns := "xmlns"
		if t.ls > t.qs {
			ns = "xmlns:" + string(p.b[t.qs:t.ls-1])
		}
		nsOK := false
		for _, a := range p.attrs {
			v := p.attrValue(a)
			if string(p.b[a.qs:a.le]) == ns {
				nsOK = string(v) == nsMainTransitional || string(v) == nsMainStrict
			}
			local := string(p.b[a.ls:a.le])
			if local != "count" && local != "uniqueCount" {
				continue
			}
			if !validTyped(kindInt, v) {
				return i, p.fail(a.vs, "invalid %s %q", p.b[a.qs:a.le], v)
			}
			if n, ok := atoi(v); ok && local == "uniqueCount" {
				sb.t.index = make([]uint64, 0, min(n, int(f.UncompressedSize64/16)))
			}
		}
		if !nsOK {
			return i, p.fail(t.qs, "<sst> is not in the SpreadsheetML namespace")
		}
		root = append(root[:0], p.b[t.qs:t.qe]...)
		empty = t.empty
		return j, nil
	})
	if err != nil {
		return fail(err)
	}
	for !empty {
		var end bool
		var addErr error
		err = p.unit(func(i int) (int, error) {
			j, err := p.text(i, nil)
			if err != nil || j > i {
				return j, err
			}
			if err := p.need(i + 2); err != nil {
				return i, err
			}
			switch p.b[i+1] {
			case '/':
				end = true
				return p.endTag(i, root)
			case '!', '?':
				return p.misc(i, nil)
			}
			t, j, err := p.startTag(i)
			if err != nil {
				return i, err
			}
			if elemOf(p.b[t.ls:t.qe]) != elSi {
				return p.skipContent(t, j, 0)
			}
			p.val = p.val[:0]
			if j, err = p.stringItem(t, j); err != nil {
				return i, err
			}
			if addErr = sb.add(unescapeBSTR(p.val)); addErr != nil {
				return i, addErr
			}
			return j, nil
		})
		switch {
		case addErr != nil:
			return nil, addErr
		case err != nil:
			return fail(err)
		}
		if end {
			break
		}
	}
	if err := s.drain(); err != nil {
		return fail(s.src.failure(err))
	}
	return sb.finish()
}

// partStream inflates one zip part in its own goroutine into reused buffers,
// so that decompression and XML scanning run on two cores, and keeps a
// window of inflated bytes that the scanner parses in place.
type partStream struct {
	src  *source
	full chan chunk    // filled buffers, in order
	free chan []byte   // buffers the inflater may fill again
	stop chan struct{} // closed by close
	done chan struct{} // closed when the inflater has returned

	buf    []byte // the window; bytes before the parser's position are spent
	off    int64  // offset in the part of buf[0]
	err    error  // io.EOF once the inflater reached a clean end
	closed bool
}

type chunk struct {
	b   []byte
	err error // non-nil on the last chunk: io.EOF or why inflating failed
}

func openPart(src *source, f *zip.File, name string) (*partStream, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, failure(name, "opening", src.failure(err))
	}
	// A part inflates to at most its declared size (archive/zip fails it
	// otherwise), so a small part needs only small buffers.
	size := int(min(f.UncompressedSize64+1, uint64(chunkSize)))
	s := &partStream{
		src:  src,
		full: make(chan chunk, chunkCount),
		free: make(chan []byte, chunkCount),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		buf:  make([]byte, 0, 2*size),
	}
	for range chunkCount {
		s.free <- make([]byte, size)
	}
	go s.inflate(rc)
	return s, nil
}

// inflate reads the part to its end, which is when archive/zip compares the
// checksum, and hands the bytes over chunk by chunk.
func (s *partStream) inflate(rc io.ReadCloser) {
	defer close(s.done)
	defer rc.Close()
	for {
		var b []byte
		select {
		case b = <-s.free:
		case <-s.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(b) && err == nil {
			var m int
			m, err = rc.Read(b[n:])
			n += m
		}
		select {
		case s.full <- chunk{b[:n], err}:
		case <-s.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// more moves the bytes from keep on to the front of the window and appends
// a chunk. Once the kept bytes exceed growAfter, it appends at least as many
// bytes as are kept, so that a large unit is rescanned only a logarithmic
// number of times. It reports whether any byte was added.
func (s *partStream) more(keep int) (bool, error) {
	n := copy(s.buf, s.buf[keep:])
	s.buf = s.buf[:n]
	s.off += int64(keep)
	if n >= maxUnit {
		return false, errUnitTooLarge
	}
	added := 0
	for s.err == nil && (added == 0 || n > growAfter && added < n) {
		c := <-s.full
		s.buf = append(s.buf, c.b...)
		added += len(c.b)
		s.free <- c.b[:cap(c.b)]
		s.err = c.err
	}
	return added > 0, nil
}

// drain reads the rest of the part without parsing it, so that a damaged
// tail is still reported.
func (s *partStream) drain() error {
	for s.err == nil {
		c := <-s.full
		s.off += int64(len(c.b))
		s.free <- c.b[:cap(c.b)]
		s.err = c.err
	}
	s.buf = s.buf[:0]
	return s.cause()
}

// cause is the inflater's error, nil at a clean end.
func (s *partStream) cause() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// close stops the inflater and waits for it, so that no goroutine outlives
// the reader.
func (s *partStream) close() {
	if !s.closed {
		s.closed = true
		close(s.stop)
		<-s.done
	}
}

var (
	// errMore is returned by the scanner when the window ends inside the
	// unit it is parsing; the unit is parsed again with more input.
	errMore         = errors.New("more input needed")
	errUnitTooLarge = fmt.Errorf("one row or string spans more than %d MiB", maxUnit>>20)
)

// syntaxError is malformed or inconsistent XML, at an offset in the part.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.off) }

// damageError reports that the compressed data of a part is damaged.
type damageError struct{ err error }

func (e *damageError) Error() string {
	why := e.err.Error()
	switch {
	case errors.Is(e.err, zip.ErrChecksum):
		why = "checksum mismatch"
	case errors.Is(e.err, zip.ErrFormat):
		why = "it inflates to more than its declared size"
	case errors.Is(e.err, io.ErrUnexpectedEOF):
		why = "it ends early"
	}
	return fmt.Sprintf("the compressed data is damaged (%s)", why)
}

// readError reports that reading the file failed, which says nothing about
// the workbook.
type readError struct{ err error }

func (e *readError) Error() string { return "cannot read the file: " + e.err.Error() }

func (e *readError) Unwrap() error { return e.err }

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

// failure classifies an error from archive/zip as a readError when reading
// the file has failed, and as damaged data otherwise.
func (s *source) failure(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return &readError{s.failed}
	}
	return &damageError{err}
}

// failure describes err, met in part at where, as ErrCorrupt unless it is
// a readError.
func failure(part, where string, err error) error {
	var re *readError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %s: %w", part, where, err)
	}
	return fmt.Errorf("%w: %s: %s: %v", ErrCorrupt, part, where, err)
}

// xmlParser is a byte-level XML scanner over a partStream's window. It
// checks well-formedness as strictly as encoding/xml does, or more, because
// whatever excelize's decoder would stop at must be an error here.
//
// Parsing proceeds in units (a row, a shared string, an element to skip):
// scanning functions take and return indexes into b and return errMore when
// the window ends, and unit throws the unit's work away and starts it again
// once the window holds more bytes.
type xmlParser struct {
	s     *partStream
	b     []byte // s.buf
	pos   int    // start of the next unit
	val   []byte // decoded text of the current unit
	tmp   []byte // decoded attribute value
	attrs []attr // attributes of the last start tag
	stack []span // open elements inside a skipped element
}

type span struct{ s, e int }

// tag is a parsed start tag: qualified name b[qs:qe], local name b[ls:qe].
// Its attributes are in xmlParser.attrs until the next start tag.
type tag struct {
	qs, ls, qe int
	empty      bool
}

// attr is an attribute: qualified name b[qs:le], local name b[ls:le], raw
// value b[vs:ve]. plain means the raw value is the value.
type attr struct {
	qs, ls, le, vs, ve int
	quote              byte
	plain              bool
}

func (p *xmlParser) fail(i int, format string, args ...any) error {
	return &syntaxError{off: p.s.off + int64(i), msg: fmt.Sprintf(format, args...)}
}

// need returns errMore unless b holds n bytes.
func (p *xmlParser) need(n int) error {
	if n > len(p.b) {
		return errMore
	}
	return nil
}

// unit runs f at the current position and, on success, moves past what it
// consumed. While f needs more input, it fetches more and runs f again.
func (p *xmlParser) unit(f func(i int) (int, error)) error {
	for {
		p.b = p.s.buf
		j, err := f(p.pos)
		if err != errMore {
			if err == nil {
				p.pos = j
			}
			return err
		}
		if err := p.more(); err != nil {
			return err
		}
	}
}

// more extends the window, or explains why it cannot be extended.
func (p *xmlParser) more() error {
	added, err := p.s.more(p.pos)
	p.pos, p.b = 0, p.s.buf
	if err != nil {
		return err
	}
	if added {
		return nil
	}
	if cause := p.s.cause(); cause != nil {
		return p.s.src.failure(cause)
	}
	return p.fail(len(p.b), "unexpected end of the XML; the part is truncated")
}

// explain turns a scanning error into a message; damage to the compressed
// data is the root cause of any XML error, so it is looked for first.
func (p *xmlParser) explain(err error) error {
	var d *damageError
	var re *readError
	if errors.As(err, &d) || errors.As(err, &re) {
		return err
	}
	if cause := p.s.drain(); cause != nil {
		return fmt.Errorf("%w; first symptom: %v", p.s.src.failure(cause), err)
	}
	return err
}

// Character classes for scanning text and attribute values.
const (
	clPlain   = iota
	clStop    // '<' ending text; the quote ending an attribute value
	clAmp     // a reference
	clCR      // carriage return, normalised to a line feed
	clBracket // ']', which may begin a forbidden "]]>" in text
	clCtl     // a control character XML forbids
	clHigh    // first byte of a multi-byte sequence
	clLT      // '<' inside an attribute value, which is forbidden
)

var textClass, dquoteClass, squoteClass = classes(0), classes('"'), classes('\'')

func classes(quote byte) *[256]uint8 {
	var t [256]uint8
	for c := range 0x20 {
		if c != '\t' && c != '\n' {
			t[c] = clCtl
		}
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = clHigh
	}
	t['&'], t['\r'] = clAmp, clCR
	if quote == 0 {
		t['<'], t[']'] = clStop, clBracket
	} else {
		t['<'], t[quote] = clLT, clStop
	}
	return &t
}

// chars scans character data from i to the byte that ends it (a '<' in
// text, the quote in an attribute value), checking it as encoding/xml
// does: valid UTF-8, characters XML allows, known references, no "]]>". With
// out, it appends the decoded text, with line ends normalised, to *out.
// plain reports that the raw bytes are the decoded text.
func (p *xmlParser) chars(i int, class *[256]uint8, out *[]byte) (end int, plain bool, err error) {
	b := p.b
	run := i
	plain = true
	for i < len(b) {
		c := b[i]
		cl := class[c]
		if cl == clPlain {
			i++
			continue
		}
		switch cl {
		case clHigh:
			// Most non-ASCII text is two- or three-byte characters that
			// need no range check beyond the lead byte's.
			if (0xE1 <= c && c <= 0xEC || c == 0xEE) && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80 {
				i += 3
				continue
			}
			if 0xC2 <= c && c <= 0xDF && i+1 < len(b) && b[i+1]&0xC0 == 0x80 {
				i += 2
				continue
			}
			j, err := p.utf8(i)
			if err != nil {
				return i, plain, err
			}
			i = j
		case clStop:
			if out != nil {
				*out = append(*out, b[run:i]...)
			}
			return i, plain, nil
		case clAmp:
			if out != nil {
				*out = append(*out, b[run:i]...)
			}
			r, j, err := p.reference(i)
			if err != nil {
				return i, plain, err
			}
			if out != nil {
				*out = utf8.AppendRune(*out, r)
			}
			i, run, plain = j, j, false
		case clCR:
			if i+1 >= len(b) {
				return i, plain, errMore
			}
			if out != nil {
				*out = append(append(*out, b[run:i]...), '\n')
			}
			i++
			if b[i] == '\n' {
				i++
			}
			run, plain = i, false
		case clBracket:
			if i+2 >= len(b) {
				return i, plain, errMore
			}
			if b[i+1] == ']' && b[i+2] == '>' {
				return i, plain, p.fail(i, `"]]>" in text`)
			}
			i++
		case clCtl:
			return i, plain, p.fail(i, "control character %#02x", c)
		case clLT:
			return i, plain, p.fail(i, "unescaped < in an attribute value")
		}
	}
	return i, plain, errMore
}

// text scans character data up to the next '<'.
func (p *xmlParser) text(i int, out *[]byte) (int, error) {
	j, _, err := p.chars(i, textClass, out)
	return j, err
}

// utf8 checks the multi-byte character at i.
func (p *xmlParser) utf8(i int) (int, error) {
	b := p.b[i:]
	if !utf8.FullRune(b) {
		return i, errMore
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 {
		return i, p.fail(i, "invalid UTF-8")
	}
	if r == 0xFFFE || r == 0xFFFF {
		return i, p.fail(i, "character %U is not allowed in XML", r)
	}
	return i + n, nil
}

// maxReference bounds the length of a reference such as "&#x10FFFF;".
const maxReference = 16

// reference decodes the entity or character reference at i. Numeric
// references to surrogates decode to U+FFFD, as encoding/xml's do.
func (p *xmlParser) reference(i int) (rune, int, error) {
	b := p.b[i:min(len(p.b), i+maxReference)]
	end := bytes.IndexByte(b, ';')
	if end < 0 {
		if len(b) < maxReference && i+len(b) == len(p.b) {
			return 0, i, errMore
		}
		return 0, i, p.fail(i, "invalid reference %q", b)
	}
	ref := b[1:end]
	var r rune
	switch string(ref) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		if len(ref) < 2 || ref[0] != '#' {
			return 0, i, p.fail(i, "unknown entity %q", b[:end+1])
		}
		digits, base := ref[1:], 10
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		n, err := strconv.ParseUint(string(digits), base, 32)
		if err != nil || len(digits) == 0 || digits[0] == '+' || n > utf8.MaxRune {
			return 0, i, p.fail(i, "invalid character reference %q", b[:end+1])
		}
		r = rune(n)
		if 0xD800 <= r && r <= 0xDFFF {
			r = utf8.RuneError
		}
	}
	if !xmlChar(r) {
		return 0, i, p.fail(i, "reference %q to a character XML does not allow", b[:end+1])
	}
	return r, i + end + 1, nil
}

// xmlChar reports whether XML 1.0 allows r.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= utf8.MaxRune
}

var nameStart, nameChar = func() (s, c [256]bool) {
	for ch := range 256 {
		letter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_'
		s[ch] = letter
		c[ch] = letter || '0' <= ch && ch <= '9' || ch == '-' || ch == '.'
	}
	return
}()

// name scans the name at i and returns its end and where its local part
// starts. Names are ASCII with at most one colon, which separates a
// non-empty prefix from a non-empty local part.
func (p *xmlParser) name(i int) (end, local int, err error) {
	b := p.b
	if i >= len(b) {
		return i, i, errMore
	}
	if !nameStart[b[i]] {
		return i, i, p.fail(i, "expected a name, found %q", b[i])
	}
	local, j := i, i+1
	for ; j < len(b); j++ {
		c := b[j]
		if nameChar[c] {
			continue
		}
		if c != ':' {
			break
		}
		if local != i || j+1 >= len(b) || !nameStart[b[j+1]] {
			if j+1 >= len(b) {
				return i, i, errMore
			}
			return i, i, p.fail(j, "invalid name %q", b[i:j+1])
		}
		local = j + 1
	}
	if j >= len(b) {
		return i, i, errMore
	}
	if b[j] >= utf8.RuneSelf {
		return i, i, p.fail(j, "unsupported non-ASCII name")
	}
	return j, local, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// startTag parses the start tag whose '<' is at i.
func (p *xmlParser) startTag(i int) (tag, int, error) {
	b := p.b
	qe, ls, err := p.name(i + 1)
	if err != nil {
		return tag{}, i, err
	}
	t := tag{qs: i + 1, ls: ls, qe: qe}
	// The attributes are collected in a local slice and stored once: a
	// store into p per attribute costs a write barrier each while the GC
	// runs.
	attrs := p.attrs[:0]
	j := qe
	for {
		j = skipSpace(b, j)
		if j+1 >= len(b) {
			return t, i, errMore
		}
		switch b[j] {
		case '>':
			p.attrs = attrs
			return t, j + 1, nil
		case '/':
			if b[j+1] != '>' {
				return t, i, p.fail(j, "expected /> in <%s>", b[t.qs:t.qe])
			}
			t.empty = true
			p.attrs = attrs
			return t, j + 2, nil
		}
		a := attr{qs: j}
		if a.le, a.ls, err = p.name(j); err != nil {
			return t, i, err
		}
		j = skipSpace(b, a.le)
		if j+1 >= len(b) {
			return t, i, errMore
		}
		if b[j] != '=' {
			return t, i, p.fail(j, "attribute %s without a value", b[a.qs:a.le])
		}
		j = skipSpace(b, j+1)
		if j >= len(b) {
			return t, i, errMore
		}
		class := dquoteClass
		switch a.quote = b[j]; a.quote {
		case '"':
		case '\'':
			class = squoteClass
		default:
			return t, i, p.fail(j, "unquoted value of attribute %s", b[a.qs:a.le])
		}
		a.vs = j + 1
		// Most values are short and plain: scan them here, and leave
		// anything else to chars.
		k := a.vs
		for k < len(b) && class[b[k]] == clPlain {
			k++
		}
		if k < len(b) && b[k] == a.quote {
			a.ve, a.plain = k, true
		} else if a.ve, a.plain, err = p.chars(a.vs, class, nil); err != nil {
			return t, i, err
		}
		attrs = append(attrs, a)
		j = a.ve + 1
	}
}

// attrValue returns the decoded value of a, valid until the next call.
func (p *xmlParser) attrValue(a attr) []byte {
	if a.plain {
		return p.b[a.vs:a.ve]
	}
	class := dquoteClass
	if a.quote == '\'' {
		class = squoteClass
	}
	p.tmp = p.tmp[:0]
	_, _, _ = p.chars(a.vs, class, &p.tmp) // already checked by startTag
	return p.tmp
}

// endTag parses the end tag at i, which must close the element named name.
func (p *xmlParser) endTag(i int, name []byte) (int, error) {
	b := p.b
	if k := i + 2 + len(name); k < len(b) && bytes.Equal(b[i+2:k], name) {
		if b[k] == '>' {
			return k + 1, nil
		}
		if !nameChar[b[k]] && b[k] != ':' {
			if j := skipSpace(b, k); j < len(b) && b[j] == '>' {
				return j + 1, nil
			}
		}
	}
	end, _, err := p.name(i + 2)
	if err != nil {
		return i, err
	}
	if !bytes.Equal(b[i+2:end], name) {
		return i, p.fail(i, "<%s> closed by </%s>", name, b[i+2:end])
	}
	j := skipSpace(b, end)
	if j >= len(b) {
		return i, errMore
	}
	if b[j] != '>' {
		return i, p.fail(j, "expected > after </%s", name)
	}
	return j + 1, nil
}

// misc parses the comment, processing instruction or CDATA section at i,
// appending CDATA text to *out when out is not nil.
func (p *xmlParser) misc(i int, out *[]byte) (int, error) {
	b := p.b
	if err := p.need(i + 4); err != nil {
		return i, err
	}
	if b[i+1] == '?' {
		end, _, err := p.name(i + 2)
		if err != nil {
			return i, err
		}
		if strings.EqualFold(string(b[i+2:end]), "xml") {
			return i, p.fail(i, "XML declaration not at the start of the part")
		}
		k := bytes.Index(b[end:], []byte("?>"))
		if k < 0 {
			return i, errMore
		}
		return end + k + 2, nil
	}
	switch {
	case b[i+2] == '-' && b[i+3] == '-':
		k := bytes.Index(b[i+4:], []byte("--"))
		if k < 0 || i+4+k+2 >= len(b) {
			return i, errMore
		}
		if b[i+4+k+2] != '>' {
			return i, p.fail(i+4+k, `"--" inside a comment`)
		}
		return i + 4 + k + 3, nil
	}
	cdata, err := p.hasPrefix(i, "<![CDATA[")
	if err != nil {
		return i, err
	}
	if cdata {
		k := bytes.Index(b[i+9:], []byte("]]>"))
		if k < 0 {
			return i, errMore
		}
		return i + 9 + k + 3, p.cdata(i+9, i+9+k, out)
	}
	return i, p.fail(i, "document type declarations and other <! markup are not allowed")
}

// cdata checks the CDATA text b[i:end] and appends it to *out.
func (p *xmlParser) cdata(i, end int, out *[]byte) error {
	b := p.b
	run := i
	for i < end {
		switch textClass[b[i]] {
		case clCtl:
			return p.fail(i, "control character %#02x", b[i])
		case clHigh:
			j, err := p.utf8(i)
			if err != nil {
				return err
			}
			i = j
		case clCR:
			if out != nil {
				*out = append(append(*out, b[run:i]...), '\n')
			}
			i++
			if i < end && b[i] == '\n' {
				i++
			}
			run = i
		default:
			i++
		}
	}
	if out != nil {
		*out = append(*out, b[run:end]...)
	}
	return nil
}

// prolog parses the start of a part up to and including the root's start
// tag: a byte-order mark, the XML declaration, comments and white space.
func (p *xmlParser) prolog(i int) (tag, int, error) {
	b := p.b
	bom, err := p.hasPrefix(i, "\xEF\xBB\xBF")
	if err != nil {
		return tag{}, i, err
	}
	if bom {
		i += 3
	}
	decl, err := p.hasPrefix(i, "<?xml")
	if err != nil {
		return tag{}, i, err
	}
	if decl {
		if err := p.need(i + 6); err != nil {
			return tag{}, i, err
		}
		if b[i+5] == '?' || skipSpace(b, i+5) > i+5 {
			if i, err = p.declaration(i); err != nil {
				return tag{}, i, err
			}
		}
	}
	for {
		j := skipSpace(b, i)
		if err := p.need(j + 2); err != nil {
			return tag{}, i, err
		}
		if b[j] != '<' {
			return tag{}, i, p.fail(j, "text before the root element")
		}
		if b[j+1] != '!' && b[j+1] != '?' {
			return p.startTag(j)
		}
		if i, err = p.misc(j, nil); err != nil {
			return tag{}, i, err
		}
	}
}

// hasPrefix reports whether the bytes at i start with s.
func (p *xmlParser) hasPrefix(i int, s string) (bool, error) {
	rest := p.b[i:]
	if len(rest) < len(s) && strings.HasPrefix(s, string(rest)) {
		return false, errMore
	}
	return bytes.HasPrefix(rest, []byte(s)), nil
}

// declaration checks the XML declaration at i: version 1.0, and UTF-8, the
// only encoding this reader decodes.
func (p *xmlParser) declaration(i int) (int, error) {
	b := p.b
	j := i + 5
	for {
		j = skipSpace(b, j)
		if err := p.need(j + 2); err != nil {
			return i, err
		}
		if b[j] == '?' && b[j+1] == '>' {
			return j + 2, nil
		}
		ne, _, err := p.name(j)
		if err != nil {
			return i, err
		}
		k := skipSpace(b, ne)
		if err := p.need(k + 1); err != nil {
			return i, err
		}
		if b[k] != '=' {
			return i, p.fail(k, "malformed XML declaration")
		}
		k = skipSpace(b, k+1)
		if err := p.need(k + 1); err != nil {
			return i, err
		}
		q := b[k]
		if q != '"' && q != '\'' {
			return i, p.fail(k, "malformed XML declaration")
		}
		end := bytes.IndexByte(b[k+1:], q)
		if end < 0 {
			return i, errMore
		}
		v := string(b[k+1 : k+1+end])
		switch string(b[j:ne]) {
		case "version":
			if v != "1.0" {
				return i, p.fail(j, "unsupported XML version %q", v)
			}
		case "encoding":
			if !strings.EqualFold(v, "utf-8") {
				return i, p.fail(j, "unsupported encoding %q; only UTF-8 is read", v)
			}
		case "standalone":
		default:
			return i, p.fail(j, "malformed XML declaration")
		}
		j = k + 1 + end + 1
	}
}

// Element local names the readers act on.
type elemName uint8

const (
	elOther elemName = iota
	elRow
	elC
	elV
	elF
	elIs
	elT
	elR
	elRPr
	elRPh
	elPhoneticPr
	elSheetData
	elSi
)

func elemOf(local []byte) elemName {
	switch string(local) {
	case "row":
		return elRow
	case "c":
		return elC
	case "v":
		return elV
	case "f":
		return elF
	case "is":
		return elIs
	case "t":
		return elT
	case "r":
		return elR
	case "rPr":
		return elRPr
	case "rPh":
		return elRPh
	case "phoneticPr":
		return elPhoneticPr
	case "sheetData":
		return elSheetData
	case "si":
		return elSi
	}
	return elOther
}

// Elements that must not occur inside an element that is skipped: excelize
// walks worksheet tokens without regard to nesting, so it would read such
// an element as a row, cell or value where this reader would not.
const (
	forbidInHeader = 1<<elRow | 1<<elSheetData
	forbidInData   = 1<<elRow | 1<<elC | 1<<elSheetData
	forbidInCell   = forbidInData | 1<<elV | 1<<elF | 1<<elIs
)

// skipContent skips the content and end tag of the element whose start tag
// t ends at j, checking that it is well-formed and holds no forbidden
// element.
func (p *xmlParser) skipContent(t tag, j int, forbid uint32) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	p.stack = append(p.stack[:0], span{t.qs, t.qe})
	for len(p.stack) > 0 {
		var err error
		if j, err = p.text(j, nil); err != nil {
			return j, err
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			top := p.stack[len(p.stack)-1]
			if j, err = p.endTag(j, b[top.s:top.e]); err != nil {
				return j, err
			}
			p.stack = p.stack[:len(p.stack)-1]
		case '!', '?':
			if j, err = p.misc(j, nil); err != nil {
				return j, err
			}
		default:
			c, k, err := p.startTag(j)
			if err != nil {
				return j, err
			}
			if forbid&(1<<elemOf(b[c.ls:c.qe])) != 0 {
				return j, p.fail(j, "unexpected <%s> inside <%s>", b[c.qs:c.qe], b[t.qs:t.qe])
			}
			if !c.empty {
				if len(p.stack) == maxDepth {
					return j, p.fail(j, "elements nested too deeply")
				}
				p.stack = append(p.stack, span{c.qs, c.qe})
			}
			j = k
		}
	}
	return j, nil
}

// collect appends the text of the element whose start tag t ends at j to
// p.val. Values hold only text, so a child element is an error.
func (p *xmlParser) collect(t tag, j int) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	for {
		var err error
		if j, err = p.text(j, &p.val); err != nil {
			return j, err
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			return p.endTag(j, b[t.qs:t.qe])
		case '!', '?':
			if j, err = p.misc(j, &p.val); err != nil {
				return j, err
			}
		default:
			return j, p.fail(j, "unexpected element inside <%s>", b[t.qs:t.qe])
		}
	}
}

// children calls f for each child element of the element whose start tag t
// ends at j, skipping text and comments, and returns the end of the
// element. f receives the child's start tag, where it ends and the local
// name, and returns the end of the child.
func (p *xmlParser) children(t tag, j int, f func(c tag, k int, name elemName) (int, error)) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	for {
		var err error
		if j < len(b) && b[j] != '<' {
			if j, err = p.text(j, nil); err != nil {
				return j, err
			}
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			return p.endTag(j, b[t.qs:t.qe])
		case '!', '?':
			if j, err = p.misc(j, nil); err != nil {
				return j, err
			}
		default:
			c, k, err := p.startTag(j)
			if err != nil {
				return j, err
			}
			if j, err = f(c, k, elemOf(b[c.ls:c.qe])); err != nil {
				return j, err
			}
		}
	}
}

// stringItem appends the text of a string item (<si> or <is>) to p.val as
// excelize reads it: the text of <t>, then of each run's <t>, without the
// phonetic runs. Its typed attributes are checked because excelize fails to
// read the cell or table when one does not parse.
func (p *xmlParser) stringItem(t tag, j int) (int, error) {
	seenT, seenR := false, false
	return p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		switch name {
		case elT:
			if seenT || seenR {
				return k, p.fail(c.qs, "unexpected <%s> in a string", p.b[c.qs:c.qe])
			}
			seenT = true
			return p.collect(c, k)
		case elR:
			seenR = true
			return p.run(c, k)
		case elRPh, elPhoneticPr:
			if err := p.checkTyped(c); err != nil {
				return k, err
			}
		}
		return p.skipContent(c, k, 0)
	})
}

// run appends the text of a rich-text run to p.val.
func (p *xmlParser) run(t tag, j int) (int, error) {
	seenT := false
	return p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		switch name {
		case elT:
			if seenT {
				return k, p.fail(c.qs, "two <t> in one run")
			}
			seenT = true
			return p.collect(c, k)
		case elRPr:
			return p.children(c, k, func(prop tag, m int, _ elemName) (int, error) {
				if err := p.checkTyped(prop); err != nil {
					return m, err
				}
				return p.skipContent(prop, m, 0)
			})
		}
		return p.skipContent(c, k, 0)
	})
}

// Attribute types excelize unmarshals into, where a value that does not
// parse makes it drop data.
const (
	kindString = iota
	kindBool
	kindInt
	kindUint32
	kindFloat
)

// typedAttr returns the type excelize gives attribute name of element elem
// (formulas, phonetic runs and run properties).
func typedAttr(elem, name string) int {
	switch elem {
	case "f":
		switch name {
		case "aca", "dt2D", "dtr", "del1", "del2", "ca", "bx":
			return kindBool
		case "si":
			return kindInt
		}
	case "rPh":
		if name == "sb" || name == "eb" {
			return kindUint32
		}
	case "phoneticPr":
		if name == "fontId" {
			return kindInt
		}
	case "charset", "family":
		if name == "val" {
			return kindInt
		}
	case "b", "i", "strike", "outline", "shadow", "condense", "extend":
		if name == "val" {
			return kindBool
		}
	case "sz":
		if name == "val" {
			return kindFloat
		}
	case "color":
		switch name {
		case "auto":
			return kindBool
		case "indexed", "theme":
			return kindInt
		case "tint":
			return kindFloat
		}
	}
	return kindString
}

// checkTyped checks the typed attributes of t.
func (p *xmlParser) checkTyped(t tag) error {
	elem := string(p.b[t.ls:t.qe])
	for _, a := range p.attrs {
		kind := typedAttr(elem, string(p.b[a.ls:a.le]))
		if kind == kindString {
			continue
		}
		if v := p.attrValue(a); !validTyped(kind, v) {
			return p.fail(a.vs, "invalid value %q of %s in <%s>", v, p.b[a.qs:a.le], p.b[t.qs:t.qe])
		}
	}
	return nil
}

// validTyped accepts a subset of what encoding/xml parses into the type:
// empty, or the plain form without surrounding space.
func validTyped(kind int, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	switch kind {
	case kindBool:
		_, err := strconv.ParseBool(string(v))
		return err == nil
	case kindInt:
		if v[0] == '-' || v[0] == '+' {
			v = v[1:]
		}
		return len(v) <= 18 && digits(v)
	case kindUint32:
		return len(v) <= 9 && digits(v)
	case kindFloat:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil
	}
	return true
}

// digits reports whether v is one or more ASCII digits.
func digits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(v) > 0
}

// unescapeBSTR decodes, in place, the _xHHHH_ escapes with which Excel
// stores characters XML cannot hold, exactly as excelize's bstrUnmarshal
// does (which drops escaped surrogates).
func unescapeBSTR(b []byte) []byte {
	i := bytes.Index(b, []byte("_x"))
	if i < 0 {
		return b
	}
	w := i
	for i < len(b) {
		if b[i] == '_' && i+6 < len(b) && b[i+1] == 'x' && b[i+6] == '_' {
			if r, ok := hex4(b[i+2 : i+6]); ok {
				if r < 0xD800 || r > 0xDFFF {
					w += utf8.EncodeRune(b[w:], r)
				}
				i += 7
				continue
			}
		}
		b[w] = b[i]
		w++
		i++
	}
	return b[:w]
}

func hex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Cell types, from the t attribute.
const (
	typeNumber = iota // no t, t="n", and the types whose value is <v> as is
	typeShared
	typeInline
)

// sheetReader streams a worksheet. Its values are those of excelize's
// Rows and Columns with RawCellValue: <v> as written for numbers, booleans
// ("1"), errors, dates and formula strings; the text of <is> or of the
// shared string, runs concatenated, phonetic runs left out and _xHHHH_
// escapes decoded; line ends normalised as XML requires.
//
// Where excelize would read a damaged sheet differently, it reports
// ErrCorrupt instead, so that a sheet is never silently shorter or
// different. Deliberately, that includes:
//   - damaged compressed data, and XML that encoding/xml rejects or that
//     ends before </sheetData> (excelize ends the sheet without an error);
//   - rows or cells out of order, a cell whose reference names another row,
//     rows past 1,048,576 and columns past XFD, "$" in references;
//   - a t attribute outside the schema (excelize returns <v>), and a
//     shared-string index that is not a plain decimal number (excelize reads
//     string 0);
//   - cells, values or rows nested in other elements, and two <v> or <is>
//     in a cell, which excelize reads by token order rather than structure;
//   - attributes excelize fails to parse (a cell's s, formula flags, run
//     properties), which make it drop the value;
//   - DTDs, encodings other than UTF-8, non-ASCII names, and rows or
//     elements too large or too deep to buffer.
//
// The part after </sheetData> is inflated, which verifies its checksum,
// but not parsed. A failure to read a spilled shared string back ends the
// sheet with that error, which is not ErrCorrupt.
type sheetReader struct {
	p      xmlParser
	part   string
	sst    *sharedStrings
	cache  spillCache
	state  int    // readHeader, readRows or readDone
	inRoot bool   // the root's start tag has been read
	data   []byte // qualified name of <sheetData>, saved outside the window
	num    int    // number of the current row
	cur    int    // number of the row being parsed, for error messages
	inRow  bool   // whether a row is being parsed
	spans  []cellSpan
	cells  []string
	err    error
}

const (
	readHeader = iota
	readRows
	readDone
)

// cellSpan is a parsed value: p.val[s:e], or shared string sst if sst >= 0.
type cellSpan struct {
	col, s, e, sst int
}

// Row returns the current row. Like encoding/csv's fields, the values of a
// row are substrings of one string allocated for the row, so keeping any of
// them keeps the row's text alive; clone values kept from many rows.
func (r *sheetReader) Row() (int, []string) { return r.num, r.cells }

func (r *sheetReader) Err() error { return r.err }

func (r *sheetReader) Close() error {
	r.p.s.close()
	r.state = readDone
	return nil
}

func (r *sheetReader) Next() bool {
	if r.state == readDone {
		return false
	}
	ok, err := r.next()
	switch {
	case err != nil:
		r.err = failure(r.part, r.where(), r.p.explain(err))
	case ok:
		if err := r.fill(); err != nil {
			r.err = fmt.Errorf("%s: row %d: %w", r.part, r.num, err)
			ok = false
		}
	}
	if !ok {
		r.state = readDone
		r.cells = nil
		r.p.s.close()
	}
	return ok
}

// where describes the place in the sheet the reader is at.
func (r *sheetReader) where() string {
	switch {
	case r.inRow:
		return fmt.Sprintf("row %d", r.cur)
	case r.num > 0:
		return fmt.Sprintf("after row %d", r.num)
	}
	return "before the first row"
}

func (r *sheetReader) next() (bool, error) {
	p := &r.p
	for r.state == readHeader {
		if err := p.unit(r.header); err != nil {
			return false, err
		}
	}
	for r.state == readRows {
		p.b = p.s.buf
		j, row, err := r.dataUnit(p.pos)
		switch err {
		case nil:
			p.pos = j
			if row {
				return true, nil
			}
		case errMore:
			if err := p.more(); err != nil {
				return false, err
			}
		default:
			return false, err
		}
	}
	return false, nil
}

// header parses one unit of the part before the rows: the prolog and root,
// or one child of the root up to <sheetData>.
func (r *sheetReader) header(i int) (int, error) {
	p := &r.p
	if !r.inRoot {
		t, j, err := p.prolog(i)
		if err != nil {
			return i, err
		}
		if string(p.b[t.ls:t.qe]) != "worksheet" {
			return i, p.fail(t.qs, "root element <%s>, want <worksheet>", p.b[t.qs:t.qe])
		}
		if t.empty {
			return i, p.fail(t.qs, "the worksheet has no <sheetData>")
		}
		r.inRoot = true
		return j, nil
	}
	j, err := p.text(i, nil)
	if err != nil || j > i {
		return j, err
	}
	if err := p.need(i + 2); err != nil {
		return i, err
	}
	switch p.b[i+1] {
	case '/':
		return i, p.fail(i, "the worksheet has no <sheetData>")
	case '!', '?':
		return p.misc(i, nil)
	}
	t, j, err := p.startTag(i)
	if err != nil {
		return i, err
	}
	if elemOf(p.b[t.ls:t.qe]) != elSheetData {
		return p.skipContent(t, j, forbidInHeader)
	}
	r.data = append([]byte{}, p.b[t.qs:t.qe]...)
	r.state = readRows
	if t.empty {
		return j, r.finish()
	}
	return j, nil
}

// finish ends the sheet after </sheetData>: the rest of the part is not
// parsed but still inflated, to verify its checksum.
func (r *sheetReader) finish() error {
	r.state = readDone
	if err := r.p.s.drain(); err != nil {
		return r.p.s.src.failure(err)
	}
	return nil
}

// dataUnit parses one unit inside <sheetData>: text, a comment, a row, another
// element, or the end tag. It reports whether it read a row.
func (r *sheetReader) dataUnit(i int) (int, bool, error) {
	p := &r.p
	j, err := p.text(i, nil)
	if err != nil || j > i {
		return j, false, err
	}
	if err := p.need(i + 2); err != nil {
		return i, false, err
	}
	switch p.b[i+1] {
	case '/':
		if j, err = p.endTag(i, r.data); err != nil {
			return i, false, err
		}
		return j, false, r.finish()
	case '!', '?':
		j, err = p.misc(i, nil)
		return j, false, err
	}
	t, j, err := p.startTag(i)
	if err != nil {
		return i, false, err
	}
	if elemOf(p.b[t.ls:t.qe]) != elRow {
		j, err = p.skipContent(t, j, forbidInData)
		return j, false, err
	}
	if j, err = r.row(t, j); err != nil {
		return i, false, err
	}
	return j, true, nil
}

// row parses a row whose start tag t ends at j and, when it is complete,
// makes it the current row.
func (r *sheetReader) row(t tag, j int) (int, error) {
	p := &r.p
	num, seen := r.num+1, false
	for _, a := range p.attrs {
		if string(p.b[a.ls:a.le]) != "r" {
			continue
		}
		if seen {
			return j, p.fail(a.qs, "row with two r attributes")
		}
		seen = true
		v := p.attrValue(a)
		n, ok := atoi(v)
		if !ok || n < 1 {
			return j, p.fail(a.vs, "invalid row number %q", v)
		}
		num = n
	}
	r.cur, r.inRow = num, true
	if num > maxRows {
		return j, p.fail(t.qs, "row number %d is beyond Excel's last row %d", num, maxRows)
	}
	if num <= r.num {
		return j, p.fail(t.qs, "row %d follows row %d", num, r.num)
	}
	p.val, r.spans = p.val[:0], r.spans[:0]
	col := 0
	j, err := p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		if name != elC {
			return p.skipContent(c, k, forbidInData)
		}
		var err error
		k, col, err = r.cell(c, k, num, col)
		return k, err
	})
	if err != nil {
		return j, err
	}
	r.num, r.inRow = num, false
	return j, nil
}

// fill sets the cells of the row just parsed. Looking a shared string up
// may read the temporary file, so unlike parsing it can fail for a reason
// that is not the workbook's.
func (r *sheetReader) fill() error {
	r.cells = r.cells[:0]
	text := string(r.p.val)
	for _, c := range r.spans {
		for len(r.cells) < c.col-1 {
			r.cells = append(r.cells, "")
		}
		if c.sst < 0 {
			r.cells = append(r.cells, text[c.s:c.e])
			continue
		}
		v, err := r.sst.get(c.sst, &r.cache)
		if err != nil {
			return err
		}
		r.cells = append(r.cells, v)
	}
	return nil
}

// cell parses a cell of row num whose start tag t ends at j; prev is the
// column of the cell before it. It returns the cell's column.
func (r *sheetReader) cell(t tag, j, num, prev int) (int, int, error) {
	p := &r.p
	col, typ := prev+1, typeNumber
	var seen [3]bool // r, t, s
	for _, a := range p.attrs {
		if a.le-a.ls != 1 {
			continue
		}
		k := 0
		switch p.b[a.ls] {
		case 'r':
		case 't':
			k = 1
		case 's':
			k = 2
		default:
			continue
		}
		if seen[k] {
			return j, col, p.fail(a.qs, "cell with two %s attributes", p.b[a.qs:a.le])
		}
		seen[k] = true
		v := p.attrValue(a)
		switch k {
		case 0:
			c, rn, ok := cellRef(v)
			if !ok {
				return j, col, p.fail(a.vs, "invalid cell reference %q", v)
			}
			if c > maxCols {
				return j, col, p.fail(a.vs, "cell %s is beyond Excel's last column XFD", v)
			}
			if rn != num {
				return j, col, p.fail(a.vs, "cell %s in row %d", v, num)
			}
			col = c
		case 1:
			switch string(v) {
			case "", "n", "b", "e", "str", "d":
				typ = typeNumber
			case "s":
				typ = typeShared
			case "inlineStr":
				typ = typeInline
			default:
				return j, col, p.fail(a.vs, "unknown cell type %q", v)
			}
		case 2:
			if len(v) > 18 || !digits(v) {
				return j, col, p.fail(a.vs, "invalid style index %q", v)
			}
		}
	}
	if col > maxCols {
		return j, col, p.fail(t.qs, "cell beyond Excel's last column XFD")
	}
	if col <= prev {
		return j, col, p.fail(t.qs, "cells out of order: column %d after column %d", col, prev)
	}
	v, is := span{-1, -1}, span{-1, -1}
	if k, ok := p.quickValue(t, j, &v, &is); ok {
		return r.cellValue(t, k, col, typ, v, is)
	}
	j, err := p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		var err error
		switch name {
		case elV, elIs:
			sp := &v
			if name == elIs {
				sp = &is
			}
			if sp.s >= 0 {
				return k, p.fail(c.qs, "cell with two <%s>", p.b[c.qs:c.qe])
			}
			sp.s = len(p.val)
			if name == elV {
				k, err = p.collect(c, k)
			} else {
				if k, err = p.stringItem(c, k); err == nil {
					p.val = p.val[:sp.s+len(unescapeBSTR(p.val[sp.s:]))]
				}
			}
			sp.e = len(p.val)
			return k, err
		case elF:
			if err := p.checkTyped(c); err != nil {
				return k, err
			}
			return p.skipContent(c, k, 0)
		}
		return p.skipContent(c, k, forbidInCell)
	})
	if err != nil {
		return j, col, err
	}
	return r.cellValue(t, j, col, typ, v, is)
}

// quickValue parses the content and end tag of the cell whose start tag t
// ends at j when they are laid out as in nearly every cell, <v>text</v> or
// <is><t>text</t></is>, and otherwise reports false and consumes nothing;
// the general parse then decides.
func (p *xmlParser) quickValue(t tag, j int, v, is *span) (int, bool) {
	b, s := p.b, len(p.val)
	sp, end := v, "</v>"
	switch {
	case t.empty:
		return j, false
	case hasLit(b, j, "<v>"):
		j += 3
	case hasLit(b, j, "<is><t>"):
		sp, end = is, "</t></is>"
		j += 7
	default:
		return j, false
	}
	k, err := p.text(j, &p.val)
	if err == nil && hasLit(b, k, end) {
		k += len(end)
		if n := k + 2 + t.qe - t.qs; n < len(b) && b[k] == '<' && b[k+1] == '/' &&
			bytes.Equal(b[k+2:n], b[t.qs:t.qe]) && b[n] == '>' {
			if sp == is {
				p.val = p.val[:s+len(unescapeBSTR(p.val[s:]))]
			}
			*sp = span{s, len(p.val)}
			return n + 1, true
		}
	}
	p.val = p.val[:s]
	return j, false
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// cellValue records the value of a cell whose end tag ends at j.
func (r *sheetReader) cellValue(t tag, j, col, typ int, v, is span) (int, int, error) {
	p := &r.p
	val := cellSpan{col: col, s: v.s, e: v.e, sst: -1}
	switch {
	case typ == typeShared && v.e > v.s:
		idx, ok := atoi(bytes.TrimSpace(p.val[v.s:v.e]))
		if !ok {
			return j, col, p.fail(t.qs, "invalid shared string index %q", p.val[v.s:v.e])
		}
		if idx >= r.sst.len() {
			return j, col, p.fail(t.qs, "shared string index %d out of range: the table has %d strings", idx, r.sst.len())
		}
		if v.e == len(p.val) {
			p.val = p.val[:v.s]
		}
		val.sst = idx
		if r.sst.empty(idx) {
			return j, col, nil
		}
	case typ == typeInline && is.s >= 0:
		val.s, val.e = is.s, is.e
	}
	if val.sst < 0 && val.e <= val.s {
		return j, col, nil
	}
	r.spans = append(r.spans, val)
	return j, col, nil
}

// atoi parses a non-negative decimal number of at most 9 digits.
func atoi(v []byte) (int, bool) {
	if len(v) > 9 || !digits(v) {
		return 0, false
	}
	n := 0
	for _, c := range v {
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cellRef parses a reference such as "AB12"; columns count from 1.
func cellRef(v []byte) (col, row int, ok bool) {
	i := 0
	for i < len(v) && i < 4 {
		c := v[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		i++
	}
	row, ok = atoi(v[i:])
	return col, row, ok && i > 0 && row > 0
}
