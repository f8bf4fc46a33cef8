package feedgen

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/redact"
	"fmt"
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
			lang:      s.Lang,
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
	lang      msg.Lang // of the log's messages

	mu          sync.Mutex
	lastRefresh time.Time
	served      *servedGeneration // the generation requests get; nil before the first
	loading     sync.Mutex        // one load of a new generation at a time
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

// health is the JSON body of /healthz. Time is when the last run ended;
// Serving is the catalog the server hands out, which after a failed run is
// still the last good one. After a failure, RetryAt is when the run is
// tried again before the next scheduled one, and AwaitingExport says that
// the export was refused and scheduled runs wait for a new one.
type health struct {
	Time           time.Time      `json:"time,omitzero"`
	Result         string         `json:"result"` // "ok", "failed" or "never"
	Error          string         `json:"error,omitempty"`
	Items          int            `json:"items"`
	NextRun        time.Time      `json:"next_run,omitzero"`
	RetryAt        time.Time      `json:"retry_at,omitzero"`
	AwaitingExport bool           `json:"awaiting_export,omitempty"`
	Serving        *servedCatalog `json:"serving,omitempty"`
}

type servedCatalog struct {
	Generated time.Time `json:"generated"`
	Items     int       `json:"items"`
}

// health reports the last run; a failed one makes it 503 so that a plain
// HTTP monitor notices a catalog that stopped updating.
func (h *catalogHandler) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	last := h.status.get()
	body := health{Time: last.finished, Result: "ok", Items: last.items, NextRun: h.nextRun(),
		RetryAt: last.retryAt, AwaitingExport: last.awaitingExport}
	if g := h.acquire(); g != nil {
		body.Serving = &servedCatalog{Generated: g.generated, Items: max(g.items, 0)}
		h.release(g)
	}
	code := http.StatusOK
	switch {
	case last.finished.IsZero():
		body.Result = "never"
	case last.err != nil:
		body.Result, body.Error = "failed", redact.String(last.err.Error())
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
	h.log.Info(h.lang.T("refresh requested"), "remote", r.RemoteAddr)
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
	g := h.acquire()
	if g == nil {
		http.NotFound(w, r)
		return
	}
	defer h.release(g)
	f := g.files[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	// The tag is the content's hash, from the manifest, so that two
	// versions never share one; the gzip body is a different
	// representation and so gets its own. Last-Modified is never reused
	// for other content either: each run leaves its files a later second
	// than the files they replace.
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("Cache-Control", "no-cache")
	if f.gzip != nil {
		hdr.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			f = f.gzip
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", `"`+f.tag+`"`)
	http.ServeContent(w, r, name, f.modTime, io.NewSectionReader(f.file, 0, f.size))
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
	case ".gz":
		return "application/gzip"
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

// servedGeneration is one generation of the public folder as the server
// holds it: every file open from the moment it was loaded, so that a
// commit renaming new files over them changes nothing for the requests
// that have it. Requests switch to the next generation only once that is
// whole, so no client gets one file from one generation and the next
// file from another. Each file is compressed once, by the run that wrote
// it; the server sends the stored bytes.
type servedGeneration struct {
	files     map[string]*servedFile // by name, the gzip copies included
	manifest  os.FileInfo            // of the manifest it was loaded from
	generated time.Time
	items     int // of the first feed
	refs      int // requests using it, under catalogHandler.mu
	retired   bool
}

type servedFile struct {
	file    *os.File
	size    int64
	modTime time.Time
	tag     string
	gzip    *servedFile // the compressed form, sent for Accept-Encoding: gzip
}

// acquire returns the generation a request gets, loading a newer one when
// the folder's manifest changed, or nil when the folder has none yet. The
// caller releases it.
func (h *catalogHandler) acquire() *servedGeneration {
	h.mu.Lock()
	g := h.served
	h.mu.Unlock()
	if h.newer(g) {
		h.update()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.served != nil {
		h.served.refs++
	}
	return h.served
}

// newer reports whether the folder's manifest is another than the one g
// was loaded from; with g nil, whether there is one at all.
func (h *catalogHandler) newer(g *servedGeneration) bool {
	fi, err := os.Stat(filepath.Join(h.dir, manifestFile))
	return err == nil && (g == nil || !sameVersion(fi, g.manifest))
}

func (h *catalogHandler) release(g *servedGeneration) {
	h.mu.Lock()
	g.refs--
	done := g.retired && g.refs == 0
	h.mu.Unlock()
	if done {
		g.close()
	}
}

// close lets go of the generation served, once its requests are done: on
// Windows an open file cannot be removed.
func (h *catalogHandler) close() {
	h.mu.Lock()
	g := h.served
	h.served = nil
	done := g != nil && g.refs == 0
	if g != nil {
		g.retired = true
	}
	h.mu.Unlock()
	if done {
		g.close()
	}
}

// update loads the folder's generation and makes it the one served, when
// it is whole and newer; otherwise the current one stays.
func (h *catalogHandler) update() {
	h.loading.Lock()
	defer h.loading.Unlock()
	h.mu.Lock()
	cur := h.served
	h.mu.Unlock()
	if !h.newer(cur) {
		return // another request loaded it meanwhile
	}
	g, err := loadGeneration(h.dir, h.files)
	if err != nil {
		if !errors.Is(err, errCommitting) {
			h.log.Warn(h.lang.T("load the catalog to serve"), "err", err)
		}
		return
	}
	h.mu.Lock()
	old := h.served
	h.served = g
	done := false
	if old != nil {
		old.retired = true
		done = old.refs == 0
	}
	h.mu.Unlock()
	if done {
		old.close()
	}
	h.log.Debug(h.lang.T("serving catalog"), "generated", g.generated, "items", g.items)
}

// midLoad, when set by a test, runs between reading a manifest and opening
// its files: where a commit beginning would make them two generations.
var midLoad func()

// errCommitting is a folder whose next generation is being committed: the
// current one is served until the commit is done.
var errCommitting = errors.New("a commit is in progress")

// loadGeneration opens the files of the generation in dir that are in
// allowed. It returns errCommitting when a commit began before or while it
// opened them, since what it opened may then be of two generations: the
// journal is written before the first rename and removed after the
// manifest, so its absence after the files were opened, with the manifest
// unchanged, proves they are the manifest's.
func loadGeneration(dir string, allowed []string) (_ *servedGeneration, err error) {
	journal := filepath.Join(dir, journalFile)
	if _, err := os.Lstat(journal); err == nil {
		return nil, errCommitting
	}
	mpath := filepath.Join(dir, manifestFile)
	before, err := os.Stat(mpath)
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(mpath)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errCommitting // replaced between the two calls
	}
	if midLoad != nil {
		midLoad()
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// changed reports whether a commit began since the manifest was read.
	changed := func() bool {
		after, err := os.Stat(mpath)
		_, jerr := os.Lstat(journal)
		return jerr == nil || err != nil || !sameVersion(before, after)
	}
	g := &servedGeneration{files: map[string]*servedFile{}, manifest: before, generated: m.Generated, items: -1}
	defer func() {
		if err != nil {
			g.close()
			if changed() {
				err = errCommitting
			}
		}
	}()
	for _, e := range m.Files {
		if !slices.Contains(allowed, e.Name) {
			continue
		}
		f, err := openServed(root, e.Name, e.Size, e.SHA256[:min(32, len(e.SHA256))])
		if err != nil {
			return nil, err
		}
		g.files[e.Name] = f
		if g.items < 0 && e.Items >= 0 {
			g.items = e.Items
		}
		if e.GzipSize > 0 && slices.Contains(allowed, gzipName(e.Name)) {
			if f.gzip, err = openServed(root, gzipName(e.Name), e.GzipSize, f.tag+"-gz"); err != nil {
				return nil, err
			}
			g.files[gzipName(e.Name)] = f.gzip
		}
	}
	if changed() {
		return nil, errCommitting
	}
	return g, nil
}

// openServed opens one file of a generation, which must have the size the
// manifest gives it.
func openServed(root *os.Root, name string, size int64, tag string) (*servedFile, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || fi.Size() != size) {
		err = fmt.Errorf("%s has %d bytes, not the %d of its manifest", name, fi.Size(), size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &servedFile{file: f, size: size, modTime: fi.ModTime(), tag: tag}, nil
}

func (g *servedGeneration) close() {
	for _, f := range g.files {
		f.file.Close()
	}
}

// sameVersion reports whether two stats are of one version of a file that
// is only ever replaced by rename: the same file, size and time.
func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
