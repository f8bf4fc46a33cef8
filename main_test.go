package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"feedgen/feedgen"
	"feedgen/internal/exportgen"
	"feedgen/internal/tempdir"
)

var update = flag.Bool("update", false, "update testscript files with actual output")

func TestMain(m *testing.M) {
	testscript.Main(removeCommands{m}, map[string]func(){
		"feedgen": main,
		// exits N feedgen ARGS… runs feedgen and succeeds only when it
		// exits with status N, so scripts can tell 1 (run failed) from 2
		// (usage or config error).
		"exits": func() {
			if len(os.Args) < 3 || os.Args[2] != "feedgen" {
				fmt.Fprintln(os.Stderr, "usage: exits N feedgen ARGS...")
				os.Exit(2)
			}
			want, err := strconv.Atoi(os.Args[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "exits: bad status:", err)
				os.Exit(2)
			}
			if got := run(context.Background(), os.Args[3:], os.Stdout, os.Stderr); got != want {
				fmt.Fprintf(os.Stderr, "exits: feedgen exited %d, want %d\n", got, want)
				os.Exit(1)
			}
			os.Exit(0)
		},
	})
}

// removeCommands removes the folder where testscript.Main puts the
// commands (testscript-main…, its bin first on PATH) once the tests are
// done, with tempdir.RemoveAll: under Wine the os.RemoveAll of testscript
// fails ("Invalid function") and it exits 1 after the tests passed. What
// this leaves, testscript reports.
type removeCommands struct{ m *testing.M }

func (r removeCommands) Run() int {
	code := r.m.Run()
	bin, _, _ := strings.Cut(os.Getenv("PATH"), string(filepath.ListSeparator))
	if dir := filepath.Dir(bin); filepath.Base(bin) == "bin" && strings.HasPrefix(filepath.Base(dir), "testscript-main") {
		tempdir.RemoveAll(dir)
	}
	return code
}

func TestScripts(t *testing.T) {
	fixtures := badExports(t)
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	// testscript looks a command up in the test's working folder before
	// PATH, as Windows does. That folder is the repository root, where a
	// plain go build leaves feedgen.exe on Windows: os/exec would refuse to
	// run it ("cannot run executable found relative to current directory"),
	// or the scripts would run it instead of this binary. They run from an empty folder.
	t.Chdir(tempdir.New(t))
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(testdata, "script"),
		UpdateScripts:       *update,
		WorkdirRoot:         tempdir.New(t), // which Wine, unlike testscript, can remove
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": waitFile,
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(strings.Join(args, ""))
				if neg || len(args) != 1 || err != nil {
					ts.Fatalf("usage: sleep DURATION")
				}
				time.Sleep(d)
			},
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTDATA", testdata)
			// English unless a script asks otherwise, whatever this
			// computer's language.
			env.Setenv("LANG", "en_US.UTF-8")
			for name, data := range fixtures {
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

var (
	fixturesOnce sync.Once
	fixtures     map[string][]byte
	fixturesErr  error
)

// badExports builds the damaged and wrong files that the scripts feed to
// feedgen, from the sample export, and configs in the encodings an older
// Notepad saves, once per test binary.
func badExports(t *testing.T) map[string][]byte {
	t.Helper()
	fixturesOnce.Do(func() { fixtures, fixturesErr = makeBadExports() })
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return fixtures
}

func makeBadExports() (map[string][]byte, error) {
	sample, err := os.ReadFile(filepath.Join("testdata", "sample.xlsx"))
	if err != nil {
		return nil, err
	}
	legacy, err := os.ReadFile(filepath.Join("testdata", "legacy.xls"))
	if err != nil {
		return nil, err
	}
	ods, err := os.ReadFile(filepath.Join("testdata", "sample.ods"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"ods-renamed.xlsx":    ods,
		"商品匯出.xlsx":           sample,
		"truncated.xlsx":      sample[:len(sample)/2],
		"renamed-csv.xlsx":    []byte("商品 id,商品名稱,商品款式售價\n1000101,經典白T,490\n"),
		"legacy.xls":          legacy,
		"legacy-renamed.xlsx": legacy,
	}

	f, err := excelize.OpenReader(bytes.NewReader(sample))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := f.Write(&buf, excelize.Options{Password: "secret"}); err != nil {
		return nil, fmt.Errorf("encrypt sample: %w", err)
	}
	files["encrypted.xlsx"] = bytes.Clone(buf.Bytes())

	// A fresh copy: excelize keeps the password of the last Write.
	g, err := excelize.OpenReader(bytes.NewReader(sample))
	if err != nil {
		return nil, err
	}
	defer g.Close()
	tags, err := excelize.ColumnNumberToName(exportgen.Col("商品標籤") + 1)
	if err != nil {
		return nil, err
	}
	if err := g.RemoveCol("商品", tags); err != nil {
		return nil, err
	}
	buf.Reset()
	if err := g.Write(&buf); err != nil {
		return nil, err
	}
	files["no-tags-column.xlsx"] = bytes.Clone(buf.Bytes())

	// Merchant habits: a sheet of notes in front of the products, tags
	// listed with 、, a 民國 date and one no program can read.
	h, err := excelize.OpenReader(bytes.NewReader(sample))
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if _, err := h.NewSheet("12月直播"); err != nil {
		return nil, err
	}
	if err := h.MoveSheet("12月直播", "商品"); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		sheet, header string
		row           int
		value         string
	}{
		{"12月直播", "", 1, "12/5 直播用，記得改價"},
		{"商品", "商品標籤", 5, "禮盒、贈品"},
		{"商品", "商品上架時間", 8, "民國115年12月1日 10:00"},
		{"商品", "商品下架時間", 12, "下個月底"},
	} {
		col := 1
		if c.header != "" {
			col = exportgen.Col(c.header) + 1
		}
		cell, err := excelize.CoordinatesToCellName(col, c.row)
		if err == nil {
			err = h.SetCellStr(c.sheet, cell, c.value)
		}
		if err != nil {
			return nil, err
		}
	}
	buf.Reset()
	if err := h.Write(&buf); err != nil {
		return nil, err
	}
	files["商品匯出-習慣.xlsx"] = bytes.Clone(buf.Bytes())

	buf.Reset()
	if err := exportgen.WriteSample(&buf, "商品", nil); err != nil {
		return nil, err
	}
	files["header-only.xlsx"] = bytes.Clone(buf.Bytes())

	// The sample as a merchant saves it after sorting it by price in
	// Excel, cheapest first and dearest first.
	for name, descending := range map[string]bool{"依售價排序.xlsx": false, "依售價排序-降冪.xlsx": true} {
		buf.Reset()
		if err := exportgen.WriteSample(&buf, "商品", exportgen.SortRows(exportgen.SampleRows(), "商品款式售價", descending)); err != nil {
			return nil, err
		}
		files[name] = bytes.Clone(buf.Bytes())
	}

	// 商品介紹 of the T-shirt, replaced in the shared strings: past the
	// reader's 4 MiB a cell, and past Excel's own 32,767 characters (which
	// excelize refuses to write) but within the reader's limit.
	const tshirt = "&lt;p&gt;100% 純棉&amp;nbsp;&lt;b&gt;舒適&lt;/b&gt;好穿&lt;/p&gt;&lt;ul&gt;&lt;li&gt;S–L&lt;/li&gt;&lt;/ul&gt;"
	for name, text := range map[string]string{
		"oversized-cell.xlsx":   strings.Repeat("好", 2<<20),
		"long-description.xlsx": "&lt;p&gt;" + strings.Repeat("棉", 69990) + "&lt;img src=&quot;https://cdn.example.com/x.jpg&quot;&gt;&lt;/p&gt;",
	} {
		b, err := replaceSharedString(sample, tshirt, text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = b
	}

	bomb, err := zipBomb()
	if err != nil {
		return nil, err
	}
	files["bomb.xlsx"] = bomb

	const config = "shop_url = 'https://shop.example.com'\n[rules]\nexclude_tags = ['贈品', '排除product feed']\n"
	for name, enc := range map[string]encoding.Encoding{
		"big5.toml":  traditionalchinese.Big5,
		"utf16.toml": unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
	} {
		b, err := enc.NewEncoder().String(config)
		if err != nil {
			return nil, err
		}
		files[name] = []byte(b)
	}
	return files, nil
}

// replaceSharedString copies the workbook xlsx with the shared string old
// (as escaped in the XML) made new, byte for byte otherwise.
func replaceSharedString(xlsx []byte, old, new string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Name != "xl/sharedStrings.xml" {
			if err := zw.Copy(f); err != nil {
				return nil, err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		si := "<si><t>" + old + "</t></si>"
		if bytes.Count(body, []byte(si)) != 1 {
			return nil, fmt.Errorf("the shared string %q is not in the workbook once", old)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(bytes.Replace(body, []byte(si), []byte("<si><t>"+new+"</t></si>"), 1)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipBomb is a small .xlsx whose worksheet declares 8 GiB uncompressed, the
// shape of a zip bomb; a reader must refuse it before inflating anything.
func zipBomb() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		if _, err := zw.Create(name); err != nil {
			return nil, err
		}
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: 2, UncompressedSize64: 8 << 30,
	})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte{0x03, 0x00}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// waitFile waits up to 30 s for a file to exist and hold content:
// waitfile public/catalog.xml. A daemon writes atomically, so once the file
// is there it is whole.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	name := ts.MkAbs(args[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(name); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 30s", args[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestREADMEWorkflowIsTheExample: the workflow the README tells merchants
// to paste is examples/github-workflow.yml, which actionlint checks.
func TestREADMEWorkflowIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join("examples", "github-workflow.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, append(append([]byte("```yaml\n"), example...), "```\n"...)) {
		t.Error("the README's copy of examples/github-workflow.yml differs from the file")
	}
}

// TestServiceEnv: the service gets feedgen's own variables that are set,
// and nothing else of the installer's environment.
func TestServiceEnv(t *testing.T) {
	got := serviceEnv([]string{"PATH=/bin", "FEEDGEN_PUBLISH_TOKEN=ghp_x=y", "FEEDGEN_REFRESH_TOKEN=", "HOME=/root", "FEEDGEN_LINE_TOKEN=abc"})
	want := map[string]string{"FEEDGEN_PUBLISH_TOKEN": "ghp_x=y", "FEEDGEN_LINE_TOKEN": "abc"}
	if !maps.Equal(got, want) {
		t.Errorf("serviceEnv = %v, want %v", got, want)
	}
}

// TestGuideConfigs: the config the Chinese guide tells merchants to write
// loads, and its [notify] example is valid.
func TestGuideConfigs(t *testing.T) {
	guide, err := os.ReadFile("README.zh-TW.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllSubmatch(guide, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d toml blocks in README.zh-TW.md, want the config and the [notify] example", len(blocks))
	}
	for _, b := range blocks {
		if _, err := feedgen.ParseConfig(bytes.NewReader(b[1]), feedgen.DefaultConfig()); err != nil {
			t.Errorf("README.zh-TW.md's config does not load: %v\n%s", err, b[1])
		}
	}
}
