package xlsx

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"

	"feedgen/internal/msg"
)

// classifyCompoundFile tells a password-protected .xlsx, which Excel stores
// as an encrypted package inside a compound file, from a legacy .xls.
func classifyCompoundFile(r io.ReaderAt, size int64) (err error) {
	// mscfb parses untrusted bytes; a panic in it still means "not
	// something we can read", not a crash.
	defer func() {
		if recover() != nil {
			err = msg.Errorf("%w: unreadable compound file", ErrLegacyXLS)
		}
	}()
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return msg.Errorf("%w: unreadable compound file: %v", ErrLegacyXLS, err)
	}
	for _, f := range doc.File {
		if f.Name == "EncryptionInfo" || f.Name == "EncryptedPackage" {
			return msg.Errorf("%w: remove the password in Excel and export again", ErrEncrypted)
		}
	}
	return msg.Errorf("%w: save it as an Excel Workbook (.xlsx) and try again", ErrLegacyXLS)
}

// describeContent guesses, from its first bytes, what a file that is not a
// workbook is, to make the error actionable: a description, which Open
// wraps.
func describeContent(head []byte) error {
	text := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	switch {
	case len(head) == 0:
		return msg.New("the file is empty")
	case bytes.HasPrefix(bytes.TrimLeft(text, " \t\r\n"), []byte("<")):
		return msg.New("it looks like a web page or XML, not a spreadsheet export")
	case utf8.Valid(text) && bytes.IndexFunc(text, func(r rune) bool {
		return r < ' ' && r != '\t' && r != '\r' && r != '\n'
	}) < 0:
		return msg.New("it looks like text, such as a CSV file renamed to .xlsx")
	}
	return msg.Errorf("unrecognised content starting % x", head)
}

// foreignPackage tells, for a zip without the workbook part, which other
// kind of document it is, so that the error says what to do rather than
// calling the download incomplete. It returns nil when the package looks
// like nothing else.
func (wb *Workbook) foreignPackage() error {
	if f := wb.parts["mimetype"]; f != nil {
		// OpenDocument files begin with an uncompressed mimetype entry.
		mime, err := readSmallPart(f, 128)
		if err == nil && strings.HasPrefix(mime, "application/vnd.oasis.opendocument.") {
			kind := strings.TrimPrefix(mime, "application/vnd.oasis.opendocument.")
			if strings.HasPrefix(kind, "spreadsheet") {
				return msg.Errorf("%w: it is a spreadsheet (.ods), as LibreOffice saves by default; save it as Excel 2007-365 (.xlsx)", ErrOpenDocument)
			}
			return msg.Errorf("%w: it is a %s document, not a spreadsheet", ErrOpenDocument, strings.SplitN(kind, "-", 2)[0])
		}
	}
	switch {
	case wb.parts["content.xml"] != nil && wb.parts["meta-inf/manifest.xml"] != nil:
		return msg.Errorf("%w: it looks like a spreadsheet (.ods); save it as Excel 2007-365 (.xlsx)", ErrOpenDocument)
	case wb.parts["index/document.iwa"] != nil:
		return msg.Errorf("%w: it is an Apple Numbers file; in Numbers use File > Export To > Excel", ErrNotXLSX)
	case wb.parts["word/document.xml"] != nil:
		return msg.Errorf("%w: it is a Word document (.docx), not a spreadsheet", ErrNotXLSX)
	case wb.parts["ppt/presentation.xml"] != nil:
		return msg.Errorf("%w: it is a PowerPoint presentation (.pptx), not a spreadsheet", ErrNotXLSX)
	}
	return nil
}

// readSmallPart returns up to limit bytes of a part as text.
func readSmallPart(f *zip.File, limit int64) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	return strings.TrimSpace(string(b)), err
}

// utf16Decoder returns a decoder when head, the first bytes of a part, are
// UTF-16: a byte-order mark, or "<?" in either byte order (XML 1.0,
// appendix F). Excel Mobile saved every part as UTF-16LE with a mark, and
// openpyxl reads such files. It returns nil for anything else.
func utf16Decoder(head []byte) *encoding.Decoder {
	var order unicode.Endianness
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{'<', 0, '?', 0}):
		order = unicode.LittleEndian
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0, '<', 0, '?'}):
		order = unicode.BigEndian
	default:
		return nil
	}
	// The mark, when there is one, is dropped; a lone surrogate becomes
	// U+FFFD, as a UTF-8 decoder does with an invalid byte.
	return unicode.UTF16(order, unicode.UseBOM).NewDecoder()
}

// isUTF16 reports whether an encoding name in an XML declaration is UTF-16.
func isUTF16(label string) bool {
	l := strings.ToLower(label)
	return l == "utf-16" || l == "utf-16le" || l == "utf-16be"
}
