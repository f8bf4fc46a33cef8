package feedgen

import (
	"feedgen/internal/tempdir"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

// TestHeldOnWindows: a file another program opened without delete sharing,
// as Excel opens catalog.csv, is held; one opened as feedgen's server and
// export reader open theirs (os.Root, delete sharing) is not.
func TestHeldOnWindows(t *testing.T) {
	dir := tempdir.New(t)
	path := filepath.Join(dir, "catalog.csv")
	writeFile(t, path, []byte("id\n"))
	if held(path) {
		t.Fatal("a file nobody has open is held")
	}
	p, _ := windows.UTF16PtrFromString(path)
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !held(path) {
		t.Error("a file open without delete sharing is not held")
	}
	windows.CloseHandle(h)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := root.Open("catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if held(path) {
		t.Error("a file opened through os.Root (delete sharing) is held")
	}
}
