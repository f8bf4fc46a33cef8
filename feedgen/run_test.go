package feedgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"feedgen/internal/exportgen"
	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.xlsx and the golden files")

const (
	sampleExport = "../testdata/sample.xlsx"
	goldenDir    = "../testdata/golden"
	sampleShop   = "https://shop.example.com"
)

func sampleConfig(t testing.TB, out string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Export, cfg.Out, cfg.Report, cfg.ShopURL = sampleExport, out, out+"-report", sampleShop
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSampleExportUpToDate keeps testdata/sample.xlsx in step with
// exportgen.SampleRows; -update rewrites it.
func TestSampleExportUpToDate(t *testing.T) {
	var buf bytes.Buffer
	if err := exportgen.WriteSample(&buf, "商品", exportgen.SampleRows()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(sampleExport, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := sampleConfig(t, tempdir.New(t))
	want, err := ReadExport(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(sampleExport)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadExport(context.Background(), bytes.NewReader(committed), int64(len(committed)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from exportgen.SampleRows; run go test ./feedgen -run TestSampleExportUpToDate -update", sampleExport)
	}
}

// allFeeds writes every format, so the golden files cover them all.
var allFeeds = []Feed{
	{Format: "google-xml", File: "catalog.xml"},
	{Format: "line-json", File: "products.json"},
	{Format: "google-tsv", File: "catalog.txt"},
	{Format: "meta-csv", File: "catalog.csv"},
	{Format: "line-categories", File: "categories.json"},
}

// TestGoldenSample checks every file made from the sample export against
// testdata/golden (the public folder) and testdata/golden/report (the
// private one); -update rewrites the golden files.
func TestGoldenSample(t *testing.T) {
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	cfg.Feeds = allFeeds
	sum, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt})
	if err != nil {
		t.Fatal(err)
	}
	for _, folder := range []struct {
		dir, golden string
		want        []string
	}{
		{out, goldenDir, append(publicFiles(&cfg), manifestFile, lockFile)},
		{cfg.Report, filepath.Join(goldenDir, "report"), []string{manifestFile, previewFile, reportFile}},
	} {
		entries, err := os.ReadDir(folder.dir)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, e := range entries {
			files = append(files, e.Name())
		}
		if want := slices.Sorted(slices.Values(folder.want)); !slices.Equal(files, want) {
			t.Errorf("%s holds %q, want %q", folder.dir, files, want)
		}
		// The gzip copies and the manifest depend on the compressor's
		// version; they are checked against the files they describe.
		for _, name := range files {
			if name != manifestFile && name != lockFile && filepath.Ext(name) != ".gz" {
				checkGolden(t, filepath.Join(folder.dir, name), filepath.Join(folder.golden, name))
			}
		}
		checkGeneration(t, folder.dir)
	}
	want := Summary{Rows: 16, Products: 12, Eligible: 5, Items: 8, Excluded: 7, WarningCount: 2,
		ExcludedBy: map[string]int{ReasonExcludedTag: 3, ReasonInvalid: 1, ReasonNotOnSale: 2, ReasonNotPublic: 2},
		Diagnosed: map[string]DiagnosisCount{
			DiagNoBrand:    {Products: 3, Items: 4},
			DiagSharedPage: {Products: 2, Items: 5},
			DiagImageHTTP:  {Products: 1, Items: 1},
			DiagUnsafeHTML: {Products: 1, Items: 1},
		}}
	got := Summary{Rows: sum.Rows, Products: sum.Products, Eligible: sum.Eligible, Items: sum.Items,
		Excluded: sum.Excluded, WarningCount: sum.WarningCount, ExcludedBy: sum.ExcludedBy, Diagnosed: map[string]DiagnosisCount{}}
	for c, d := range sum.Diagnosed {
		got.Diagnosed[c] = DiagnosisCount{Products: d.Products, Items: d.Items}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
}

// TestRunDeterministic: the same export, config and evaluation time give
// byte-identical files.
func TestRunDeterministic(t *testing.T) {
	var outs [2]string
	for i := range outs {
		outs[i] = tempdir.New(t)
		cfg := sampleConfig(t, outs[i])
		cfg.Feeds = allFeeds
		if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := os.ReadDir(outs[0])
	for _, f := range files {
		if f.Name() == lockFile {
			continue
		}
		a, _ := os.ReadFile(filepath.Join(outs[0], f.Name()))
		b, _ := os.ReadFile(filepath.Join(outs[1], f.Name()))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ (%d and %d bytes)", f.Name(), len(a), len(b))
		}
	}
}

// FuzzReadExport feeds damaged workbooks to the export reader: it must
// return an error or a well-formed export, never panic or hang.
func FuzzReadExport(f *testing.F) {
	sample, err := os.ReadFile(sampleExport)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add(sample[:len(sample)/2])
	f.Add([]byte("商品 id,商品名稱\n1,x\n"))
	cfg := sampleConfig(f, tempdir.New(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := ReadExport(context.Background(), bytes.NewReader(data), int64(len(data)), cfg)
		if err != nil {
			return
		}
		if len(ex.Products) == 0 {
			t.Fatal("no error but no products")
		}
		for _, p := range ex.Products {
			if len(p.Variants) == 0 {
				t.Fatalf("product %q has no variants", p.ID)
			}
		}
	})
}

var (
	benchOnce   sync.Once
	benchExport = map[bool]string{}
	benchErr    error
)

// benchExports writes the generated 100k-product exports once per test
// binary, in both string layouts.
func benchExports(b *testing.B) map[bool]string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "feedgen-bench-")
		if err != nil {
			benchErr = err
			return
		}
		for _, shared := range []bool{false, true} {
			name := filepath.Join(dir, map[bool]string{false: "inline.xlsx", true: "shared.xlsx"}[shared])
			fh, err := os.Create(name)
			if err != nil {
				benchErr = err
				return
			}
			w := bufio.NewWriterSize(fh, 1<<20)
			if err := exportgen.WriteBulk(w, exportgen.BulkOptions{Products: 100_000, SharedStrings: shared, Seed: 1}); err != nil {
				benchErr = err
			}
			w.Flush()
			fh.Close()
			benchExport[shared] = name
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchExport
}

// BenchmarkRun100k runs the whole pipeline on a generated export of 100k
// products (about 250k variant rows, 58 columns). Not part of the normal
// test run: go test ./feedgen -run '^$' -bench Run100k -benchtime 1x
func BenchmarkRun100k(b *testing.B) {
	exports := benchExports(b)
	for _, layout := range []struct {
		name   string
		shared bool
	}{{"inline", false}, {"shared", true}} {
		b.Run(layout.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Export, cfg.Out, cfg.ShopURL = exports[layout.shared], tempdir.New(b), sampleShop
			cfg.Report = cfg.Out + "-report"
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			var ms runtime.MemStats
			for b.Loop() {
				sum, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt, Force: true})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(sum.Products), "products")
			}
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
		})
	}
}

// TestRunWriteFailureKeepsPublishedCatalog: a feed that fails while the
// export is being read stops the run with that error; the files published
// before stay byte for byte, and no temporary file is left.
func TestRunWriteFailureKeepsPublishedCatalog(t *testing.T) {
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	cfg.Feeds = failingFeeds(t, 1)
	_, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Run = %v, want the write error %v", err, errDiskFull)
	}
	if after := snapshot(t, out); !reflect.DeepEqual(after, before) {
		t.Errorf("files after a failed run = %q, want %q unchanged", names(after), names(before))
	}
}

// On Windows a file that is open cannot be renamed over, and a reader of
// the published catalog (the daemon's HTTP server, an antivirus scan, the
// merchant's browser) holds it open for a moment: the run waits for it to
// let go rather than fail. Elsewhere the rename just succeeds.
func TestRunReplacesACatalogHeldOpenForAMoment(t *testing.T) {
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "catalog.xml")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	time.AfterFunc(100*time.Millisecond, func() { reader.Close(); close(released) })
	t.Cleanup(func() { <-released })

	// On 2026-12-01 the Christmas box is on sale: the catalog changes.
	if _, err := Run(context.Background(), cfg, RunOptions{At: time.Date(2026, 12, 1, 10, 0, 0, 0, taipei(t))}); err != nil {
		t.Fatalf("Run with the catalog open = %v, want the catalog replaced once the reader lets go", err)
	}
	if after, err := os.ReadFile(path); err != nil || bytes.Equal(after, before) {
		t.Errorf("catalog.xml after the run: %v, changed %v; want the new catalog", err, !bytes.Equal(after, before))
	}
}

// panickingWriter stands for a bug in a feed writer.
type panickingWriter struct{}

func (panickingWriter) product(*CatalogProduct) error { panic("writer bug") }
func (panickingWriter) finish(*exclusionList) error   { return nil }
func (panickingWriter) items() int                    { return 0 }

// TestRunWriterPanicFailsTheRun: the writers run on a goroutine of their
// own; a panic there is the run's error, not the end of the process (the
// daemon), and the published catalog stays.
func TestRunWriterPanicFailsTheRun(t *testing.T) {
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	feedFormats["panicking"] = feedFormat{
		open:  func(io.Writer, *CatalogInfo, feedOptions) (feedWriter, error) { return panickingWriter{}, nil },
		count: countXMLItems,
	}
	t.Cleanup(func() { delete(feedFormats, "panicking") })
	cfg.Feeds = []Feed{{Format: "panicking", File: "catalog.xml"}}
	_, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt})
	if err == nil || !strings.Contains(err.Error(), "writer bug") {
		t.Fatalf("Run = %v, want the panic as its error", err)
	}
	if after := snapshot(t, out); !reflect.DeepEqual(after, before) {
		t.Errorf("files after a panicking run = %q, want %q unchanged", names(after), names(before))
	}
}

// TestReportJSONWithEmptyLists: a report with no exclusions or warnings is
// still valid JSON with empty lists.
// A file the merchant named that is not there is said in feedgen's words,
// the same on every system, with a hint to check its name and folder.
func TestMissingFileIsNotFound(t *testing.T) {
	dir := tempdir.New(t)
	export := filepath.Join(dir, "商品匯出.xlsx")
	inMissingFolder := filepath.Join(dir, "匯出", "商品匯出.xlsx") // Windows: "The system cannot find the path specified."
	config := filepath.Join(dir, "feedgen.toml")
	cfg := sampleConfig(t, filepath.Join(dir, "public"))
	run := func(path string) error {
		cfg.Export = path
		_, err := Run(context.Background(), cfg, RunOptions{})
		return err
	}
	explain := func(path string) error {
		cfg.Export = path
		_, _, err := Explain(context.Background(), cfg, exportgen.SampleAt, []string{"1000101"})
		return err
	}
	_, configErr := LoadConfig(config, DefaultConfig())
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"run", run(export), "read export 「" + export + "」: file not found"},
		{"run, folder missing too", run(inMissingFolder), "read export 「" + inMissingFolder + "」: file not found"},
		{"explain", explain(export), "read export 「" + export + "」: file not found"},
		{"config", configErr, "read config 「" + config + "」: file not found"},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, ErrNotFound) || tt.err.Error() != tt.want {
			t.Errorf("%s: error = %v, want %s (ErrNotFound)", tt.name, tt.err, tt.want)
		}
		if h := Hint(msg.English, tt.err); !strings.Contains(h, "name and folder") {
			t.Errorf("%s: Hint = %q, want it to say to check the name and folder", tt.name, h)
		}
	}
	if _, err := os.Stat(cfg.Out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat %s = %v; a run without its export must write nothing", cfg.Out, err)
	}
}

func TestReportJSONWithEmptyLists(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Summary{Export: "x.xlsx", ExcludedBy: map[string]int{}}).writeJSON(&buf, new(exclusionList), new(diagnosisList)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("report.json does not parse: %v\n%s", err, buf.Bytes())
	}
	for _, key := range []string{"excluded_products", "warnings"} {
		if list, ok := got[key].([]any); !ok || len(list) != 0 {
			t.Errorf("%s = %v, want an empty list", key, got[key])
		}
	}
}

func TestDescribeChangeByProductID(t *testing.T) {
	old := []byte("[\n{\"product_id\":\"1\",\"price\":\"100\"},\n{\"product_id\":\"2\",\"price\":\"200\"},\n{\"product_id\":\"3\",\"price\":\"300\"}\n]\n")
	cur := filepath.Join(tempdir.New(t), "products.json")
	if err := os.WriteFile(cur, []byte("[\n{\"product_id\":\"1\",\"price\":\"100\"},\n{\"product_id\":\"2\",\"price\":\"250\"},\n{\"product_id\":\"4\",\"price\":\"400\"}\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := describeChange(old, cur)
	if want := " (+1 added, -1 removed, 1 changed)"; err != nil || got != want {
		t.Errorf("describeChange = %q, %v; want %q", got, err, want)
	}
	if got, err := describeChange(nil, cur); err != nil || got != " (first publish)" {
		t.Errorf("describeChange(nothing published) = %q, %v; want \" (first publish)\"", got, err)
	}
}

// checkGolden compares the file at path with the golden file, which
// -update rewrites first.
func checkGolden(t *testing.T, path, golden string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test ./feedgen -run TestGoldenSample -update rewrites it after review)", path, golden)
	}
}

// TestOpenExportLetsOthersReplaceIt: while feedgen holds the export open,
// another program can delete it, or rename a new file over it as Excel
// saves, and what feedgen reads is still the file it opened. On Windows
// both need the delete sharing that os.Open does not ask for.
func TestOpenExportLetsOthersReplaceIt(t *testing.T) {
	for _, c := range []struct {
		name    string
		replace func(t *testing.T, path string) error
	}{
		{"deleted", func(_ *testing.T, path string) error { return os.Remove(path) }},
		{"saved over", func(t *testing.T, path string) error {
			if wine {
				t.Skip("Wine 8 refuses a rename over a file open with FILE_SHARE_DELETE, which Windows allows")
			}
			saved := filepath.Join(filepath.Dir(path), "~$saved.tmp")
			if err := os.WriteFile(saved, []byte("the export saved over it"), 0o644); err != nil {
				t.Fatal(err)
			}
			return os.Rename(saved, path)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// tempdir, not t.TempDir, whose removal fails under Wine.
			path := filepath.Join(tempdir.Use(t), "商品匯出.xlsx")
			if err := os.WriteFile(path, []byte("the export that was opened"), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := openExport(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := c.replace(t, path); err != nil {
				t.Fatalf("while feedgen reads the export: %v", err)
			}
			got, err := io.ReadAll(f)
			if err != nil || string(got) != "the export that was opened" {
				t.Errorf("read from the open export = %q, %v; want the file that was opened", got, err)
			}
		})
	}
}

// TestOpenExportErrorsAndLinks: a missing export is ErrNotFound, as any
// file the merchant names, and a symbolic link to a file in another folder, which os.Root refuses
// to follow, still opens.
func TestOpenExportErrorsAndLinks(t *testing.T) {
	dir := tempdir.Use(t)
	missing := filepath.Join(dir, "missing.xlsx")
	if _, err := openExport(missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("openExport(missing) = %v, want ErrNotFound", err)
	}
	other, err := os.MkdirTemp(dir, "other-")
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(other, "export.xlsx")
	if err := os.WriteFile(target, []byte("elsewhere"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.xlsx")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if f, err := os.Open(link); err != nil {
		t.Skipf("this system makes links it cannot open (Wine): %v", err)
	} else {
		f.Close()
	}
	f, err := openExport(link)
	if err != nil {
		t.Fatalf("openExport(link out of its folder) = %v", err)
	}
	defer f.Close()
	if got, err := io.ReadAll(f); err != nil || string(got) != "elsewhere" {
		t.Errorf("read through the link = %q, %v", got, err)
	}
}

// TestExportHashIsOfWhatWasRead: the report's export_sha256 is the hash of
// the bytes read, not of whatever file bears the export's name by the
// end: an export replaced while it is read keeps the hash of the one read,
// and one written over in place meanwhile fails the read.
func TestExportHashIsOfWhatWasRead(t *testing.T) {
	sample, err := os.ReadFile(sampleExport)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sample)
	want := hex.EncodeToString(sum[:])
	other := bytes.Clone(sample)
	other[len(other)-1] ^= 1 // a different file of the same size
	dir := tempdir.Use(t)
	for _, c := range []struct {
		name    string
		change  func(path string) error
		wantErr error
	}{
		{"left alone", func(string) error { return nil }, nil},
		{"replaced", func(path string) error {
			if err := os.WriteFile(path+".new", other, 0o644); err != nil {
				return err
			}
			return os.Rename(path+".new", path)
		}, nil},
		{"written over in place", func(path string) error { return os.WriteFile(path, other, 0o644) }, errExportChanged},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "replaced" && wine {
				t.Skip("Wine 8 refuses a rename over a file open with FILE_SHARE_DELETE, which Windows allows")
			}
			path := filepath.Join(dir, "商品匯出.xlsx")
			if err := os.WriteFile(path, sample, 0o644); err != nil {
				t.Fatal(err)
			}
			// Saved a while ago, so that writing it again changes its time
			// whatever the file system's clock resolution.
			saved := time.Now().Add(-time.Hour)
			if err := os.Chtimes(path, saved, saved); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			var last string
			ex, err := streamExportFile(t.Context(), path, cfg, nil, func(p *Product) error {
				last = p.ID
				if p.ID == "1000112" { // the last product: the sheet is read
					return c.change(path)
				}
				return nil
			})
			if last != "1000112" && err == nil {
				t.Fatalf("the read ended at product %s, before the change", last)
			}
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Errorf("read = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ex.SHA256 != want {
				t.Errorf("SHA256 = %s, want %s (the file read)", ex.SHA256, want)
			}
		})
	}
}
