package feedgen

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"feedgen/internal/tempdir"
)

// testHandler serves dir with a fake clock and records triggered runs.
func testHandler(t *testing.T, dir string) (*catalogHandler, *clockwork.FakeClock, chan string) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 0, 0, 0, taipei(t)))
	triggered := make(chan string, 10)
	h := &catalogHandler{
		dir:      dir,
		files:    []string{"index.html", "report.bin", "catalog.xml", "products.json", "feed.tsv", "feed.txt", "feed.csv"},
		status:   &runStatus{},
		nextRun:  func() time.Time { return time.Date(2026, 11, 23, 16, 45, 0, 0, taipei(t)) },
		trigger:  func(reason string) { triggered <- reason },
		clock:    clock,
		interval: time.Hour,
		log:      slog.New(newLogSink(t).handler()),
	}
	t.Cleanup(h.close)
	return h, clock, triggered
}

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeGeneration commits files to dir as a run does: each with its gzip
// copy, under a manifest.
func writeGeneration(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	o := &catalogOutput{dir: dir, report: dir}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := o.create(dir, name, true, nil)
		if err == nil {
			_, err = f.sink.Write([]byte(files[name]))
		}
		if err == nil {
			err = f.finish()
		}
		if err != nil {
			o.abort()
			t.Fatal(err)
		}
	}
	if err := o.commitFolder(dir, time.Time{}); err != nil {
		o.abort()
		t.Fatal(err)
	}
}

const catalogXML = `<?xml version="1.0" encoding="UTF-8"?><rss><channel><item><g:id>1</g:id></item></channel></rss>` + "\n"

func TestServeConditionalGET(t *testing.T) {
	skipOnWine(t, "it refuses a rename over a file open with delete sharing, which Windows allows")
	dir := tempdir.New(t)
	writeGeneration(t, dir, map[string]string{"catalog.xml": catalogXML})
	h, _, _ := testHandler(t, dir)

	first := get(t, h, "/catalog.xml")
	if first.StatusCode != http.StatusOK || body(t, first) != catalogXML {
		t.Fatalf("GET /catalog.xml = %d, want 200 with the file", first.StatusCode)
	}
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if etag == "" || modified == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want both", etag, modified)
	}
	if resp := get(t, h, "/catalog.xml", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	if resp := get(t, h, "/catalog.xml", "If-Modified-Since", modified); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: status %d, want 304", resp.StatusCode)
	}

	writeGeneration(t, dir, map[string]string{"catalog.xml": strings.Replace(catalogXML, ">1<", ">2<", 1)})
	resp := get(t, h, "/catalog.xml", "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), ">2<") {
		t.Errorf("after replacement: status %d, want 200 with the new catalog", resp.StatusCode)
	}
	if resp.Header.Get("ETag") == etag {
		t.Error("ETag did not change with the content")
	}
}

func TestServeGzip(t *testing.T) {
	dir := tempdir.New(t)
	writeGeneration(t, dir, map[string]string{"catalog.xml": catalogXML})
	h, _, _ := testHandler(t, dir)
	h.files = append(h.files, gzipName("catalog.xml"))

	plain := get(t, h, "/catalog.xml")
	resp := get(t, h, "/catalog.xml", "Accept-Encoding", "br, gzip;q=0.8")
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary = %q, want Accept-Encoding", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type = %q, want the catalog's type, not gzip's", got)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unzipped) != catalogXML {
		t.Errorf("gunzipped body = %q, want the catalog", unzipped)
	}
	etag := resp.Header.Get("ETag")
	if etag == plain.Header.Get("ETag") {
		t.Errorf("gzip and identity share ETag %s", etag)
	}
	if again := get(t, h, "/catalog.xml", "Accept-Encoding", "gzip", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Errorf("conditional gzip GET: status %d, want 304", again.StatusCode)
	}

	for _, ae := range []string{"", "gzip;q=0", "identity", "br"} {
		resp := get(t, h, "/catalog.xml", "Accept-Encoding", ae)
		if resp.Header.Get("Content-Encoding") != "" || body(t, resp) != catalogXML {
			t.Errorf("Accept-Encoding %q: got an encoded body", ae)
		}
	}

	// The stored copy itself, for a client that asks for the .gz address.
	gz := get(t, h, "/catalog.xml.gz", "Accept-Encoding", "gzip")
	stored, err := os.ReadFile(filepath.Join(dir, "catalog.xml.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, gz); gz.StatusCode != http.StatusOK || got != string(stored) ||
		gz.Header.Get("Content-Type") != "application/gzip" || gz.Header.Get("Content-Encoding") != "" {
		t.Errorf("GET /catalog.xml.gz: status %d, %s, Content-Encoding %q; want 200 with the stored file as application/gzip",
			gz.StatusCode, gz.Header.Get("Content-Type"), gz.Header.Get("Content-Encoding"))
	}
}

func TestServeContentTypes(t *testing.T) {
	dir := tempdir.New(t)
	tests := map[string]string{
		"catalog.xml":   "application/xml; charset=utf-8",
		"products.json": "application/json",
		"feed.tsv":      "text/tab-separated-values; charset=utf-8",
		"feed.txt":      "text/plain; charset=utf-8",
		"feed.csv":      "text/csv; charset=utf-8",
		"index.html":    "text/html; charset=utf-8",
		"report.bin":    "application/octet-stream",
	}
	files := map[string]string{}
	for name := range tests {
		files[name] = "x\n"
	}
	writeGeneration(t, dir, files)
	h, _, _ := testHandler(t, dir)
	for name, want := range tests {
		resp := get(t, h, "/"+name)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: status %d", name, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); got != want {
			t.Errorf("GET /%s: Content-Type %q, want %q", name, got, want)
		}
	}
}

func TestServeRefreshLimit(t *testing.T) {
	h, clock, triggered := testHandler(t, tempdir.New(t))
	post := func() *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/refresh", nil))
		return rec.Result()
	}

	if resp := post(); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first refresh: status %d, want 202", resp.StatusCode)
	}
	if got := receive(t, triggered, "refresh run"); got != "http refresh" {
		t.Errorf("trigger reason = %q", got)
	}
	for _, tt := range []struct {
		advance    time.Duration
		retryAfter string
	}{
		{0, "3600"},
		{20*time.Minute + 500*time.Millisecond, "2400"}, // rounded up
		{39*time.Minute + 59*time.Second, "1"},
	} {
		clock.Advance(tt.advance)
		resp := post()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != tt.retryAfter {
			t.Errorf("refresh too soon: status %d, Retry-After %q; want 429, %s",
				resp.StatusCode, resp.Header.Get("Retry-After"), tt.retryAfter)
		}
	}
	if len(triggered) != 0 {
		t.Error("a refused refresh triggered a run")
	}
	clock.Advance(time.Second)
	if resp := post(); resp.StatusCode != http.StatusAccepted {
		t.Errorf("refresh after the interval: status %d, want 202", resp.StatusCode)
	}
	if resp := get(t, h, "/refresh"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /refresh: status %d, want 405", resp.StatusCode)
	}
}

func TestServeRejectsTraversal(t *testing.T) {
	root := tempdir.New(t)
	dir := filepath.Join(root, "public")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const secret = "SECRET"
	writeFile(t, filepath.Join(root, "secret.txt"), []byte(secret))
	writeGeneration(t, dir, map[string]string{"catalog.xml": catalogXML})
	for _, name := range []string{".env", ".catalog.xml.tmp-1", "catalog.xml.tmp", "~$export.xlsx", "catalog"} {
		writeFile(t, filepath.Join(dir, name), []byte(secret))
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"relative.txt": filepath.Join("..", "secret.txt"),
		"absolute.txt": filepath.Join(root, "secret.txt"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("cannot create symlinks here: %v", err)
		}
	}
	h, _, _ := testHandler(t, dir)
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := map[string]int{
		"/catalog.xml":                          http.StatusOK,
		"/../secret.txt":                        http.StatusBadRequest,
		"/../x":                                 http.StatusBadRequest,
		"/%2e%2e/":                              http.StatusBadRequest,
		"/%2e%2e/secret.txt":                    http.StatusBadRequest,
		"/..%2fsecret.txt":                      http.StatusBadRequest,
		"/..%2Fx":                               http.StatusBadRequest,
		"/%2e%2e%2fsecret.txt":                  http.StatusBadRequest,
		"/..%5csecret.txt":                      http.StatusBadRequest,
		"/..":                                   http.StatusBadRequest,
		"//etc/passwd":                          http.StatusBadRequest,
		"/" + filepath.Join(root, "secret.txt"): http.StatusBadRequest,
		"/C:/Windows/win.ini":                   http.StatusBadRequest,
		"/catalog.xml%00.txt":                   http.StatusBadRequest,
		"/relative.txt":                         http.StatusNotFound,
		"/absolute.txt":                         http.StatusNotFound,
		"/.env":                                 http.StatusNotFound,
		"/%2eenv":                               http.StatusNotFound,
		"/.catalog.xml.tmp-1":                   http.StatusNotFound,
		"/catalog.xml.tmp":                      http.StatusNotFound,
		"/~$export.xlsx":                        http.StatusNotFound,
		"/catalog":                              http.StatusNotFound,
		"/sub.d":                                http.StatusNotFound,
		"/missing.xml":                          http.StatusNotFound,
		"/":                                     http.StatusNotFound,
	}
	for target, want := range tests {
		resp := rawGET(t, srv.Listener.Addr().String(), target)
		got := body(t, resp)
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", target, resp.StatusCode, want)
		}
		if strings.Contains(got, secret) {
			t.Errorf("GET %s: leaked a file that must not be served", target)
		}
	}
}

// rawGET sends target exactly as written: an HTTP client would clean or
// re-encode some of the paths under test.
func rawGET(t *testing.T, addr, target string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: catalog\r\nConnection: close\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return resp
}

func TestServeHealthz(t *testing.T) {
	h, _, _ := testHandler(t, tempdir.New(t))
	taipei := taipei(t)
	finished := time.Date(2026, 11, 23, 4, 46, 0, 0, taipei)
	tests := []struct {
		name       string
		record     func()
		wantStatus int
		want       health
	}{
		{"Never", func() {}, http.StatusOK, health{Result: "never"}},
		{"OK", func() { h.status.record(finished, RunReport{Items: 42}, nil) }, http.StatusOK,
			health{Time: finished, Result: "ok", Items: 42}},
		{"Failed", func() { h.status.record(finished, RunReport{}, errors.New("read export: workbook is damaged")) },
			http.StatusServiceUnavailable,
			health{Time: finished, Result: "failed", Error: "read export: workbook is damaged"}},
		{"Retrying", func() {
			h.status.record(finished, RunReport{}, errors.New("catalog.csv is held open by another program"))
			h.status.expect(finished.Add(time.Minute), false)
		}, http.StatusServiceUnavailable,
			health{Time: finished, Result: "failed", Error: "catalog.csv is held open by another program", RetryAt: finished.Add(time.Minute)}},
		{"AwaitingExport", func() {
			h.status.record(finished, RunReport{}, errors.New("read export: workbook is damaged"))
			h.status.expect(time.Time{}, true)
		}, http.StatusServiceUnavailable,
			health{Time: finished, Result: "failed", Error: "read export: workbook is damaged", AwaitingExport: true}},
		{"OKAfterFailure", func() { h.status.record(finished, RunReport{Items: 42}, nil) }, http.StatusOK,
			health{Time: finished, Result: "ok", Items: 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.record()
			resp := get(t, h, "/healthz")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			var got health
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			tt.want.NextRun = time.Date(2026, 11, 23, 16, 45, 0, 0, taipei)
			if !got.Time.Equal(tt.want.Time) || !got.NextRun.Equal(tt.want.NextRun) ||
				got.Result != tt.want.Result || got.Error != tt.want.Error || got.Items != tt.want.Items ||
				!got.RetryAt.Equal(tt.want.RetryAt) || got.AwaitingExport != tt.want.AwaitingExport {
				t.Errorf("healthz = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestServeThroughDaemon drives the real listener: a refresh runs the
// pipeline, and /healthz and the catalog reflect it.
func TestServeThroughDaemon(t *testing.T) {
	out := tempdir.New(t)
	writeGeneration(t, out, map[string]string{"catalog.xml": catalogXML})
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Listen:  "127.0.0.1:0",
		Run: func(context.Context, string) (RunReport, error) {
			return RunReport{Items: 7}, nil
		},
	})
	base := "http://" + h.logs.httpAddr(t)
	client := &http.Client{Timeout: waitLimit}

	if got := h.health(t); got.Result != "never" || got.NextRun.IsZero() {
		t.Errorf("healthz before any run = %+v, want never with a next run", got)
	}
	resp, err := client.Post(base+"/refresh", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /refresh: status %d, want 202", resp.StatusCode)
	}
	h.logs.waitFor(t, "run finished")
	if got := h.health(t); got.Result != "ok" || got.Items != 7 {
		t.Errorf("healthz after the run = %+v, want ok with 7 items", got)
	}
	resp, err = client.Get(base + "/catalog.xml")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); resp.StatusCode != http.StatusOK || got != catalogXML {
		t.Errorf("GET /catalog.xml: status %d, body %q", resp.StatusCode, got)
	}
	resp.Body.Close()
}

// TestServeOnlyTheCatalog: with the export and the config in the output
// folder (a setup the config now refuses, but files get copied there), the
// server hands out the catalog files and nothing else.
func TestServeOnlyTheCatalog(t *testing.T) {
	dir := tempdir.New(t)
	writeGeneration(t, dir, map[string]string{"catalog.xml": catalogXML})
	for _, name := range []string{"商品匯出.xlsx", "feedgen.toml", "report.json", "index.html"} {
		writeFile(t, filepath.Join(dir, name), []byte(catalogXML))
	}
	h, _, _ := testHandler(t, dir)
	h.files = publicFiles(&Config{Feeds: DefaultFeeds(), Preview: true})
	if resp := get(t, h, "/catalog.xml"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /catalog.xml = %d, want 200", resp.StatusCode)
	}
	for _, name := range []string{"商品匯出.xlsx", "feedgen.toml", "report.json", "index.html"} {
		if resp := get(t, h, "/"+url.PathEscape(name)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /%s = %d, want 404", name, resp.StatusCode)
		}
	}
}

// TestServeCapsConnections: clients that connect and send nothing hold at
// most maxConnections connections; the next client waits for one of them
// to go, rather than the server opening file descriptors without bound.
func TestServeCapsConnections(t *testing.T) {
	old := maxConnections
	maxConnections = 2
	t.Cleanup(func() { maxConnections = old })
	out := tempdir.New(t)
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Listen:  "127.0.0.1:0",
		Run:     func(context.Context, string) (RunReport, error) { return RunReport{}, nil },
	})
	addr := h.logs.httpAddr(t)
	var idle []net.Conn
	for range maxConnections {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /healthz with %d idle connections open = %d, want it to wait", maxConnections, resp.StatusCode)
	}
	idle[0].Close()
	client.Timeout = waitLimit
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz once a connection closed: %v", err)
	}
	resp.Body.Close()
}

// TestServeValidatorsFollowContent: two catalogs published within one
// second answer a client holding the first with the second, whether it
// asks with If-None-Match or If-Modified-Since.
func TestServeValidatorsFollowContent(t *testing.T) {
	skipOnWine(t, "it refuses a rename over a file open with delete sharing, which Windows allows")
	out := filepath.Join(tempdir.New(t), "public")
	h, _, _ := testHandler(t, out)
	h.files = []string{"catalog.xml", "products.json"}
	if err := writeCatalog(out, testCatalog(3), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatal(err)
	}
	first := get(t, h, "/catalog.xml")
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if err := writeCatalog(out, testCatalog(4), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatal(err)
	}
	for _, hdr := range [][2]string{{"If-None-Match", etag}, {"If-Modified-Since", modified}} {
		resp := get(t, h, "/catalog.xml", hdr[0], hdr[1])
		if n, _ := countXMLItems(resp.Body); resp.StatusCode != http.StatusOK || n != 4 {
			t.Errorf("%s of the first catalog: status %d, want 200 with the second", hdr[0], resp.StatusCode)
		}
	}
	// The same content again is the same tag, even rewritten.
	second := get(t, h, "/catalog.xml").Header.Get("ETag")
	if err := writeCatalog(out, testCatalog(4), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatal(err)
	}
	if got := get(t, h, "/catalog.xml").Header.Get("ETag"); got != second {
		t.Errorf("ETag of the same content rewritten = %s, want %s", got, second)
	}
}

// TestServeRefreshAuth: with a token, /refresh needs it; without one, a
// server listening beyond this computer takes /refresh only from it.
func TestServeRefreshAuth(t *testing.T) {
	post := func(h *catalogHandler, remote, auth string) int {
		req := httptest.NewRequest(http.MethodPost, "/refresh", nil)
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, c := range []struct {
		name, token  string
		localOnly    bool
		remote, auth string
		want         int
	}{
		{"token given", "s3cret", false, "203.0.113.5:4000", "Bearer s3cret", http.StatusAccepted},
		{"token missing", "s3cret", false, "127.0.0.1:4000", "", http.StatusUnauthorized},
		{"token wrong", "s3cret", false, "203.0.113.5:4000", "Bearer s3cre", http.StatusUnauthorized},
		{"not bearer", "s3cret", false, "203.0.113.5:4000", "Basic czNjcmV0", http.StatusUnauthorized},
		{"no token, from the network", "", true, "203.0.113.5:4000", "", http.StatusForbidden},
		{"no token, from this computer", "", true, "127.0.0.1:4000", "", http.StatusAccepted},
		{"no token, from this computer over IPv6", "", true, "[::1]:4000", "", http.StatusAccepted},
		{"no token, listening on loopback", "", false, "203.0.113.5:4000", "", http.StatusAccepted},
	} {
		h, _, _ := testHandler(t, tempdir.New(t))
		h.token, h.localOnly = c.token, c.localOnly
		if got := post(h, c.remote, c.auth); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "[::ffff:127.0.0.1]:1": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.5:8080": false, "shop.local:8080": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestServeWarnsOfOpenRefresh: a daemon listening beyond this computer
// without a refresh token says at start that /refresh is local only.
func TestServeWarnsOfOpenRefresh(t *testing.T) {
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  tempdir.New(t),
		Catalog: []string{"catalog.xml"},
		Listen:  "0.0.0.0:0",
		Run:     func(context.Context, string) (RunReport, error) { return RunReport{}, nil },
	})
	h.logs.waitSeen(t, "POST /refresh is accepted only from this computer; set refresh_token (or FEEDGEN_REFRESH_TOKEN) to allow it from the network")
}

// TestServeOneGenerationAtATime: while a commit renames new files over the
// old, the server keeps answering from the old generation, and it never
// answers a request from an older generation than one before it, whichever
// file is asked for.
func TestServeOneGenerationAtATime(t *testing.T) {
	skipOnWine(t, "it refuses a rename over a file open with delete sharing, which Windows allows")
	dir, _, after := interruptedCommit(t, 2) // catalog.xml and its .gz are new, the rest old
	h, _, _ := testHandler(t, dir)
	h.files = publicFiles(&Config{Feeds: DefaultFeeds()})
	// A server that loaded the old generation before the commit began is
	// what interruptedCommit cannot give; one started mid-commit has no
	// generation it can prove whole, and says 404 rather than mix.
	if resp := get(t, h, "/products.json"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("mid-commit, with nothing loaded before: status %d, want 404", resp.StatusCode)
	}
	if _, err := recoverCommit(dir); err != nil {
		t.Fatal(err)
	}
	if got := body(t, get(t, h, "/catalog.xml")); got != after["catalog.xml"] {
		t.Error("after the commit the server did not switch to the new generation")
	}

	// Runs commit generation after generation of growing size while a
	// client asks for one file and then the other.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 5; n < 25; n++ {
			if err := writeCatalog(dir, testCatalog(n), DefaultFeeds(), 0.5, true); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	last, requests := 0, 0
	for running := true; running; requests++ {
		select {
		case <-done:
			running = false
		default:
		}
		for _, name := range []string{"catalog.xml", "products.json"} {
			count := countXMLItems
			if name == "products.json" {
				count = countJSONItems
			}
			resp := get(t, h, "/"+name)
			n, err := count(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /%s: status %d, %v", name, resp.StatusCode, err)
			}
			if n < last {
				t.Fatalf("request %d: /%s has %d items after a request answered with %d: an older generation", requests, name, n, last)
			}
			last = n
		}
	}
	if last != 24 {
		t.Errorf("the last request got %d items, want the last generation's 24", last)
	}
}

// TestServeHealthzReportsServedCatalog: after a failed run /healthz still
// says which catalog is being served.
func TestServeHealthzReportsServedCatalog(t *testing.T) {
	dir := filepath.Join(tempdir.New(t), "public")
	if err := writeCatalog(dir, testCatalog(3), DefaultFeeds(), 0.5, false); err != nil {
		t.Fatal(err)
	}
	h, clock, _ := testHandler(t, dir)
	h.files = publicFiles(&Config{Feeds: DefaultFeeds()})
	h.status.record(clock.Now(), RunReport{}, errors.New("export damaged"))
	var got health
	if err := json.NewDecoder(get(t, h, "/healthz").Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Result != "failed" || got.Serving == nil || got.Serving.Items != 3 || !got.Serving.Generated.Equal(testCatalog(3).At) {
		t.Errorf("healthz = %+v (serving %+v), want failed while serving 3 items generated %s", got, got.Serving, testCatalog(3).At)
	}
}

// BenchmarkServe32Clients: 32 clients fetch a 100k-item catalog at once,
// gzip and identity alike; the server sends the bytes the run stored.
func BenchmarkServe32Clients(b *testing.B) {
	dir := filepath.Join(tempdir.New(b), "public")
	if err := writeCatalog(dir, testCatalog(100_000), DefaultFeeds(), 0.5, false); err != nil {
		b.Fatal(err)
	}
	h := &catalogHandler{dir: dir, files: publicFiles(&Config{Feeds: DefaultFeeds()}), status: &runStatus{},
		nextRun: time.Now, clock: clockwork.NewRealClock(), log: slog.New(slog.DiscardHandler)}
	defer h.close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 32}}
	fetch := func(encoding string) int64 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/catalog.xml", nil)
		req.Header.Set("Accept-Encoding", encoding)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		return n
	}
	plain, zipped := fetch("identity"), fetch("gzip")
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Go(func() {
				if i%2 == 0 {
					fetch("gzip")
				} else {
					fetch("identity")
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(plain)/1e6, "MB-identity")
	b.ReportMetric(float64(zipped)/1e6, "MB-gzip")
}

// TestLoadGenerationDuringCommit: a commit that begins while the server
// opens a generation's files makes the load fail, keeping the generation
// served before; a commit already begun does too.
func TestLoadGenerationDuringCommit(t *testing.T) {
	files := publicFiles(&Config{Feeds: DefaultFeeds()})
	dir, _, _ := interruptedCommit(t, 0)
	if _, err := loadGeneration(dir, files); !errors.Is(err, errCommitting) {
		t.Errorf("loadGeneration with a journal = %v, want errCommitting", err)
	}
	if _, err := recoverCommit(dir); err != nil {
		t.Fatal(err)
	}
	for name, commit := range map[string]func(){
		"a whole commit": func() {
			if err := writeCatalog(dir, testCatalog(9), DefaultFeeds(), 0.5, true); err != nil {
				t.Error(err)
			}
		},
		// Its renames may come at any moment after the files were opened.
		"the start of a commit": func() {
			m, err := readManifest(dir)
			if err == nil {
				err = writeJournal(dir, m)
			}
			if err != nil {
				t.Error(err)
			}
		},
	} {
		restore := swap(&midLoad, commit)
		if g, err := loadGeneration(dir, files); !errors.Is(err, errCommitting) {
			t.Errorf("loadGeneration across %s = %+v, %v; want errCommitting", name, g, err)
		}
		restore()
		os.Remove(filepath.Join(dir, journalFile))
	}
}
