package feedgen

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"feedgen/internal/exportgen"
	"feedgen/internal/memtest"
	"feedgen/internal/tempdir"
)

// writeSample writes sample rows as an export in dir and returns its path.
func writeSample(t *testing.T, dir, name string, rows []exportgen.Row) string {
	t.Helper()
	var buf bytes.Buffer
	if err := exportgen.WriteSample(&buf, "商品", rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runExport runs the pipeline on export with every feed, at the sample's
// time, and returns the summary and the public folder, which it checks
// holds the files of one catalog and nothing else (a read started over
// drops the files it began).
func runExport(t *testing.T, export string) (*Summary, string) {
	t.Helper()
	out := filepath.Join(tempdir.New(t), "public")
	cfg := sampleConfig(t, out)
	cfg.Export, cfg.Feeds = export, allFeeds
	sum, err := Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt})
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string][]string{out: append(publicFiles(&cfg), manifestFile, lockFile), cfg.Report: {manifestFile, previewFile, reportFile}} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, e := range entries {
			files = append(files, e.Name())
		}
		if want := slices.Sorted(slices.Values(want)); !slices.Equal(files, want) {
			t.Errorf("%s holds %q, want %q", dir, files, want)
		}
	}
	return sum, out
}

var xmlItem = regexp.MustCompile(`(?s)<item>.*?</item>\n`)

// unordered cuts a feed file into its records, sorted: what is left when
// the order of products and items is set aside.
func unordered(format string, b []byte) []string {
	s := string(b)
	var recs []string
	switch format {
	case "google-xml":
		recs = xmlItem.FindAllString(s, -1)
		recs = append(recs, xmlItem.ReplaceAllString(s, ""))
	default: // one product or item a line; LINE's JSON ends all but the last with a comma
		for line := range strings.Lines(s) {
			recs = append(recs, strings.TrimSuffix(strings.TrimSuffix(line, "\n"), ","))
		}
	}
	slices.Sort(recs)
	return recs
}

// feedIDs lists the ids of the items of catalog.xml and of the products
// and variants of products.json in folder out, sorted.
func feedIDs(t *testing.T, out string) []string {
	t.Helper()
	var rss struct {
		Items []struct {
			ID string `xml:"http://base.google.com/ns/1.0 id"`
		} `xml:"channel>item"`
	}
	var products []struct {
		ID       string `json:"product_id"`
		Variants []struct {
			ID string `json:"variant_id"`
		} `json:"variants"`
	}
	b, err := os.ReadFile(filepath.Join(out, "catalog.xml"))
	if err == nil {
		err = xml.Unmarshal(b, &rss)
	}
	if err == nil {
		b, err = os.ReadFile(filepath.Join(out, "products.json"))
	}
	if err == nil {
		err = json.Unmarshal(b, &products)
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range rss.Items {
		ids = append(ids, "catalog.xml "+it.ID)
	}
	for _, p := range products {
		for _, v := range p.Variants {
			ids = append(ids, "products.json "+p.ID+" "+v.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestSortedSampleGivesTheSameCatalog: the sample sorted by price, either
// way, as a merchant sorts it in Excel and saves it, loses no product: the
// same counts, products and items. Sorted ascending, every file is the
// unsorted one's, products and items in another order (that of the
// products' first rows). Sorted descending, the mug's variants come in
// their new order, and its first row has the name 「陶瓷馬克杯 新版」 that
// its rows disagree on, which it then takes, with the warning naming both.
func TestSortedSampleGivesTheSameCatalog(t *testing.T) {
	dir := tempdir.New(t)
	want, wantOut := runExport(t, writeSample(t, dir, "sample.xlsx", exportgen.SampleRows()))
	for _, descending := range []bool{false, true} {
		name := map[bool]string{false: "ascending", true: "descending"}[descending]
		t.Run(name, func(t *testing.T) {
			rows := exportgen.SortRows(exportgen.SampleRows(), "商品款式售價", descending)
			sum, out := runExport(t, writeSample(t, dir, name+".xlsx", rows))
			if sum.Rows != want.Rows || sum.Products != want.Products || sum.Eligible != want.Eligible || sum.Items != want.Items ||
				sum.WarningCount != want.WarningCount || !reflect.DeepEqual(sum.ExcludedBy, want.ExcludedBy) {
				t.Errorf("summary: %d rows, %d products, %d eligible, %d items, %d warnings, excluded %v; want %d, %d, %d, %d, %d, %v",
					sum.Rows, sum.Products, sum.Eligible, sum.Items, sum.WarningCount, sum.ExcludedBy,
					want.Rows, want.Products, want.Eligible, want.Items, want.WarningCount, want.ExcludedBy)
			}
			if got, want := feedIDs(t, out), feedIDs(t, wantOut); !slices.Equal(got, want) {
				t.Errorf("items %q, want %q", got, want)
			}
			if !descending {
				for _, f := range allFeeds {
					got, _ := os.ReadFile(filepath.Join(out, f.File))
					w, _ := os.ReadFile(filepath.Join(wantOut, f.File))
					if len(w) == 0 || !slices.Equal(unordered(f.Format, got), unordered(f.Format, w)) {
						t.Errorf("%s differs from the unsorted export's beyond the order of its items", f.File)
					}
				}
				return
			}
			var mug []string
			for _, w := range sum.Warnings {
				if w.Column == "商品名稱" {
					mug = append(mug, w.String())
				}
			}
			// The mug's rows, sorted: 洽詢 on row 2, 380 on row 10, 350 on row 11.
			if want := []string{`row 11: 商品名稱: product 1000111 has "陶瓷馬克杯" here but "陶瓷馬克杯 新版" on row 10; using row 10`}; !slices.Equal(mug, want) {
				t.Errorf("name warnings %q, want %q", mug, want)
			}
		})
	}
}

// groupRows moves each product's rows up to its first row, keeping their
// order: the export as a merchant who kept each product's rows together
// would have saved it.
func groupRows(rows []exportgen.Row) []exportgen.Row {
	var ids []string
	byID := map[string][]exportgen.Row{}
	for _, r := range rows {
		id := fmt.Sprint(r["商品 id"])
		if byID[id] == nil {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], r)
	}
	var grouped []exportgen.Row
	for _, id := range ids {
		grouped = append(grouped, byID[id]...)
	}
	return grouped
}

// TestSortedSampleReadsAsGrouped: a sorted export makes byte for byte the
// public files of the same export with each product's rows moved up to
// its first: its products gathered from all of their rows, in the order
// of the sheet, in the order of their first rows.
func TestSortedSampleReadsAsGrouped(t *testing.T) {
	dir := tempdir.New(t)
	for _, descending := range []bool{false, true} {
		rows := exportgen.SortRows(exportgen.SampleRows(), "商品款式售價", descending)
		sum, out := runExport(t, writeSample(t, dir, "sorted.xlsx", rows))
		want, wantOut := runExport(t, writeSample(t, dir, "grouped.xlsx", groupRows(rows)))
		for _, name := range publicFiles(&Config{Feeds: allFeeds, Preview: true}) {
			got, _ := os.ReadFile(filepath.Join(out, name))
			w, _ := os.ReadFile(filepath.Join(wantOut, name))
			if len(w) == 0 || !bytes.Equal(got, w) {
				t.Errorf("descending %v: %s differs from the grouped export's", descending, name)
			}
		}
		if sum.WarningCount != want.WarningCount || sum.Products != want.Products {
			t.Errorf("descending %v: %d warnings, %d products; grouped %d, %d", descending, sum.WarningCount, sum.Products, want.WarningCount, want.Products)
		}
	}
}

// TestExplainSortedSample: explain finds the mug of the sample sorted by
// price descending in the catalog, where it used to be "not public"
// because its first row, now a variant's, had no product cells.
func TestExplainSortedSample(t *testing.T) {
	rows := exportgen.SortRows(exportgen.SampleRows(), "商品款式售價", true)
	cfg := sampleConfig(t, tempdir.New(t))
	cfg.Export = writeSample(t, tempdir.New(t), "sorted.xlsx", rows)
	exps, _, err := Explain(t.Context(), cfg, exportgen.SampleAt, []string{"1000111", "1000104"})
	if err != nil {
		t.Fatal(err)
	}
	if e := exps[0]; e.Product == nil || len(e.Product.Items) != 2 || len(e.Warnings) != 1 {
		t.Errorf("1000111: %+v, want in the catalog with 2 items and the note on its unpriced variant", e)
	}
	if e := exps[1]; e.Excluded == nil || len(e.Excluded.Reasons) != 1 {
		t.Errorf("1000104: %+v, want excluded (not public)", e)
	}
}

// shuffledSheet is a random export in memory: products with one to five
// variants, product-level cells on the first row, blank, repeated or
// conflicting on later ones, duplicated variant rows, and then its rows
// shuffled. rows is in the usual order and shuffled the same rows in
// another; at[i] is the index in rows of shuffled's row i.
func shuffledSheet(seed uint64, products int) (rows, shuffled [][]string, at []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows = [][]string{testHeaders}
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	for p := range products {
		id := strconv.Itoa(1000 + p)
		for v := range 1 + rng.IntN(5) {
			kv := variant(id, pick(strconv.Itoa(5000+10*p+v), strconv.Itoa(5000+10*p)), strconv.Itoa(100+rng.IntN(900)))
			if v == 0 || rng.IntN(3) == 0 {
				kv["商品名稱"] = pick("T恤", "T恤", "帽子", " T恤 ")
				kv["商品是否公開"] = pick("是", "否", "")
				kv["商品標籤"] = pick("新品", "", "贈品")
				kv["商品圖片"] = pick("//cdn/a.jpg", "", "//cdn/b.jpg")
			}
			kv["選項一"], kv["選項一內容"] = "尺寸", pick("S", "M", "")
			rows = append(rows, cells(testHeaders, kv))
		}
	}
	at = make([]int, len(rows))
	for i := range at {
		at[i] = i
	}
	rng.Shuffle(len(at)-1, func(i, j int) { at[i+1], at[j+1] = at[j+1], at[i+1] }) // the header stays on top
	for _, i := range at {
		shuffled = append(shuffled, rows[i])
	}
	return rows, shuffled, at
}

// productSets is each product's id and variant ids, in order of id.
func productSets(ex *Export) []string {
	var sets []string
	for _, p := range ex.Products {
		var vids []string
		for _, v := range p.Variants {
			vids = append(vids, v.ID)
		}
		slices.Sort(vids)
		sets = append(sets, p.ID+": "+strings.Join(vids, " "))
	}
	slices.Sort(sets)
	return sets
}

var rowRef = regexp.MustCompile(`row \d+`)

// renumber maps the row numbers of an export read from grouped rows, the
// rows of a sheet moved, to those of the sheet: row r of grouped was row
// from[r-1]+1 of the sheet. Products' first rows and the rows their values
// came from, variants' rows, and warnings' rows, in text too.
func renumber(ex *Export, from []int) {
	row := func(r int) int { return from[r-1] + 1 }
	for _, p := range ex.Products {
		p.Row = row(p.Row)
		for f, r := range p.rows {
			if r > 0 {
				p.rows[f] = int32(row(int(r)))
			}
		}
		for i := range p.Variants {
			p.Variants[i].Row = row(p.Variants[i].Row)
		}
	}
	for i, w := range ex.Warnings {
		ex.Warnings[i].Row = row(w.Row)
		ex.Warnings[i].Message = rowRef.ReplaceAllStringFunc(w.Message, func(s string) string {
			r, _ := strconv.Atoi(strings.TrimPrefix(s, "row "))
			return "row " + strconv.Itoa(row(r))
		})
	}
}

// FuzzShuffledRows: shuffling an export's rows never changes which
// products and variants it has, and reads exactly as the shuffled rows
// with each product's rows moved up to its first: the same products in
// the same order, the same values from the same rows, the same warnings.
func FuzzShuffledRows(f *testing.F) {
	for seed := range uint64(20) {
		f.Add(seed, uint8(1+seed*7%40))
	}
	f.Fuzz(func(t *testing.T, seed uint64, products uint8) {
		if products == 0 {
			return
		}
		rows, shuffled, _ := shuffledSheet(seed, int(products))
		inOrder := mustRead(t, rows)
		got := mustRead(t, shuffled)
		if !slices.Equal(productSets(got), productSets(inOrder)) {
			t.Errorf("shuffled: products %q, want %q", productSets(got), productSets(inOrder))
		}
		// The shuffled rows grouped, and where each comes from.
		var ids []string
		byID := map[string][]int{}
		for i, r := range shuffled[1:] {
			id := r[0]
			if byID[id] == nil {
				ids = append(ids, id)
			}
			byID[id] = append(byID[id], i+1)
		}
		grouped, from := [][]string{testHeaders}, []int{0}
		for _, id := range ids {
			for _, i := range byID[id] {
				grouped, from = append(grouped, shuffled[i]), append(from, i)
			}
		}
		want := mustRead(t, grouped)
		renumber(want, from)
		want.RowsApart = got.RowsApart
		if !reflect.DeepEqual(got, want) {
			t.Errorf("shuffled rows read differently from the same rows grouped:\n got %+v\nwant %+v", got, want)
		}
	})
}

// bulkExport generates an export in memory.
func bulkExport(t *testing.T, opt exportgen.BulkOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := exportgen.WriteBulk(&buf, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// byID is products by id, with their variants in order of id and the row
// numbers, which shuffling changes, cleared.
func byID(ex *Export) map[string]*Product {
	m := make(map[string]*Product, len(ex.Products))
	for _, p := range ex.Products {
		p.Row, p.rows = 0, [numProductFields]int32{}
		for i := range p.Variants {
			p.Variants[i].Row = 0
		}
		slices.SortFunc(p.Variants, func(a, b Variant) int { return strings.Compare(a.ID, b.ID) })
		m[p.ID] = p
	}
	return m
}

// TestShuffledBulkExport reads a generated export and the same rows
// shuffled, with the rows kept in memory and in a temporary file: the same
// products. And it stops the read at every turn: no temporary file is
// left.
func TestShuffledBulkExport(t *testing.T) {
	cfg := DefaultConfig()
	opt := exportgen.BulkOptions{Products: 600, SharedStrings: true, Seed: 7}
	inOrder := bulkExport(t, opt)
	opt.Shuffle = true
	shuffled := bulkExport(t, opt)
	want, err := ReadExport(t.Context(), bytes.NewReader(inOrder), int64(len(inOrder)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := spillEveryTable(t) // a temporary folder of the test's own
	defer func(m int) { rowMemory = m }(rowMemory)
	for _, memory := range []int{rowMemory, 1 << 10} { // in memory, and not
		rowMemory = memory
		got, err := ReadExport(t.Context(), bytes.NewReader(shuffled), int64(len(shuffled)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RowsApart || got.Rows != want.Rows || !reflect.DeepEqual(byID(got), byID(want)) {
			t.Errorf("rows kept in %d bytes of memory: the shuffled export read differently (RowsApart %v, %d rows, want %d)",
				memory, got.RowsApart, got.Rows, want.Rows)
		}
		if left := tempFilesIn(t, dir); len(left) > 0 {
			t.Errorf("after reading the export: temporary files left: %q", left)
		}
	}

	rowMemory = 1 << 10 // the rows in a file
	stop := errors.New("stop")
	for _, at := range []int{1, 300} { // in the first read, and in the second
		for _, c := range []struct {
			name string
			stop func(cancel func()) error
			want error
		}{
			{"emit fails", func(func()) error { return stop }, stop},
			{"context cancelled", func(cancel func()) error { cancel(); return nil }, context.Canceled},
		} {
			ctx, cancel := context.WithCancel(t.Context())
			reads, n, seen := 0, 0, 0
			_, err := streamExport(ctx, bytes.NewReader(shuffled), int64(len(shuffled)), cfg, func(*Export) error {
				reads, n = reads+1, 0
				return nil
			}, func(*Product) error {
				if reads == 2 {
					seen = max(seen, len(tempFilesIn(t, dir)))
				}
				if n++; n == at && reads == at/300+1 {
					return c.stop(cancel)
				}
				return nil
			})
			cancel()
			if !errors.Is(err, c.want) {
				t.Errorf("%s at product %d: %v, want %v", c.name, at, err, c.want)
			}
			if at == 300 && seen < 2 && runtime.GOOS == "linux" {
				t.Errorf("%s at product %d of the second read: %d temporary files seen, want the strings' and the rows'", c.name, at, seen)
			}
			if left := tempFilesIn(t, dir); len(left) > 0 {
				t.Errorf("%s at product %d: temporary files left: %q", c.name, at, left)
			}
		}
	}
}

// TestShuffledExportMemory: the rows of a shuffled export are kept in a
// temporary file, not in memory: reading 20k products' rows (some 75 MB
// of text) grows the heap by far less than they hold (28 MiB measured,
// where the same rows in order take 16).
func TestShuffledExportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a large export")
	}
	data := bulkExport(t, exportgen.BulkOptions{Products: 20_000, Seed: 3, Shuffle: true})
	spillEveryTable(t)
	var ex *Export
	var err error
	grew := memtest.PeakDuring(func() {
		ex, err = streamExport(t.Context(), bytes.NewReader(data), int64(len(data)), DefaultConfig(), nil, func(*Product) error { return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ex.RowsApart || ex.ProductCount != 20_000 {
		t.Fatalf("RowsApart %v, %d products; want true, 20000", ex.RowsApart, ex.ProductCount)
	}
	t.Logf("%d rows, %d KiB file: heap grew by %.1f MiB", ex.Rows, len(data)>>10, float64(grew)/(1<<20))
	if grew > 40<<20 {
		t.Errorf("the heap grew by %d MiB reading a shuffled export of %d rows", grew>>20, ex.Rows)
	}
}

// TestReadRowsApart: rows apart are gathered as the rows of the usual
// order are: a blank id continues the product of the row above, in the
// sheet as it is; a value conflicting with one on an earlier row, apart,
// warns naming both; the bounds of a product still hold; an error of the
// sheet met on the second read is the read's error.
func TestReadRowsApart(t *testing.T) {
	t.Run("a blank id continues the product of the row above", func(t *testing.T) {
		ex := mustRead(t, sheet(testHeaders,
			variant("", "4999", "90"), product("1001", "5001", "T恤"), product("1002", "6001", "帽子"),
			variant("1001", "5002", "120"), variant("", "5003", "130")))
		var got []string
		for _, p := range ex.Products {
			for _, v := range p.Variants {
				got = append(got, p.ID+"/"+v.ID)
			}
		}
		if want := []string{"1001/5001", "1001/5002", "1001/5003", "1002/6001"}; !slices.Equal(got, want) || !ex.RowsApart {
			t.Errorf("variants %q (RowsApart %v), want %q", got, ex.RowsApart, want)
		}
		want := []Warning{{Row: 2, Column: "商品 id", Message: "row has no product id and follows no product; skipped"}}
		if !reflect.DeepEqual(ex.Warnings, want) || ex.Rows != 5 {
			t.Errorf("warnings %+v, %d rows; want %+v, 5", ex.Warnings, ex.Rows, want)
		}
	})

	t.Run("a conflict with a row apart warns naming both", func(t *testing.T) {
		later := variant("1001", "5002", "100")
		later["商品名稱"] = "T恤（新）"
		ex := mustRead(t, sheet(testHeaders, product("1001", "5001", "T恤"), product("1002", "6001", "帽子"), later))
		want := []Warning{{Row: 4, Column: "商品名稱", Message: `product 1001 has "T恤（新）" here but "T恤" on row 2; using row 2`}}
		if !reflect.DeepEqual(ex.Warnings, want) || ex.Products[0].Name != "T恤" {
			t.Errorf("warnings %+v, name %q; want %+v, T恤", ex.Warnings, ex.Products[0].Name, want)
		}
	})

	t.Run("a product apart is held to the bounds", func(t *testing.T) {
		rows := []map[string]string{product("1", "v0", "衣服"), product("2", "w0", "帽子")}
		for i := range maxVariants {
			rows = append(rows, variant("1", "v"+strconv.Itoa(i+1), "100"))
		}
		_, err := read(t, sheet(testHeaders, rows...))
		if !errors.Is(err, ErrProductTooLarge) || !strings.Contains(err.Error(), "product 1 has more than 10000 variant rows") {
			t.Errorf("%v, want ErrProductTooLarge naming product 1", err)
		}
	})

	t.Run("an error of the sheet on the second read", func(t *testing.T) {
		errSheet := errors.New("sheet damaged at the end")
		rows := sheet(testHeaders, product("1001", "5001", "T恤"), product("1002", "6001", "帽子"), variant("1001", "5002", "120"))
		reads := 0
		_, err := readRows(t.Context(), func() (rowReader, error) {
			reads++
			return &sliceRows{rows: rows, err: errSheet}, nil
		}, DefaultConfig().Columns)
		if err != errSheet || reads != 2 {
			t.Errorf("%v after %d reads, want %v after 2", err, reads, errSheet)
		}
	})
}
