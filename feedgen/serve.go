package feedgen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"feedgen/internal/redact"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// maxConnections bounds the connections the HTTP server holds open at
// once; tests lower it.
var maxConnections = 64

// httpServer returns the server for Listen. The timeouts keep slow or idle
// clients from holding connections; writes get longer because a catalog
// can be several megabytes on a slow uplink.
func (s *daemon) httpServer() *http.Server {
	return &http.Server{
		Handler: &catalogHandler{
			dir:       s.OutDir,
			files:     s.Catalog,
			status:    &s.status,
			nextRun:   s.nextRun,
			trigger:   s.trigger,
			clock:     s.Clock,
			interval:  s.RefreshInterval,
			token:     s.RefreshToken,
			localOnly: s.refreshLocalOnly(),
			log:       s.log.With("component", "http"),
		},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// catalogHandler serves the catalog files of the output folder, GET /healthz and
// POST /refresh.
//
// It does its own routing: http.ServeMux would answer a path containing
// ".." with a redirect to the cleaned path, and such requests should get a
// plain error instead.
type catalogHandler struct {
	dir string
	// files are the only files served: those feedgen writes to the public
	// folder. Whatever else is in it (an export, a config) is not.
	files    []string
	status   *runStatus
	nextRun  func() time.Time
	trigger  func(reason string)
	clock    clockwork.Clock
	interval time.Duration // least time between accepted refreshes
	// token is the bearer token /refresh requires, if any; with localOnly
	// and no token, /refresh is refused to clients on other computers.
	token     string
	localOnly bool
	log       *slog.Logger

	mu          sync.Mutex
	lastRefresh time.Time
	tags        map[string]contentTag // by file name
}

// contentTag is the ETag of one version of a file, which a version's size
// and modification time identify: the catalog is replaced by rename.
type contentTag struct {
	size  int64
	mtime time.Time
	tag   string
}

func (h *catalogHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		h.health(w, r)
	case "/refresh":
		h.refresh(w, r)
	default:
		h.file(w, r)
	}
}

// health is the JSON body of /healthz. Time is when the last run ended.
type health struct {
	Time    time.Time `json:"time,omitzero"`
	Result  string    `json:"result"` // "ok", "failed" or "never"
	Error   string    `json:"error,omitempty"`
	Items   int       `json:"items"`
	NextRun time.Time `json:"next_run,omitzero"`
}

// health reports the last run; a failed one makes it 503 so that a plain
// HTTP monitor notices a catalog that stopped updating.
func (h *catalogHandler) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	finished, items, err := h.status.get()
	body := health{Time: finished, Result: "ok", Items: items, NextRun: h.nextRun()}
	code := http.StatusOK
	switch {
	case finished.IsZero():
		body.Result = "never"
	case err != nil:
		body.Result, body.Error = "failed", redact.String(err.Error())
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

// refresh requests a run, at most once per interval, since each run reads
// the whole workbook.
func (h *catalogHandler) refresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	switch {
	case h.token != "" && !bearerIs(r.Header.Get("Authorization"), h.token):
		w.Header().Set("WWW-Authenticate", `Bearer realm="feedgen"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "POST /refresh needs Authorization: Bearer <refresh_token>"})
		return
	case h.token == "" && h.localOnly && !isLoopback(r.RemoteAddr):
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "POST /refresh is only accepted from the computer feedgen runs on; set refresh_token to allow it from the network"})
		return
	}
	h.mu.Lock()
	now := h.clock.Now()
	if wait := h.lastRefresh.Add(h.interval).Sub(now); !h.lastRefresh.IsZero() && wait > 0 {
		h.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "refreshed recently; retry later"})
		return
	}
	h.lastRefresh = now
	h.mu.Unlock()
	h.log.Info("refresh requested", "remote", r.RemoteAddr)
	h.trigger("http refresh")
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "run requested"})
}

// file serves one file directly inside the output folder. Anything that
// could reach elsewhere is refused before the file system is touched, and
// os.Root refuses symbolic links that lead out of the folder.
func (h *catalogHandler) file(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	name, code := requestedFile(r)
	if code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	if !slices.Contains(h.files, name) {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		h.log.Warn("open output folder", "err", err)
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}

	// The tag is made from the content, so that two versions never share
	// one; the gzip body is a different representation and so gets its
	// own tag. Last-Modified is never reused for other content either:
	// each run leaves its files a later second than the files they replace.
	tag, err := h.contentTag(name, info, f)
	if err != nil {
		h.log.Warn("read catalog file", "file", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	var body io.ReadSeeker = f
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("Vary", "Accept-Encoding")
	hdr.Set("Cache-Control", "no-cache")
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := io.Copy(zw, f); err != nil {
			h.log.Warn("compress catalog file", "file", name, "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		if err := zw.Close(); err != nil {
			h.log.Warn("compress catalog file", "file", name, "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		body = bytes.NewReader(buf.Bytes())
		tag += "-gz"
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, name, info.ModTime(), body)
}

// requestedFile returns the file name a request asks for, or the status to
// answer with: 400 for paths that try to leave the folder, 404 for names
// that are never served (dot files, temporary files).
func requestedFile(r *http.Request) (string, int) {
	raw := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") {
		return "", http.StatusBadRequest
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case name == "":
		return "", http.StatusNotFound
	case strings.ContainsAny(name, "/\\:\x00") || !filepath.IsLocal(name):
		return "", http.StatusBadRequest
	case isHiddenOrTemp(name):
		return "", http.StatusNotFound
	}
	return name, 0
}

// contentType is fixed per extension rather than taken from the system's
// MIME tables, which differ between machines.
func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xml":
		return "application/xml; charset=utf-8"
	case ".json":
		return "application/json"
	case ".tsv":
		return "text/tab-separated-values; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}

// acceptsGzip reports whether Accept-Encoding lists gzip without q=0.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !ok {
				return true
			}
			weight, err := strconv.ParseFloat(q, 64)
			return err == nil && weight > 0
		}
	}
	return false
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	// The client may be gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// contentTag returns the ETag of the file f, hashing it on the first
// request for each version: a version is hashed once, however many
// requests it gets. It leaves f at its start.
func (h *catalogHandler) contentTag(name string, info os.FileInfo, f io.ReadSeeker) (string, error) {
	h.mu.Lock()
	t, ok := h.tags[name]
	h.mu.Unlock()
	if ok && t.size == info.Size() && t.mtime.Equal(info.ModTime()) {
		return t.tag, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := hex.EncodeToString(sum.Sum(nil)[:16])
	h.mu.Lock()
	if h.tags == nil {
		h.tags = map[string]contentTag{}
	}
	h.tags[name] = contentTag{info.Size(), info.ModTime(), tag}
	h.mu.Unlock()
	return tag, nil
}

// refreshLocalOnly reports whether POST /refresh is refused to other
// computers: without a token, when the server listens beyond this one.
func (s *daemon) refreshLocalOnly() bool { return s.RefreshToken == "" && !isLoopback(s.Listen) }

// bearerIs reports whether an Authorization header carries token, in
// constant time.
func bearerIs(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// isLoopback reports whether a host:port address (a listen address or a
// client's) is on this computer only. An empty host listens on every
// interface; a name other than localhost is taken as reachable.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
