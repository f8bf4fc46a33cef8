package xlsx

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
)

// classifyCompoundFile tells a password-protected .xlsx, which Excel stores
// as an encrypted package inside a compound file, from a legacy .xls.
func classifyCompoundFile(r io.ReaderAt, size int64) (err error) {
	// mscfb parses untrusted bytes; a panic in it still means "not
	// something we can read", not a crash.
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%w: unreadable compound file", ErrLegacyXLS)
		}
	}()
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return fmt.Errorf("%w: unreadable compound file: %v", ErrLegacyXLS, err)
	}
	for _, f := range doc.File {
		if f.Name == "EncryptionInfo" || f.Name == "EncryptedPackage" {
			return fmt.Errorf("%w: remove the password in Excel and export again", ErrEncrypted)
		}
	}
	return fmt.Errorf("%w: save it as an Excel Workbook (.xlsx) and try again", ErrLegacyXLS)
}

// describeContent guesses, from its first bytes, what a file that is not a
// workbook is, to make the error actionable.
func describeContent(head []byte) string {
	text := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	switch {
	case len(head) == 0:
		return "the file is empty"
	case bytes.HasPrefix(bytes.TrimLeft(text, " \t\r\n"), []byte("<")):
		return "it looks like a web page or XML, not a spreadsheet export"
	case utf8.Valid(text) && bytes.IndexFunc(text, func(r rune) bool {
		return r < ' ' && r != '\t' && r != '\r' && r != '\n'
	}) < 0:
		return "it looks like text, such as a CSV file renamed to .xlsx"
	}
	return fmt.Sprintf("unrecognised content starting % x", head)
}
