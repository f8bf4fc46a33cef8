package feedgen

import (
	"bufio"
	"encoding/binary"
	"io"
	"iter"
	"slices"
	"strings"

	"feedgen/internal/msg"
	"feedgen/internal/spillfile"
)

// spillList is a list that grows with the export, in the order entries
// were added. The first markdownExcludedRows are kept in memory, for the
// Markdown summary, which outlives the run; the rest go to a temporary
// file, from which report.json and the private preview read them back: a
// million excluded products held in memory took some 550 MB. C encodes
// an entry as a record of that file.
type spillList[T any, C recordCodec[T]] struct {
	head    []T
	file    *spillfile.File
	w       *bufio.Writer
	spilled int    // entries in the file
	rec     []byte // the record being written
}

// recordCodec writes and reads one entry of a spillList's file; what
// names the entries in errors, in the merchant's language.
type recordCodec[T any] interface {
	append(b []byte, v *T) []byte
	read(d *recordDecoder) T
	what() noun
}

// exclusionList is a run's excluded products, with how many each reason
// code excluded.
type exclusionList struct {
	spillList[Exclusion, exclusionCodec]
	byReason map[string]int // products excluded for each reason code
}

// listedExclusions is a list of exclusions already in memory, as a
// hand-built Catalog has them.
func listedExclusions(es []Exclusion) *exclusionList {
	return &exclusionList{spillList: spillList[Exclusion, exclusionCodec]{head: es}}
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
	return l.spillList.add(e)
}

// add appends v.
func (l *spillList[T, C]) add(v T) error {
	var c C
	if len(l.head) < markdownExcludedRows {
		l.head = append(l.head, v)
		return nil
	}
	if l.file == nil {
		f, err := spillfile.Create("feedgen-" + strings.ReplaceAll(string(c.what()), " ", "-") + "-*")
		if err != nil {
			return msg.Errorf("creating a temporary file for the %s: %w", c.what(), err)
		}
		l.file, l.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	l.rec = c.append(l.rec[:0], &v)
	var size [binary.MaxVarintLen64]byte
	l.w.Write(size[:binary.PutUvarint(size[:], uint64(len(l.rec)))])
	// bufio.Writer errors are sticky: the second write reports the first's.
	if _, err := l.w.Write(l.rec); err != nil {
		return msg.Errorf("writing the %s to a temporary file: %w", c.what(), err)
	}
	l.spilled++
	return nil
}

// Len is how many entries there are.
func (l *spillList[T, C]) Len() int { return len(l.head) + l.spilled }

// All yields the entries in the order they were added. Reading the
// temporary file back may fail: then it yields the error, once, and stops.
func (l *spillList[T, C]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var c C
		var zero T
		for _, v := range l.head {
			if !yield(v, nil) {
				return
			}
		}
		if l.spilled == 0 {
			return
		}
		if err := l.w.Flush(); err != nil {
			yield(zero, msg.Errorf("writing the %s to a temporary file: %w", c.what(), err))
			return
		}
		br := bufio.NewReaderSize(io.NewSectionReader(l.file, 0, 1<<62), 64<<10)
		var rec []byte
		for i := range l.spilled {
			v, err := readRecord[T, C](br, &rec)
			if err != nil {
				yield(zero, msg.Errorf("reading the %s back from the temporary file, at %d of %d: %w", c.what(), len(l.head)+i+1, l.Len(), err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// close removes the temporary file; the entries in memory stay. It may
// be called again.
func (l *spillList[T, C]) close() error {
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// exclusionCodec is the record of an Exclusion.
type exclusionCodec struct{}

func (exclusionCodec) what() noun { return noun(msg.N("excluded products")) }

// append appends e to b as the fields of a record of the temporary
// file: strings by their length, numbers as varints.
func (exclusionCodec) append(b []byte, e *Exclusion) []byte {
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
var errDamagedRecord = msg.New("the record is damaged")

// readRecord reads the next record, its length and its fields, from br;
// rec is its buffer. The strings share one copy of the record.
func readRecord[T any, C recordCodec[T]](br *bufio.Reader, rec *[]byte) (T, error) {
	var zero T
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return zero, noEOF(err)
	}
	if uint64(cap(*rec)) < n {
		*rec = make([]byte, n)
	}
	b := (*rec)[:n]
	if _, err := io.ReadFull(br, b); err != nil {
		return zero, noEOF(err)
	}
	d := recordDecoder{b: b, s: string(b)}
	var c C
	v := c.read(&d)
	if d.bad || d.at != len(b) {
		return zero, errDamagedRecord
	}
	return v, nil
}

func (exclusionCodec) read(d *recordDecoder) Exclusion {
	e := Exclusion{ID: d.string(), Name: d.string(), Row: d.int()}
	if k := d.count(); k > 0 {
		e.Reasons = make([]Reason, k)
		for i := range e.Reasons {
			e.Reasons[i] = Reason{Code: d.string(), Column: d.string(), Row: d.int(), Value: d.string(), Message: d.string()}
		}
	}
	return e
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

// count reads the number of entries that follow. A damaged count cannot
// make more entries than the record has bytes left.
func (d *recordDecoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)-d.at) {
		d.bad = true
		return 0
	}
	return int(n)
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

// noun is a noun in a message, such as a codec's what: its English, which
// Text says in the merchant's language when the table has it (msg.N marks
// it).
type noun string

// Text is the noun in l.
func (n noun) Text(l msg.Lang) string { return l.T(string(n)) }
