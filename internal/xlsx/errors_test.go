package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"feedgen/internal/msg"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func openBytes(data []byte, lim Limits) (*Workbook, error) {
	return Open(bytes.NewReader(data), int64(len(data)), lim)
}

// encryptedWorkbook is a password-protected .xlsx, which Excel and excelize
// store as an OLE2 compound file.
func encryptedWorkbook(tb testing.TB) []byte {
	tb.Helper()
	f := excelize.NewFile()
	if err := f.SetCellValue("Sheet1", "A1", "secret"); err != nil {
		tb.Fatal(err)
	}
	data := saveWorkbook(tb, f, excelize.Options{Password: "x"})
	if !bytes.HasPrefix(data, oleMagic) {
		tb.Fatalf("excelize wrote an encrypted workbook starting % x", data[:8])
	}
	return data
}

// zipEntry returns the entry of a part in a zip.
func zipEntry(tb testing.TB, data []byte, name string) *zip.File {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	tb.Fatalf("no part %s", name)
	return nil
}

// partData returns where the compressed bytes of a part are in a zip.
func partData(tb testing.TB, data []byte, name string) (off, n int64) {
	tb.Helper()
	f := zipEntry(tb, data, name)
	off, err := f.DataOffset()
	if err != nil {
		tb.Fatal(err)
	}
	return off, int64(f.CompressedSize64)
}

func TestWorkbookClassification(t *testing.T) {
	good := sharedWorkbook(t, mixedRows())
	encrypted := encryptedWorkbook(t)
	// Renaming the encryption streams leaves a compound file that is not an
	// encrypted package: what a legacy .xls looks like to the classifier.
	legacy := bytes.ReplaceAll(encrypted, []byte(encodeUTF16("EncryptionInfo", false, false)), []byte(encodeUTF16("SummaryInfoXYZ", false, false)))
	legacy = bytes.ReplaceAll(legacy, []byte(encodeUTF16("EncryptedPackage", false, false)), []byte(encodeUTF16("Workbook________", false, false)))
	noWorkbook := zipParts(t, []rawPart{{"[Content_Types].xml", "<Types/>"}, {"docProps/app.xml", "<Properties/>"}})
	var huge bytes.Buffer
	zw := zip.NewWriter(&huge)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/workbook.xml", Method: zip.Store, UncompressedSize64: 1 << 63, CompressedSize64: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<w"))
	zw.Close()

	for _, c := range []struct {
		name string
		data []byte
		lim  Limits
		want error
		msg  string
	}{
		{"encrypted", encrypted, Limits{}, ErrEncrypted, "password"},
		{"legacy", legacy, Limits{}, ErrLegacyXLS, "save it as"},
		{"legacy garbage", append(slices.Clone(oleMagic), make([]byte, 600)...), Limits{}, ErrLegacyXLS, "unreadable"},
		{"truncated download", good[:len(good)/2], Limits{}, ErrCorrupt, "truncated"},
		{"missing last bytes", good[:len(good)-10], Limits{}, ErrCorrupt, "zip"},
		{"no workbook part", noWorkbook, Limits{}, ErrCorrupt, "xl/workbook.xml"},
		{"empty", nil, Limits{}, ErrNotXLSX, "empty"},
		{"csv", []byte("商品 id,商品名稱\n1,咖啡\n"), Limits{}, ErrNotXLSX, "CSV"},
		{"html", []byte("\n<!DOCTYPE html><html><body>login</body></html>"), Limits{}, ErrNotXLSX, "web page"},
		{"binary", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, Limits{}, ErrNotXLSX, "1f 8b"},
		{"over the limit", good, Limits{MaxUnzipSize: 1000}, ErrTooLarge, "1000"},
		{"absurd declared size", huge.Bytes(), Limits{}, ErrTooLarge, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes(c.data, c.lim)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want %v mentioning %q", err, c.want, c.msg)
			}
			for _, other := range sentinels {
				if other != c.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
		})
	}
	if _, err := openBytes(good, Limits{}); err != nil {
		t.Errorf("the undamaged workbook: %v", err)
	}
}

// readAll reads every row of the first sheet and returns how many rows
// came before the error.
func readAll(data []byte) (int, error) {
	wb, err := openBytes(data, Limits{})
	if err != nil {
		return 0, err
	}
	defer wb.Close()
	rr, err := wb.Rows("")
	if err != nil {
		return 0, err
	}
	defer rr.Close()
	n := 0
	for rr.Next() {
		n++
	}
	return n, rr.Err()
}

// TestWorkbookDamagedCompressedSheet flips bytes inside the compressed
// sheet, where excelize silently returns a shorter sheet.
func TestWorkbookDamagedCompressedSheet(t *testing.T) {
	data := bigWorkbook(t, 500, false)
	off, n := partData(t, data, "xl/worksheets/sheet1.xml")
	for _, at := range []float64{0.001, 0.25, 0.5, 0.9, 0.999} {
		for _, flip := range []int{1, 64} {
			bad := slices.Clone(data)
			pos := off + int64(float64(n)*at)
			for k := range flip {
				bad[pos+int64(k)] ^= 0x5A
			}
			rows, err := readAll(bad)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%d bytes flipped at %.1f%%: %d rows, error %v, want ErrCorrupt", flip, at*100, rows, err)
				continue
			}
			ref, refErr := excelizeRows(bad, "")
			t.Logf("%d bytes flipped at %.1f%%: %v (excelize: %d rows, error %v)", flip, at*100, err, len(ref), refErr)
		}
	}
}

func TestWorkbookDamagedParts(t *testing.T) {
	data := sharedWorkbook(t, mixedRows())
	for _, part := range []string{"xl/sharedStrings.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		off, n := partData(t, data, part)
		bad := slices.Clone(data)
		bad[off+n/2] ^= 0xFF
		if _, err := readAll(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("damaged %s: %v, want ErrCorrupt", part, err)
		}
	}
}

// TestWorkbookTruncatedXML cuts the sheet XML at every byte before the end
// of <sheetData>: each cut must be an error, never a shorter sheet.
func TestWorkbookTruncatedXML(t *testing.T) {
	sheet := sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><t>rich</t></r></is></c></row>` +
		`<!-- note --><row r="2"><c r="A2"><v>2.5</v></c><c r="B2" t="str"><v>&amp;x&#x4E2D;</v></c></row>` +
		"<row r=\"3\"><c r=\"C3\"><v><![CDATA[cd]]></v></c>\r\n</row>")
	sst := sstXML(`<si><t>zero</t></si>`)
	end := strings.Index(sheet, "</sheetData>") + len("</sheetData>")
	for cut := range end {
		_, err := readAll(rawWorkbook(t, sheet[:cut], sst))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("sheet cut after %q: error %v, want ErrCorrupt", sheet[max(0, cut-20):cut], err)
		}
	}
	if rows, err := readAll(rawWorkbook(t, sheet[:end], sst)); err != nil || rows != 3 {
		t.Errorf("sheet cut after </sheetData>: %d rows, %v", rows, err)
	}
}

// TestWorkbookMalformedSheet covers XML excelize would stop at or read
// differently: each must be ErrCorrupt naming the row.
func TestWorkbookMalformedSheet(t *testing.T) {
	ok := `<row r="1"><c r="A1"><v>1</v></c></row>`
	for _, c := range []struct{ name, rows, msg string }{
		{"mismatched tag", ok + `<row r="2"><c r="A2"><v>1</w></c></row>`, "row 2: <v> closed by </w>"},
		{"prefix mismatch", ok + `<row r="2"><x:c r="A2"><v>1</v></c></row>`, "row 2: <x:c> closed by </c>"},
		{"unknown entity", ok + `<row r="2"><c r="A2" t="str"><v>&nbsp;</v></c></row>`, "row 2: unknown entity"},
		{"entity without semicolon", ok + `<row r="2"><c r="A2" t="str"><v>a & b</v></c></row>`, "row 2"},
		{"invalid UTF-8", ok + "<row r=\"2\"><c r=\"A2\" t=\"str\"><v>\xff</v></c></row>", "row 2: invalid UTF-8"},
		{"control character", ok + "<row r=\"2\"><c r=\"A2\" t=\"str\"><v>a\x01</v></c></row>", "row 2: control character"},
		{"reference to a control character", ok + `<row r="2"><c r="A2" t="str"><v>&#1;</v></c></row>`, "row 2"},
		{"reference beyond Unicode", ok + `<row r="2"><c r="A2" t="str"><v>&#x110000;</v></c></row>`, "row 2"},
		{"noncharacter", ok + "<row r=\"2\"><c r=\"A2\" t=\"str\"><v>\uFFFE</v></c></row>", "row 2"},
		{"unquoted attribute", ok + `<row r=2><c r="A2"><v>1</v></c></row>`, "unquoted"},
		{"< in attribute", ok + `<row r="2"><c r="A<2"><v>1</v></c></row>`, "row 2: unescaped <"},
		{"]]> in text", ok + `<row r="2"><c r="A2" t="str"><v>]]></v></c></row>`, `row 2: "]]>"`},
		{"doctype", `<!DOCTYPE x>` + ok, "document type"},
		{"late declaration", ok + `<?xml version="1.0"?>`, "declaration"},
		{"unclosed comment", ok + `<!-- x -- y -->`, "comment"},
		{"two r on a row", ok + `<row r="2" r="3"/>`, "two r"},
		{"two t on a cell", ok + `<row r="2"><c r="A2" t="s" t="n"><v>1</v></c></row>`, "row 2"},
		{"unknown type", ok + `<row r="2"><c r="A2" t="x"><v>1</v></c></row>`, `row 2: unknown cell type "x"`},
		{"invalid style", ok + `<row r="2"><c r="A2" s="x"><v>1</v></c></row>`, "row 2: invalid style"},
		{"shared index out of range", ok + `<row r="2"><c r="A2" t="s"><v>5</v></c></row>`, "row 2: shared string index 5 out of range: the table has 1 strings"},
		{"negative shared index", ok + `<row r="2"><c r="A2" t="s"><v>-1</v></c></row>`, "row 2: invalid shared string index"},
		{"non-numeric shared index", ok + `<row r="2"><c r="A2" t="s"><v>one</v></c></row>`, "row 2: invalid shared string index"},
		{"blank shared index", ok + `<row r="2"><c r="A2" t="s"><v> </v></c></row>`, "row 2: invalid shared string index"},
		{"rows backwards", ok + `<row r="3"/><row r="2"/>`, "row 2: row 2 follows row 3"},
		{"row repeated after another", ok + `<row r="2"/><row r="1"/>`, "row 1 follows row 2"},
		{"cell repeated in a merged row", ok + `<row r="1"><c r="A1"><v>2</v></c></row>`, "row 1: cells out of order: column 1 after column 1"},
		{"merged row out of order", `<row r="1"><c r="B1"><v>1</v></c></row><row r="1"><c r="A1"><v>2</v></c></row>`, "row 1: cells out of order: column 1 after column 2"},
		{"implicit cell repeated in a merged row", `<row r="1"><c r="A1"><v>1</v></c></row><row r="1"><c><v>2</v></c><c r="B1"/></row>`, "row 1: cells out of order: column 2 after column 2"},
		{"row beyond the last", ok + `<row r="1048577"/>`, "beyond Excel's last row"},
		{"implicit row beyond the last", `<row r="1048576"/><row/>`, "row 1048577"},
		{"row zero", `<row r="0"/>`, "invalid row number"},
		{"signed row", `<row r="+1"/>`, "invalid row number"},
		{"column beyond XFD", ok + `<row r="2"><c r="XFE2"><v>1</v></c></row>`, "row 2: cell XFE2 is beyond Excel's last column"},
		{"implicit column beyond XFD", ok + `<row r="2"><c r="XFD2"/><c><v>1</v></c></row>`, "row 2: cell beyond"},
		{"cell in another row", ok + `<row r="2"><c r="A3"><v>1</v></c></row>`, "row 2: cell A3 in row 2"},
		{"cells out of order", ok + `<row r="2"><c r="B2"/><c r="A2"/></row>`, "row 2: cells out of order"},
		{"cell reference without row", ok + `<row r="2"><c r="A"><v>1</v></c></row>`, "row 2: invalid cell reference"},
		{"cell inside another element", ok + `<row r="2"><x><c r="A2"><v>1</v></c></x></row>`, "row 2: unexpected <c> inside <x>"},
		{"row inside another element", ok + `<x><row r="2"/></x>`, "unexpected <row> inside <x>"},
		{"value inside another element", ok + `<row r="2"><c r="A2"><extLst><v>1</v></extLst></c></row>`, "row 2: unexpected <v>"},
		{"two values", ok + `<row r="2"><c r="A2"><v>1</v><v>2</v></c></row>`, "row 2: cell with two <v>"},
		{"element in a value", ok + `<row r="2"><c r="A2"><v>1<b/>2</v></c></row>`, "row 2: unexpected element inside <v>"},
		{"invalid formula flag", ok + `<row r="2"><c r="A2"><f ca="maybe">1</f><v>1</v></c></row>`, "row 2: invalid value"},
		{"invalid run property", ok + `<row r="2"><c r="A2" t="inlineStr"><is><r><rPr><sz val="big"/></rPr><t>x</t></r></is></c></row>`, "row 2: invalid value"},
		{"text after a run", ok + `<row r="2"><c r="A2" t="inlineStr"><is><r><t>x</t></r><t>y</t></is></c></row>`, "row 2: unexpected <t>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := readAll(rawWorkbook(t, sheetXML(c.rows), sstXML(`<si><t>zero</t></si>`)))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("after %d rows: error %v, want ErrCorrupt mentioning %q", n, err, c.msg)
			}
		})
	}
}

func TestWorkbookMalformedPart(t *testing.T) {
	ok := `<row r="1"><c r="A1"><v>1</v></c></row>`
	for _, c := range []struct{ name, sheet, sst, msg string }{
		{"not a worksheet", `<chartsheet><sheetData>` + ok + `</sheetData></chartsheet>`, "", "want <worksheet>"},
		{"no sheetData", `<worksheet><dimension ref="A1"/></worksheet>`, "", "no <sheetData>"},
		{"row before sheetData", `<worksheet><sheetPr><row r="1"/></sheetPr><sheetData/></worksheet>`, "", "unexpected <row>"},
		{"text before the root", `x<worksheet><sheetData/></worksheet>`, "", "text before the root"},
		{"encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><worksheet><sheetData/></worksheet>`, "", "only UTF-8"},
		{"version", `<?xml version="1.1"?><worksheet><sheetData/></worksheet>`, "", "version"},
		{"sst outside its namespace", sheetXML(ok), `<sst><si><t>a</t></si></sst>`, "namespace"},
		{"malformed sst", sheetXML(ok), sstXML(`<si><t>a</si>`), "string 0"},
		{"sst count", sheetXML(ok), strings.Replace(sstXML(`<si><t>a</t></si>`), "<sst ", `<sst count="many" `, 1), "invalid count"},
		{"truncated sst", sheetXML(ok), sstXML(`<si><t>a</t></si>`)[:80], "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(rawWorkbook(t, c.sheet, c.sst))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want ErrCorrupt mentioning %q", err, c.msg)
			}
		})
	}
}

// goroutinesSettle waits for the number of goroutines to drop to n.
func goroutinesSettle(n int) int {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// TestWorkbookCloseStopsInflating closes readers mid-sheet, before the
// first row and after an error: no inflate goroutine may be left behind.
func TestWorkbookCloseStopsInflating(t *testing.T) {
	data := bigWorkbook(t, 1500, false)
	bad := slices.Clone(data)
	off, n := partData(t, data, "xl/worksheets/sheet1.xml")
	bad[off+n/3] ^= 0xFF
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	badWB, err := openBytes(bad, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for _, c := range []struct {
		wb    *Workbook
		rows  int
		close bool
	}{{wb, 0, true}, {wb, 1, true}, {wb, 500, true}, {badWB, 1 << 30, false}, {badWB, 1 << 30, true}} {
		rr, err := c.wb.Rows("")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < c.rows && rr.Next(); i++ {
		}
		if c.close {
			if err := rr.Close(); err != nil {
				t.Error(err)
			}
			if rr.Next() {
				t.Error("Next after Close returned true")
			}
			if err := rr.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		}
	}
	if after := goroutinesSettle(before); after > before {
		t.Errorf("%d goroutines before reading, %d after closing", before, after)
	}
}

// TestWorkbookMemoryIsFlat reads a sheet of about 37 MiB of XML and checks
// that the heap stays far below it: nothing may buffer the sheet.
func TestWorkbookMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("large sheet")
	}
	const rows = 60_000
	var sb strings.Builder
	for r := 1; r <= rows; r++ {
		n := strconv.Itoa(r)
		sb.WriteString(`<row r="` + n + `">`)
		for c := range "ABCDEFGH" {
			sb.WriteString(`<c r="` + string(rune('A'+c)) + n + `" t="inlineStr"><is><t>商品 ` + n + ` 的名稱與說明</t></is></c>`)
		}
		sb.WriteString(`</row>`)
	}
	xmlSize := sb.Len()
	data := rawWorkbook(t, sheetXML(sb.String()), "")
	sb.Reset()
	_, n, base, peak := readMeasuringHeap(t, data, nil)
	if n != rows {
		t.Fatalf("%d rows, want %d", n, rows)
	}
	if grew := peak - base; grew > 24<<20 {
		t.Errorf("the heap grew by %d MiB reading %d MiB of sheet XML", grew>>20, xmlSize>>20)
	}
	t.Logf("heap grew by at most %.1f MiB for %d MiB of sheet XML", float64(peak-base)/(1<<20), xmlSize>>20)
}

// readMeasuringHeap reads every row of the first sheet of data, passing
// each to check when it is set, and samples the heap as it goes: base is
// the heap before opening, peak the most seen while reading. The workbook
// stays open (closed at the end of the test) so callers can look at it.
func readMeasuringHeap(t *testing.T, data []byte, check func(n int, cells []string)) (wb *Workbook, rows int, base, peak uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak = ms.HeapAlloc, ms.HeapAlloc
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wb.Close() })
	rr, err := wb.Rows("")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for rr.Next() {
		if rows++; rows%1000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if check != nil {
			_, cells := rr.Row()
			check(rows, cells)
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatalf("after %d rows: %v", rows, err)
	}
	return wb, rows, base, peak
}

// failingReader fails reads that touch bytes from to, as a file on a
// dropped network share does.
type failingReader struct {
	data     []byte
	from, to int64
}

var errDiskGone = errors.New("disk gone")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off < f.to && off+int64(len(p)) > f.from {
		return 0, errDiskGone
	}
	return bytes.NewReader(f.data).ReadAt(p, off)
}

// TestWorkbookReadFailure checks that a failing file is not reported as a
// damaged workbook.
func TestWorkbookReadFailure(t *testing.T) {
	data := bigWorkbook(t, 300, false)
	off, n := partData(t, data, "xl/worksheets/sheet1.xml")
	wb, err := Open(failingReader{data, off + n/2, off + n}, int64(len(data)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := wb.Rows("")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for rr.Next() {
	}
	checkReadFailure(t, rr.Err())
	_, err = Open(failingReader{data, 0, 1}, int64(len(data)), Limits{})
	checkReadFailure(t, err)
}

// checkReadFailure checks that err is a ReadError of errDiskGone and no
// kind of damage.
func checkReadFailure(t *testing.T, err error) {
	t.Helper()
	var re *ReadError
	if !errors.Is(err, errDiskGone) || !errors.As(err, &re) {
		t.Fatalf("error %v, want a ReadError of the disk's error", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("a read failure is reported as %v: %v", s, err)
		}
	}
}

// TestWorkbookErrorsInChinese: the reader's errors a merchant meets say
// themselves in Chinese through msg.Text, all the way down, and stay the
// same English for logs and errors.Is.
func TestWorkbookErrorsInChinese(t *testing.T) {
	good := sharedWorkbook(t, mixedRows())
	for _, c := range []struct {
		name     string
		data     []byte
		want     error
		english  string
		contains []string
	}{
		{"encrypted", encryptedWorkbook(t), ErrEncrypted,
			"workbook is password-protected: remove the password in Excel and export again",
			[]string{"活頁簿有密碼保護", "請在 Excel 移除密碼"}},
		{"csv", []byte("商品 id,商品名稱\n1,咖啡\n"), ErrNotXLSX,
			"not an .xlsx workbook: it looks like text, such as a CSV file renamed to .xlsx",
			[]string{"不是 .xlsx 活頁簿", "CSV"}},
		{"truncated", good[:len(good)/2], ErrCorrupt, "", []string{"活頁簿已損壞", "zip"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes(c.data, Limits{})
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if c.english != "" && err.Error() != c.english {
				t.Errorf("Error() = %q, want %q", err.Error(), c.english)
			}
			if got := msg.Text(msg.English, err); got != err.Error() {
				t.Errorf("Text(English) = %q, want Error() %q", got, err.Error())
			}
			zh := msg.Text(msg.Chinese, err)
			for _, s := range c.contains {
				if !strings.Contains(zh, s) {
					t.Errorf("Text(Chinese) = %q, want it to say %q", zh, s)
				}
			}
			if strings.Contains(zh, "workbook") {
				t.Errorf("Text(Chinese) = %q is still English", zh)
			}
		})
	}

	// A failing disk: the ReadError says so in Chinese, with the system's
	// error as it is.
	data := bigWorkbook(t, 300, false)
	_, err := Open(failingReader{data, 0, 1}, int64(len(data)), Limits{})
	if zh := msg.Text(msg.Chinese, err); !strings.Contains(zh, "無法讀取檔案") || !strings.Contains(zh, errDiskGone.Error()) {
		t.Errorf("Text(Chinese) of a read failure = %q", zh)
	}
}
