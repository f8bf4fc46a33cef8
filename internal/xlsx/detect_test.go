package xlsx

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// encodeUTF16 encodes s as UTF-16, little-endian unless big, with a
// byte-order mark if bom.
func encodeUTF16(s string, big, bom bool) string {
	order, mark := unicode.LittleEndian, unicode.IgnoreBOM
	if big {
		order = unicode.BigEndian
	}
	if bom {
		mark = unicode.UseBOM
	}
	out, err := unicode.UTF16(order, mark).NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return out
}

// utf16Sheet and utf16Table are the content of the UTF-16 workbooks, and
// utf16Rows what they hold.
var (
	utf16Sheet = `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>內嵌 😀 &amp; é</t></is></c><c r="C1"><v>12.5</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>1</v></c></row>`
	utf16Table = sstXML(`<si><t>商品名稱</t></si>`, `<si><r><t>咖啡</t></r><r><t> 𠮷</t></r></si>`)
	utf16Rows  = []sheetRow{{1, []string{"商品名稱", "內嵌 😀 & é", "12.5"}}, {2, []string{"咖啡 𠮷"}}}
)

// utf16Workbooks are workbooks whose parts are UTF-16: every part
// little-endian with a byte-order mark and declared as utf-16, as Excel
// Mobile saved them, and a big-endian sheet without a mark.
func utf16Workbooks(tb testing.TB) map[string][]byte {
	tb.Helper()
	declare := func(s string) string {
		return strings.Replace(s, `encoding="UTF-8"`, `encoding="utf-16"`, 1)
	}
	mobile := func(p rawPart) rawPart { return rawPart{p.name, encodeUTF16(declare(p.body), false, true)} }
	var parts []rawPart
	for _, p := range rawParts(sheetXML(utf16Sheet), utf16Table) {
		parts = append(parts, mobile(p))
	}
	return map[string][]byte{
		"Excel Mobile":                    zipParts(tb, parts),
		"big-endian sheet without a mark": rawWorkbook(tb, encodeUTF16(declare(sheetXML(utf16Sheet)), true, false), utf16Table),
	}
}

func TestWorkbookUTF16(t *testing.T) {
	for name, data := range utf16Workbooks(t) {
		t.Run(name, func(t *testing.T) {
			got, err := readerRows(data, "")
			if err != nil {
				t.Fatal(err)
			}
			if d := diffRows(utf16Rows, got); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestWorkbookOtherEncodings: a part in an encoding the reader does not
// decode is refused naming the encoding, not called invalid UTF-8 or
// damaged compressed data.
func TestWorkbookOtherEncodings(t *testing.T) {
	latin1 := func(s string) string { return strings.Replace(s, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1) }
	sheet := sheetXML(`<row r="1"><c r="A1" t="str"><v>caf` + "\xe9" + `</v></c></row>`)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"sheet", rawWorkbook(t, latin1(sheet), "")},
		{"workbook part", zipParts(t, append(rawParts(sheetXML(""), ""), rawPart{"xl/workbook.xml",
			latin1(rawParts("", "")[2].body)}))},
		{"UTF-8 declared UTF-16", rawWorkbook(t, strings.Replace(sheet, "UTF-8", "UTF-16", 1), "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(c.data)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "unsupported encoding") || strings.Contains(err.Error(), "compressed") {
				t.Errorf("error %v, want ErrCorrupt naming the encoding", err)
			}
		})
	}
}

// TestWorkbookForeignPackages: a zip that is another kind of document is
// told by its kind, with what to do, not called an incomplete download.
func TestWorkbookForeignPackages(t *testing.T) {
	for _, c := range []struct {
		name  string
		parts []rawPart
		want  error
		msg   string
	}{
		{"ods", []rawPart{{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, {"content.xml", "<office:document-content/>"},
			{"META-INF/manifest.xml", "<manifest:manifest/>"}}, ErrOpenDocument, "OpenDocument file, not an .xlsx workbook: it is a spreadsheet (.ods)"},
		{"ods template", []rawPart{{"mimetype", "application/vnd.oasis.opendocument.spreadsheet-template"}}, ErrOpenDocument, "Excel 2007-365 (.xlsx)"},
		{"ods without mimetype", []rawPart{{"content.xml", "<x/>"}, {"META-INF/manifest.xml", "<x/>"}}, ErrOpenDocument, ".ods"},
		{"odt", []rawPart{{"mimetype", "application/vnd.oasis.opendocument.text"}}, ErrOpenDocument, "a text document, not a spreadsheet"},
		{"numbers", []rawPart{{"Index/Document.iwa", "x"}}, ErrNotXLSX, "Numbers"},
		{"docx", []rawPart{{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w:document/>"}}, ErrNotXLSX, "Word"},
		{"pptx", []rawPart{{"ppt/presentation.xml", "<p/>"}}, ErrNotXLSX, "PowerPoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes(zipParts(t, c.parts), Limits{})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
}
