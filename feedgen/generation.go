package feedgen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"feedgen/internal/msg"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// A generation is the set of files one run wrote to a folder. Its manifest,
// kept beside them, says what they are: each file's size, SHA-256 and item
// count, and whether a gzip copy sits beside it. The manifest is what makes
// a folder of separately renamed files one unit:
//
//   - A commit first writes a journal (the new manifest with the renames
//     still to do), then renames the new files over the old, then writes
//     the manifest and removes the journal. A journal in the folder means a commit
//     was interrupted; the next run under the folder's lock rolls it
//     forward (every new file was complete and synced before the journal
//     was written), so after any crash the folder holds the whole previous
//     generation or, once feedgen runs again, the whole new one.
//   - The daemon's server reads the manifest, opens every file it names and
//     then checks that no commit started meanwhile; it serves those open
//     files until the next generation is whole, so no client gets one file
//     from one generation and the next from another.
//   - The hashes give the server its ETags and a run its "did anything
//     change" without reading the published files again.
const (
	manifestFile = ".feedgen-generation.json"
	journalFile  = ".feedgen-commit.json"
)

type manifest struct {
	// Generated is the time the products were evaluated at.
	Generated time.Time       `json:"generated"`
	Files     []manifestEntry `json:"files"`
	// Renames, in a journal only, are the temporary files still to be
	// renamed to their names.
	Renames []rename `json:"renames,omitempty"`
}

type manifestEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// SHA256 identifies a public file's content for ETags and change
	// detection: it is the hash of the gzip copy, which is a function of
	// the file and some 25 times shorter to hash. Private files, which
	// nothing compares, have none.
	SHA256 string `json:"sha256,omitempty"`
	// Items is the number of items of a feed; -1 for a file that is not one.
	Items int `json:"items"`
	// GzipSize is the size of Name+".gz", the same bytes compressed; 0
	// when there is none.
	GzipSize int64 `json:"gzip_size,omitempty"`
}

type rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// gzipName is the name of a file's compressed copy, which static hosts
// serve for Accept-Encoding: gzip and Google fetches as a feed of its own.
func gzipName(name string) string { return name + ".gz" }

// entryOf returns the entry of the file name, nil when m is nil or has no
// such file.
func (m *manifest) entryOf(name string) *manifestEntry {
	if m == nil {
		return nil
	}
	for i := range m.Files {
		if m.Files[i].Name == name {
			return &m.Files[i]
		}
	}
	return nil
}

// readManifest returns the manifest of the generation in dir, or nil when
// there is none (a folder an older feedgen wrote, or never written).
func readManifest(dir string) (*manifest, error) {
	return decodeManifest(filepath.Join(dir, manifestFile))
}

func decodeManifest(path string) (*manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, msg.Errorf("%s is damaged: %w", DisplayPath(path), err)
	}
	return &m, nil
}

// writeJournal records the commit about to be made in dir: the new
// manifest and the renames.
func writeJournal(dir string, m *manifest) error { return writeMeta(dir, journalFile, m) }

// writeMeta writes m as the file name in dir through a temporary file, so
// that a manifest or journal in the folder is always whole.
func writeMeta(dir, name string, m *manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPattern(name))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := finishTemp(tmp); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := replaceFile(dir, filepath.Base(tmp.Name()), name); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

// applyJournal does the renames of the journal m in dir that are still to
// do, then makes it the folder's manifest. A rename already done finds its
// source gone and is skipped, so it serves a first commit and the roll
// forward after a crash alike. It returns the names it could not replace.
func applyJournal(dir string, m *manifest) (replaced []string, err error) {
	for _, r := range m.Renames {
		if _, err := os.Lstat(filepath.Join(dir, r.From)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := replaceFile(dir, r.From, r.To); err != nil {
			return replaced, &ReplaceError{File: r.To, Replaced: replaced, Err: err}
		}
		replaced = append(replaced, r.To)
	}
	if err := syncDir(dir); err != nil {
		return replaced, err
	}
	done := *m
	done.Renames = nil
	if err := writeMeta(dir, manifestFile, &done); err != nil {
		return replaced, msg.Errorf("write %s: %w", manifestFile, err)
	}
	if err := os.Remove(filepath.Join(dir, journalFile)); err != nil {
		return replaced, msg.Errorf("finish the commit: %w", err)
	}
	return replaced, syncDir(dir)
}

// recoverCommit rolls forward a commit that a crash interrupted in dir. It
// reports whether there was one. It must run under the folder's lock,
// before leftovers are removed: the journal's temporary files are not
// leftovers.
func recoverCommit(dir string) (bool, error) {
	m, err := decodeManifest(filepath.Join(dir, journalFile))
	if err != nil || m == nil {
		return false, err
	}
	if _, err := applyJournal(dir, m); err != nil {
		return true, msg.Errorf("finish the catalog update an interrupted run began in %s: %w", DisplayPath(dir), err)
	}
	return true, nil
}

// ReplaceError is a commit that could not replace one of the files. The
// commit's journal stays, and the next run finishes it.
type ReplaceError struct {
	File     string
	Replaced []string // files already replaced by the new ones
	Err      error
}

func (e *ReplaceError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *ReplaceError) Text(l msg.Lang) string {
	if len(e.Replaced) == 0 {
		return l.T("replace %s: %v", e.File, e.Err)
	}
	return l.T("replace %s: %v (already replaced: %v; the next run finishes the update)", e.File, e.Err, e.Replaced)
}

func (e *ReplaceError) Unwrap() error { return e.Err }

// sink is what a catalog file is written through. It gathers the bytes in
// blocks, and a goroutine of its own writes each block to the temporary
// file and, for a public file, to its gzip copy, hashing what identifies
// it: the run does not wait for the disk or the compressor, and a large
// catalog is compressed once here rather than by every client that asks
// for it.
type sink struct {
	file   *writebackFile
	gz     *os.File // the gzip copy's temporary file, or nil
	block  []byte
	blocks chan []byte
	free   chan []byte
	done   chan error
	sum    hash.Hash
	size   int64
	closed bool
	result error // of the digest, once closed
}

const (
	sinkBlock  = 256 << 10
	sinkBlocks = 4 // in flight per file: a megabyte
	// gzipLevel trades a little size for speed: klauspost/compress at
	// level 1 compresses a 100k-product catalog at nearly 2 GB/s, twice
	// the standard library's fastest, to within 5% of its size.
	gzipLevel = gzip.BestSpeed
)

func newSink(f *os.File, gz *os.File) *sink {
	s := &sink{
		file:   &writebackFile{f: f},
		gz:     gz,
		blocks: make(chan []byte, sinkBlocks),
		free:   make(chan []byte, sinkBlocks+1),
		done:   make(chan error, 1),
		sum:    sha256.New(),
	}
	for range sinkBlocks + 1 {
		s.free <- make([]byte, 0, sinkBlock)
	}
	s.block = <-s.free
	go s.digest()
	return s
}

// digest writes out the blocks. After a failed write it keeps taking the
// blocks, so that Write never blocks for good, and reports the error at
// close.
func (s *sink) digest() {
	var zw *gzip.Writer
	if s.gz != nil {
		zw, _ = gzip.NewWriterLevel(io.MultiWriter(s.gz, s.sum), gzipLevel)
	}
	var err error
	for b := range s.blocks {
		if err == nil {
			_, err = s.file.Write(b)
		}
		if err == nil && zw != nil {
			_, err = zw.Write(b)
		}
		s.free <- b[:0]
	}
	if err == nil && zw != nil {
		err = zw.Close()
	}
	s.done <- err
}

// Write never fails: an error writing the file comes from close.
func (s *sink) Write(p []byte) (int, error) {
	s.size += int64(len(p))
	for q := p; len(q) > 0; {
		k := min(len(q), sinkBlock-len(s.block))
		s.block = append(s.block, q[:k]...)
		q = q[k:]
		if len(s.block) == sinkBlock {
			s.blocks <- s.block
			s.block = <-s.free
		}
	}
	return len(p), nil
}

// close waits for the hash and the gzip copy and returns the file's
// manifest entry; items is its item count, -1 for a file that is not a
// feed. The temporary files are left open for finishTemp.
func (s *sink) close(name string, items int) (manifestEntry, error) {
	if err := s.stop(); err != nil {
		return manifestEntry{}, err
	}
	e := manifestEntry{Name: name, Size: s.size, Items: items}
	if s.gz != nil {
		e.SHA256 = hex.EncodeToString(s.sum.Sum(nil))
		fi, err := s.gz.Stat()
		if err != nil {
			return manifestEntry{}, err
		}
		e.GzipSize = fi.Size()
	}
	return e, nil
}

// stop ends the digest goroutine and returns the sink's error. It may be
// called more than once; abort calls it on files never committed.
func (s *sink) stop() error {
	if !s.closed {
		s.closed = true
		if len(s.block) > 0 {
			s.blocks <- s.block
		}
		close(s.blocks)
		s.result = <-s.done
	}
	return s.result
}
