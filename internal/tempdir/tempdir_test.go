package tempdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Under Wine, where os.RemoveAll fails on a folder with files, this is the
// test of the fallback.
func TestNewIsRemovedWithWhatItHolds(t *testing.T) {
	var dir string
	t.Run("test using the folder", func(t *testing.T) {
		dir = New(t)
		if err := os.Mkdir(dir+"-beside", 0o755); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, "sub", "deeper")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{filepath.Join(dir, "a.xlsx"), filepath.Join(sub, "b.xml")} {
			if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, d := range []string{dir, dir + "-beside"} {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after the test, stat %s = %v, want not exist", d, err)
		}
	}
}
