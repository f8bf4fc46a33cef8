// Package tempdir gives tests temporary folders that are removed on Wine
// as on Windows, and points os.TempDir at one for code that makes
// temporary files where the system says.
package tempdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// New returns a fresh folder that is removed when the test ends, as
// tb.TempDir does. It exists for Wine, which the Windows tests run under:
// there os.RemoveAll fails on every folder that holds a file ("Invalid
// function", a call Wine 8 lacks), which fails each test using TempDir.
// A folder RemoveAll leaves is emptied file by file instead, and what
// remains after that (a file still open, on Windows) fails the test.
//
// As with TempDir, the folder is inside one of its own, which is what is
// removed, so that a folder a test makes beside it goes too.
func New(tb testing.TB) string {
	tb.Helper()
	parent, err := os.MkdirTemp("", "feedgen-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := RemoveAll(parent); err != nil {
			tb.Errorf("remove the test's folder: %v", err)
		}
	})
	dir := filepath.Join(parent, "dir")
	if err := os.Mkdir(dir, 0o777); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// RemoveAll is os.RemoveAll, falling back to removing one entry at a
// time, deepest first, where it fails (on Wine; see New).
func RemoveAll(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	var paths []string
	filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, path)
		}
		return nil
	})
	for _, path := range slices.Backward(paths) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Use points os.TempDir at a fresh folder (see New) for the rest of the
// test and returns it: TMPDIR on Unix, TMP and TEMP on Windows, where
// TMPDIR means nothing. Tests check for themselves that nothing is left
// in it.
func Use(tb testing.TB) string {
	tb.Helper()
	dir := New(tb)
	for _, v := range []string{"TMPDIR", "TMP", "TEMP"} {
		tb.Setenv(v, dir)
	}
	if got := os.TempDir(); got != dir {
		tb.Fatalf("os.TempDir() is %s after setting it to %s", got, dir)
	}
	return dir
}

// Files lists the files in dir whose names start with prefix: those still
// named there and, on Linux, those this process holds open there after
// unlinking them (shown as "open: " and the path), as /proc reveals.
func Files(dir, prefix string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	in := filepath.Join(dir, prefix)
	if prefix == "" {
		in += string(filepath.Separator)
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, in) {
			names = append(names, "open: "+target)
		}
	}
	return names
}
