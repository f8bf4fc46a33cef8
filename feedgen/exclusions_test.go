package feedgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"feedgen/internal/exportgen"
	"feedgen/internal/memtest"
	"feedgen/internal/tempdir"
)

const spillPrefix = "feedgen-excluded-"

// testExclusion is exclusion i, with text of every kind the report and
// the preview carry, and one to three reasons.
func testExclusion(i int) Exclusion {
	e := Exclusion{ID: fmt.Sprint(1000 + i), Name: fmt.Sprintf("商品 %d <b>\"&'</b>\x00", i), Row: 2 + i}
	e.Reasons = append(e.Reasons, Reason{Code: ReasonNotPublic, Column: "商品是否公開", Row: 2 + i, Value: "否", Message: "not public"})
	if i%3 == 1 {
		e.Reasons = append(e.Reasons, Reason{Code: ReasonInvalid, Message: "invalid: missing title"}, Reason{Code: ReasonInvalid, Column: "圖片", Message: ""})
	}
	return e
}

// TestExclusionList: whatever the count, the list gives back what was
// added, in order and as often as asked; only what is beyond the
// Markdown's rows is in a temporary file, gone once the list is closed.
func TestExclusionList(t *testing.T) {
	dir := tempdir.Use(t)
	for _, n := range []int{0, 1, markdownExcludedRows, markdownExcludedRows + 1, 3*markdownExcludedRows + 7} {
		l := new(exclusionList)
		var want []Exclusion
		for i := range n {
			e := testExclusion(i)
			want = append(want, e)
			if err := l.add(e); err != nil {
				t.Fatal(err)
			}
		}
		if l.Len() != n || len(l.head) != min(n, markdownExcludedRows) || !reflect.DeepEqual(l.head, want[:len(l.head)]) {
			t.Errorf("%d added: Len %d, %d in memory; want %d, the first %d", n, l.Len(), len(l.head), n, min(n, markdownExcludedRows))
		}
		if files := tempdir.Files(dir, spillPrefix); (len(files) > 0) != (n > markdownExcludedRows) {
			t.Errorf("%d added: temporary files %q", n, files)
		}
		for pass := range 2 {
			var got []Exclusion
			for e, err := range l.All() {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d added, read %d: %d read back, differing", n, pass+1, len(got))
			}
		}
		wantBy := map[string]int{}
		if n > 0 {
			wantBy[ReasonNotPublic] = n
		}
		if k := (n + 1) / 3; k > 0 {
			wantBy[ReasonInvalid] = k
		}
		if n > 0 && !reflect.DeepEqual(l.byReason, wantBy) {
			t.Errorf("%d added: by reason %v, want %v", n, l.byReason, wantBy)
		}
		if n > markdownExcludedRows { // stopping early, past the memory
			k := 0
			for range l.All() {
				if k++; k == markdownExcludedRows+1 {
					break
				}
			}
		}
		if err := l.close(); err != nil {
			t.Fatal(err)
		}
		if err := l.close(); err != nil {
			t.Errorf("closed again: %v", err)
		}
		if files := tempdir.Files(dir, spillPrefix); len(files) > 0 {
			t.Errorf("%d added, closed: temporary files left: %q", n, files)
		}
	}
}

// spilledList is a list with n exclusions, some of them in its file.
func spilledList(t *testing.T, n int) *exclusionList {
	t.Helper()
	l := new(exclusionList)
	t.Cleanup(func() { l.close() })
	for i := range n {
		if err := l.add(Exclusion{ID: fmt.Sprint(i), Name: "x", Reasons: []Reason{{Code: ReasonNotPublic, Message: "not public"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.w.Flush(); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestExclusionListErrors: a temporary file that cannot be made or
// written fails add; one that reads back damaged or short is an error of
// the reading, naming the entry, and the reading stops there.
func TestExclusionListErrors(t *testing.T) {
	t.Run("no temporary folder", func(t *testing.T) {
		dir := tempdir.Use(t)
		for _, v := range []string{"TMPDIR", "TMP", "TEMP"} {
			t.Setenv(v, filepath.Join(dir, "gone"))
		}
		l := new(exclusionList)
		var err error
		for i := 0; err == nil && i <= markdownExcludedRows; i++ {
			err = l.add(testExclusion(i))
		}
		if err == nil || !strings.HasPrefix(err.Error(), "creating a temporary file for the excluded products: ") || l.Len() != markdownExcludedRows {
			t.Errorf("add = %v with %d kept, want the temporary file's error with %d kept", err, l.Len(), markdownExcludedRows)
		}
	})

	t.Run("the file fails to write", func(t *testing.T) {
		tempdir.Use(t)
		l := spilledList(t, markdownExcludedRows+1)
		l.file.File.Close() // what a full disk does to the writes
		var err error
		for i := 0; err == nil && i < 10_000; i++ {
			err = l.add(testExclusion(i))
		}
		if !errors.Is(err, os.ErrClosed) || !strings.HasPrefix(err.Error(), "writing the excluded products to a temporary file: ") {
			t.Errorf("add = %v, want the write's error", err)
		}
	})

	for _, c := range []struct {
		name   string
		damage func(f *os.File) error
		want   string
	}{
		// A record is its length, then the id's length: make the id
		// longer than the record.
		{"damaged", func(f *os.File) error { _, err := f.WriteAt([]byte{0x7f}, 1); return err }, errDamagedRecord.Error()},
		{"cut short", func(f *os.File) error { return f.Truncate(5) }, io.ErrUnexpectedEOF.Error()},
	} {
		t.Run("the file reads back "+c.name, func(t *testing.T) {
			tempdir.Use(t)
			l := spilledList(t, markdownExcludedRows+3)
			if err := c.damage(l.file.File); err != nil {
				t.Fatal(err)
			}
			read, errs := 0, 0
			var last error
			for _, err := range l.All() {
				if err != nil {
					errs++
					last = err
					continue
				}
				read++
			}
			want := fmt.Sprintf("reading the excluded products back from the temporary file, at %d of %d: %s", markdownExcludedRows+1, markdownExcludedRows+3, c.want)
			if read != markdownExcludedRows || errs != 1 || last.Error() != want {
				t.Errorf("%d read, %d errors, the last %v; want %d, then %q", read, errs, last, markdownExcludedRows, want)
			}
			// The report and the preview page stop with the error.
			if err := (&Summary{ExcludedBy: map[string]int{}}).writeJSON(io.Discard, l, new(diagnosisList)); err == nil || err.Error() != want {
				t.Errorf("writeJSON = %v, want %q", err, want)
			}
			pv, err := newPreview(io.Discard, &CatalogInfo{}, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := pv.finish(l); err == nil || err.Error() != want {
				t.Errorf("the private preview's finish = %v, want %q", err, want)
			}
		})
	}
}

// TestRunSpilledExclusions: a run with more excluded products than are
// kept in memory writes report.json and the private preview exactly as
// from a list in memory, and the Markdown lists the first of them, in the usual order of rows and when a row apart at
// the end makes the run start over; it leaves no temporary file, however
// it ends.
func TestRunSpilledExclusions(t *testing.T) {
	tmp := tempdir.Use(t)
	// 1 in 5 generated products is excluded, some for two reasons.
	inOrder := bulkExport(t, exportgen.BulkOptions{Products: 6 * markdownExcludedRows, Seed: 6})
	rows := exportgen.SampleRows()
	for i := range 2 * markdownExcludedRows {
		hidden := maps.Clone(rows[6]) // not public
		hidden["商品 id"], hidden["商品款式 id"] = fmt.Sprint(2_000_000+i), fmt.Sprint(6_000_000+i)
		rows = append(rows, hidden)
	}
	rows = append(rows, exportgen.Row{"商品 id": "1000101", "商品款式 id": "5000104", "選項一": "尺寸", "選項一內容": "XL", "商品款式售價": 490})
	var apart bytes.Buffer
	if err := exportgen.WriteSample(&apart, "商品", rows); err != nil {
		t.Fatal(err)
	}
	for _, export := range []struct {
		name  string
		data  []byte
		apart bool
	}{{"in order", inOrder, false}, {"a row apart at the end", apart.Bytes(), true}} {
		dir := tempdir.New(t)
		cfg := sampleConfig(t, filepath.Join(dir, "out"))
		cfg.Export = filepath.Join(dir, "export.xlsx")
		if err := os.WriteFile(cfg.Export, export.data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum, err := Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt})
		if err != nil {
			t.Fatal(err)
		}
		if left := tempdir.Files(tmp, spillPrefix); len(left) > 0 {
			t.Errorf("%s: temporary files left: %q", export.name, left)
		}
		ex, err := ReadExport(t.Context(), bytes.NewReader(export.data), int64(len(export.data)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := buildCatalog(ex, &cfg, exportgen.SampleAt.In(cfg.Location()))
		if sum.Excluded != len(c.Excluded) || sum.Excluded <= markdownExcludedRows || ex.RowsApart != export.apart {
			t.Fatalf("%s: %d excluded (rows apart %v), want %d, over %d", export.name, sum.Excluded, ex.RowsApart, len(c.Excluded), markdownExcludedRows)
		}
		if !reflect.DeepEqual(sum.ExcludedProducts, c.Excluded[:markdownExcludedRows]) {
			t.Errorf("%s: the summary's excluded products are not the first %d", export.name, markdownExcludedRows)
		}
		var md strings.Builder
		if err := sum.WriteMarkdown(&md, true); err != nil {
			t.Fatal(err)
		}
		last, first := c.Excluded[markdownExcludedRows-1].ID, c.Excluded[markdownExcludedRows].ID
		more := fmt.Sprintf("\n… and %d more in report.json\n", sum.Excluded-markdownExcludedRows)
		if !strings.Contains(md.String(), "\n| "+last+" |") || strings.Contains(md.String(), "\n| "+first+" |") || !strings.Contains(md.String(), more) {
			t.Errorf("%s: the Markdown does not list the first %d excluded products, through %s, and then say %q:\n%s", export.name, markdownExcludedRows, last, more, md.String())
		}
		var report, page bytes.Buffer
		diagnosed := new(diagnosisList)
		for i := range c.Products {
			if err := diagnosed.add(&c.Products[i]); err != nil {
				t.Fatal(err)
			}
		}
		defer diagnosed.close()
		if err := sum.writeJSON(&report, listedExclusions(c.Excluded), diagnosed); err != nil {
			t.Fatal(err)
		}
		if err := writeAll(&page, c, "", feedOptions{}, func(w io.Writer, info *CatalogInfo, _ feedOptions) (feedWriter, error) {
			return newPreview(w, info, true)
		}); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]byte{reportFile: report.Bytes(), previewFile: page.Bytes()} {
			got, err := os.ReadFile(filepath.Join(cfg.Report, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %s differs from the one written from memory (%d bytes, want %d)", export.name, name, len(got), len(want))
			}
		}
	}

	// The guard refuses an empty catalog after every product was excluded.
	dir := tempdir.New(t)
	cfg := sampleConfig(t, filepath.Join(dir, "out"))
	cfg.Export = filepath.Join(dir, "hidden.xlsx")
	if err := os.WriteFile(cfg.Export, bulkExport(t, exportgen.BulkOptions{Products: 2 * markdownExcludedRows, Hidden: true}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt}); !errors.As(err, new(*GuardError)) {
		t.Errorf("Run = %v, want the guard's refusal", err)
	}
	if left := tempdir.Files(tmp, spillPrefix); len(left) > 0 {
		t.Errorf("refused by the guard: temporary files left: %q", left)
	}

	// Cancelled once the file holds some of the excluded products.
	if err := os.WriteFile(cfg.Export, bulkExport(t, exportgen.BulkOptions{Products: 20_000, Hidden: true}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seen := make(chan bool, 1)
	go func() {
		for ctx.Err() == nil {
			if len(tempdir.Files(tmp, spillPrefix)) > 0 {
				cancel()
				seen <- true
				return
			}
			time.Sleep(time.Millisecond)
		}
		seen <- false
	}()
	_, err := Run(ctx, cfg, RunOptions{At: exportgen.SampleAt, Force: true})
	cancel()
	if !<-seen {
		t.Fatalf("Run = %v before its temporary file was seen", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want it cancelled", err)
	}
	if left := tempdir.Files(tmp, spillPrefix); len(left) > 0 {
		t.Errorf("cancelled: temporary files left: %q", left)
	}
}

// TestManyExcludedMemory: a run whose products are all excluded keeps the
// list of them in a temporary file, not in memory: a run of 200k excluded
// products grew the heap by 108–130 MiB when the list was kept in memory,
// and grows it by 24–28 MiB now.
func TestManyExcludedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a large export")
	}
	const products = 200_000
	dir := tempdir.Use(t)
	cfg := sampleConfig(t, filepath.Join(dir, "out"))
	cfg.Export = filepath.Join(dir, "export.xlsx")
	f, err := os.Create(cfg.Export)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := exportgen.WriteBulk(w, exportgen.BulkOptions{Products: products, Hidden: true, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var sum *Summary
	grew := memtest.PeakDuring(func() {
		sum, err = Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt, Force: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Excluded != products {
		t.Fatalf("%d products excluded, want all %d", sum.Excluded, products)
	}
	// Every one of them is in report.json and the private preview.
	b, err := os.ReadFile(filepath.Join(cfg.Report, reportFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"reasons": [`)); n != products {
		t.Errorf("%s lists %d excluded products, want %d", reportFile, n, products)
	}
	if b, err = os.ReadFile(filepath.Join(cfg.Report, previewFile)); err != nil {
		t.Fatal(err)
	}
	if _, d := previewData(t, string(b)); len(d.Excluded) != products {
		t.Errorf("%s lists %d excluded products, want %d", previewFile, len(d.Excluded), products)
	}
	t.Logf("%d products excluded: heap grew by %.1f MiB", sum.Excluded, float64(grew)/(1<<20))
	if grew > 48<<20 {
		t.Errorf("the heap grew by %d MiB in a run of %d excluded products", grew>>20, products)
	}
}
