package feedgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"feedgen/internal/xlsx"
)

// TestClassifyFailures: every kind of error a run ends with, wrapped as
// the pipeline wraps it, calls for what its cause allows.
func TestClassifyFailures(t *testing.T) {
	_, readErr := xlsx.Open(failingFile{}, 100, xlsx.Limits{})
	ods := odsPackage(t)
	_, odsErr := xlsx.Open(bytes.NewReader(ods), int64(len(ods)), xlsx.Limits{})
	export := DisplayPath(`C:\商店\商品匯出.xlsx`)
	read := func(err error) error { return fmt.Errorf("read export %s: %w", export, err) }
	write := func(err error) error { return fmt.Errorf("write catalog to %s: %w", DisplayPath("public"), err) }
	publish := func(err error) error { return fmt.Errorf("publish to branch %q: %w", "gh-pages", err) }
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"HeldFile", write(&HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}), passing},
		{"Locked", write(&LockedError{Dir: "public", Holder: "feedgen run", Waited: 5 * time.Minute}), passing},
		{"DiskFull", write(&fs.PathError{Op: "write", Path: ".catalog.xml.tmp-1", Err: syscall.ENOSPC}), passing},
		{"ReplaceFailed", write(&ReplaceError{File: "catalog.xml", Err: fs.ErrPermission}), passing},
		{"ExportUnreadable", read(readErr), passing},
		{"ExportChangedWhileRead", read(errExportChanged), passing},
		{"PushRejected", publish(ErrPushRejected), passing},
		{"PushRefused", publish(ErrPushRefused), passing},
		{"GitAuth", publish(ErrGitAuth), passing},
		{"GitFailed", publish(&gitError{Args: []string{"push"}, Err: &exec.ExitError{}, Stderr: "Could not resolve host: github.com"}), passing},
		{"Panic", errors.New("run panicked: boom"), passing},
		{"Unknown", errors.New("something else"), passing},

		{"Guard", write(&GuardError{File: "catalog.xml", Old: 100, New: 0, MaxDrop: 0.5}), guarded},

		{"ExportMissing", read(ErrNotFound), badExport},
		{"NoExportInFolder", fmt.Errorf("find export: %w in %s", errNoExport, DisplayPath("drop")), badExport},
		{"MissingColumn", read(&ColumnError{Missing: []string{"商品名稱"}, Found: []string{"a"}, Row: 1}), badExport},
		{"NoProducts", read(ErrNoProducts), badExport},
		{"ProductTooLarge", read(fmt.Errorf("product P1: %w", ErrProductTooLarge)), badExport},
		{"NotXLSX", read(xlsx.ErrNotXLSX), badExport},
		{"OpenDocument", read(odsErr), badExport},
		{"LegacyXLS", read(xlsx.ErrLegacyXLS), badExport},
		{"Encrypted", read(xlsx.ErrEncrypted), badExport},
		{"TooLarge", read(xlsx.ErrTooLarge), badExport},
		{"OverLimit", read(xlsx.ErrOverLimit), badExport},
		{"Corrupt", read(fmt.Errorf("%w: xl/worksheets/sheet1.xml: row 3: bad", xlsx.ErrCorrupt)), badExport},
		{"NoSheet", read(xlsx.ErrNoSheet), badExport},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}
