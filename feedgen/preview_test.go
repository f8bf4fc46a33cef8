package feedgen

import (
	"bufio"
	"bytes"
	"context"
	"html"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"feedgen/internal/tempdir"
)

// hostileCatalog has product text that tries to run script in the preview.
func hostileCatalog() *Catalog {
	item := func(id string) []Item {
		return []Item{{ID: id, Title: "x", Price: "100", Availability: InStock}}
	}
	return &Catalog{
		CatalogInfo: CatalogInfo{Title: `<script>document.body.setAttribute("data-pwned","title")</script>`, Currency: "TWD", At: time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)},
		Products: []CatalogProduct{
			{ID: "1000101", Name: "經典白T", Description: "純棉", Images: []string{"https://cdn.example.com/a.jpg"}, Items: item("1000101")},
			{ID: "1000102", Name: `<img src=x onerror="document.body.setAttribute('data-pwned','img')">馬克杯`,
				Description: `</p><script>document.body.setAttribute("data-pwned","desc")</script>`,
				Images:      []string{`https://cdn.example.com/b.jpg"><script>document.body.setAttribute("data-pwned","src")</script>`}, Items: item("1000102")},
			{ID: "1000103", Name: "陶瓷馬克杯", Description: "白", Images: []string{"https://cdn.example.com/c.jpg"}, Items: item("1000103")},
		},
		Excluded: []Exclusion{{ID: "1000104", Name: `"><script>document.body.setAttribute("data-pwned","excluded")</script>`, Row: 7,
			Reasons: []Reason{{Code: ReasonNotPublic, Message: `<svg onload="document.body.setAttribute('data-pwned','reason')">`}}}},
	}
}

func TestPreviewEscapesProductText(t *testing.T) {
	var buf bytes.Buffer
	if err := writeAll(&buf, hostileCatalog(), "", feedOptions{}, publicPreview); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("page has %d <script> tags, want only its own", n)
	}
	for _, bad := range []string{"<img src=x", "<svg", `"><script`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(page, "script-src &#39;sha256-") {
		t.Error("page has no Content-Security-Policy limiting scripts to its own")
	}
}

// TestPreviewInBrowser opens the preview in headless Chromium: the page
// loads, counts the products, the search box filters (through a #q=
// fragment, which runs the same filter as typing), and no script from the
// data runs. CI installs Chromium and sets FEEDGEN_REQUIRE_BROWSER=1 so the
// test cannot be skipped there.
func TestPreviewInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FEEDGEN_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not found, and FEEDGEN_REQUIRE_BROWSER is set")
		}
		t.Skip("chromium not installed")
	}
	dir := tempdir.New(t)
	page := filepath.Join(dir, "index.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeAll(f, hostileCatalog(), "", feedOptions{}, publicPreview); err != nil {
		t.Fatal(err)
	}
	f.Close()
	shown := regexp.MustCompile(`<span id="shown">(\d+)</span>`)
	pwned := regexp.MustCompile(`<body[^>]*data-pwned`)
	for _, tc := range []struct {
		fragment string
		want     string
		visible  []string
	}{
		{"", "3", []string{"1000101", "1000102", "1000103"}},
		{"#q=" + url.PathEscape("馬克杯"), "2", []string{"1000102", "1000103"}},
		{"#q=1000101", "1", []string{"1000101"}},
		{"#q=nothing-matches", "0", nil},
	} {
		dom := dumpDOM(t, chromium, "file://"+filepath.ToSlash(page)+tc.fragment, dir)
		if pwned.MatchString(dom) {
			t.Fatalf("%s: a script from the product data ran", tc.fragment)
		}
		m := shown.FindStringSubmatch(dom)
		if m == nil || m[1] != tc.want {
			t.Errorf("%q: shown count = %v, want %s", tc.fragment, m, tc.want)
		}
		for _, id := range []string{"1000101", "1000102", "1000103"} {
			hidden := regexp.MustCompile(`<article class="product"[^>]*hidden[^>]*>\s*<img[^>]*>\s*<h2>[^<]*</h2>\s*<p class="pid">PID ` + id)
			wantVisible := false
			for _, v := range tc.visible {
				wantVisible = wantVisible || v == id
			}
			if hidden.MatchString(dom) == wantVisible {
				t.Errorf("%q: product %s visible = %v, want %v", tc.fragment, id, !wantVisible, wantVisible)
			}
		}
	}
}

func dumpDOM(t *testing.T, chromium, target, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=2000", "--dump-dom", target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
	}
	return string(out)
}

// FuzzPreviewEscape: the preview's escaping writes what html.EscapeString
// returns.
func FuzzPreviewEscape(f *testing.F) {
	for _, s := range []string{"", "a&b", `<script>"x"</script>`, "'", "紅&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		pv := &preview{bw: bufio.NewWriter(&buf)}
		pv.escape(s)
		pv.bw.Flush()
		if got, want := buf.String(), html.EscapeString(s); got != want {
			t.Errorf("escape(%q) = %q, want %q", s, got, want)
		}
	})
}

// publicPreview opens the public preview as writeAll opens a feed.
func publicPreview(w io.Writer, info *CatalogInfo, _ feedOptions) (feedWriter, error) {
	return newPreview(w, info, false)
}
