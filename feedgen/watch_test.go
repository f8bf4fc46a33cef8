package feedgen

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/jonboulle/clockwork"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

// run is one call of the stand-in pipeline.
type run struct {
	path string
	a1   string // cell A1 of the workbook it read
}

// watchDaemon starts a daemon on export with a fresh catalog, so that
// nothing runs until the export changes. Each successful run is sent on
// the returned channel.
func watchDaemon(t *testing.T, export string, debounce time.Duration) (*harness, <-chan run) {
	t.Helper()
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), time.Now())
	runs := make(chan run, 100)
	h := startDaemon(t, &Daemon{
		Export:   export,
		OutDir:   out,
		Catalog:  []string{"catalog.xml"},
		Debounce: debounce,
		Run: func(_ context.Context, path string) (RunReport, error) {
			a1, err := readA1(path)
			if err != nil {
				return RunReport{}, err
			}
			runs <- run{path: path, a1: a1}
			return RunReport{Items: 1}, nil
		},
	})
	return h, runs
}

// settle waits long enough for any run that pending events would cause.
// Only tests that assert that nothing more happens use it.
func settle(debounce time.Duration) {
	time.Sleep(10 * debounce)
}

func noMoreRuns(t *testing.T, runs <-chan run) {
	t.Helper()
	for len(runs) > 0 {
		t.Errorf("unexpected run: %+v", <-runs)
	}
}

func TestWatchSlowCopy(t *testing.T) {
	const debounce = 50 * time.Millisecond
	dir := tempdir.New(t)
	h, runs := watchDaemon(t, dir, debounce)
	data := testWorkbook(t, "slow")
	path := filepath.Join(dir, "export.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := len(data) / 8
	for i := 0; i < len(data); i += chunk {
		if _, err := f.Write(data[i:min(i+chunk, len(data))]); err != nil {
			t.Fatal(err)
		}
		if i == 4*chunk {
			// The copy stalls for longer than the debounce: the file is
			// stable but incomplete, which must not be read.
			h.logs.waitFor(t, "export not complete yet")
			noMoreRuns(t, runs)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, runs, "run after the copy"); got.a1 != "slow" {
		t.Errorf("run read A1 = %q, want slow", got.a1)
	}
	settle(debounce)
	noMoreRuns(t, runs)
}

func TestWatchExcelSave(t *testing.T) {
	const debounce = 50 * time.Millisecond
	dir := tempdir.New(t)
	export := filepath.Join(dir, "export.xlsx")
	writeFile(t, export, testWorkbook(t, "v1"))
	_, runs := watchDaemon(t, export, debounce)

	// Excel's save sequence (KB 814068): owner file, new content in an
	// extension-less temp file, then swap it into place.
	owner := filepath.Join(dir, "~$export.xlsx")
	temp := filepath.Join(dir, "Cedd4100")
	writeFile(t, owner, []byte("owner"))
	writeFile(t, temp, testWorkbook(t, "v2"))
	if err := os.Remove(export); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(temp, export); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(owner); err != nil {
		t.Fatal(err)
	}

	got := receive(t, runs, "run after the save")
	if got.a1 != "v2" || got.path != export {
		t.Errorf("run = %+v, want A1 v2 from %s", got, export)
	}
	settle(debounce)
	noMoreRuns(t, runs)
}

func TestWatchAtomicRename(t *testing.T) {
	const debounce = 50 * time.Millisecond
	dir := tempdir.New(t)
	_, runs := watchDaemon(t, dir, debounce)
	temp := filepath.Join(dir, ".export.xlsx.tmp123")
	writeFile(t, temp, testWorkbook(t, "renamed"))
	if err := os.Rename(temp, filepath.Join(dir, "export.xlsx")); err != nil {
		t.Fatal(err)
	}
	got := receive(t, runs, "run after the rename")
	if got.a1 != "renamed" || filepath.Base(got.path) != "export.xlsx" {
		t.Errorf("run = %+v, want A1 renamed from export.xlsx", got)
	}
	settle(debounce)
	noMoreRuns(t, runs)
}

func TestWatchCorruptThenGood(t *testing.T) {
	const debounce = 50 * time.Millisecond
	dir := tempdir.New(t)
	h, runs := watchDaemon(t, dir, debounce)

	// A complete zip that is not a workbook passes the readiness check and
	// fails in the pipeline.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if _, err := zw.Create("hello.txt"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bad.xlsx"), buf.Bytes())
	rec := h.logs.waitFor(t, "run failed")
	if got := filepath.Base(logAttr(rec, "export").String()); got != "bad.xlsx" {
		t.Errorf("failed run read %s, want bad.xlsx", got)
	}

	writeFile(t, filepath.Join(dir, "good.xlsx"), testWorkbook(t, "good"))
	if got := receive(t, runs, "run of the good export"); got.a1 != "good" {
		t.Errorf("run read A1 = %q, want good", got.a1)
	}
}

func TestWatchBurst(t *testing.T) {
	const debounce = 200 * time.Millisecond
	dir := tempdir.New(t)
	_, runs := watchDaemon(t, dir, debounce)
	path := filepath.Join(dir, "export.xlsx")
	versions := make([][]byte, 20)
	for i := range versions {
		versions[i] = testWorkbook(t, string(rune('a'+i)))
	}
	for _, data := range versions {
		writeFile(t, path, data)
	}
	got := []run{receive(t, runs, "run after the burst")}
	settle(debounce)
	for len(runs) > 0 {
		got = append(got, <-runs)
	}
	if len(got) > 2 {
		t.Errorf("%d runs for one burst of writes, want 1 or 2", len(got))
	}
	if last := got[len(got)-1]; last.a1 != "t" {
		t.Errorf("last run read A1 = %q, want the last write, t", last.a1)
	}
}

func TestWatchIgnoresNoise(t *testing.T) {
	const debounce = 50 * time.Millisecond
	noise := []string{
		"~$export.xlsx", ".export.xlsx", "export.xlsx.tmp", "export.xlsx.part",
		"export.xlsx.crdownload", "Cedd4100", "export.csv",
	}
	t.Run("Folder", func(t *testing.T) {
		dir := tempdir.New(t)
		existing := filepath.Join(dir, "old.xlsx")
		writeFile(t, existing, testWorkbook(t, "old"))
		h, runs := watchDaemon(t, dir, debounce)
		for _, name := range noise {
			writeFile(t, filepath.Join(dir, name), testWorkbook(t, name))
		}
		if err := os.Chmod(existing, 0o600); err != nil {
			t.Fatal(err)
		}
		settle(debounce)
		h.hangup <- syscall.SIGHUP
		receive(t, runs, "hangup run")
		if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "hangup" {
			t.Errorf("first run's reason = %q, want hangup", got)
		}
	})
	t.Run("File", func(t *testing.T) {
		dir := tempdir.New(t)
		export := filepath.Join(dir, "export.xlsx")
		writeFile(t, export, testWorkbook(t, "export"))
		h, runs := watchDaemon(t, export, debounce)
		for _, name := range append(noise, "other.xlsx") {
			writeFile(t, filepath.Join(dir, name), testWorkbook(t, name))
		}
		if err := os.Chmod(export, 0o600); err != nil {
			t.Fatal(err)
		}
		settle(debounce)
		h.hangup <- syscall.SIGHUP
		if got := receive(t, runs, "hangup run"); got.a1 != "export" {
			t.Errorf("run read A1 = %q, want export", got.a1)
		}
		if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "hangup" {
			t.Errorf("first run's reason = %q, want hangup", got)
		}
	})
}

func TestWatchFolderComesBack(t *testing.T) {
	skipOnWine(t, "removing a watched folder sends no event")
	const debounce = 50 * time.Millisecond
	dir := filepath.Join(tempdir.New(t), "drop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h, runs := watchDaemon(t, dir, debounce)
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, "export folder disappeared; waiting for it to come back")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, "export folder is back; rescanning")
	writeFile(t, filepath.Join(dir, "export.xlsx"), testWorkbook(t, "back"))
	if got := receive(t, runs, "run in the returned folder"); got.a1 != "back" {
		t.Errorf("run read A1 = %q, want back", got.a1)
	}
}

func TestWatchFolderMissingAtStart(t *testing.T) {
	const debounce = 50 * time.Millisecond
	dir := filepath.Join(tempdir.New(t), "drop")
	h, runs := watchDaemon(t, dir, debounce)
	h.logs.waitSeen(t, "export folder does not exist; waiting for it")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.logs.waitFor(t, "export folder is back; rescanning")
	writeFile(t, filepath.Join(dir, "export.xlsx"), testWorkbook(t, "late"))
	if got := receive(t, runs, "run in the late folder"); got.a1 != "late" {
		t.Errorf("run read A1 = %q, want late", got.a1)
	}
}

func TestWatchOverflowRescans(t *testing.T) {
	dir := tempdir.New(t)
	writeFile(t, filepath.Join(dir, "old.xlsx"), testWorkbook(t, "old"))
	triggered := make(chan string, 10)
	w, err := newExportWatcher(msg.English, dir, "", 10*time.Millisecond, clockwork.NewRealClock(),
		slog.New(slog.DiscardHandler), func(reason string) { triggered <- reason })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		w.loop(ctx)
		close(stopped)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	// What fsnotify reports when the kernel's event queue overflowed.
	w.fsw.Errors <- fsnotify.ErrEventOverflow
	receive(t, triggered, "run after the overflow")
}

func TestWatchNewestExport(t *testing.T) {
	dir := tempdir.New(t)
	base := time.Now().Add(-time.Hour)
	good := testWorkbook(t, "x")
	files := []struct {
		name string
		data []byte
		age  time.Duration
	}{
		{"older.xlsx", good, 3 * time.Minute},
		{"newer.XLSX", good, 2 * time.Minute},
		{"copying.xlsx", good[:len(good)/2], time.Minute}, // newest, but incomplete
		{"~$newer.xlsx", good, 0},
		{".newest.xlsx", good, 0},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		writeFile(t, path, f.data)
		if err := os.Chtimes(path, base.Add(-f.age), base.Add(-f.age)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := newestExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != "newer.XLSX" {
		t.Errorf("newestExport = %s, want newer.XLSX", got)
	}
	if _, err := newestExport(tempdir.New(t)); err == nil {
		t.Error("newestExport of an empty folder succeeded")
	}
}

func TestWatchExportNames(t *testing.T) {
	tests := map[string]bool{
		"export.xlsx":            true,
		"商品匯出.XLSX":              true,
		"export.xls":             false,
		"export.csv":             false,
		"~$export.xlsx":          false,
		".export.xlsx":           false,
		".export.xlsx.tmp-123":   false,
		"export.xlsx.tmp":        false,
		"export.xlsx.part":       false,
		"export.xlsx.crdownload": false,
		"export.xlsx~":           false,
		"Cedd4100":               false,
		".~lock.export.xlsx#":    false,
	}
	for name, want := range tests {
		if got := isExportName(name); got != want {
			t.Errorf("isExportName(%q) = %v, want %v", name, got, want)
		}
	}
}

// commitExports commits the files names (slash-separated, in repo) at
// date, as if uploaded then.
func commitExports(t *testing.T, repo, date string, names ...string) {
	t.Helper()
	for _, name := range names {
		writeFile(t, filepath.Join(repo, filepath.FromSlash(name)), []byte(date))
	}
	runGit(t, repo, "add", ".")
	t.Setenv("GIT_COMMITTER_DATE", date)
	runGit(t, repo, "commit", "-q", "-m", date, "--date", date)
}

// TestExportInFolder: feedgen run given a folder reads the export
// committed last there, whatever the files' times of change (a checkout
// gives them all one), and refuses to guess in a shallow checkout; out
// of git, the newest by time of change.
func TestExportInFolder(t *testing.T) {
	isolateGit(t)
	repo := tempdir.New(t)
	dir := filepath.Join(repo, "exports")
	runGit(t, repo, "init", "-q")
	commitExports(t, repo, "2026-11-01T10:00:00+08:00", "exports/products.xlsx")
	commitExports(t, repo, "2026-12-01T10:00:00+08:00", "exports/商品匯出.xlsx")
	// The older export changed last on disk, as a checkout may leave it.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "products.xlsx"), later, later); err != nil {
		t.Fatal(err)
	}
	got, err := exportIn(t.Context(), dir)
	if err != nil || filepath.Base(got) != "商品匯出.xlsx" {
		t.Errorf("exportIn = %q, %v; want the one committed last, 商品匯出.xlsx", got, err)
	}

	shallow := filepath.Join(tempdir.New(t), "clone")
	runGit(t, repo, "clone", "-q", "--depth", "1", "file://"+filepath.ToSlash(repo), shallow)
	if _, err := exportIn(t.Context(), filepath.Join(shallow, "exports")); !errors.Is(err, errShallowExports) || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("exportIn in a shallow clone = %v, want it to say the checkout is shallow", err)
	}

	plain := tempdir.New(t)
	writeFile(t, filepath.Join(plain, "a.xlsx"), []byte("x"))
	writeFile(t, filepath.Join(plain, "b.xlsx"), []byte("x"))
	if err := os.Chtimes(filepath.Join(plain, "a.xlsx"), later, later); err != nil {
		t.Fatal(err)
	}
	if got, err := exportIn(t.Context(), plain); err != nil || filepath.Base(got) != "a.xlsx" {
		t.Errorf("exportIn outside git = %q, %v; want the newest, a.xlsx", got, err)
	}
}

// TestExportInFolderNames: an export's name is a name, not a pathspec
// pattern (商品[1].xlsx would match 商品1.xlsx), and two exports committed
// together leave no way to tell which is newer.
func TestExportInFolderNames(t *testing.T) {
	isolateGit(t)
	repo := tempdir.New(t)
	runGit(t, repo, "init", "-q")
	commitExports(t, repo, "2026-11-01T10:00:00+08:00", "商品[1].xlsx")
	commitExports(t, repo, "2026-12-01T10:00:00+08:00", "商品1.xlsx")
	// On disk the older one is newer, so only its commit can tell.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(repo, "商品[1].xlsx"), later, later); err != nil {
		t.Fatal(err)
	}
	if got, err := exportIn(t.Context(), repo); err != nil || filepath.Base(got) != "商品1.xlsx" {
		t.Errorf("exportIn = %q, %v; want 商品1.xlsx, committed last", got, err)
	}

	commitExports(t, repo, "2026-12-02T10:00:00+08:00", "a.xlsx", "b.xlsx")
	if _, err := exportIn(t.Context(), repo); !errors.Is(err, errShallowExports) || !strings.Contains(err.Error(), "same time") {
		t.Errorf("exportIn with two exports in the newest commit = %v, want it to refuse to guess", err)
	}
}

// TestExportInFolderGitRefuses: a repository git will not read is an
// error naming git's reason, never a silent fall back to times of change.
func TestExportInFolderGitRefuses(t *testing.T) {
	if runtime.GOOS == "windows" || os.Getuid() != 0 {
		t.Skip("needs root to give the repository to another user")
	}
	isolateGit(t)
	repo := tempdir.New(t)
	runGit(t, repo, "init", "-q")
	writeFile(t, filepath.Join(repo, "a.xlsx"), []byte("x"))
	writeFile(t, filepath.Join(repo, "b.xlsx"), []byte("x"))
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "-q", "-m", "exports")
	if err := filepath.WalkDir(repo, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, 65534, 65534)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := exportIn(t.Context(), repo); err == nil || !strings.Contains(err.Error(), "dubious ownership") {
		t.Errorf("exportIn in a repository owned by another user = %v, want git's refusal", err)
	}
}
