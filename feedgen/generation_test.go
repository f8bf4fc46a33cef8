package feedgen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"feedgen/internal/tempdir"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkGeneration checks that the manifest of dir describes its files:
// sizes, hashes, item counts, and gzip copies that inflate to the file.
func checkGeneration(t *testing.T, dir string) *manifest {
	t.Helper()
	m, err := readManifest(dir)
	if err != nil || m == nil {
		t.Fatalf("manifest of %s: %v, %v", dir, m, err)
	}
	if _, err := os.Stat(filepath.Join(dir, journalFile)); err == nil {
		t.Errorf("%s still holds the journal %s after the commit", dir, journalFile)
	}
	for _, e := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != e.Size {
			t.Errorf("%s: manifest says %d bytes, the file has %d", e.Name, e.Size, len(b))
		}
		if e.GzipSize == 0 {
			if e.SHA256 != "" {
				t.Errorf("%s: a hash without a gzip copy", e.Name)
			}
			continue
		}
		// The gzip copy's hash stands for the file.
		z, err := os.ReadFile(filepath.Join(dir, gzipName(e.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(z); hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("%s: manifest says SHA-256 %s, the gzip copy has %x", e.Name, e.SHA256, sum)
		}
		if count := countOf(e.Name); count != nil && e.Items >= 0 {
			if n, err := count(bytes.NewReader(b)); err != nil || n != e.Items {
				t.Errorf("%s: manifest says %d items, the file has %d (%v)", e.Name, e.Items, n, err)
			}
		}
		if int64(len(z)) != e.GzipSize {
			t.Errorf("%s: manifest says %d bytes, the file has %d", gzipName(e.Name), e.GzipSize, len(z))
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatalf("%s: %v", gzipName(e.Name), err)
		}
		if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, b) {
			t.Errorf("%s does not inflate to %s (%v)", gzipName(e.Name), e.Name, err)
		}
	}
	return m
}

// countOf returns the item counter for a feed file name, by extension.
func countOf(name string) func(io.Reader) (int, error) {
	for _, ff := range feedFormats {
		if filepath.Ext(ff.file) == filepath.Ext(name) {
			return ff.count
		}
	}
	return nil
}

func TestSinkDigest(t *testing.T) {
	dir := tempdir.New(t)
	f, _ := os.CreateTemp(dir, "plain")
	gz, _ := os.CreateTemp(dir, "gz")
	s := newSink(f, gz)
	// Writes of every size, across block boundaries.
	var want bytes.Buffer
	for i := range 3000 {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, i*7%(sinkBlock+13))
		want.Write(p)
		if n, err := s.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	e, err := s.close("x.xml", 3)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	gz.Close()
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, want.Bytes()) {
		t.Error("the file does not hold what was written")
	}
	z, _ := os.ReadFile(gz.Name())
	sum := sha256.Sum256(z)
	if e.Size != int64(want.Len()) || e.SHA256 != hex.EncodeToString(sum[:]) || e.Items != 3 {
		t.Errorf("entry = %+v, want %d bytes, the gzip copy's hash %x, 3 items", e, want.Len(), sum)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, want.Bytes()) || int64(len(z)) != e.GzipSize {
		t.Errorf("gzip copy inflates to %d bytes (%d stored, entry says %d), want %d", len(got), len(z), e.GzipSize, want.Len())
	}
}

func TestSinkErrors(t *testing.T) {
	dir := tempdir.New(t)
	t.Run("a failing gzip copy fails the file", func(t *testing.T) {
		f, _ := os.CreateTemp(dir, "plain")
		gz, _ := os.CreateTemp(dir, "gz")
		gz.Close() // writes to it fail
		defer f.Close()
		s := newSink(f, gz)
		if _, err := s.Write(bytes.Repeat([]byte("x"), 3*sinkBlock)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.close("x", -1); err == nil {
			t.Error("close = nil, want the gzip copy's error")
		}
	})
	t.Run("a failing file fails the file", func(t *testing.T) {
		f, _ := os.CreateTemp(dir, "plain")
		f.Close()
		s := newSink(f, nil)
		if _, err := s.Write(bytes.Repeat([]byte("x"), 3*sinkBlock)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.close("x", -1); err == nil {
			t.Error("close = nil, want the write's error")
		}
		if err := s.stop(); err == nil {
			t.Error("a second stop forgot the error")
		}
	})
}

// commitSteps lists the points at which a commit can stop: after each
// rename of its journal, or before the first.
func interruptedCommit(t *testing.T, steps int) (dir string, before, after map[string]string) {
	t.Helper()
	dir, before = published(t, 3)
	// The new generation, written as a run would, and its journal; then
	// the first steps renames done, as a crash after them leaves it.
	next := tempdir.New(t)
	if err := writeCatalog(next, testCatalog(5), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatal(err)
	}
	after = snapshot(t, next)
	m, err := readManifest(next)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names(after) {
		if name == manifestFile {
			continue
		}
		tmp := ".pending-" + name + ".tmp-1"
		writeFile(t, filepath.Join(dir, tmp), []byte(after[name]))
		m.Renames = append(m.Renames, rename{tmp, name})
	}
	if err := writeJournal(dir, m); err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Renames[:steps] {
		if err := os.Rename(filepath.Join(dir, r.From), filepath.Join(dir, r.To)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, before, after
}

// TestCommitRollsForward: a commit stopped at any step is finished by the
// next run's recovery, and the folder then holds the new generation whole.
func TestCommitRollsForward(t *testing.T) {
	for steps := 0; steps <= 4; steps++ {
		dir, _, after := interruptedCommit(t, steps)
		done, err := recoverCommit(dir)
		if err != nil || !done {
			t.Fatalf("after %d renames: recoverCommit = %v, %v", steps, done, err)
		}
		got := snapshot(t, dir)
		for name, want := range after {
			if got[name] != want {
				t.Errorf("after %d renames and recovery, %s is not the new one", steps, name)
			}
		}
		if len(got) != len(after) {
			t.Errorf("after %d renames and recovery the folder holds %q, want %q", steps, names(got), names(after))
		}
		checkGeneration(t, dir)
		if done, err := recoverCommit(dir); done || err != nil {
			t.Errorf("a second recovery = %v, %v; want nothing to do", done, err)
		}
	}
}

// TestCommitHeldFile: a file another program holds open is waited for; when
// it stays held, nothing at all is replaced and the error names the file.
func TestCommitHeldFile(t *testing.T) {
	dir, before := published(t, 3)
	defer swap(&heldFileWait, 300*time.Millisecond)()
	defer swap(&isHeld, func(path string) bool { return filepath.Base(path) == "products.json" })()
	err := writeCatalog(dir, testCatalog(5), DefaultFeeds(), 0.5, false)
	var held *HeldFileError
	if !errors.As(err, &held) || held.File != "products.json" {
		t.Fatalf("writeCatalog = %v, want a HeldFileError for products.json", err)
	}
	if !strings.Contains(err.Error(), "nothing was replaced") {
		t.Errorf("error %q does not say that nothing was replaced", err)
	}
	if got := snapshot(t, dir); !maps.Equal(got, before) {
		t.Errorf("the folder changed: %q, want %q untouched", names(got), names(before))
	}
}

// TestCommitFailsAtEveryStep fails the n-th rename of a commit, for every
// n, the journal's and the manifest's included. Then the next run's
// recovery makes the folder the whole old generation or the whole new one,
// never a mix, and a failure that replaced files says which.
func TestCommitFailsAtEveryStep(t *testing.T) {
	for n := 0; ; n++ {
		dir, before := published(t, 3)
		// The n-th rename fails every time: on Windows replaceFile tries
		// each one again.
		var tried []string
		restore := swap(&renameFile, func(dir, from, to string) error {
			if !slices.Contains(tried, from) {
				tried = append(tried, from)
			}
			if slices.Index(tried, from) == n {
				return errors.New("injected failure")
			}
			return renameInRoot(dir, from, to)
		})
		err := writeCatalog(dir, testCatalog(5), DefaultFeeds(), 0.5, false)
		restore()
		if err == nil {
			if n < 5 {
				t.Fatalf("a commit of %d renames succeeded", n)
			}
			break // n is past the last rename
		}
		var rerr *ReplaceError
		if errors.As(err, &rerr) && len(rerr.Replaced) > 0 && !strings.Contains(err.Error(), "already replaced") {
			t.Errorf("rename %d: error %q does not say what was replaced", n, err)
		}
		if _, err := recoverCommit(dir); err != nil {
			t.Fatalf("rename %d failed, then recoverCommit = %v", n, err)
		}
		got := snapshot(t, dir)
		if maps.Equal(got, before) {
			continue
		}
		m := checkGeneration(t, dir)
		for _, name := range []string{"catalog.xml", "products.json"} {
			if e := m.entryOf(name); e == nil || e.Items != 5 {
				t.Errorf("rename %d failed: after recovery %s is neither the old generation nor the new: %+v", n, name, e)
			}
		}
		for name := range got {
			if isHiddenOrTemp(name) && name != manifestFile {
				t.Errorf("rename %d failed: %s left behind after recovery", n, name)
			}
		}
	}
}

// swap sets *p to v and returns the function that restores it.
func swap[T any](p *T, v T) func() {
	old := *p
	*p = v
	return func() { *p = old }
}
