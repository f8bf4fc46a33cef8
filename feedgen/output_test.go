package feedgen

import (
	"bytes"
	"errors"
	"feedgen/internal/tempdir"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// testCatalog has n products of one item each, so that both feeds count n.
func testCatalog(n int) *Catalog {
	c := &Catalog{CatalogInfo: CatalogInfo{Title: "小店", ShopURL: testShop, Currency: "TWD"}}
	for i := 0; i < n; i++ {
		id := strconv.Itoa(1001 + i)
		c.Products = append(c.Products, CatalogProduct{
			ID: id, Name: "商品 " + id, Description: "說明", Link: testShop + "/products/" + id,
			Images: []string{"https://cdn.example.com/" + id + ".jpg"},
			Items:  []Item{{ID: id, VariantID: id, Title: "商品 " + id, Price: "100", Availability: InStock}},
		})
	}
	return c
}

// snapshot reads every file in dir, hidden ones included.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string, len(entries))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func names(files map[string]string) []string {
	var n []string
	for k := range files {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// generationFiles are the names a folder holds after a commit of the given
// public files: each with its gzip copy, and the manifest; sorted.
func generationFiles(public ...string) []string {
	n := []string{manifestFile}
	for _, f := range public {
		n = append(n, f, gzipName(f))
	}
	sort.Strings(n)
	return n
}

// published writes a catalog of n items into a new folder and returns it
// with its files.
func published(t *testing.T, n int) (string, map[string]string) {
	t.Helper()
	dir := tempdir.New(t)
	if err := writeCatalog(dir, testCatalog(n), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatalf("writeCatalog(%d items) = %v", n, err)
	}
	return dir, snapshot(t, dir)
}

func countFile(t *testing.T, path string, count func(io.Reader) (int, error)) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := count(f)
	if err != nil {
		t.Fatalf("count %s: %v", path, err)
	}
	return n
}

func TestOutputWriteCatalog(t *testing.T) {
	t.Run("the first write creates the default feeds, nothing else, and the report in its folder", func(t *testing.T) {
		dir := filepath.Join(tempdir.New(t), "public", "feeds")
		if err := writeCatalog(dir, testCatalog(3), DefaultFeeds(), 0.5, false); err != nil {
			t.Fatalf("writeCatalog = %v", err)
		}
		if got, want := names(snapshot(t, dir)), generationFiles("catalog.xml", "products.json", "categories.json"); !reflect.DeepEqual(got, want) {
			t.Errorf("files = %q, want %q", got, want)
		}
		report := filepath.Join(filepath.Dir(dir), "report")
		if got, want := names(snapshot(t, report)), []string{manifestFile, "report.json"}; !reflect.DeepEqual(got, want) {
			t.Errorf("report folder holds %q, want %q", got, want)
		}
		if n := countFile(t, filepath.Join(dir, "catalog.xml"), countXMLItems); n != 3 {
			t.Errorf("catalog.xml has %d items, want 3", n)
		}
		if n := countFile(t, filepath.Join(dir, "products.json"), countJSONItems); n != 3 {
			t.Errorf("products.json has %d items, want 3", n)
		}
		if runtime.GOOS != "windows" {
			fi, err := os.Stat(filepath.Join(dir, "catalog.xml"))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("catalog.xml mode = %v, %v; want -rw-r--r-- for a web server to read", fi.Mode(), err)
			}
		}
	})

	t.Run("a later write replaces every file", func(t *testing.T) {
		dir, _ := published(t, 3)
		if err := writeCatalog(dir, testCatalog(4), DefaultFeeds(), 0.5, false); err != nil {
			t.Fatalf("writeCatalog = %v", err)
		}
		xml := countFile(t, filepath.Join(dir, "catalog.xml"), countXMLItems)
		js := countFile(t, filepath.Join(dir, "products.json"), countJSONItems)
		if xml != 4 || js != 4 {
			t.Errorf("items = %d, %d; want 4, 4", xml, js)
		}
		if got, want := names(snapshot(t, dir)), generationFiles("catalog.xml", "products.json", "categories.json"); !reflect.DeepEqual(got, want) {
			t.Errorf("files = %q, want %q", got, want)
		}
	})
}

func TestGuard(t *testing.T) {
	t.Run("an empty catalog is refused and the old files are kept byte for byte", func(t *testing.T) {
		dir, before := published(t, 3)
		err := writeCatalog(dir, testCatalog(0), DefaultFeeds(), 0.5, false)
		var ge *GuardError
		if !errors.As(err, &ge) {
			t.Fatalf("writeCatalog(empty) = %v, want *GuardError", err)
		}
		if want := (GuardError{File: "catalog.xml", New: 0, MaxDrop: 0.5}); *ge != want {
			t.Errorf("GuardError = %+v, want %+v", *ge, want)
		}
		if got, want := err.Error(), "refusing to publish catalog.xml: the new catalog has no items"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
			t.Errorf("files changed: %q, want %q", names(after), names(before))
		}
	})

	t.Run("an empty catalog is refused on the first run too", func(t *testing.T) {
		dir := tempdir.New(t)
		var ge *GuardError
		if err := writeCatalog(dir, testCatalog(0), DefaultFeeds(), 1, false); !errors.As(err, &ge) {
			t.Fatalf("writeCatalog(empty) = %v, want *GuardError", err)
		}
		if got := names(snapshot(t, dir)); len(got) != 0 {
			t.Errorf("files = %q, want none", got)
		}
	})

	t.Run("the category file is not guarded: merging categories is no broken catalog", func(t *testing.T) {
		inCategories := func(perProduct func(i int) string) *Catalog {
			c, x := testCatalog(10), newCategoryIndex()
			for i := range c.Products {
				c.Products[i].categories, _ = x.resolve([]string{perProduct(i)})
			}
			return c
		}
		dir := tempdir.New(t)
		if err := writeCatalog(dir, inCategories(func(i int) string { return fmt.Sprint("類型", i) }), DefaultFeeds(), 0.5, false); err != nil {
			t.Fatal(err)
		}
		if err := writeCatalog(dir, inCategories(func(int) string { return "全部" }), DefaultFeeds(), 0.5, false); err != nil {
			t.Errorf("10 categories merged into one: %v, want it written", err)
		}
		if n := countFile(t, filepath.Join(dir, "categories.json"), countJSONItems); n != 1 {
			t.Errorf("categories.json has %d categories, want 1", n)
		}
	})

	t.Run("a drop over max_drop is refused and the old files are kept", func(t *testing.T) {
		dir, before := published(t, 10)
		err := writeCatalog(dir, testCatalog(4), DefaultFeeds(), 0.5, false)
		var ge *GuardError
		if !errors.As(err, &ge) {
			t.Fatalf("writeCatalog(10 -> 4) = %v, want *GuardError", err)
		}
		if want := (GuardError{File: "catalog.xml", Old: 10, New: 4, MaxDrop: 0.5}); *ge != want {
			t.Errorf("GuardError = %+v, want %+v", *ge, want)
		}
		want := "refusing to replace catalog.xml: it would go from 10 items to 4, a drop of 60%, more than max_drop 50%"
		if err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
			t.Errorf("files changed after a refused write")
		}
	})

	drops := []struct {
		name     string
		old, new int
		maxDrop  string
		accepted bool
	}{
		{"a drop of exactly max_drop is accepted", 10, 5, "50%", true},
		{"a drop of exactly 30% is accepted", 10, 7, "30%", true},
		{"a drop of exactly 0.7 is accepted", 10, 3, "0.7", true},
		{"one item more than max_drop is refused", 10, 6, "30%", false},
		{"max_drop 0 refuses any drop", 10, 9, "0%", false},
		{"max_drop 0 accepts the same count", 10, 10, "0%", true},
		{"growth is always accepted", 10, 20, "0%", true},
		{"max_drop 100% accepts losing all but one", 10, 1, "100%", true},
	}
	for _, tt := range drops {
		t.Run(tt.name, func(t *testing.T) {
			dir, before := published(t, tt.old)
			md, err := ParseFraction(tt.maxDrop)
			if err != nil {
				t.Fatal(err)
			}
			err = writeCatalog(dir, testCatalog(tt.new), DefaultFeeds(), md, false)
			if tt.accepted {
				if err != nil {
					t.Fatalf("writeCatalog(%d -> %d, max_drop %s) = %v, want nil", tt.old, tt.new, tt.maxDrop, err)
				}
				if n := countFile(t, filepath.Join(dir, "products.json"), countJSONItems); n != tt.new {
					t.Errorf("products.json has %d items, want %d", n, tt.new)
				}
				return
			}
			var ge *GuardError
			if !errors.As(err, &ge) {
				t.Fatalf("writeCatalog(%d -> %d, max_drop %s) = %v, want *GuardError", tt.old, tt.new, tt.maxDrop, err)
			}
			if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
				t.Errorf("files changed after a refused write")
			}
		})
	}

	t.Run("force publishes a drop the guard refuses", func(t *testing.T) {
		dir, _ := published(t, 10)
		if err := writeCatalog(dir, testCatalog(1), DefaultFeeds(), 0.5, true); err != nil {
			t.Fatalf("writeCatalog(force) = %v", err)
		}
		if n := countFile(t, filepath.Join(dir, "catalog.xml"), countXMLItems); n != 1 {
			t.Errorf("catalog.xml has %d items, want 1", n)
		}
	})

	t.Run("force publishes even an empty catalog", func(t *testing.T) {
		dir, _ := published(t, 10)
		if err := writeCatalog(dir, testCatalog(0), DefaultFeeds(), 0.5, true); err != nil {
			t.Fatalf("writeCatalog(force, empty) = %v", err)
		}
		if n := countFile(t, filepath.Join(dir, "products.json"), countJSONItems); n != 0 {
			t.Errorf("products.json has %d items, want 0", n)
		}
	})

	t.Run("a published file that cannot be counted does not block", func(t *testing.T) {
		dir := tempdir.New(t)
		if err := os.WriteFile(filepath.Join(dir, "products.json"), []byte(`[{"product_id":"1`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeCatalog(dir, testCatalog(1), DefaultFeeds(), 0, false); err != nil {
			t.Fatalf("writeCatalog over a truncated products.json = %v, want nil", err)
		}
	})

	t.Run("each feed is guarded by its own count", func(t *testing.T) {
		// The XML feed counts variants, the JSON feed products: 10 products
		// of one variant become 4 products of three: 12 items but 4 products.
		dir, before := published(t, 10)
		c := testCatalog(4)
		for i := range c.Products {
			it := c.Products[i].Items[0]
			c.Products[i].Items = []Item{it, it, it}
		}
		err := writeCatalog(dir, c, DefaultFeeds(), 0.5, false)
		var ge *GuardError
		if !errors.As(err, &ge) || ge.File != "products.json" || ge.Old != 10 || ge.New != 4 {
			t.Fatalf("writeCatalog = %v, want a GuardError for products.json 10 -> 4", err)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
			t.Errorf("files changed after a refused write")
		}
	})
}

var errDiskFull = errors.New("disk full")

// failingWriter writes part of a file, then fails like a full disk.
type failingWriter struct{ w io.Writer }

func (f failingWriter) product(*CatalogProduct) error {
	io.WriteString(f.w, "[\n{\"product_id\":")
	return errDiskFull
}
func (f failingWriter) finish(*exclusionList) error { return nil }
func (f failingWriter) items() int                  { return 0 }

// failingFeeds are the default feeds with feed i written by failingWriter.
func failingFeeds(t *testing.T, i int) []Feed {
	feedFormats["failing"] = feedFormat{
		open:  func(w io.Writer, _ *CatalogInfo, _ feedOptions) (feedWriter, error) { return failingWriter{w}, nil },
		count: feedFormats[DefaultFeeds()[i].Format].count,
	}
	t.Cleanup(func() { delete(feedFormats, "failing") })
	feeds := DefaultFeeds()
	feeds[i].Format = "failing"
	return feeds
}

func TestOutputWriteFailure(t *testing.T) {
	diskFull := errDiskFull
	for i, file := range []string{"catalog.xml", "products.json"} {
		t.Run("a write error in "+file+" keeps the old files and leaves no temp files", func(t *testing.T) {
			dir, before := published(t, 3)
			feeds := failingFeeds(t, i)
			err := writeCatalog(dir, testCatalog(3), feeds, 0.5, false)
			if !errors.Is(err, diskFull) {
				t.Fatalf("writeCatalog = %v, want it to wrap %v", err, diskFull)
			}
			if want := "write " + file + ": disk full"; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
				t.Errorf("files after a failed write = %q, want %q unchanged", names(after), names(before))
			}
		})
	}

	t.Run("a write error on the first run leaves the folder empty", func(t *testing.T) {
		dir := tempdir.New(t)
		feeds := failingFeeds(t, 1)
		if err := writeCatalog(dir, testCatalog(3), feeds, 0.5, false); !errors.Is(err, diskFull) {
			t.Fatalf("writeCatalog = %v, want %v", err, diskFull)
		}
		if got := names(snapshot(t, dir)); len(got) != 0 {
			t.Errorf("files = %q, want none", got)
		}
	})
}

// chunkReader returns its data n bytes per Read, the last chunk with io.EOF.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	k := min(r.n, len(r.data), len(p))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	if len(r.data) == 0 {
		return k, io.EOF
	}
	return k, nil
}

func TestCountXMLItems(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"<rss><channel></channel></rss>", 0},
		{"<item>", 1},
		{"<item></item><item></item>", 2},
		{"<items>", 0},
		{"<item ", 0},
		{"<ite", 0},
		{"&lt;item&gt;", 0},
	}
	for _, tt := range tests {
		if got, err := countXMLItems(strings.NewReader(tt.in)); got != tt.want || err != nil {
			t.Errorf("countXMLItems(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}

	const block = 64 << 10
	for shift := -1; shift <= len("<item>"); shift++ {
		// An <item> starting shift bytes before a 64 KiB boundary, another
		// right at the start, and a third across the second boundary.
		var b strings.Builder
		b.WriteString("<item>")
		b.WriteString(strings.Repeat("x", block-len("<item>")-shift))
		b.WriteString("<item>")
		b.WriteString(strings.Repeat("y", block-len("<item>")))
		b.WriteString("<item>")
		b.WriteString("</channel>")
		data := b.String()
		readers := map[string]func() io.Reader{
			"whole":     func() io.Reader { return strings.NewReader(data) },
			"one byte":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(data)) },
			"half":      func() io.Reader { return iotest.HalfReader(strings.NewReader(data)) },
			"data+EOF":  func() io.Reader { return iotest.DataErrReader(strings.NewReader(data)) },
			"7 bytes":   func() io.Reader { return &chunkReader{data: []byte(data), n: 7} },
			"64KiB+EOF": func() io.Reader { return &chunkReader{data: []byte(data), n: block} },
		}
		for name, r := range readers {
			t.Run("an <item> split "+strconv.Itoa(shift)+" bytes before the boundary, "+name+" reads", func(t *testing.T) {
				if got, err := countXMLItems(r()); got != 3 || err != nil {
					t.Errorf("countXMLItems = %d, %v; want 3, nil", got, err)
				}
			})
		}
	}

	t.Run("a read error is returned", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader("<item><item>"), iotest.ErrReader(boom))
		if got, err := countXMLItems(r); !errors.Is(err, boom) || got != 0 {
			t.Errorf("countXMLItems = %d, %v; want 0, %v", got, err, boom)
		}
	})

	t.Run("it counts what WriteGoogleXML writes", func(t *testing.T) {
		c := testCatalog(5)
		c.Products[0].Items = append(c.Products[0].Items, Item{ID: "x", Title: "<item>", Price: "1", Availability: InStock})
		var buf bytes.Buffer
		if err := WriteGoogleXML(&buf, c); err != nil {
			t.Fatal(err)
		}
		if got, err := countXMLItems(&buf); got != 6 || err != nil {
			t.Errorf("countXMLItems(WriteGoogleXML(6 items)) = %d, %v; want 6, nil", got, err)
		}
	})
}

func TestCountJSONItems(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		err      bool
	}{
		{"empty input", "", 0, false},
		{"empty array", "[]", 0, false},
		{"one object", "[{}]", 1, false},
		{"objects on lines", "[\n{\"a\":1},\n{\"b\":2}\n]\n", 2, false},
		{"braces inside strings", `[{"a":"}{"},{"b":"[{"}]`, 2, false},
		{"an escaped quote does not end a string", `[{"a":"\"}{\""}]`, 1, false},
		{"an escaped backslash before a closing quote", `[{"a":"\\"},{}]`, 2, false},
		{"nested objects and arrays are not items", `[{"a":[{},{}],"b":{"c":{}}}]`, 1, false},
		{"only objects are counted", `[1, "{", [], {}]`, 1, false},
		{"truncated in an object", `[{"a":1}`, 0, true},
		{"truncated in a string", `[{"a":"x`, 0, true},
		{"truncated after an escaped quote", `[{"a":"\"}]`, 0, true},
		{"a stray closing bracket", `[]]`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := countJSONItems(r)
				if got != tt.want || (err != nil) != tt.err {
					t.Errorf("countJSONItems(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
				}
			}
		})
	}

	t.Run("it counts what WriteLineJSON writes", func(t *testing.T) {
		c := testCatalog(4)
		c.Products[1].Name = `{"[\` + "\"}]"
		c.Products[2].Items = append(c.Products[2].Items, c.Products[2].Items[0])
		var buf bytes.Buffer
		if err := WriteLineJSON(&buf, c); err != nil {
			t.Fatal(err)
		}
		if got, err := countJSONItems(&buf); got != 4 || err != nil {
			t.Errorf("countJSONItems(WriteLineJSON(4 products)) = %d, %v; want 4, nil", got, err)
		}
	})

	t.Run("a read error is returned", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := countJSONItems(io.MultiReader(strings.NewReader("[{}"), iotest.ErrReader(boom))); !errors.Is(err, boom) {
			t.Errorf("countJSONItems = %v, want %v", err, boom)
		}
	})
}

// writeCatalog writes an in-memory catalog with the given feeds into dir
// and a report into the folder "report" beside it, without a preview.
func writeCatalog(dir string, c *Catalog, feeds []Feed, maxDrop Fraction, force bool) error {
	o, err := createCatalog(dir, filepath.Join(filepath.Dir(dir), "report"), &c.CatalogInfo, feeds, false)
	if err != nil {
		return err
	}
	for i := range c.Products {
		if err := o.add(&c.Products[i]); err != nil {
			o.abort()
			return err
		}
	}
	return o.commit(&Summary{At: c.At, Eligible: len(c.Products), Excluded: len(c.Excluded), ExcludedProducts: c.Excluded}, listedExclusions(c.Excluded), new(diagnosisList), maxDrop, force, false)
}

// TestOutputRemovesLegacyPrivateFiles: the report and full preview older
// versions wrote into the public folder go at the next write; files of the
// same names that feedgen did not write stay.
func TestOutputRemovesLegacyPrivateFiles(t *testing.T) {
	legacy, own := filepath.Join(tempdir.New(t), "public"), filepath.Join(tempdir.New(t), "public")
	oldPreview, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	oldPreview = bytes.Replace(oldPreview, []byte(`<meta name="generator" content="feedgen">`+"\n"), nil, 1)
	for dir, files := range map[string]map[string]string{
		legacy: {"report.json": `{"export": "x.xlsx", "export_sha256": "00"}`, "index.html": string(oldPreview)},
		own:    {"report.json": `{"sales": 3}`, "index.html": "<h1>My shop</h1>"},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			writeFile(t, filepath.Join(dir, name), []byte(content))
		}
		if err := writeCatalog(dir, testCatalog(2), DefaultFeeds(), 0.5, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(snapshot(t, legacy)); !slices.Equal(got, generationFiles("catalog.xml", "products.json", "categories.json")) {
		t.Errorf("after feedgen's old files: %q, want only the feeds", got)
	}
	if got, want := names(snapshot(t, own)), append(generationFiles("catalog.xml", "products.json", "categories.json"), "index.html", "report.json"); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("after the merchant's own files: %q, want them kept", got)
	}
}

func TestValidateFeeds(t *testing.T) {
	tests := []struct {
		name  string
		feeds []Feed
		err   string // "" for none
	}{
		{"TheDefaults", DefaultFeeds(), ""},
		{"CategoriesGetTheirDefaultFile", []Feed{{Format: "line-json"}, {Format: "line-categories"}}, ""},
		{"CategoriesAloneAreNoCatalog", []Feed{{Format: "line-categories"}}, "line-categories alone writes no products"},
		{"TwoCategoryFilesOfOneName", []Feed{{Format: "line-json"}, {Format: "line-categories"}, {Format: "line-categories"}}, "categories.json」 is already written"},
		{"AFeedInTheCategoryFilesName", []Feed{{Format: "line-json", File: "categories.json"}, {Format: "line-categories"}}, "categories.json」 is already written"},
		{"TheCategoryFileInThePreviewsName", []Feed{{Format: "line-json"}, {Format: "line-categories", File: publicPreviewFile}}, "is already written by another feed or by feedgen itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateFeeds(slices.Clone(tt.feeds))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("validateFeeds(%+v) = %v, want %q", tt.feeds, err, tt.err)
			}
		})
	}
}
