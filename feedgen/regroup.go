package feedgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"feedgen/internal/msg"
	"feedgen/internal/spillfile"
)

// rowMemory is how many bytes of kept rows scanGrouped holds in memory
// before it moves them to a temporary file: a shop of a thousand products
// or so that sorted its export makes no file. Tests lower it.
var rowMemory = 4 << 20

// errRowsApart stops the scan of rows in their usual order at a row of a
// product it already handed on.
var errRowsApart = errors.New("the rows of a product are apart")

// scanGrouped gathers products from rows in any order, as a sorted export
// has them. Every row is kept, cut down to the columns products are read
// from, until the sheet ends: in memory up to rowMemory bytes, then in a
// temporary file. Then each product is gathered from its rows in the order
// of the sheet, by the same code as rows in their usual order, and handed
// on in the order of its first row: the products are exactly those of the
// export with each product's rows moved up to its first.
func scanGrouped(ctx context.Context, rows rowReader, b *productRows, emit func(*Product) error) (err error) {
	cols, idx := b.idx.project()
	g := rowGroups{ids: make(map[string]int32)}
	defer func() {
		if cerr := g.store.close(); cerr != nil && err == nil {
			err = msg.Errorf("releasing the temporary file of the rows: %w", cerr)
		}
	}()
	var prev string // the product of the row before
	for rows.Next() {
		num, cells := rows.Row()
		id, ok, err := b.rowID(ctx, num, cells, prev)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if id != prev {
			prev = strings.Clone(id)
		}
		if err := g.add(prev, num, cells, cols); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := g.store.finish(); err != nil {
		return err
	}
	b.idx = idx
	read := 0
	for _, pg := range g.products {
		b.start(pg.id, int(pg.first))
		for k := pg.head; k >= 0; k = g.next[k] {
			if read++; read&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			num, cells, err := g.row(k)
			if err != nil {
				return err
			}
			if err := b.add(num, cells); err != nil {
				return err
			}
		}
		b.ex.ProductCount++
		if err := emit(b.take()); err != nil {
			return err
		}
	}
	return nil
}

// project returns the columns that products are read from, in the order
// of the sheet, and the index that finds them in a row cut down to those
// columns.
func (hi headerIndex) project() ([]int, headerIndex) {
	var cols []int
	for _, c := range hi.cols {
		cols = append(cols, c)
	}
	cols = append(cols, hi.images...)
	for _, o := range hi.options {
		cols = append(cols, o.name, o.value)
	}
	slices.Sort(cols)
	cols = slices.Compact(cols)
	if len(cols) > 0 && cols[0] < 0 { // absent optional columns
		cols = cols[1:]
	}
	at := func(c int) int {
		if c < 0 {
			return -1
		}
		i, _ := slices.BinarySearch(cols, c)
		return i
	}
	p := headerIndex{cols: make(map[string]int, len(hi.cols))}
	for key, c := range hi.cols {
		p.cols[key] = at(c)
	}
	for _, c := range hi.images {
		p.images = append(p.images, at(c))
	}
	for _, o := range hi.options {
		p.options = append(p.options, optionColumns{name: at(o.name), value: at(o.value), header: o.header})
	}
	return cols, p
}

// rowGroups keeps the rows of an export by product: the rows themselves in
// store, one after another as they were read, and in memory 12 bytes a row
// that chain each product's rows, and an entry a product.
type rowGroups struct {
	ids      map[string]int32 // product id -> index in products
	products []rowGroup       // in the order of their first rows
	ends     []int64          // kept row k ends at ends[k] in store, and starts where row k-1 ends
	next     []int32          // the kept row of the same product after row k, or -1
	store    rowStore
	rec      []byte   // the row being written
	cells    []string // the row read back
}

type rowGroup struct {
	id         string
	first      int32 // the number of its first row in the sheet
	head, tail int32 // its first and last kept rows
}

// add keeps data row num of product id: its number and the cells of cols.
func (g *rowGroups) add(id string, num int, cells []string, cols []int) error {
	k := int32(len(g.next))
	if i, seen := g.ids[id]; seen {
		g.next[g.products[i].tail] = k
		g.products[i].tail = k
	} else {
		g.ids[id] = int32(len(g.products))
		g.products = append(g.products, rowGroup{id: id, first: int32(num), head: k, tail: k})
	}
	g.next = append(g.next, -1)
	g.rec = binary.AppendUvarint(g.rec[:0], uint64(num))
	for _, c := range cols {
		v := cell(cells, c)
		g.rec = binary.AppendUvarint(g.rec, uint64(len(v)))
		g.rec = append(g.rec, v...)
	}
	end, err := g.store.write(g.rec)
	if err != nil {
		return err
	}
	g.ends = append(g.ends, end)
	return nil
}

// row returns the number and the cells of kept row k, the cells valid
// until the next call.
func (g *rowGroups) row(k int32) (int, []string, error) {
	var start int64
	if k > 0 {
		start = g.ends[k-1]
	}
	b, err := g.store.read(start, int(g.ends[k]-start))
	if err != nil {
		return 0, nil, err
	}
	s := string(b) // the cells are substrings of one copy
	num, i := binary.Uvarint(b)
	g.cells = g.cells[:0]
	for i > 0 && i < len(b) {
		n, m := binary.Uvarint(b[i:])
		if m <= 0 || uint64(len(b)-i-m) < n {
			i = -1
			break
		}
		i += m
		g.cells = append(g.cells, s[i:i+int(n)])
		i += int(n)
	}
	if i != len(b) {
		return 0, nil, msg.Errorf("a row kept in the temporary file reads back damaged (%d bytes at %d)", len(b), start)
	}
	return int(num), g.cells, nil
}

// rowStore holds the rows kept: in memory up to rowMemory bytes, then in
// a temporary file that is gone once closed.
type rowStore struct {
	mem  []byte
	file *spillfile.File
	w    *bufio.Writer
	size int64
	buf  []byte // a row read back from the file
}

// write appends b and returns where it ends.
func (s *rowStore) write(b []byte) (int64, error) {
	if s.file == nil && len(s.mem)+len(b) > rowMemory {
		f, err := spillfile.Create("feedgen-rows-*")
		if err != nil {
			return 0, msg.Errorf("creating a temporary file for the rows: %w", err)
		}
		s.file, s.w = f, bufio.NewWriterSize(f, 256<<10)
		if _, err := s.w.Write(s.mem); err != nil {
			return 0, msg.Errorf("writing rows to a temporary file: %w", err)
		}
		s.mem = nil
	}
	if s.w != nil {
		if _, err := s.w.Write(b); err != nil {
			return 0, msg.Errorf("writing rows to a temporary file: %w", err)
		}
	} else {
		s.mem = append(s.mem, b...)
	}
	s.size += int64(len(b))
	return s.size, nil
}

// finish makes every row written readable.
func (s *rowStore) finish() error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return msg.Errorf("writing rows to a temporary file: %w", err)
	}
	return nil
}

// read returns the n bytes at off, valid until the next call.
func (s *rowStore) read(off int64, n int) ([]byte, error) {
	if s.file == nil {
		return s.mem[off : off+int64(n)], nil
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	if m, err := s.file.ReadAt(s.buf[:n], off); m < n {
		return nil, msg.Errorf("reading rows back from the temporary file: %w", err)
	}
	return s.buf[:n], nil
}

func (s *rowStore) close() error {
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
