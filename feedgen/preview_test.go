package feedgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"feedgen/internal/exportgen"
	"feedgen/internal/msg"
	"feedgen/internal/tempdir"

	"golang.org/x/net/html"
)

// hostile is product text that tries to end the data block, to turn the
// rest of the page into a comment, or to be read as script.
const hostile = "</script><script>document.body.setAttribute('data-pwned','name')</script><!--<script>\u2028\u2029 & \"q\" \\"

// hostileCatalog has product text that tries to run script in the preview.
func hostileCatalog() *Catalog {
	item := func(id string) []Item {
		return []Item{{ID: id, Title: "x", Price: "100", Availability: InStock}}
	}
	return &Catalog{
		CatalogInfo: CatalogInfo{Title: `<script>document.body.setAttribute("data-pwned","title")</script>`, ShopURL: "https://shop.example.com", Currency: "TWD", At: time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)},
		Products: []CatalogProduct{
			{ID: "1000101", Name: "經典白T", Description: "純棉", Link: "https://shop.example.com/products/tee", Images: []string{"https://cdn.example.com/a.jpg"}, Items: item("1000101")},
			{ID: "1000102", Name: `<img src=x onerror="document.body.setAttribute('data-pwned','img')">馬克杯`,
				Description: `</p><script>document.body.setAttribute("data-pwned","desc")</script>`,
				Link:        `javascript:document.body.setAttribute("data-pwned","link")`,
				Images:      []string{`https://cdn.example.com/b.jpg"><script>document.body.setAttribute("data-pwned","src")</script>`}, Items: item("1000102")},
			{ID: "1000103", Name: "陶瓷馬克杯", Description: "白", Link: "https://shop.example.com/products/mug", Images: []string{"https://cdn.example.com/c.jpg"},
				Brand: hostile, Items: []Item{{ID: "1000103", Price: "100", Availability: InStock, Options: []Option{{Name: "色", Value: hostile}}}},
				Dropped: []DroppedItem{{ID: "1000199", Options: []Option{{Name: "色", Value: "藍"}}, Reason: hostile}}},
			{ID: "1000105", Name: hostile, Description: "x", Link: "https://shop.example.com/products/x", Images: []string{"https://cdn.example.com/d.jpg"}, Items: item("1000105")},
		},
		Excluded: []Exclusion{{ID: "1000104", Name: `"><script>document.body.setAttribute("data-pwned","excluded")</script>`, Row: 7,
			Reasons: []Reason{{Code: ReasonNotPublic, Message: `<svg onload="document.body.setAttribute('data-pwned','reason')">`}}}},
	}
}

func writePreview(t testing.TB, c *Catalog, private bool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := writeAll(&buf, c, "", feedOptions{}, func(w io.Writer, info *CatalogInfo, _ feedOptions) (feedWriter, error) {
		return newPreview(w, info, private)
	}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// previewJSON is the data of a preview page, decoded.
type previewJSON struct {
	Page     previewPage
	Products [][]any
	Excluded [][]any
	Strings  []string
}

var dataBlock = regexp.MustCompile(`(?s)<script type="application/json" id="feedgen-data">(.*?)</script>`)

// previewData returns the raw data block of a page and the data in it.
func previewData(t testing.TB, page string) (string, previewJSON) {
	t.Helper()
	m := dataBlock.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page has no data block")
	}
	var d previewJSON
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("the page's data: %v", err)
	}
	return m[1], d
}

func TestPreviewEscapesProductText(t *testing.T) {
	for _, private := range []bool{false, true} {
		page := writePreview(t, hostileCatalog(), private)
		if n := strings.Count(page, "<script"); n != 2 {
			t.Errorf("private %v: page has %d <script tags, want only the data and its own", private, n)
		}
		for _, bad := range []string{"<img src=x", "<svg", `"><script`, "<!--", "\u2028", "\u2029"} {
			if strings.Contains(page, bad) {
				t.Errorf("private %v: page contains unescaped %q", private, bad)
			}
		}
		if !strings.Contains(page, "script-src &#39;sha256-") {
			t.Error("page has no Content-Security-Policy limiting scripts to its own")
		}
		raw, d := previewData(t, page)
		if strings.ContainsAny(raw, "<>&") {
			t.Errorf("private %v: the data block has a raw <, > or &", private)
		}
		// The text arrives whole, for the script to show as text.
		if got := d.Products[3][1]; got != hostile {
			t.Errorf("private %v: name = %q, want %q", private, got, hostile)
		}
		if got := d.Strings[int(d.Products[2][5].(float64))]; got != hostile {
			t.Errorf("private %v: brand = %q, want %q", private, got, hostile)
		}
	}
}

// FuzzPreviewData: whatever the product's text, the data block is JSON
// that gives it back, and holds no byte that could end it or change how
// the page around it is read.
func FuzzPreviewData(f *testing.F) {
	for _, s := range []string{"", "a&b", hostile, "'", "紅&amp;", "<!--", "</SCRIPT >", "\xff"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, option string) {
		c := hostileCatalog()
		p := &c.Products[2]
		p.Name, p.Items[0].Options[0].Value, p.Items[0].SKU, p.Dropped[0].Reason = name, option, option, name
		page := writePreview(t, c, true)
		raw, d := previewData(t, page)
		if strings.ContainsAny(raw, "<>&\u2028\u2029") {
			t.Fatalf("the data block has a raw <, >, &, U+2028 or U+2029: %q", raw)
		}
		if want := cleanText(name); d.Products[2][1] != want {
			t.Errorf("name = %q, want %q", d.Products[2][1], want)
		}
	})
}

// TestPreviewData: the data a product becomes, field by field, as the
// product method's comment describes it.
func TestPreviewData(t *testing.T) {
	c := &Catalog{
		CatalogInfo: CatalogInfo{Title: "shop", ShopURL: "https://shop.example.com/", Currency: "TWD"},
		Products: []CatalogProduct{{
			ID: "1000101", Name: "杯", Link: "https://shop.example.com/products/mug", Images: []string{"https://cdn.example.com/img/mug.jpg"},
			Items: []Item{
				{ID: "5001", SKU: "M-1", Price: "350", Availability: InStock, Options: []Option{{Name: "色", Value: "白"}, {Name: "尺寸", Value: "大"}}},
				{ID: "5002", Price: "350", Availability: Backorder, Options: []Option{{Name: "色", Value: "黑"}}, Link: "https://shop.example.com/products/mug?variant=12"},
				{ID: "5002a", Price: "400", SalePrice: "99.5", Availability: OutOfStock, Options: []Option{{Name: "色", Value: "白"}}},
				{ID: "05", Price: "1.50", Availability: "preorder"},
			},
			Diagnostics: []Diagnostic{{Code: DiagNoBrand}, {Code: DiagVariantsAlike, Items: []string{"5001", "5002a"}}, {Code: "new_code"}},
			Dropped:     []DroppedItem{{ID: "5004", Options: []Option{{Name: "色", Value: "藍"}}, Reason: "price 「洽詢」 is not a number"}},
		}, {
			ID: "1000099", Name: "盤", Link: "https://other.example.com/plate", Images: []string{"https://cdn.example.com/img/plate.jpg"},
			Items: []Item{{ID: "5003", Price: "90", Availability: InStock, Options: []Option{{Name: "色", Value: "白"}}}},
		}},
		Excluded: []Exclusion{{ID: "3", Name: "袋", Row: 9, Reasons: []Reason{{Message: "not public"}, {Message: "no image"}}}},
	}
	_, d := previewData(t, writePreview(t, c, true))
	got, err := json.Marshal(d.Products)
	if err != nil {
		t.Fatal(err)
	}
	// Ids that are numbers are differences from the last one so.
	want := `[[1000101,"杯","mug",0,"mug.jpg","",[[5001,"M-1",0,350,1],[1,"",2,0,2,"?variant=12"],["5002a","",1,[400,99.5],3],["05","","preorder","1.50",""]],[[0],[1,0,2],["new_code"]],[["5004",4,"price 「洽詢」 is not a number"]]],` +
		`[-2,"盤","https://other.example.com/plate",0,"plate.jpg","",[[1,"",0,90,3]]]]`
	if string(got) != want {
		t.Errorf("products =\n%s\nwant\n%s", got, want)
	}
	if want := []string{"https://cdn.example.com/img/", "白 / 大", "黑", "白", "藍", "not public", "no image"}; !slices.Equal(d.Strings, want) {
		t.Errorf("strings = %q, want %q", d.Strings, want)
	}
	if got, err := json.Marshal(d.Excluded); err != nil || string(got) != `[[3,"袋",9,5,6]]` {
		t.Errorf("excluded = %s, want [[3,\"袋\",9,5,6]]", got)
	}
	if d.Page.Shop != "https://shop.example.com/products/" || !d.Page.Private || len(d.Page.Diags) != len(diagnosticTitles) {
		t.Errorf("page = %+v", d.Page)
	}
	// The public page has neither warnings nor excluded products.
	_, pub := previewData(t, writePreview(t, c, false))
	if len(pub.Products[0]) != 7 || pub.Excluded != nil || pub.Page.Private || pub.Page.Diags != nil {
		t.Errorf("public page: product %v, excluded %v, page %+v", pub.Products[0], pub.Excluded, pub.Page)
	}
}

// TestPreviewWithoutScript: a browser without script is told what the
// page holds.
func TestPreviewWithoutScript(t *testing.T) {
	page := writePreview(t, hostileCatalog(), true)
	for _, want := range []string{"<noscript><p>This page needs JavaScript to show its 4 products (4 items).", "It also lists 1 excluded products"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func findChromium(t testing.TB) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FEEDGEN_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not found, and FEEDGEN_REQUIRE_BROWSER is set")
		}
		t.Skip("chromium not installed")
	}
	return chromium
}

// TestPreviewInBrowser opens the hostile preview in headless Chromium,
// with its Content-Security-Policy: the page draws the products, the
// search box filters (through a #q= fragment, which runs the same search
// as typing), the hostile text shows as text, and no script from the
// data runs. CI installs Chromium and sets FEEDGEN_REQUIRE_BROWSER=1 so
// the test cannot be skipped there.
func TestPreviewInBrowser(t *testing.T) {
	chromium := findChromium(t)
	dir := tempdir.New(t)
	page := filepath.Join(dir, "index.html")
	if err := os.WriteFile(page, []byte(writePreview(t, hostileCatalog(), true)), 0o644); err != nil {
		t.Fatal(err)
	}
	shown := regexp.MustCompile(`<section id="products"[^>]*>\s*<h2[^>]*>[^<]*</h2>\s*<p class="status"[^>]*data-shown="(\d+)"`)
	pwned := regexp.MustCompile(`<body[^>]*data-pwned`)
	drawn := regexp.MustCompile(`<article class="product" data-pid="(\d+)"`)
	for _, tc := range []struct {
		fragment string
		want     string
		visible  []string
	}{
		{"", "4", []string{"1000101", "1000102", "1000103", "1000105"}},
		{"#q=" + url.PathEscape("馬克杯"), "2", []string{"1000102", "1000103"}},
		{"#q=1000101", "1", []string{"1000101"}},
		{"#q=" + url.PathEscape("藍"), "1", []string{"1000103"}}, // by its dropped variant
		{"#q=nothing-matches", "0", nil},
	} {
		dom := dumpDOM(t, chromium, "file://"+filepath.ToSlash(page)+tc.fragment, dir, 2000)
		if pwned.MatchString(dom) {
			t.Fatalf("%s: a script from the product data ran", tc.fragment)
		}
		if m := shown.FindStringSubmatch(dom); m == nil || m[1] != tc.want {
			t.Errorf("%q: shown count = %v, want %s", tc.fragment, m, tc.want)
		}
		var got []string
		for _, m := range drawn.FindAllStringSubmatch(dom, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, tc.visible) {
			t.Errorf("%q: products drawn = %q, want %q", tc.fragment, got, tc.visible)
		}
		if tc.fragment == "" {
			for _, want := range []string{
				"<h3>" + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(hostile, "&", "&amp;"), "<", "&lt;"), ">", "&gt;") + "</h3>",
				`<td>"&gt;&lt;script&gt;document.body.setAttribute("data-pwned","excluded")&lt;/script&gt;</td>`,
				`<a href="https://shop.example.com/products/tee">https://shop.example.com/products/tee</a>`,
			} {
				if !strings.Contains(dom, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			if strings.Contains(dom, `href="javascript:`) {
				t.Error("a javascript: link made it into the page")
			}
		}
	}
}

// withScript returns page with script added at the end of its body, after
// the page's own, and its Content-Security-Policy removed so that it runs.
func withScript(page, script string) string {
	page = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>\n`).ReplaceAllString(page, "")
	return strings.Replace(page, "</body>", "<script>"+script+"</script>\n</body>", 1)
}

// sampleHarness uses the page as a merchant would: it types into the box
// (and waits out the pause before the search), pages through, and records
// what the page shows after each step in a <pre id="result">.
const sampleHarness = `(function () {
  var q = document.getElementById("q"), steps = [], result = [];
  function state(name) {
    var s = {step: name, products: [], excluded: [], pages: []};
    document.querySelectorAll("#products article").forEach(function (a) { s.products.push(a.getAttribute("data-pid")); });
    document.querySelectorAll("#excluded tbody tr").forEach(function (r) { s.excluded.push(r.getAttribute("data-pid")); });
    document.querySelectorAll("#products .pager").forEach(function (p) { s.pages.push(p.hidden ? "" : p.querySelector("span").textContent + (p.querySelector(".next").disabled ? " last" : "")); });
    s.status = document.querySelector("#products .status").textContent;
    s.text = document.querySelector("main").innerText;
    s.links = Array.prototype.map.call(document.querySelectorAll("#products a"), function (a) { return a.href; });
    result.push(s);
  }
  function type(v) { return function () { q.value = v; q.dispatchEvent(new Event("input")); }; }
  function click(which) { return function () { document.querySelectorAll("#products .pager")[1].querySelector(which).click(); }; }
  steps = [function () {}, %s];
  var i = 0;
  function next() {
    steps[i]();
    setTimeout(function () {
      state(i === 0 ? "load" : String(i));
      if (++i < steps.length) { next(); return; }
      var out = document.createElement("pre");
      out.id = "result";
      out.textContent = JSON.stringify(result);
      document.body.appendChild(out);
    }, 100);
  }
  next();
})();`

type pageState struct {
	Step     string
	Products []string
	Excluded []string
	Pages    []string
	Status   string
	Text     string
	Links    []string
}

// runHarness opens page with the harness's steps and returns the states.
func runHarness(t *testing.T, chromium, page, steps string) []pageState {
	t.Helper()
	dir := tempdir.New(t)
	path := filepath.Join(dir, "index.html")
	if err := os.WriteFile(path, []byte(withScript(page, fmt.Sprintf(sampleHarness, steps))), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := dumpDOM(t, chromium, "file://"+filepath.ToSlash(path), dir, 5000)
	m := regexp.MustCompile(`<pre id="result">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the harness wrote no result:\n%.2000s", dom)
	}
	var states []pageState
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &states); err != nil {
		t.Fatal(err)
	}
	return states
}

// TestPreviewSampleInBrowser opens the private preview of the sample
// export in headless Chromium and types into it: each product has its
// link, the mug shows its 藍 variant left out and why, the warnings show,
// and the search filters the products and the excluded ones alike.
// TestPreviewInChinese: in Chinese the page's words, availability
// (有庫存, 缺貨, 可預購), warnings and reasons are Chinese.
func TestPreviewInChinese(t *testing.T) {
	chromium := findChromium(t)
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	cfg.Language = msg.Chinese
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(cfg.Report, previewFile))
	if err != nil {
		t.Fatal(err)
	}
	states := runHarness(t, chromium, string(page), `type("")`)
	for _, want := range []string{
		"藍: 未列入：價格「洽詢」不是數字 5001103",
		"白: 350 TWD · 有庫存 5001101",
		"M: 490 590 TWD · 可預購",
		"L: 490 590 TWD · 缺貨",
		"⚠ " + DiagnosticTitle(msg.Chinese, DiagNoBrand),
		"未公開：商品是否公開 是「否」",
		"符合的 5 項商品中的第 1–5 項（共 5 項）",
	} {
		if !strings.Contains(states[0].Text, want) {
			t.Errorf("the page does not show %q:\n%s", want, states[0].Text)
		}
	}
}

func TestPreviewSampleInBrowser(t *testing.T) {
	chromium := findChromium(t)
	out := tempdir.New(t)
	cfg := sampleConfig(t, out)
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(cfg.Report, previewFile))
	if err != nil {
		t.Fatal(err)
	}
	states := runHarness(t, chromium, string(page), `type("馬克杯"), type("贈品"), type("藍"), type("TEE-W-M"), type("")`)
	if len(states) != 6 {
		t.Fatalf("%d states, want 6", len(states))
	}
	load := states[0]
	if want := []string{"1000101", "1000102", "1000109", "1000111", "1000112"}; !slices.Equal(load.Products, want) {
		t.Errorf("products shown = %q, want %q", load.Products, want)
	}
	if len(load.Excluded) != 7 {
		t.Errorf("excluded shown = %q, want 7", load.Excluded)
	}
	for _, want := range []string{
		"https://shop.example.com/products/mug",
		"藍: left out: price 「洽詢」 is not a number 5001103",
		"白: 350 TWD · in stock 5001101",
		"S: 490 590 TWD · in stock 5000101 · TEE-W-S",
		"M: 490 590 TWD · on backorder",
		"L: 490 590 TWD · out of stock",
		"⚠ " + DiagnosticTitle(msg.English, DiagNoBrand),
		"⚠ " + DiagnosticTitle(msg.English, DiagUnsafeHTML),
		"not public: 商品是否公開 is 「否」",
		"1–5 of 5 matching products (5 in all)",
	} {
		if !strings.Contains(load.Text, want) {
			t.Errorf("the page does not show %q:\n%s", want, load.Text)
		}
	}
	if !strings.Contains(strings.Join(load.Links, " "), "https://shop.example.com/products/classic-white-tee") {
		t.Errorf("links = %q, want the tee's page", load.Links)
	}
	for i, want := range []struct{ products, excluded []string }{
		{[]string{"1000111"}, nil},            // 馬克杯
		{nil, []string{"1000103", "1000108"}}, // 贈品, in the reasons
		{[]string{"1000111"}, nil},            // 藍, the dropped variant
		{[]string{"1000101"}, nil},            // a SKU
	} {
		s := states[i+1]
		if !slices.Equal(s.Products, want.products) || !slices.Equal(s.Excluded, want.excluded) {
			t.Errorf("step %d: products %q, excluded %q; want %q, %q", i+1, s.Products, s.Excluded, want.products, want.excluded)
		}
	}
	if s := states[2]; s.Status != "Nothing matches." {
		t.Errorf("status with no product matching = %q", s.Status)
	}
	if s := states[5]; len(s.Products) != 5 || len(s.Excluded) != 7 {
		t.Errorf("the box emptied: %d products and %d excluded shown, want all", len(s.Products), len(s.Excluded))
	}
}

// TestPreviewPagesInBrowser: 120 products show 50 at a time, with a pager
// that reaches the last, and a search narrows them to one page.
func TestPreviewPagesInBrowser(t *testing.T) {
	chromium := findChromium(t)
	c := &Catalog{CatalogInfo: CatalogInfo{Title: "shop", ShopURL: "https://shop.example.com", Currency: "TWD"}}
	for i := range 120 {
		id := fmt.Sprint(1000 + i)
		c.Products = append(c.Products, CatalogProduct{ID: id, Name: "商品 " + id, Link: "https://shop.example.com/products/p" + id,
			Images: []string{"https://cdn.example.com/" + id + ".jpg"}, Items: []Item{{ID: "5" + id, Price: "100", Availability: InStock}}})
	}
	states := runHarness(t, chromium, writePreview(t, c, false), `click(".next"), click(".next"), click(".prev"), type("商品 111")`)
	for i, want := range []struct {
		first, last string
		n           int
		pages       string
	}{
		{"1000", "1049", 50, "page 1 of 3"},
		{"1050", "1099", 50, "page 2 of 3"},
		{"1100", "1119", 20, "page 3 of 3 last"},
		{"1050", "1099", 50, "page 2 of 3"},
		{"1110", "1119", 10, ""},
	} {
		s := states[i]
		if len(s.Products) != want.n || s.Products[0] != want.first || s.Products[len(s.Products)-1] != want.last || s.Pages[0] != want.pages || s.Pages[1] != want.pages {
			t.Errorf("step %d: %d products %s…%s, pagers %q; want %d, %s…%s, %q", i, len(s.Products), s.Products[0], s.Products[len(s.Products)-1], s.Pages, want.n, want.first, want.last, want.pages)
		}
	}
	if s := states[0]; s.Status != "1–50 of 120 matching products (120 in all)" {
		t.Errorf("status = %q", s.Status)
	}
}

func dumpDOM(t testing.TB, chromium, target, dir string, budget int) string {
	t.Helper()
	out, err := runChromium(chromium, target, dir, budget, "--dump-dom")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runChromium loads target in headless Chromium, with no network, and
// returns what the output flag (--dump-dom, --screenshot=…) writes to
// stdout once the page has loaded and, with a budget, after that many ms
// of the page's own time (timers included).
func runChromium(chromium, target, dir string, budget int, output string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--no-zygote", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + filepath.Join(dir, "profile"), output}
	if budget > 0 {
		args = append(args, fmt.Sprintf("--virtual-time-budget=%d", budget))
	}
	cmd := exec.CommandContext(ctx, chromium, append(args, target)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("chromium: %w\n%s", err, stderr.Bytes())
	}
	return string(out), nil
}

// benchHarness times the page at its first page drawn, then each
// keystroke of benchQueries typed and deleted, as the search runs on Enter
// (at once, not after the pause of typing), including the layout of what
// it draws; it writes the figures into a <pre id="bench">.
const benchHarness = `(function () {
  void document.body.offsetHeight;
  var loaded = performance.now(), q = document.getElementById("q"), keys = [];
  function key(v) {
    var t = performance.now();
    q.value = v;
    q.dispatchEvent(new Event("input"));
    q.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}));
    void document.body.offsetHeight;
    keys.push(performance.now() - t);
  }
  %s.forEach(function (s) {
    for (var i = 1; i <= s.length; i++) key(s.slice(0, i));
    for (i = s.length - 1; i >= 0; i--) key(s.slice(0, i));
  });
  var out = document.createElement("pre");
  out.id = "bench";
  out.textContent = JSON.stringify({load: loaded, keys: keys});
  document.body.appendChild(out);
})();`

// benchQueries are typed into the box: the first keystrokes match every
// product, the last few one.
var benchQueries = []string{"商品 4321", "sku-5012345"}

// BenchmarkPreviewBrowser100k opens the private preview of the generated
// 100k-product export (80k in the catalog, 20k excluded) in headless
// Chromium, and reports the pages' sizes, the time until the first page
// of products is laid out (load-ms, from the start of the navigation),
// the time a screenshot of the page takes more than one of a blank page
// (browser-ms: load, layout and paint), and the time per keystroke in the
// search box, mean and most. Not part of the normal test run:
//
//	go test ./feedgen -run '^$' -bench PreviewBrowser100k -benchtime 1x
func BenchmarkPreviewBrowser100k(b *testing.B) {
	chromium := findChromium(b)
	cfg := DefaultConfig()
	cfg.Export, cfg.Out, cfg.ShopURL = benchExports(b)[false], tempdir.New(b), sampleShop
	cfg.Report = cfg.Out + "-report"
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt, Force: true}); err != nil {
		b.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(cfg.Report, previewFile))
	if err != nil {
		b.Fatal(err)
	}
	public, err := os.Stat(filepath.Join(cfg.Out, publicPreviewFile))
	if err != nil {
		b.Fatal(err)
	}
	queries, err := json.Marshal(benchQueries)
	if err != nil {
		b.Fatal(err)
	}
	dir := tempdir.New(b)
	timed, plain, blank := filepath.Join(dir, "timed.html"), filepath.Join(dir, "index.html"), filepath.Join(dir, "blank.html")
	for name, content := range map[string]string{
		timed: withScript(string(page), fmt.Sprintf(benchHarness, queries)),
		plain: string(page),
		blank: "<!DOCTYPE html><title>blank</title>",
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	screenshot := "--screenshot=" + filepath.Join(dir, "shot.png")
	for b.Loop() {
		var took [2]time.Duration
		for i, target := range []string{blank, plain} {
			start := time.Now()
			if _, err := runChromium(chromium, "file://"+filepath.ToSlash(target), dir, 0, screenshot); err != nil {
				b.Fatal(err)
			}
			took[i] = time.Since(start)
		}
		dom, err := runChromium(chromium, "file://"+filepath.ToSlash(timed), dir, 0, "--dump-dom")
		if err != nil {
			b.Fatal(err)
		}
		m := regexp.MustCompile(`<pre id="bench">(.*?)</pre>`).FindStringSubmatch(dom)
		if m == nil {
			b.Fatal("the page wrote no timings")
		}
		var got struct {
			Load float64
			Keys []float64
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
			b.Fatal(err)
		}
		var sum, most float64
		for _, k := range got.Keys {
			sum += k
			most = max(most, k)
		}
		b.ReportMetric(float64(len(page))/1e6, "MB")
		b.ReportMetric(float64(public.Size())/1e6, "public-MB")
		b.ReportMetric(got.Load, "load-ms")
		b.ReportMetric(float64((took[1] - took[0]).Milliseconds()), "browser-ms")
		b.ReportMetric(sum/float64(len(got.Keys)), "key-ms")
		b.ReportMetric(most, "max-key-ms")
	}
}

// TestPreviewShopPrefix: the shop's product address is left out of each
// link as the catalog writes the links, https and the host in ASCII,
// whatever shop_url says.
func TestPreviewShopPrefix(t *testing.T) {
	c := &Catalog{CatalogInfo: CatalogInfo{ShopURL: "http://商店.example.com/"}}
	link := productLinkOf(t, "http://商店.example.com", "mug")
	c.Products = []CatalogProduct{{ID: "1", Name: "mug", Link: link, Items: []Item{{ID: "2", Price: "100", Availability: InStock}}}}
	page := writePreview(t, c, false)
	if strings.Contains(page, link) || !strings.Contains(page, `"https://xn--`) {
		t.Errorf("the page writes the link %s in full, or not the shop's address once in ASCII", link)
	}
}

func productLinkOf(t *testing.T, shop, handle string) string {
	t.Helper()
	link, err := productLink(shop, handle)
	if err != nil {
		t.Fatal(err)
	}
	return link
}
