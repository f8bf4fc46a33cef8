package xlsx

import (
	"bufio"
	"io"
	"strings"

	"feedgen/internal/msg"
	"feedgen/internal/spillfile"
)

// sharedStrings loads the shared-string table on first use.
func (wb *Workbook) sharedStrings() (*sharedStrings, error) {
	wb.sstMu.Lock()
	defer wb.sstMu.Unlock()
	if wb.closed {
		return nil, msg.New("reading the shared strings of a closed workbook")
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
	file  *spillfile.File // nil when no string was spilled
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
	// defaultSpillSize is Limits.SpillSize when that is zero.
	defaultSpillSize uint64 = 32 << 20
	// spillOver is the length, in bytes, over which a string is spilled.
	// Little more than a number or a yes stays in memory: medium strings
	// such as names and addresses add up to as much as the descriptions,
	// and the reads ahead make a spilled string cheap.
	spillOver = 16
)

func (t *sharedStrings) len() int { return len(t.index) }

func (t *sharedStrings) empty(i int) bool { return t.index[i]&lenMask == 0 }

// size is the length in bytes of string i.
func (t *sharedStrings) size(i int) int { return int(t.index[i] & lenMask) }

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

// close closes the temporary file, which removes it.
func (t *sharedStrings) close() error {
	if t.file == nil {
		return nil
	}
	if err := t.file.Close(); err != nil {
		return msg.Errorf("releasing the temporary file of the shared strings: %w", err)
	}
	return nil
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

func newSSTBuilder(partSize, spillSize uint64) *sstBuilder {
	return &sstBuilder{
		t:        &sharedStrings{},
		size:     int(min(partSize, arenaChunk)),
		spilling: partSize > spillSize,
	}
}

// add appends string b to the table.
func (sb *sstBuilder) add(b []byte) error {
	n := len(b)
	switch {
	case n > lenMask:
		return msg.Errorf("%w: a shared string exceeds %d MiB", ErrOverLimit, lenMask>>20)
	case sb.total+uint64(n) > maxSSTText:
		return msg.Errorf("%w: shared strings exceed 4 GiB", ErrOverLimit)
	case len(sb.t.index) >= MaxSharedStrings:
		return msg.Errorf("%w: the shared-string table holds more than %d strings", ErrOverLimit, MaxSharedStrings)
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
		f, err := spillfile.Create("feedgen-sst-*")
		if err != nil {
			return 0, msg.Errorf("creating a temporary file for the shared strings: %w", err)
		}
		sb.t.file, sb.t.spill = f, f
		sb.w = bufio.NewWriterSize(f, 256<<10)
	}
	if _, err := sb.w.Write(b); err != nil {
		return 0, msg.Errorf("writing shared strings to a temporary file: %w", err)
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
			return nil, msg.Errorf("writing shared strings to a temporary file: %w", err)
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

func (wb *Workbook) loadSharedStrings() (_ *sharedStrings, err error) {
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
	sb := newSSTBuilder(f.UncompressedSize64, wb.spillSize)
	defer func() {
		if err != nil {
			// The error that stopped the reading is the one to report.
			_ = sb.t.close()
		}
	}()
	fail := func(err error) (*sharedStrings, error) {
		return nil, failure(wb.sstPart, msg.Errorf("string %d", sb.t.len()), p.explain(err))
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
				sb.t.index = make([]uint64, 0, min(n, int(f.UncompressedSize64/16), MaxSharedStrings))
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
			return nil, msg.Errorf("%s: string %d: %w", wb.sstPart, sb.t.len(), addErr)
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
