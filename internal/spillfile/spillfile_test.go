package spillfile

import (
	"io"
	"runtime"
	"testing"

	"feedgen/internal/tempdir"
)

// TestFileIsGoneOnceClosed: the file is in os.TempDir, reads back what was
// written, and leaves nothing behind once closed; on Linux it has no name
// from the start.
func TestFileIsGoneOnceClosed(t *testing.T) {
	dir := tempdir.Use(t)
	f, err := Create("feedgen-test-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("kept for later"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil || string(got) != "kept for later" {
		t.Errorf("read back %q, %v", got, err)
	}
	left := tempdir.Files(dir, "feedgen-test-")
	if len(left) != 1 {
		t.Errorf("while open: %q, want the file (held open, or named)", left)
	}
	if runtime.GOOS == "linux" && f.name != "" {
		t.Errorf("the file is still named %s on Linux, which lets it be unlinked at once", f.name)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if left := tempdir.Files(dir, "feedgen-test-"); len(left) > 0 {
		t.Errorf("after Close: %q left", left)
	}
}
