package feedgen

import (
	"archive/zip"
	"cmp"
	"context"
	"errors"
	"feedgen/internal/msg"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/jonboulle/clockwork"
)

const (
	// maxSettleChecks bounds how long an export that stopped changing but
	// still does not open as a zip is waited for. After that the run goes
	// ahead, so that a damaged file is reported instead of silently ignored.
	maxSettleChecks = 8
	// maxSettleBackoff caps the wait between readiness checks, so that a
	// network copy that stalls for a while is picked up soon after it resumes.
	maxSettleBackoff = 30 * time.Second
)

// exportWatcher turns file-system events for the export into debounced,
// verified run triggers.
//
// It watches the export's folder, never the file: Excel and most copy tools
// replace a file instead of rewriting it, and a watch on the file itself dies
// with the first replacement.
type exportWatcher struct {
	dir      string // absolute path of the watched folder
	file     string // base name of the export in file mode, "" in folder mode
	debounce time.Duration
	clock    clockwork.Clock
	log      *slog.Logger
	lang     msg.Lang // of the log's messages
	trigger  func(reason string)
	fsw      *fsnotify.Watcher

	// The fields below belong to the loop goroutine.
	watching bool      // whether dir currently has a watch
	pollAt   time.Time // when to look for dir again while it is missing
	pending  map[string]*settling
}

// settling is an export that changed and is waited on until it is complete.
type settling struct {
	due    time.Time // when to check it next
	stamp  fileStamp // size and mtime seen at the last event or check
	checks int       // consecutive checks that found it stable but unreadable
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// newExportWatcher starts watching dir for the export: the file named file,
// or in folder mode (file == "") any export, logging in lang. A folder that
// does not exist yet is waited for instead of being an error, so the
// daemon may start before a network share is mounted.
func newExportWatcher(lang msg.Lang, dir, file string, debounce time.Duration, clock clockwork.Clock, log *slog.Logger, trigger func(string)) (*exportWatcher, error) {
	w := &exportWatcher{
		lang:     lang,
		dir:      dir,
		file:     file,
		debounce: debounce,
		clock:    clock,
		log:      log.With("watch", dir),
		trigger:  trigger,
		pending:  make(map[string]*settling),
	}
	var err error
	w.fsw, err = fsnotify.NewWatcher()
	if err != nil {
		return nil, msg.Errorf("start file watcher: %w", err)
	}
	switch err := w.fsw.Add(w.dir); {
	case err == nil:
		w.watching = true
	case errors.Is(err, os.ErrNotExist):
		w.log.Warn(w.lang.T("export folder does not exist; waiting for it"))
		w.pollAt = clock.Now()
	default:
		w.fsw.Close()
		return nil, msg.Errorf("watch export folder %s: %w", DisplayPath(w.dir), err)
	}
	return w, nil
}

// isExportFolder reports whether export names a drop folder rather than a
// single file. A path that does not exist yet is a file if it is named like
// one, so that a daemon can be started before the first export is saved.
func isExportFolder(export string) bool {
	info, err := os.Stat(export)
	if err != nil {
		return !strings.EqualFold(filepath.Ext(export), ".xlsx")
	}
	return info.IsDir()
}

// loop handles events until ctx is done, then closes the watcher.
// The debounce timer lives in this goroutine so that nothing outlives it.
func (w *exportWatcher) loop(ctx context.Context) {
	defer w.fsw.Close()
	timer := w.clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		w.arm(timer)
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.handle(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn(w.lang.T("file events were lost; rescanning the export folder"), "err", err)
				w.rescan()
				continue
			}
			w.log.Warn(w.lang.T("watch export folder"), "err", err)
		case <-timer.Chan():
			w.wake()
		}
	}
}

// arm sets timer to the earliest pending deadline, or stops it.
func (w *exportWatcher) arm(timer clockwork.Timer) {
	var next time.Time
	if !w.watching {
		next = w.pollAt
	}
	for _, s := range w.pending {
		if next.IsZero() || s.due.Before(next) {
			next = s.due
		}
	}
	if next.IsZero() {
		timer.Stop()
		return
	}
	timer.Reset(max(next.Sub(w.clock.Now()), 0))
}

func (w *exportWatcher) handle(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	if name == w.dir {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.lost()
		}
		return
	}
	// Only new content matters: a removal or a rename away is followed by
	// a Create when a replacement arrives, and Chmod is noise from backup,
	// indexing and antivirus tools.
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
		return
	}
	if !w.wants(filepath.Base(name)) {
		return
	}
	w.changed(name)
}

// wants reports whether a file in the watched folder is the export.
func (w *exportWatcher) wants(base string) bool {
	if w.file != "" {
		return base == w.file
	}
	return isExportName(base)
}

// changed restarts the quiet period of path.
func (w *exportWatcher) changed(path string) {
	s := w.pending[path]
	if s == nil {
		s = &settling{}
		w.pending[path] = s
	}
	s.stamp, _ = stampOf(path)
	s.checks = 0
	s.due = w.clock.Now().Add(w.debounce)
}

// wake runs whatever is due: looking for a missing folder, and readiness
// checks of exports whose quiet period is over.
func (w *exportWatcher) wake() {
	now := w.clock.Now()
	if !w.watching && !now.Before(w.pollAt) {
		w.rewatch()
	}
	for path, s := range w.pending {
		if now.Before(s.due) {
			continue
		}
		w.check(path, s)
	}
}

// check triggers a run once path is complete: unchanged since the last
// event or check, and readable as a zip, whose central directory is written
// last. Until then it waits again, with backoff while the file is stable
// but unreadable, since a copy in progress is not an error.
func (w *exportWatcher) check(path string, s *settling) {
	now := w.clock.Now()
	stamp, err := stampOf(path)
	if err != nil {
		w.log.Debug(w.lang.T("export went away before it settled"), "path", path, "err", err)
		delete(w.pending, path)
		return
	}
	if !stamp.same(s.stamp) {
		s.stamp, s.checks, s.due = stamp, 0, now.Add(w.debounce)
		return
	}
	if err := zipReadable(path); err != nil {
		s.checks++
		if s.checks < maxSettleChecks {
			retry := min(w.debounce<<s.checks, maxSettleBackoff)
			w.log.Debug(w.lang.T("export not complete yet"), "path", path, "err", err, "retry_in", retry)
			s.due = now.Add(retry)
			return
		}
		w.log.Warn(w.lang.T("export stopped changing but is still not a readable workbook; running anyway"), "path", path, "err", err)
	}
	delete(w.pending, path)
	w.log.Info(w.lang.T("export changed"), "path", path)
	w.trigger("export changed")
}

// lost is called when the watched folder is removed or renamed away; its
// watch is gone with it, so the folder is polled until it is back.
func (w *exportWatcher) lost() {
	w.log.Warn(w.lang.T("export folder disappeared; waiting for it to come back"))
	// The watch may already have been dropped by the kernel; nothing to do then.
	_ = w.fsw.Remove(w.dir)
	w.watching = false
	w.pollAt = w.clock.Now().Add(w.debounce)
	clear(w.pending)
}

func (w *exportWatcher) rewatch() {
	if info, err := os.Stat(w.dir); err != nil || !info.IsDir() {
		w.pollAt = w.clock.Now().Add(w.debounce)
		return
	}
	if err := w.fsw.Add(w.dir); err != nil {
		w.log.Warn(w.lang.T("watch export folder"), "err", err)
		w.pollAt = w.clock.Now().Add(w.debounce)
		return
	}
	w.watching = true
	w.log.Info(w.lang.T("export folder is back; rescanning"))
	w.rescan()
}

// rescan stands in for events that were missed: the export (in folder
// mode, the newest one) is checked as if it had just changed.
func (w *exportWatcher) rescan() {
	if w.file != "" {
		w.changed(filepath.Join(w.dir, w.file))
		return
	}
	exports, err := listExports(w.dir)
	if err != nil {
		w.log.Warn(w.lang.T("rescan export folder"), "err", err)
		return
	}
	if len(exports) > 0 {
		w.changed(exports[0].path)
	}
}

// isExportName reports whether a file in a drop folder may be an export.
// Besides non-.xlsx files, this skips Excel's "~$" owner files and the
// temporary names under which browsers, rsync and atomic writers create a
// file before renaming it into place.
func isExportName(base string) bool {
	return !isHiddenOrTemp(base) && strings.EqualFold(filepath.Ext(base), ".xlsx")
}

// isHiddenOrTemp reports whether a file name is a dot file, an Office owner
// file, or a temporary name that is not meant to be read yet. Excel's own
// temporary files have no extension at all.
func isHiddenOrTemp(base string) bool {
	if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "~$") || strings.HasSuffix(base, "~") {
		return true
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case "", ".tmp", ".temp", ".part", ".partial", ".crdownload", ".download":
		return true
	}
	return false
}

type exportFile struct {
	path string
	mod  time.Time
}

// listExports returns the exports in dir, newest first.
func listExports(dir string) ([]exportFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, msg.Errorf("list exports: %w", err)
	}
	var exports []exportFile
	for _, e := range entries {
		if !isExportName(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Stat(path) // follows symlinks, unlike e.Info
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		exports = append(exports, exportFile{path: path, mod: info.ModTime()})
	}
	slices.SortFunc(exports, func(a, b exportFile) int {
		return cmp.Or(b.mod.Compare(a.mod), strings.Compare(b.path, a.path))
	})
	return exports, nil
}

// errNoExport is a drop folder without a complete export to read.
var errNoExport = msg.New("no complete .xlsx export")

// errShallowExports is a folder of exports in a checkout without history.
var errShallowExports = msg.New("cannot tell the newest export")

// newestExport returns the newest export in dir that is complete, skipping
// any that are still being copied.
func newestExport(dir string) (string, error) {
	exports, err := listExports(dir)
	if err != nil {
		return "", err
	}
	for _, e := range exports {
		if zipReadable(e.path) == nil {
			return e.path, nil
		}
	}
	return "", msg.Errorf("%w in %s", errNoExport, DisplayPath(dir))
}

// exportIn returns the export that feedgen run reads from the folder dir:
// the .xlsx committed last, when dir is in a git work tree, since a
// checkout gives every file the time it was checked out and the
// merchant's upload is known by its commit; an export without a commit
// (or without git) by its time of change, as the daemon's drop folder.
func exportIn(ctx context.Context, dir string) (string, error) {
	exports, err := listExports(dir)
	if err != nil {
		return "", err
	}
	if len(exports) == 0 {
		return "", msg.Errorf("%w in %s", errNoExport, DisplayPath(dir))
	}
	if len(exports) == 1 {
		return exports[0].path, nil
	}
	git, inRepo, err := gitWorkTree(ctx, dir)
	if err != nil {
		return "", err
	}
	if !inRepo {
		return exports[0].path, nil
	}
	if out, err := git("rev-parse", "--is-shallow-repository"); err != nil {
		return "", err
	} else if out == "true" {
		// Every file seems committed by the one commit there is.
		return "", msg.Errorf("%w: %s holds %d exports and its checkout is shallow, so which was committed last is not known: give actions/checkout fetch-depth: 0 and filter: blob:none, or name the export",
			errShallowExports, DisplayPath(dir), len(exports))
	}
	type candidate struct {
		path      string
		at        time.Time
		committed bool
	}
	var best, tie candidate
	for _, e := range exports { // newest first
		c := candidate{path: e.path, at: e.mod}
		out, err := git("log", "-1", "--format=%ct", "--", filepath.Base(e.path))
		if err != nil {
			return "", err
		}
		if out != "" { // an uncommitted export keeps its time of change
			sec, err := strconv.ParseInt(out, 10, 64)
			if err != nil {
				return "", msg.Errorf("read the commit time of %s: git log printed %q", DisplayPath(e.path), out)
			}
			c.at, c.committed = time.Unix(sec, 0), true
		}
		switch {
		case best.path == "" || c.at.After(best.at):
			best, tie = c, candidate{}
		case c.at.Equal(best.at) && c.committed && best.committed && tie.path == "":
			tie = c
		}
	}
	if tie.path != "" {
		return "", msg.Errorf("%w: %s and %s in %s were committed at the same time: delete the older export or name the one to read",
			errShallowExports, filepath.Base(best.path), filepath.Base(tie.path), DisplayPath(dir))
	}
	return best.path, nil
}

// gitWorkTree reports whether dir is inside a git work tree, and returns a
// function that runs git there. A folder git refuses to read (one owned by
// another user, a broken repository) is an error, not a folder without
// history: reading the wrong export without a word is worse than stopping.
func gitWorkTree(ctx context.Context, dir string) (git func(args ...string) (string, error), inRepo bool, err error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, false, nil
	}
	g := &gitRepo{git: bin, dir: dir, env: gitEnv(os.Environ()), logger: slog.New(slog.DiscardHandler)}
	git = func(args ...string) (string, error) {
		// Literal pathspecs: an export named 商品[1].xlsx is a name, not a glob.
		out, err := g.run(ctx, []string{"GIT_LITERAL_PATHSPECS=1"}, nil, args...)
		if err != nil {
			return "", msg.Errorf("find the export committed last in %s: %w", DisplayPath(dir), err)
		}
		return out, nil
	}
	out, err := git("rev-parse", "--is-inside-work-tree")
	if err != nil {
		var gerr *gitError
		if errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "not a git repository") {
			return git, false, nil
		}
		return nil, false, err
	}
	// "false" inside a .git folder, which holds no committed exports.
	return git, out == "true", nil
}

func (a fileStamp) same(b fileStamp) bool {
	return a.size == b.size && a.mod.Equal(b.mod)
}

func stampOf(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: info.Size(), mod: info.ModTime()}, nil
}

// zipReadable reports whether path opens as a zip archive. The central
// directory is at the end of the file, so a partial copy fails here.
func zipReadable(path string) error {
	r, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	return r.Close()
}
