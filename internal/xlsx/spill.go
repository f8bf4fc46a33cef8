package xlsx

import (
	"io"

	"feedgen/internal/msg"
)

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
			return "", msg.Errorf("reading shared string %d from the temporary file: %w", i, err)
		}
		c.win, c.winOff = c.win[:m], off
		b = c.win[:n]
	default:
		// A string looked up again, or lookups in no order: read just the
		// string, and keep the window for the lookups that move forward.
		if _, err := readSpill(r, &c.buf, off, n, n); err != nil {
			return "", msg.Errorf("reading shared string %d from the temporary file: %w", i, err)
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
