package feedgen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"

	"feedgen/internal/spillfile"
)

// exclusionList is a run's excluded products, in the order of the export.
// The first markdownExcludedRows are kept in memory, for the Markdown
// summary, which outlives the run; the rest go to a temporary file, from
// which report.json and the private preview read them back: a million
// excluded products held in memory took some 550 MB.
type exclusionList struct {
	head     []Exclusion
	byReason map[string]int // products excluded for each reason code
	file     *spillfile.File
	w        *bufio.Writer
	spilled  int    // entries in the file
	rec      []byte // the record being written
}

// listedExclusions is a list of exclusions already in memory, as a
// hand-built Catalog has them.
func listedExclusions(es []Exclusion) *exclusionList {
	return &exclusionList{head: es}
}

// add appends e.
func (l *exclusionList) add(e Exclusion) error {
	if l.byReason == nil {
		l.byReason = map[string]int{}
	}
	for i, r := range e.Reasons {
		if !slices.ContainsFunc(e.Reasons[:i], func(prev Reason) bool { return prev.Code == r.Code }) {
			l.byReason[r.Code]++
		}
	}
	if len(l.head) < markdownExcludedRows {
		l.head = append(l.head, e)
		return nil
	}
	if l.file == nil {
		f, err := spillfile.Create("feedgen-excluded-*")
		if err != nil {
			return fmt.Errorf("creating a temporary file for the excluded products: %w", err)
		}
		l.file, l.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	l.rec = appendExclusion(l.rec[:0], &e)
	var size [binary.MaxVarintLen64]byte
	l.w.Write(size[:binary.PutUvarint(size[:], uint64(len(l.rec)))])
	// bufio.Writer errors are sticky: the second write reports the first's.
	if _, err := l.w.Write(l.rec); err != nil {
		return fmt.Errorf("writing the excluded products to a temporary file: %w", err)
	}
	l.spilled++
	return nil
}

// Len is how many products are excluded.
func (l *exclusionList) Len() int { return len(l.head) + l.spilled }

// All yields the exclusions in the order they were added. Reading the
// temporary file back may fail: then it yields the error, once, and stops.
func (l *exclusionList) All() iter.Seq2[Exclusion, error] {
	return func(yield func(Exclusion, error) bool) {
		for _, e := range l.head {
			if !yield(e, nil) {
				return
			}
		}
		if l.spilled == 0 {
			return
		}
		if err := l.w.Flush(); err != nil {
			yield(Exclusion{}, fmt.Errorf("writing the excluded products to a temporary file: %w", err))
			return
		}
		br := bufio.NewReaderSize(io.NewSectionReader(l.file, 0, 1<<62), 64<<10)
		var rec []byte
		for i := range l.spilled {
			e, err := readExclusion(br, &rec)
			if err != nil {
				yield(Exclusion{}, fmt.Errorf("reading excluded product %d of %d back from the temporary file: %w", len(l.head)+i+1, l.Len(), err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// close removes the temporary file; the entries in memory stay. It may
// be called again.
func (l *exclusionList) close() error {
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// appendExclusion appends e to b as the fields of a record of the
// temporary file: strings by their length, numbers as varints.
func appendExclusion(b []byte, e *Exclusion) []byte {
	b = appendString(b, e.ID)
	b = appendString(b, e.Name)
	b = binary.AppendVarint(b, int64(e.Row))
	b = binary.AppendUvarint(b, uint64(len(e.Reasons)))
	for _, r := range e.Reasons {
		b = appendString(b, r.Code)
		b = appendString(b, r.Column)
		b = binary.AppendVarint(b, int64(r.Row))
		b = appendString(b, r.Value)
		b = appendString(b, r.Message)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errDamagedRecord is a record of the temporary file that does not read
// back as it was written.
var errDamagedRecord = errors.New("the record is damaged")

// readExclusion reads the next record, its length and its fields, from
// br; rec is its buffer. The strings share one copy of the record.
func readExclusion(br *bufio.Reader, rec *[]byte) (Exclusion, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return Exclusion{}, noEOF(err)
	}
	if uint64(cap(*rec)) < n {
		*rec = make([]byte, n)
	}
	b := (*rec)[:n]
	if _, err := io.ReadFull(br, b); err != nil {
		return Exclusion{}, noEOF(err)
	}
	d := recordDecoder{b: b, s: string(b)}
	e := Exclusion{ID: d.string(), Name: d.string(), Row: d.int()}
	// A damaged count cannot make more reasons than the record has bytes.
	if k := d.uint(); k > 0 && k <= uint64(len(b)) {
		e.Reasons = make([]Reason, k)
		for i := range e.Reasons {
			e.Reasons[i] = Reason{Code: d.string(), Column: d.string(), Row: d.int(), Value: d.string(), Message: d.string()}
		}
	} else if k > 0 {
		d.bad = true
	}
	if d.bad || d.at != len(b) {
		return Exclusion{}, errDamagedRecord
	}
	return e, nil
}

// noEOF makes the end of the file, where a record was due, an error.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// recordDecoder reads the fields of a record b, whose strings are cut
// from s, a copy of it; bad is set once a field runs past its end.
type recordDecoder struct {
	b   []byte
	s   string
	at  int
	bad bool
}

func (d *recordDecoder) uint() uint64 {
	v, n := binary.Uvarint(d.b[d.at:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.at += n
	return v
}

func (d *recordDecoder) int() int {
	v, n := binary.Varint(d.b[d.at:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.at += n
	return int(v)
}

func (d *recordDecoder) string() string {
	n := d.uint()
	if d.bad || n > uint64(len(d.b)-d.at) {
		d.bad = true
		return ""
	}
	s := d.s[d.at : d.at+int(n)]
	d.at += int(n)
	return s
}
