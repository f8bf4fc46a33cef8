package xlsx

import (
	"bytes"
	"errors"
	"feedgen/internal/tempdir"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// spillAll makes every table spill its strings over over bytes, and points
// os.TempDir at a fresh folder, which it returns.
func spillAll(t *testing.T, over int) string {
	t.Helper()
	size, old := defaultSpillSize, spillOver
	defaultSpillSize, spillOver = 0, over
	t.Cleanup(func() { defaultSpillSize, spillOver = size, old })
	return tempdir.Use(t)
}

// spillFiles lists the temporary files of shared strings in dir, whether
// still named there or only held open by this process.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	return tempdir.Files(dir, "feedgen-sst-")
}

// checkSpillReleased fails if a temporary file of shared strings is left in
// dir. A test that also checks that a file existed while reading proves
// that spillFiles sees them on this system.
func checkSpillReleased(t *testing.T, dir, when string) {
	t.Helper()
	if left := spillFiles(t, dir); len(left) > 0 {
		t.Errorf("%s: temporary files left: %q", when, left)
	}
}

// spilledCount is how many strings of the table are in the file.
func spilledCount(t *testing.T, wb *Workbook) int {
	t.Helper()
	sst, err := wb.sharedStrings()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range sst.index {
		if e&spilledBit != 0 {
			n++
		}
	}
	return n
}

// spillSheet is a sheet of one column whose row r holds shared string
// order[r-1].
func spillSheet(order []int) string {
	var b strings.Builder
	for r, i := range order {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>`, r+1, r+1, i)
	}
	return sheetXML(b.String())
}

// spillTable is a shared-string part holding strs.
func spillTable(strs []string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	items := make([]string, len(strs))
	for i, s := range strs {
		items[i] = `<si><t xml:space="preserve">` + esc.Replace(s) + `</t></si>`
	}
	return sstXML(items...)
}

// TestWorkbookSpillMatchesExcelize reads every test workbook with all but
// the shortest strings spilled: rows and errors must be those read from
// memory, and those of excelize where it reads the workbook.
func TestWorkbookSpillMatchesExcelize(t *testing.T) {
	files := map[string][]byte{
		"big shared":  bigWorkbook(t, 300, true),
		"big inline":  bigWorkbook(t, 50, false),
		"mixed twice": sharedWorkbook(t, append(mixedRows(), mixedRows()...)),
	}
	for name, data := range generatedWorkbooks(t) {
		files[name] = data
	}
	for _, c := range rawCases {
		files[c.name] = rawWorkbook(t, c.sheet, c.sst)
	}
	for _, c := range []struct{ name, sheet, sst string }{
		{"malformed sst", sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`),
			sstXML(`<si><t>a long first string</t></si>`, `<si><t>a</si>`)},
		{"index out of range", sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c></row>`),
			sstXML(`<si><t>a long first string</t></si>`, `<si><t>another long string</t></si>`)},
	} {
		files[c.name] = rawWorkbook(t, c.sheet, c.sst)
	}
	type result struct {
		rows []sheetRow
		err  string
	}
	read := func(data []byte) result {
		rows, err := readerRows(data, "")
		if err != nil {
			return result{rows, err.Error()}
		}
		return result{rows, ""}
	}
	want := map[string]result{}
	for name, data := range files {
		want[name] = read(data)
	}
	dir := spillAll(t, 4)
	for name, data := range files {
		got := read(data)
		if d := diffRows(want[name].rows, got.rows); d != "" || got.err != want[name].err {
			t.Errorf("%s spilled: %s, error %q, want %q", name, d, got.err, want[name].err)
		}
		if want[name].err == "" {
			if ref, err := excelizeRows(data, ""); err == nil {
				if d := diffRows(ref, got.rows); d != "" {
					t.Errorf("%s spilled, against excelize: %s", name, d)
				}
			}
		}
	}
	wb, err := openBytes(files["big shared"], Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n := spilledCount(t, wb); n < 300 {
		t.Errorf("%d strings spilled from the big shared workbook, want its descriptions and more", n)
	}
	wb.Close()
	checkSpillReleased(t, dir, "after reading every workbook")
}

// TestWorkbookSpillLengths reads strings of every length around the
// threshold and around the read-ahead window, in order, in reverse, at
// random and repeated, and keeps them all: a later lookup must not change
// a string handed out earlier.
func TestWorkbookSpillLengths(t *testing.T) {
	const over = 12
	spillAll(t, over)
	rng := rand.New(rand.NewPCG(3, 4))
	var strs []string
	for n := range 3 * over {
		strs = append(strs, strings.Repeat(string(rune('a'+n%26)), n))
	}
	for _, n := range []int{over + 1, 1000, spillWindow - 1, spillWindow, spillWindow + 1, 3*spillWindow + 7} {
		strs = append(strs, strings.Repeat("長", n/3)+strings.Repeat("x", n%3))
	}
	for len(strs) < 2000 {
		n := rng.IntN(400)
		strs = append(strs, strconv.Itoa(len(strs))+strings.Repeat("é", n/2))
	}
	var order []int
	for i := range strs {
		order = append(order, i)
	}
	for i := len(strs) - 1; i >= 0; i-- {
		order = append(order, i)
	}
	for range 3000 {
		i := rng.IntN(len(strs))
		order = append(order, i, i, rng.IntN(len(strs)))
	}
	data := rawWorkbook(t, spillSheet(order), spillTable(strs))
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	sst, err := wb.sharedStrings()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range strs {
		e := sst.index[i]
		if spilled := e&spilledBit != 0; spilled != (len(s) > over) {
			t.Errorf("string %d of %d bytes: spilled %t", i, len(s), spilled)
		}
	}
	rr, err := wb.Rows("")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var kept []string
	for rr.Next() {
		_, cells := rr.Row()
		kept = append(kept, cells...)
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, i := range order {
		if strs[i] != "" {
			want = append(want, strs[i])
		}
	}
	if len(kept) != len(want) {
		t.Fatalf("%d values, want %d", len(kept), len(want))
	}
	for k := range want {
		if kept[k] != want[k] {
			t.Fatalf("value %d: %d bytes %.20q…, want %d bytes %.20q…", k, len(kept[k]), kept[k], len(want[k]), want[k])
		}
	}
}

// countingReader counts the reads of the spill file and can fail them.
type countingReader struct {
	r     io.ReaderAt
	reads int
	fail  error
	short bool // return one byte less than read, and no error
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	c.reads++
	if c.fail != nil {
		// A failed read may have overwritten the buffer.
		for i := range b {
			b[i] = '?'
		}
		return 0, c.fail
	}
	if c.short {
		n, _ := c.r.ReadAt(b, off)
		return max(n-1, 0), nil
	}
	return c.r.ReadAt(b, off)
}

// TestSpillCacheEviction looks up strings spread far apart in the file, so
// that the read-ahead window cannot serve them, and checks that the cache
// keeps the ones looked up last, within its byte budget.
func TestSpillCacheEviction(t *testing.T) {
	const gap = 4 * spillWindow
	file := make([]byte, (spillCacheLen+8)*gap)
	at := func(i int) (int64, int) { return int64((i + 1) * gap), 10 + i%7 }
	for i := range spillCacheLen + 8 {
		off, n := at(i)
		copy(file[off:], fmt.Sprintf("%0*d", n, i))
	}
	r := &countingReader{r: bytes.NewReader(file)}
	var c spillCache
	get := func(i int) {
		t.Helper()
		off, n := at(i)
		s, err := c.read(r, i, off, n)
		if want := fmt.Sprintf("%0*d", n, i); err != nil || s != want {
			t.Fatalf("string %d: %q, %v; want %q", i, s, err, want)
		}
	}
	reads := func(want int, what string) {
		t.Helper()
		if r.reads != want {
			t.Errorf("%s: %d reads, want %d", what, r.reads, want)
		}
		r.reads = 0
	}
	for i := range spillCacheLen {
		get(i)
	}
	reads(spillCacheLen, "first lookups")
	for i := range spillCacheLen {
		get(i)
	}
	reads(0, "lookups of cached strings")
	get(spillCacheLen)
	reads(1, "one more string")
	get(1)
	reads(0, "the second least recently used string")
	get(0)
	reads(1, "the evicted least recently used string")
	get(2)
	reads(1, "the string evicted in its place")

	// Huge strings evict the older ones to stay within the budget. The
	// first is read last, by the read-ahead window.
	big := strings.Repeat("d", spillCacheBytes/3)
	r = &countingReader{r: strings.NewReader(strings.Repeat(big+strings.Repeat("-", gap), 4))}
	c = spillCache{}
	for _, i := range []int{1, 2, 3, 0, 3, 1} {
		s, err := c.read(r, i, int64(i*(len(big)+gap)), len(big))
		if err != nil || s != big {
			t.Fatalf("big string %d: %d bytes, %v", i, len(s), err)
		}
	}
	reads(5, "four big strings, of which three fit, then the evicted first one")
	if c.size > spillCacheBytes {
		t.Errorf("the cache holds %d bytes, over its %d", c.size, spillCacheBytes)
	}
}

// TestSpillCacheWindowEdges looks up strings that end just inside, at and
// just past the end of the read-ahead window, and at the end of the file.
func TestSpillCacheWindowEdges(t *testing.T) {
	file := make([]byte, 2*spillWindow+100)
	for i := range file {
		file[i] = byte('a' + i%23)
	}
	for _, c := range []struct{ off, n int }{
		{spillWindow - 20, 19}, {spillWindow - 20, 20}, {spillWindow - 20, 21}, {spillWindow, 5},
		{spillWindow - 1, spillWindow + 2}, {len(file) - 7, 7}, {len(file) - 70000, 70000},
	} {
		var cache spillCache
		r := &countingReader{r: bytes.NewReader(file)}
		for _, sc := range []struct{ off, n int }{{0, 10}, c} {
			s, err := cache.read(r, sc.off, int64(sc.off), sc.n)
			if want := string(file[sc.off : sc.off+sc.n]); err != nil || s != want {
				t.Errorf("%d bytes at %d, after a read at 0: %.10q…, %v; want %.10q…", sc.n, sc.off, s, err, want)
			}
		}
	}
}

// TestSpillCacheFailedRead checks that a read that fails does not leave the
// window claiming bytes it overwrote.
func TestSpillCacheFailedRead(t *testing.T) {
	file := strings.Repeat("0123456789", spillWindow/5)
	r := &countingReader{r: strings.NewReader(file)}
	var c spillCache
	if s, err := c.read(r, 0, 0, 10); err != nil || s != "0123456789" {
		t.Fatalf("first string: %q, %v", s, err)
	}
	r.fail = errors.New("injected")
	if _, err := c.read(r, 1, spillWindow-5, 10); !errors.Is(err, r.fail) {
		t.Fatalf("failing read: %v", err)
	}
	r.fail = nil
	if s, err := c.read(r, 2, 20, 10); err != nil || s != "0123456789" {
		t.Errorf("string in the window read before the failure: %q, %v", s, err)
	}
}

// TestWorkbookSpillVariantRows reads products whose variant rows repeat a
// description, each followed by strings of the variants: each product's
// description is read once.
func TestWorkbookSpillVariantRows(t *testing.T) {
	spillAll(t, 16)
	const products, variants = 40, 3
	var strs []string
	var rows strings.Builder
	r := 0
	for p := range products {
		desc := len(strs)
		strs = append(strs, fmt.Sprintf("<p>product %d</p>", p)+strings.Repeat("說明", 20000))
		for v := range variants {
			strs = append(strs, fmt.Sprintf("variant %d of product %d", v, p))
			r++
			fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d" t="s"><v>%d</v></c></row>`, r, r, desc, r, len(strs)-1)
		}
	}
	data := rawWorkbook(t, sheetXML(rows.String()), spillTable(strs))
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	sst, err := wb.sharedStrings()
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingReader{r: sst.spill}
	sst.spill = counter
	rr, err := wb.Rows("")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	n := 0
	for rr.Next() {
		_, cells := rr.Row()
		p := n / variants
		if !strings.HasPrefix(cells[0], fmt.Sprintf("<p>product %d</p>", p)) || cells[1] != fmt.Sprintf("variant %d of product %d", n%variants, p) {
			t.Fatalf("row %d: %.30q, %q", n+1, cells[0], cells[1])
		}
		n++
	}
	if err := rr.Err(); err != nil || n != products*variants {
		t.Fatalf("%d rows, %v", n, err)
	}
	// One read for the description, one for the window of its variants.
	if counter.reads > 2*products {
		t.Errorf("%d reads of the spill file for %d products", counter.reads, products)
	}
}

// TestWorkbookSpillRelease checks that no temporary file is left, on the
// paths a reader ends by.
func TestWorkbookSpillRelease(t *testing.T) {
	dir := spillAll(t, 4)
	var rows strings.Builder
	var strs []string
	for r := 1; r <= 50; r++ {
		strs = append(strs, fmt.Sprintf("a string long enough to be spilled, number %d", r))
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>`, r, r, r-1)
	}
	good := rawWorkbook(t, sheetXML(rows.String()), spillTable(strs))
	badSheet := rawWorkbook(t, sheetXML(rows.String()+`<row r="51"><c r="A51"><v>&bad;</v></c></row>`), spillTable(strs))
	badTable := rawWorkbook(t, sheetXML(rows.String()), spillTable(strs)[:len(spillTable(strs))-200])

	open := func(data []byte) (*Workbook, *Rows) {
		t.Helper()
		wb, err := openBytes(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		rr, err := wb.Rows("")
		if err != nil {
			t.Fatal(err)
		}
		if len(spillFiles(t, dir)) == 0 && runtime.GOOS == "linux" {
			t.Fatal("no temporary file seen while reading: the check would prove nothing")
		}
		return wb, rr
	}

	t.Run("after Close", func(t *testing.T) {
		wb, rr := open(good)
		for rr.Next() {
		}
		if err := rr.Err(); err != nil {
			t.Fatal(err)
		}
		rr.Close()
		if err := wb.Close(); err != nil {
			t.Fatal(err)
		}
		checkSpillReleased(t, dir, "after Close")
		if err := wb.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := wb.Rows(""); err == nil {
			t.Error("Rows after Close succeeded")
		}
	})

	t.Run("after an error mid-sheet", func(t *testing.T) {
		wb, rr := open(badSheet)
		n := 0
		for rr.Next() {
			n++
		}
		if err := rr.Err(); !errors.Is(err, ErrCorrupt) || n != 50 {
			t.Fatalf("%d rows, %v; want 50 and the damage", n, err)
		}
		rr.Close()
		wb.Close()
		checkSpillReleased(t, dir, "after an error mid-sheet")
	})

	t.Run("after an early Close", func(t *testing.T) {
		wb, rr := open(good)
		if !rr.Next() {
			t.Fatal(rr.Err())
		}
		rr.Close()
		wb.Close()
		checkSpillReleased(t, dir, "after closing at the first row")
	})

	t.Run("workbook closed before its reader", func(t *testing.T) {
		wb, rr := open(good)
		wb.Close()
		checkSpillReleased(t, dir, "after closing the workbook")
		for rr.Next() {
			t.Fatal("a row read after the workbook was closed")
		}
		if err := rr.Err(); !errors.Is(err, os.ErrClosed) || errors.Is(err, ErrCorrupt) {
			t.Errorf("reading after the workbook was closed: %v, want the file closed", err)
		}
		rr.Close()
	})

	t.Run("table damaged half-way", func(t *testing.T) {
		wb, err := openBytes(badTable, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wb.Rows(""); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Rows: %v, want the damage", err)
		}
		checkSpillReleased(t, dir, "after failing to load the table, before Close")
		wb.Close()
	})
}

// TestWorkbookSpillReadErrors injects failures of the spill file: they end
// the sheet with an error that says so, and never with a wrong value.
func TestWorkbookSpillReadErrors(t *testing.T) {
	spillAll(t, 4)
	sheet := sheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>`)
	data := rawWorkbook(t, sheet, sstXML(`<si><t>ok</t></si>`, `<si><t>spilled string one</t></si>`, `<si><t>x</t></si>`))
	injected := errors.New("injected I/O failure")
	for _, c := range []struct {
		name string
		r    *countingReader
		want error
	}{
		{"failing read", &countingReader{fail: injected}, injected},
		{"short read", &countingReader{short: true}, io.ErrUnexpectedEOF},
	} {
		wb, err := openBytes(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		sst, err := wb.sharedStrings()
		if err != nil {
			t.Fatal(err)
		}
		c.r.r = sst.spill
		sst.spill = c.r
		rr, err := wb.Rows("")
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for rr.Next() {
			_, cells := rr.Row()
			got = append(got, slices.Clone(cells))
		}
		err = rr.Err()
		if !errors.Is(err, c.want) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "row 2: reading shared string 1") {
			t.Errorf("%s: %v", c.name, err)
		}
		if len(got) != 1 || got[0][0] != "ok" {
			t.Errorf("%s: rows %q before the error, want only the first", c.name, got)
		}
		if rr.Next() {
			t.Errorf("%s: Next after the error", c.name)
		}
		rr.Close()
		wb.Close()
	}
}

// TestWorkbookSpillConcurrentReaders reads one spilled table from two row
// readers at once; run with -race.
func TestWorkbookSpillConcurrentReaders(t *testing.T) {
	data := bigWorkbook(t, 200, true)
	want, err := readerRows(data, "")
	if err != nil {
		t.Fatal(err)
	}
	spillAll(t, 4)
	wb, err := openBytes(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			rr, err := wb.Rows("")
			if err != nil {
				t.Error(err)
				return
			}
			defer rr.Close()
			var got []sheetRow
			for rr.Next() {
				num, cells := rr.Row()
				if cells = trimRow(cells); len(cells) > 0 {
					got = append(got, sheetRow{num, slices.Clone(cells)})
				}
			}
			if d := diffRows(want, got); d != "" || rr.Err() != nil {
				t.Errorf("%s, %v", d, rr.Err())
			}
		})
	}
	wg.Wait()
}

// TestWorkbookSmallTableStaysInMemory: below the table size threshold,
// nothing is spilled and no file is made.
func TestWorkbookSmallTableStaysInMemory(t *testing.T) {
	dir := tempdir.Use(t)
	wb, err := openBytes(bigWorkbook(t, 300, true), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if n := spilledCount(t, wb); n != 0 {
		t.Errorf("%d strings spilled from a small table", n)
	}
	if wb.sst.file != nil {
		t.Error("a temporary file for a small table")
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("files in the temporary folder: %v", left)
	}
}

// TestWorkbookSharedMemoryIsFlat reads a table of about 48 MiB of text, over
// the real spill threshold, and checks that the heap stays far below it.
func TestWorkbookSharedMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("large table")
	}
	tempdir.Use(t)
	const products = 20_000
	desc := strings.Repeat("舒適好穿的棉質商品，適合日常穿搭。", 45) // 2.3 KiB
	var sheet, table strings.Builder
	table.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for p := range products {
		n := strconv.Itoa(p + 1)
		fmt.Fprintf(&table, `<si><t>%s%d</t></si><si><t>商品 %d</t></si>`, desc, p, p)
		fmt.Fprintf(&sheet, `<row r="%s"><c r="A%s" t="s"><v>%d</v></c><c r="B%s" t="s"><v>%d</v></c></row>`, n, n, 2*p, n, 2*p+1)
	}
	table.WriteString(`</sst>`)
	textSize := table.Len()
	data := rawWorkbook(t, sheetXML(sheet.String()), table.String())
	sheet.Reset()
	table.Reset()
	wb, n, base, peak := readMeasuringHeap(t, data, func(n int, cells []string) {
		if !strings.HasPrefix(cells[0], desc) {
			t.Fatalf("row %d: %.20q", n, cells[0])
		}
	})
	if n != products {
		t.Fatalf("%d rows, want %d", n, products)
	}
	if wb.sst.file == nil {
		t.Fatalf("a table of %d MiB was not spilled", textSize>>20)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	kept := ms.HeapAlloc - base
	if grew := peak - base; grew > 24<<20 || kept > 4<<20 {
		t.Errorf("reading %d MiB of shared strings, the heap grew by %d MiB and kept %d MiB", textSize>>20, grew>>20, kept>>20)
	}
	t.Logf("heap grew by at most %.1f MiB and kept %.1f MiB for %d MiB of shared strings", float64(peak-base)/(1<<20), float64(kept)/(1<<20), textSize>>20)
}
