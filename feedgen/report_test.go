package feedgen

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
	"feedgen/internal/xlsx"
)

// failingFile is a file every read of which fails, as on a network share
// that went away.
type failingFile struct{}

var errShareGone = errors.New("the network name is no longer available")

func (failingFile) ReadAt([]byte, int64) (int, error) { return 0, errShareGone }

// TestHintReaderErrors: every kind of error the workbook reader tells
// apart gets advice of its own, also when wrapped as Run wraps it.
func TestHintReaderErrors(t *testing.T) {
	_, readErr := xlsx.Open(failingFile{}, 100, xlsx.Limits{})
	ods := odsPackage(t)
	_, odsErr := xlsx.Open(bytes.NewReader(ods), int64(len(ods)), xlsx.Limits{})
	cases := []struct {
		err  error
		want string
	}{
		{readErr, "could not be read from the disk"},
		{odsErr, "LibreOffice Calc"},
		{xlsx.ErrEncrypted, "remove the password"},
		{xlsx.ErrLegacyXLS, "save it as an Excel Workbook"},
		{xlsx.ErrNotXLSX, "renamed to .xlsx"},
		{xlsx.ErrCorrupt, "damaged or incomplete"},
		{xlsx.ErrTooLarge, "max_unzip_mb"},
		{xlsx.ErrOverLimit, "no product export comes near this size"},
		{xlsx.ErrNoSheet, "set sheet"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		err := fmt.Errorf("read export %q: %w", "商品匯出.xlsx", c.err)
		h := Hint(msg.English, err)
		if !strings.Contains(h, c.want) {
			t.Errorf("Hint(%v) = %q, want it to mention %q", err, h, c.want)
		}
		if seen[h] {
			t.Errorf("Hint(%v) = %q, the same as another kind's", err, h)
		}
		seen[h] = true
	}
}

// odsPackage is the start of an OpenDocument spreadsheet: its mimetype.
func odsPackage(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("mimetype")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDisplayPath(t *testing.T) {
	tests := []struct{ name, path, want string }{
		{"a Windows path keeps its backslashes", `C:\商店\匯出\商品匯出.xlsx`, `「C:\商店\匯出\商品匯出.xlsx」`},
		{"a path with spaces stays in one piece", `C:\Users\Shop Owner\Desktop\商品匯出 (1).xlsx`, `「C:\Users\Shop Owner\Desktop\商品匯出 (1).xlsx」`},
		{"a full-width space is shown as is", `D:\匯出　資料\商品匯出.xlsx`, `「D:\匯出　資料\商品匯出.xlsx」`},
		{"a network share", `\\NAS\共用\商品匯出.xlsx`, `「\\NAS\共用\商品匯出.xlsx」`},
		{"a relative Unix path", "exports/商品匯出.xlsx", "「exports/商品匯出.xlsx」"},
		{"a line break is Go-quoted", "a\nfeedgen: error: b.xlsx", `"a\nfeedgen: error: b.xlsx"`},
		{"bytes that are not UTF-8 are Go-quoted", "\xb0\xd3.xlsx", `"\xb0\xd3.xlsx"`},
		{"a right-to-left override is Go-quoted", "exe\u202Excl.xlsx", `"exe\u202excl.xlsx"`},
	}
	for _, tt := range tests {
		if got := DisplayPath(tt.path); got != tt.want {
			t.Errorf("%s: DisplayPath(%q) = %s, want %s", tt.name, tt.path, got, tt.want)
		}
	}
}

// TestPathsInMessagesAsTyped: a Windows path reaches the merchant as
// typed, not with doubled backslashes, in errors as in the summary.
func TestPathsInMessagesAsTyped(t *testing.T) {
	const export = `C:\商店\匯出\商品匯出.xlsx` // on Unix, a file name that is not there
	cfg := DefaultConfig()
	cfg.Export, cfg.Out, cfg.Report = export, filepath.Join(tempdir.New(t), "public"), filepath.Join(tempdir.New(t), "report")
	_, err := Run(context.Background(), cfg, RunOptions{})
	if want := "read export 「" + export + "」: file not found"; err == nil || err.Error() != want {
		t.Errorf("Run error = %v, want %s", err, want)
	}

	cfg.Out = filepath.Join("商店", "public") // on Windows, 商店\public
	cfg.Export = filepath.Join(cfg.Out, "商品匯出.xlsx")
	err = cfg.Validate()
	if want := "「" + cfg.Out + "」 holds the export 「" + cfg.Export + "」"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Validate error = %v, want it to say %s", err, want)
	}
}
