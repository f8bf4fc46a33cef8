// Package tempdir gives a test a temporary folder of its own as the
// system's, for code that makes temporary files where os.TempDir says.
package tempdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Use points os.TempDir at a fresh folder for the rest of the test and
// returns it: TMPDIR on Unix, TMP and TEMP on Windows, where TMPDIR means
// nothing. Tests check for themselves that nothing is left in it; a
// failure to remove it is ignored, because Wine fails to remove folders
// that Windows removes.
func Use(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "feedgen-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
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
