package xlsx

import (
	"bytes"
	"errors"

	"feedgen/internal/msg"
)

// Cell types, from the t attribute.
const (
	typeNumber = iota // no t, t="n", and the types whose value is <v> as is
	typeShared
	typeInline
)

// Rows streams the rows of a worksheet; rows missing from the sheet are
// skipped, so Row reports each row's own 1-based number. Its values are those of excelize's
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
type Rows struct {
	p      xmlParser
	part   string
	sheet  string // the sheet's name, as the merchant sees it in Excel
	sst    *sharedStrings
	cache  spillCache
	state  int    // readHeader, readRows or readDone
	inRoot bool   // the root's start tag has been read
	data   []byte // qualified name of <sheetData>, saved outside the window
	num    int    // number of the current row, or of the pending one
	cur    int    // number of the row being parsed, for error messages
	inRow  bool   // whether a row is being parsed
	// pending is set once a <row> element is parsed and until the row is
	// returned: the next element may carry more cells of the same row.
	pending bool
	mark    rowMark // where the pending row's parse stands
	// peeked is the start tag of the row after the pending one, parsed to
	// learn its number and kept for the next call, which would parse it
	// again otherwise.
	peeked peekedRow
	spans  []cellSpan
	cells  []string
	err    error
}

const (
	readHeader = iota
	readRows
	readDone
)

// rowMark is the length of p.val and of the spans, and the last column,
// after the elements of a row parsed so far.
type rowMark struct{ val, spans, col int }

// peekedRow is a row start tag t at at, ending at end, with number num.
type peekedRow struct {
	ok           bool
	at, end, num int
	t            tag
}

// errRowEnd tells next that the pending row is complete: the unit at the
// position, which is not consumed, belongs to what follows the row.
var errRowEnd = errors.New("the row is complete")

// cellSpan is a parsed value: p.val[s:e], or shared string sst if sst >= 0.
type cellSpan struct {
	col, s, e, sst int
}

// Row returns the current row's number and its raw cell values, indexed by
// 0-based column; trailing empty cells may be missing. Like encoding/csv's
// fields, the values of a row are substrings of one string allocated for
// the row, so keeping any of them keeps the row's text alive; clone values
// kept from many rows.
func (r *Rows) Row() (int, []string) { return r.num, r.cells }

// Err reports why Next returned false, nil at the clean end of the sheet.
func (r *Rows) Err() error { return r.err }

// Close stops inflating the sheet. It never fails.
func (r *Rows) Close() error {
	r.p.s.close()
	r.state = readDone
	return nil
}

// Next advances to the next row that is present in the sheet.
func (r *Rows) Next() bool {
	if r.state == readDone {
		return false
	}
	ok, err := r.next()
	switch {
	case err != nil:
		r.err = failure(r.part, r.where(), r.p.explain(err))
	case ok:
		if err := r.fill(); err != nil {
			// A cell over a limit is the merchant's to find: by the
			// sheet's name, not its part's.
			r.err = msg.Errorf("sheet %q, row %d: %w", r.sheet, r.num, err)
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
func (r *Rows) where() error {
	switch {
	case r.inRow:
		return msg.Errorf("row %d", r.cur)
	case r.num > 0:
		return msg.Errorf("after row %d", r.num)
	}
	return msg.New("before the first row")
}

func (r *Rows) next() (bool, error) {
	p := &r.p
	for r.state == readHeader {
		if err := p.unit(r.header); err != nil {
			return false, err
		}
	}
	for r.state == readRows {
		p.b = p.s.buf
		j, err := r.dataUnit(p.pos)
		switch err {
		case nil:
			p.pos = j
		case errRowEnd:
			r.pending = false
			return true, nil
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
func (r *Rows) header(i int) (int, error) {
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
func (r *Rows) finish() error {
	r.state = readDone
	if err := r.p.s.drain(); err != nil {
		return r.p.s.src.failure(err)
	}
	return nil
}

// dataUnit parses one unit inside <sheetData>: text, a comment, a row, another
// element, or the end tag. A row parsed stays pending until the next row
// element or the end tag shows that it is complete: a writer built on the
// .NET Open XML SDK puts each cell of a row in a <row> element of its own,
// with the same r, and excelize and openpyxl merge them into one row.
func (r *Rows) dataUnit(i int) (int, error) {
	p := &r.p
	if pk := r.peeked; pk.ok && pk.at == i {
		// The window and the attributes are as they were: nothing was
		// parsed since.
		r.peeked.ok = false
		return r.row(pk.t, pk.end, pk.num)
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
		if r.pending {
			return i, errRowEnd
		}
		if j, err = p.endTag(i, r.data); err != nil {
			return i, err
		}
		return j, r.finish()
	case '!', '?':
		return p.misc(i, nil)
	}
	t, j, err := p.startTag(i)
	if err != nil {
		return i, err
	}
	if elemOf(p.b[t.ls:t.qe]) != elRow {
		return p.skipContent(t, j, forbidInData)
	}
	num, err := r.rowNumber()
	if err != nil {
		return i, err
	}
	if r.pending && num != r.num {
		r.peeked = peekedRow{true, i, j, num, t}
		return i, errRowEnd
	}
	return r.row(t, j, num)
}

// rowNumber returns the number of the row whose start tag was just parsed:
// its r attribute, or the row after the last one.
func (r *Rows) rowNumber() (int, error) {
	p := &r.p
	num, seen := r.num+1, false
	for _, a := range p.attrs {
		if string(p.b[a.ls:a.le]) != "r" {
			continue
		}
		if seen {
			return num, p.fail(a.qs, "row with two r attributes")
		}
		seen = true
		v := p.attrValue(a)
		n, ok := atoi(v)
		if !ok || n < 1 {
			return num, p.fail(a.vs, "invalid row number %q", v)
		}
		num = n
	}
	return num, nil
}

// row parses row num, whose start tag t ends at j, and leaves it pending.
// When a row is pending, the element continues it: its cells follow those
// parsed, in column order as within one element.
func (r *Rows) row(t tag, j, num int) (int, error) {
	p := &r.p
	r.cur, r.inRow = num, true
	if num > maxRows {
		return j, p.fail(t.qs, "row number %d is beyond Excel's last row %d", num, maxRows)
	}
	col := 0
	if r.pending {
		// A retry with more input starts again from the same mark.
		p.val, r.spans, col = p.val[:r.mark.val], r.spans[:r.mark.spans], r.mark.col
	} else {
		if num <= r.num {
			return j, p.fail(t.qs, "row %d follows row %d", num, r.num)
		}
		p.val, r.spans = p.val[:0], r.spans[:0]
	}
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
	r.num, r.inRow, r.pending = num, false, true
	r.mark = rowMark{len(p.val), len(r.spans), col}
	return j, nil
}

// fill sets the cells of the row just parsed. Looking a shared string up
// may read the temporary file, so unlike parsing it can fail for a reason
// that is not the workbook's.
func (r *Rows) fill() error {
	r.cells = r.cells[:0]
	text := string(r.p.val)
	total := 0
	for _, c := range r.spans {
		for len(r.cells) < c.col-1 {
			r.cells = append(r.cells, "")
		}
		n := c.e - c.s
		if c.sst >= 0 {
			n = r.sst.size(c.sst)
		}
		if total += n; n > MaxCellBytes || total > MaxRowBytes {
			return tooLarge(c.col, n, total)
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

// tooLarge describes a cell of n bytes at col that is over MaxCellBytes,
// or that takes its row to total bytes, over MaxRowBytes.
func tooLarge(col, n, total int) error {
	if n > MaxCellBytes {
		return msg.Errorf("%w: column %s holds %.1f MiB, more than the %d MiB a cell may (Excel itself stops at 32,767 characters)",
			ErrOverLimit, ColumnName(col), float64(n)/(1<<20), MaxCellBytes>>20)
	}
	return msg.Errorf("%w: the cells up to column %s hold %.1f MiB, more than the %d MiB a row may",
		ErrOverLimit, ColumnName(col), float64(total)/(1<<20), MaxRowBytes>>20)
}

// ColumnName returns the letters of a 1-based column number: 1 is A, 27 AA.
func ColumnName(col int) string {
	var b []byte
	for ; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// cell parses a cell of row num whose start tag t ends at j; prev is the
// column of the cell before it. It returns the cell's column.
func (r *Rows) cell(t tag, j, num, prev int) (int, int, error) {
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
func (r *Rows) cellValue(t tag, j, col, typ int, v, is span) (int, int, error) {
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
