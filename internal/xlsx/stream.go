package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"

	"feedgen/internal/msg"
)

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
	// utf16 is set when the part is UTF-16, which the inflater turns into
	// UTF-8 for the scanner; set before the first chunk is handed over.
	utf16 bool
}

type chunk struct {
	b   []byte
	err error // non-nil on the last chunk: io.EOF or why inflating failed
}

func openPart(src *source, f *zip.File, name string) (*partStream, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, failure(name, opening, src.failure(err))
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
	// The first bytes tell UTF-16 from UTF-8, whatever the buffer size.
	head := make([]byte, 4)
	n, _ := io.ReadFull(rc, head)
	in := io.MultiReader(bytes.NewReader(head[:n]), rc)
	if dec := utf16Decoder(head[:n]); dec != nil {
		s.utf16 = true
		in = dec.Reader(in)
	}
	for {
		var b []byte
		select {
		case b = <-s.free:
		case <-s.stop:
			return
		}
		n, err := readFull(in, b)
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
	errUnitTooLarge = msg.Errorf("%w: one row or string spans more than %d MiB of XML", ErrOverLimit, maxUnit>>20)
)

// readFull reads into b until it is full or r fails; io.EOF is returned
// with the last bytes.
func readFull(r io.Reader, b []byte) (int, error) {
	n, err := 0, error(nil)
	for n < len(b) && err == nil {
		var m int
		m, err = r.Read(b[n:])
		n += m
	}
	return n, err
}
