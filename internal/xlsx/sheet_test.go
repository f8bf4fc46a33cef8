package xlsx

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// generatedWorkbooks are workbooks written by excelize, covering what it
// writes: inline and shared strings, rich text, formulas, booleans, dates,
// gaps, hidden columns, several sheets.
func generatedWorkbooks(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{
		"stream": streamWorkbook(tb, mixedRows()),
		"shared": sharedWorkbook(tb, mixedRows()),
	}

	f := excelize.NewFile()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(f.SetSheetRow("Sheet1", "A1", &[]any{"商品 id", "名稱", "價格", "上架", "公開"}))
	must(f.SetSheetRow("Sheet1", "A2", &[]any{1001, "咖啡", 1280, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true}))
	must(f.SetCellRichText("Sheet1", "B3", []excelize.RichTextRun{
		{Text: "粗體", Font: &excelize.Font{Bold: true, Size: 12, Color: "FF0000"}},
		{Text: " and plain & <odd>"},
		{Text: "_x0041_ escaped", Font: &excelize.Font{Italic: true}},
	}))
	must(f.SetCellFormula("Sheet1", "C3", "SUM(C2,1)"))
	must(f.SetCellValue("Sheet1", "D3", false))
	must(f.SetCellValue("Sheet1", "XFD3", "last column"))
	must(f.SetCellValue("Sheet1", "A40", "far down"))
	must(f.SetColVisible("Sheet1", "A", false))
	_, err := f.NewSheet("第二頁")
	must(err)
	must(f.SetCellValue("第二頁", "B2", "second sheet"))
	out["rich"] = saveWorkbook(tb, f)

	f = excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	must(err)
	must(sw.SetRow("A1", []any{
		[]excelize.RichTextRun{{Text: "rich ", Font: &excelize.Font{Bold: true}}, {Text: "inline 文字"}},
		excelize.Cell{Formula: "1+1", Value: 2},
		excelize.Cell{Formula: `"a"&"b"`},
		true,
		nil,
		"after gap",
	}))
	must(sw.SetRow("C3", []any{"starts at C", 3.25}))
	must(sw.Flush())
	out["stream-rich"] = saveWorkbook(tb, f)
	return out
}

const sheetPrologue = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n"

// rawCases are hand-written sheets for what excelize does not write.
var rawCases = []struct {
	name, sheet, sst string
	want             []sheetRow // checked in addition to agreeing with excelize
}{
	{
		name: "no r attributes",
		sheet: sheetXML(`<row><c><v>1</v></c><c t="inlineStr"><is><t>a</t></is></c></row><row><c><v>2</v></c></row>` +
			`<row r="5"><c r="C5"><v>5</v></c><c><v>6</v></c></row><row><c r="B6"><v>x</v></c></row>`),
		want: []sheetRow{{1, []string{"1", "a"}}, {2, []string{"2"}}, {5, []string{"", "", "5", "6"}}, {6, []string{"", "x"}}},
	},
	{
		name: "references",
		sheet: sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>&#20013;&#x6587; &amp;&lt;&gt;&quot;&apos; &#x1F600;&#xD800;</t></is></c>` +
			`<c r="B1" t="str"><v>&#65;&#x42;&#0009;</v></c></row>`),
		want: []sheetRow{{1, []string{"中文 &<>\"' 😀\uFFFD", "AB\t"}}},
	},
	{
		name:  "cdata",
		sheet: sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<b>bold</b> & ]]]]><![CDATA[>]]></t></is></c><c r="B1"><v><![CDATA[12]]>3</v></c></row>`),
		want:  []sheetRow{{1, []string{"<b>bold</b> & ]]>", "123"}}},
	},
	{
		name: "prefixes",
		sheet: sheetPrologue + `<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
			`<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>p</x:t></x:is></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row>` +
			`</x:sheetData></x:worksheet>`,
		sst:  sstXML(`<si><t>zero</t></si>`, `<si><t>one</t></si>`),
		want: []sheetRow{{1, []string{"p", "one"}}},
	},
	{
		name: "line ends",
		sheet: sheetXML("<row r=\"1\">\r\n<c r=\"A1\" t=\"inlineStr\"><is><t>a\r\nb\rc\n&#13;&#10;d\r\r\n</t></is></c>\r\n" +
			"<c r=\"B1\" t=\"s\"><v>0</v></c>\r\n</row>\r\n"),
		sst:  sstXML("<si><t>x\r\ny\r</t></si>"),
		want: []sheetRow{{1, []string{"a\nb\nc\n\r\nd\n\n", "x\ny\n"}}},
	},
	{
		name: "quotes and attribute order",
		sheet: sheetXML(`<row spans='1:3' r='1'><c t='inlineStr' s='0' r='A1'><is><t>q</t></is></c>` +
			`<c s="1" r = "B1" ><v>1</v></c><c r='C1'
			t="str"><v>'"</v></c></row>`),
		want: []sheetRow{{1, []string{"q", "1", `'"`}}},
	},
	{
		name:  "self-closing",
		sheet: sheetXML(`<row r="1"/><row r="2"><c r="A2"/><c r="B2" t="s"/><c r="C2"><v>3</v></c><c r="D2"><v/></c></row><row r="3"></row><row r="4"><c r="A4"><v>4</v></c></row>`),
		want:  []sheetRow{{2, []string{"", "", "3"}}, {4, []string{"4"}}},
	},
	{
		name: "types",
		sheet: sheetXML(`<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="e"><v>#DIV/0!</v></c>` +
			`<c r="C1" t="d"><v>2026-03-05T14:30:00Z</v></c><c r="D1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>` +
			`<c r="E1" t="n"><v>1.5E-3</v></c><c r="F1" t=""><v>7</v></c><c r="G1" t="inlineStr"><v>v only</v></c>` +
			`<c r="H1" t="s"><is><t>ignored</t></is><v>0</v></c><c r="I1" t="n"><is><t>ignored</t></is><v>9</v></c>` +
			`<c r="J1" t="inlineStr"><v>ignored</v><is><t>is wins</t></is></c><c r="K1"><f>1+1</f></c></row>`),
		sst:  sstXML(`<si><t>shared</t></si>`),
		want: []sheetRow{{1, []string{"1", "#DIV/0!", "2026-03-05T14:30:00Z", "ab", "1.5E-3", "7", "v only", "shared", "9", "is wins"}}},
	},
	{
		name: "rich inline and phonetic runs",
		sheet: sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><b/><sz val="11"/><color rgb="FFFF0000" theme="1" tint="-0.25"/>` +
			`<rFont val="新細明體"/><family val="2"/><charset val="136"/></rPr><t>紅</t></r><r><t xml:space="preserve"> 字 </t></r>` +
			`<rPh sb="0" eb="1"><t>ホン</t></rPh><phoneticPr fontId="1" type="noConversion"/></is></c>` +
			`<c r="B1" t="inlineStr"><is><t>lead</t><r><t>+run</t></r></is></c></row>`),
		want: []sheetRow{{1, []string{"紅 字 ", "lead+run"}}},
	},
	{
		name:  "shared strings",
		sheet: sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v> 1 </v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c><c r="G1" t="s"><v>006</v></c></row>`),
		sst: sstXML(`<si><t>plain</t></si>`,
			`<si><r><rPr><b val="true"/></rPr><t>ri</t></r><r><t>ch</t></r><rPh sb="0" eb="2"><t>リッチ</t></rPh></si>`,
			`<si><t>_x000D__x0041__x005F_x0042_ _xd83d_ _x12_</t></si>`,
			`<si/>`, `<si><t/></si>`,
			`<si><t>&lt;tag&gt; &#x4E2D;</t><extLst><ext/></extLst></si>`,
			`<si><t>six</t></si>`),
		want: []sheetRow{{1, []string{"plain", "rich", "\rA_x0042_  _x12_", "", "", "<tag> 中", "six"}}},
	},
	{
		name: "comments and processing instructions",
		sheet: sheetXML(`<!-- before --><?pi data?><row r="1"><!-- c --><c r="A1"><v>1<!-- inside -->2<?pi?></v></c>` +
			`<?pi?></row><!-- between --><row r="2"><c r="A2"><v>3</v></c></row>`),
		want: []sheetRow{{1, []string{"12"}}, {2, []string{"3"}}},
	},
	{
		name:  "white space",
		sheet: sheetXML("\n  <row r=\"1\">\n    <c r=\"A1\">\n      <v> 1 </v>\n    </c>\n  </row>\n"),
		want:  []sheetRow{{1, []string{" 1 "}}},
	},
	{
		name: "elements around the rows",
		sheet: sheetPrologue + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			`<sheetPr><tabColor rgb="FF00FF00"/></sheetPr><dimension ref="A1:C3"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>` +
			`<cols><col min="1" max="2" hidden="1"/></cols><sheetData><row r="1"><c r="A1"><v>1</v><extLst><ext uri="u"><x/></ext></extLst></c>` +
			`<extLst/></row></sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>`,
		want: []sheetRow{{1, []string{"1"}}},
	},
	{
		name:  "byte order mark without declaration",
		sheet: "\xEF\xBB\xBF" + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>`,
		want:  []sheetRow{{1, []string{"1"}}},
	},
	{
		name:  "escapes only in strings",
		sheet: sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>_x0041_</t></is></c><c r="B1" t="str"><v>_x0041_</v></c><c r="C1" t="inlineStr"><is><r><t>_x00</t></r><r><t>42_</t></r></is></c></row>`),
		want:  []sheetRow{{1, []string{"A", "_x0041_", "B"}}},
	},
	{
		// As a writer built on the .NET Open XML SDK saves a sheet: each
		// cell in a <row> element of its own, names prefixed.
		name: "a row's cells in elements of their own",
		sheet: sheetPrologue + `<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
			`<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row><x:row r="1"><x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row>` +
			`<x:row r="1"><x:c r="D1" t="inlineStr"><x:is><x:t>d</x:t></x:is></x:c></x:row>` + "\n" +
			`<x:row r="2"><x:c r="A2"><x:v>1001</x:v></x:c></x:row><!-- c --><x:row r="2" spans="2:2"><x:c r="B2" t="s"><x:v>0</x:v></x:c></x:row>` +
			`<x:row r="2"/><x:row r="2"><x:c r="C2" t="str"><x:v>end</x:v></x:c></x:row>` +
			`<x:row r="4"><x:c r="B4"><x:v>4</x:v></x:c></x:row><x:row r="4"><x:c r="C4"><x:v>5</x:v></x:c></x:row>` +
			`</x:sheetData></x:worksheet>`,
		sst:  sstXML(`<si><t>zero</t></si>`, `<si><t>one</t></si>`),
		want: []sheetRow{{1, []string{"zero", "one", "", "d"}}, {2, []string{"1001", "zero", "end"}}, {4, []string{"", "4", "5"}}},
	},
	{
		name:  "repeated rows without cells",
		sheet: sheetXML(`<row r="1"/><row r="1"></row><row r="2"><c r="A2"><v>2</v></c></row><row r="2"/><row/><row r="3"><c r="B3"><v>3</v></c></row>`),
		want:  []sheetRow{{2, []string{"2"}}, {3, []string{"", "3"}}},
	},
	{
		name:  "empty sheet",
		sheet: sheetXML(""),
	},
	{
		name:  "lower-case references and last cells",
		sheet: sheetXML(`<row r="1048576"><c r="xfd1048576"><v>end</v></c></row>`),
		want:  []sheetRow{{1048576, append(make([]string, 16383), "end")}},
	},
}

func TestWorkbookMatchesExcelize(t *testing.T) {
	files := generatedWorkbooks(t)
	files["export inline"] = bigWorkbook(t, 300, false)
	files["export shared"] = bigWorkbook(t, 300, true)
	for name, data := range files {
		t.Run(name, func(t *testing.T) { checkSameRows(t, data, "") })
	}
	for _, c := range rawCases {
		t.Run(c.name, func(t *testing.T) {
			data := rawWorkbook(t, c.sheet, c.sst)
			got := checkSameRows(t, data, "")
			if d := diffRows(c.want, got); d != "" {
				t.Errorf("against the expected rows: %s", d)
			}
		})
	}
}

// checkSameRows reads a sheet with both readers, fails unless they agree,
// and returns the rows.
func checkSameRows(t *testing.T, data []byte, sheet string) []sheetRow {
	t.Helper()
	want, err := excelizeRows(data, sheet)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readerRows(data, sheet)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(want, got); d != "" {
		t.Errorf("against excelize: %s", d)
	}
	return got
}

func TestWorkbookSheets(t *testing.T) {
	data := generatedWorkbooks(t)["rich"]
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wb.SheetNames(), []string{"Sheet1", "第二頁"}; !slices.Equal(got, want) {
		t.Errorf("SheetNames() = %q, want %q", got, want)
	}
	if wb.Date1904() {
		t.Error("Date1904() = true for a 1900-based workbook")
	}
	got := checkSameRows(t, data, "第二頁")
	if d := diffRows([]sheetRow{{2, []string{"", "second sheet"}}}, got); d != "" {
		t.Error(d)
	}
	if _, err := wb.Rows("SHEET1"); err != nil {
		t.Errorf("sheet names should match case-insensitively: %v", err)
	}
	_, err = wb.Rows("Sheet3")
	if !errors.Is(err, ErrNoSheet) || !strings.Contains(err.Error(), `"Sheet1", "第二頁"`) {
		t.Errorf("Rows of a missing sheet: %v, want ErrNoSheet listing the sheets", err)
	}
}

func TestWorkbookDate1904(t *testing.T) {
	f := excelize.NewFile()
	date1904 := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
		t.Fatal(err)
	}
	data := saveWorkbook(t, f)
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !wb.Date1904() {
		t.Error("Date1904() = false for a 1904-based workbook")
	}
}

// TestWorkbookTargets resolves sheets through absolute and relative
// relationship targets, a workbook part in an unusual place, and a chart
// sheet.
func TestWorkbookTargets(t *testing.T) {
	rels := func(target string) rawPart {
		return rawPart{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="` + target + `"/></Relationships>`}
	}
	sheet := sheetXML(`<row r="1"><c r="A1"><v>1</v></c></row>`)
	for _, target := range []string{"worksheets/sheet1.xml", "/xl/worksheets/sheet1.xml", "../xl/worksheets/sheet1.xml", "Worksheets/Sheet1.XML", `worksheets\sheet1.xml`} {
		data := rawWorkbook(t, sheet, "", rels(target))
		got, err := readerRows(data, "")
		if err != nil || len(got) != 1 {
			t.Errorf("target %q: %d rows, %v", target, len(got), err)
		}
	}

	moved := zipParts(t, []rawPart{
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" Target="/book/main.xml"/></Relationships>`},
		{"book/main.xml", `<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main" xmlns:r="http://purl.oclc.org/ooxml/officeDocument/relationships"><workbookPr date1904="true"/><sheets><sheet name="Data" sheetId="1" r:id="s1"/><sheet name="Chart" sheetId="2" r:id="s2"/></sheets></workbook>`},
		{"book/_rels/main.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="s1" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet" Target="data.xml"/><Relationship Id="s2" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/chartsheet" Target="chart.xml"/></Relationships>`},
		{"book/data.xml", sheet},
		{"book/chart.xml", `<chartsheet/>`},
	})
	wb, err := openBytes(moved, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !wb.Date1904() || !slices.Equal(wb.SheetNames(), []string{"Data", "Chart"}) {
		t.Errorf("strict workbook: date1904 %t, sheets %q", wb.Date1904(), wb.SheetNames())
	}
	if got, err := readerRows(moved, "data"); err != nil || len(got) != 1 {
		t.Errorf("sheet of a moved workbook part: %d rows, %v", len(got), err)
	}
	if _, err := wb.Rows("Chart"); !errors.Is(err, ErrNoSheet) {
		t.Errorf("Rows of a chart sheet: %v, want ErrNoSheet", err)
	}
}

// TestWorkbookRowStrings checks that values stay valid after Next, as Go
// strings must, even though the row slice is reused.
func TestWorkbookRowStrings(t *testing.T) {
	data := streamWorkbook(t, [][]any{{"first", 1}, {"second", 2}})
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := wb.Rows("")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var kept []string
	for rr.Next() {
		_, cells := rr.Row()
		kept = append(kept, cells[0])
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept, []string{"first", "second"}) {
		t.Errorf("kept values %q", kept)
	}
}

// TestWorkbookChunkBoundaries reads every test sheet with inflate buffers
// of a few bytes, so that each token is split across buffers somewhere,
// and expects the same rows and errors as with the normal buffers.
func TestWorkbookChunkBoundaries(t *testing.T) {
	var files [][]byte
	for _, data := range generatedWorkbooks(t) {
		files = append(files, data)
	}
	for _, c := range rawCases {
		files = append(files, rawWorkbook(t, c.sheet, c.sst))
	}
	for _, data := range utf16Workbooks(t) {
		files = append(files, data)
	}
	files = append(files, bigWorkbook(t, 3, false), bigWorkbook(t, 3, true),
		rawWorkbook(t, sheetXML(`<row r="1"><c r="A1" t="str"><v>ok</v></c></row><row r="2"><c r="A2"><v>&bad;</v></c></row>`), ""))
	type result struct {
		rows []sheetRow
		err  string
	}
	read := func(data []byte) result {
		rows, err := readerRows(data, "")
		if err != nil {
			return result{rows, strings.Split(err.Error(), " (at byte")[0]}
		}
		return result{rows, ""}
	}
	want := make([]result, len(files))
	for i, data := range files {
		want[i] = read(data)
	}
	defer func(n int) { chunkSize = n }(chunkSize)
	for _, size := range []int{1, 2, 3, 5, 8, 13} {
		chunkSize = size
		for i, data := range files {
			got := read(data)
			if d := diffRows(want[i].rows, got.rows); d != "" || got.err != want[i].err {
				t.Errorf("file %d with %d-byte buffers: %s, error %q, want %q", i, size, d, got.err, want[i].err)
			}
		}
	}
}
