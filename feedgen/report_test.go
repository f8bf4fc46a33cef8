package feedgen

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

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
		h := Hint(err)
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
