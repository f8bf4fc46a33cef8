package feedgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/redact"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"
)

// RunOptions are the per-run settings that do not belong in a config file.
type RunOptions struct {
	// At is the time 已上架 is evaluated at; zero means now.
	At time.Time
	// Force publishes even when the safety guard refuses.
	Force bool
	// DetectChange compares the new catalog files with those already in the
	// output folder, for Summary.Changed when nothing is published.
	DetectChange bool
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Run is the whole pipeline once: read cfg.Export, apply the rules at
// opt.At, and replace the catalog files in cfg.Out atomically. Products
// flow from the sheet to the files one at a time. It returns a summary even
// when the guard refuses, so the caller can say what it saw.
func Run(ctx context.Context, cfg Config, opt RunOptions) (_ *Summary, err error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	at := opt.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.In(cfg.Location())
	start := time.Now()
	// A missing export is said before the output folder, which the lock
	// lives in, is made.
	if err := resolveExport(ctx, &cfg); err != nil {
		return nil, err
	}
	unlock, err := lockFolder(cfg.Out, lockWait, func(holder string) {
		log.Info(cfg.Language.T("waiting for another feedgen to finish with the folder %s (%s)", DisplayPath(cfg.Out), holder), "folder", cfg.Out, "holder", holder)
	})
	if err != nil {
		return nil, msg.Errorf("write catalog to %s: %w", DisplayPath(cfg.Out), err)
	}
	defer unlock()
	for _, dir := range []string{cfg.Out, cfg.Report} {
		recovered, removed, freed, err := prepareFolder(dir)
		if err != nil {
			return nil, msg.Errorf("write catalog to %s: %w", DisplayPath(cfg.Out), err)
		}
		if recovered {
			log.Info(cfg.Language.T("finished the catalog update a stopped run began in %s", DisplayPath(dir)), "folder", dir)
		}
		if removed > 0 {
			log.Info(cfg.Language.T("removed %d temporary files a stopped run left in %s", removed, DisplayPath(dir)), "folder", dir, "files", removed, "mb", (freed+(1<<20)-1)>>20)
		}
	}
	var (
		stage     *catalogStage
		b         *catalogBuilder
		exp       *Export // the export being read, for warnings
		excluded  = new(exclusionList)
		diagnosed = new(diagnosisList)
		eligible  int
	)
	defer func() {
		if cerr := closeLists(excluded, diagnosed); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ex, err := streamExportFile(ctx, cfg.Export, cfg, func(ex *Export) error {
		if stage != nil {
			// The rows are read again, grouped by product: drop the
			// catalog written so far, and start it over.
			stage.wait()
			stage.out.abort()
			if err := closeLists(excluded, diagnosed); err != nil {
				return err
			}
			excluded, diagnosed, eligible = new(exclusionList), new(diagnosisList), 0
		}
		exp, b = ex, newCatalogBuilder(&cfg, ex, at)
		info := b.info()
		out, err := createCatalog(cfg.Out, cfg.Report, &info, cfg.Feeds, cfg.Preview)
		if err != nil {
			return msg.Errorf("write catalog to %s: %w", DisplayPath(cfg.Out), err)
		}
		stage = startCatalogStage(out)
		return nil
	}, func(p *Product) error {
		cp, excl, warns := b.add(p)
		for _, w := range warns {
			exp.warn(w)
		}
		if excl != nil {
			return excluded.add(*excl)
		}
		eligible++
		if err := diagnosed.add(cp); err != nil {
			return err
		}
		return stage.send(cp)
	})
	if stage != nil {
		if werr := stage.wait(); werr != nil {
			err = werr // the scan only stopped because writing failed
		}
		if err != nil {
			stage.out.abort()
		}
	}
	if err != nil {
		return nil, err
	}
	out := stage.out
	for _, note := range []*Warning{b.categoriesNote(), categoryFileNote(cfg.Language, cfg.Feeds)} {
		if note != nil {
			ex.warn(*note)
		}
	}
	log.Debug("export read", "file", cfg.Export, "rows", ex.Rows, "products", ex.ProductCount, "rows_apart", ex.RowsApart, "took", time.Since(start))
	sum := summarize(ex, at, eligible, excluded)
	sum.Export, sum.ExportSHA256 = filepath.Base(cfg.Export), ex.SHA256
	sum.Diagnosed = diagnosed.counts()
	if err := out.commit(sum, excluded, diagnosed, cfg.MaxDrop, opt.Force, opt.DetectChange); err != nil {
		err = msg.Errorf("write catalog to %s: %w", DisplayPath(cfg.Out), err)
		sum.Failure = cfg.Language.T("The catalog files were left as they were: %s", redact.String(msg.Text(cfg.Language, err)))
		return sum, err
	}
	if cfg.Publish.Branch != "" {
		if err := publishCatalog(ctx, &cfg, sum, log); err != nil {
			sum.Failure = cfg.Language.T("The catalog was written to %s but not published to the branch %s: %s", DisplayPath(cfg.Out), cfg.Publish.Branch, redact.String(msg.Text(cfg.Language, err)))
			return sum, &PublishError{Err: err}
		}
	}
	log.Debug("catalog written", "dir", cfg.Out, "items", sum.Items, "took", time.Since(start))
	return sum, nil
}

// resolveExport checks that cfg.Export exists and, when it is a folder,
// makes it the export there to read (see exportIn).
func resolveExport(ctx context.Context, cfg *Config) error {
	fi, err := os.Stat(cfg.Export)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return msg.Errorf("read export %s: %w", DisplayPath(cfg.Export), ErrNotFound)
	case err == nil && fi.IsDir():
		path, err := exportIn(ctx, cfg.Export)
		if err != nil {
			return msg.Errorf("read export from %s: %w", DisplayPath(cfg.Export), err)
		}
		cfg.Export = path
	}
	return nil
}

// streamExportFile opens the export at path and hands each product to
// emit. begin, when set, is called once the header row is known and before
// the first product; it is called again, with a new Export, when the rows
// of some product turn out to be apart and the sheet is read again,
// grouped (see scanExport): the products emitted until then are void.
func streamExportFile(ctx context.Context, path string, cfg Config, begin func(*Export) error, emit func(*Product) error) (*Export, error) {
	f, err := openExport(path)
	if err != nil {
		return nil, msg.Errorf("read export %s: %w", DisplayPath(path), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, msg.Errorf("read export %s: %w", DisplayPath(path), err)
	}
	if fi.IsDir() {
		return nil, msg.Errorf("read export %s: is a folder, not an .xlsx file", DisplayPath(path))
	}
	ex, err := streamExport(ctx, f, fi.Size(), cfg, begin, emit)
	if err == nil {
		ex.SHA256, err = hashRead(f, fi)
	}
	if err != nil {
		return nil, msg.Errorf("read export %s: %w", DisplayPath(path), err)
	}
	return ex, nil
}

// errExportChanged is an export written over in place while it was read:
// what was read may be part one file and part the other.
var errExportChanged = msg.New("the export changed while it was being read; run again once it is saved")

// hashRead returns the SHA-256 of the export f just read, whose Stat was
// fi when it was opened. It reads through the same handle, so an export
// that another program replaced meanwhile (renamed a new file over it,
// or deleted it) is still the file that was read; one written over in
// place instead is refused, as its size or time of change tell.
func hashRead(f *os.File, fi fs.FileInfo) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", err
	}
	now, err := f.Stat()
	if err != nil {
		return "", err
	}
	if now.Size() != fi.Size() || !now.ModTime().Equal(fi.ModTime()) {
		return "", errExportChanged
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openExport opens the export so that others may replace or delete it
// while it is read: Excel saves over a workbook by renaming a new file onto
// it, which Windows refuses (a sharing violation) while the file is open
// without delete sharing, as os.Open opens it. os.Root opens files with
// read, write and delete sharing on Windows, and as os.Open does elsewhere.
// A name it refuses to open, such as a symbolic link out of the folder, is
// opened as before, so that no export that opened before fails now.
func openExport(path string) (*os.File, error) {
	if root, err := os.OpenRoot(filepath.Dir(path)); err == nil {
		f, err := root.Open(filepath.Base(path))
		root.Close()
		if err == nil {
			return f, nil
		}
	}
	return openNamed(path)
}

// ErrNotFound is a file the merchant named that is not there. It says so
// in feedgen's words: the system's differ from one platform to the next
// ("no such file or directory", "The system cannot find the file
// specified.") and repeat the path that the message names already.
var ErrNotFound = msg.New("file not found")

// openNamed opens a file the merchant named, an export or a config.
func openNamed(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

func summarize(ex *Export, at time.Time, eligible int, excluded *exclusionList) *Summary {
	s := &Summary{
		Lang:             ex.lang,
		At:               at,
		Sheet:            ex.Sheet,
		Rows:             ex.Rows,
		Products:         ex.ProductCount,
		Eligible:         eligible,
		Excluded:         excluded.Len(),
		ExcludedProducts: excluded.head,
		ExcludedBy:       map[string]int{},
		Warnings:         ex.Warnings,
		WarningCount:     ex.WarningCount,
	}
	maps.Copy(s.ExcludedBy, excluded.byReason)
	return s
}

// closeLists removes the temporary files of a run's lists.
func closeLists(excluded *exclusionList, diagnosed *diagnosisList) error {
	if err := errors.Join(excluded.close(), diagnosed.close()); err != nil {
		return msg.Errorf("releasing the temporary files of the run: %w", err)
	}
	return nil
}

// PublishError is a catalog written to the output folder that could not
// be published to the branch: the daemon's notification says so, since
// the channels then still fetch the catalog published before. Its text is
// Err's.
type PublishError struct{ Err error }

func (e *PublishError) Error() string { return e.Err.Error() }

// Text is the error in l.
func (e *PublishError) Text(l msg.Lang) string { return msg.Text(l, e.Err) }
func (e *PublishError) Unwrap() error          { return e.Err }

// publishCatalog commits the files just written to cfg.Out onto the
// configured branch. The local folder is already up to date when it fails.
func publishCatalog(ctx context.Context, cfg *Config, sum *Summary, log *slog.Logger) error {
	pc := cfg.Publish
	p := &BranchPublisher{
		RepoDir: pc.Repo, Branch: pc.Branch, Dir: pc.Dir, Remote: pc.Remote, Push: pc.Push,
		Repository: pc.Repository, Token: pc.Token, SSHKey: pc.SSHKey,
		AuthorName: pc.AuthorName, AuthorEmail: pc.AuthorEmail, Lang: cfg.Language,
		Volatile: func(name string) bool { return name == publicPreviewFile || name == gzipName(publicPreviewFile) },
		Remove:   legacyPrivateFiles,
		Logger:   log,
	}
	names := publicFiles(cfg)
	if err := checkFileSizes(cfg.Out, names, int64(pc.MaxFileMB)<<20, cfg.Language, log); err != nil {
		return msg.Errorf("publish to branch %q: %w", pc.Branch, err)
	}
	message := fmt.Sprintf("%s: %d products, %d items", pc.Message, sum.Eligible, sum.Items)
	for _, f := range sum.Feeds {
		if f.Format == "line-json" {
			p.Describe = func(published func(string) ([]byte, error)) (string, error) {
				old, err := published(f.File)
				if err != nil {
					return "", err
				}
				return describeChange(old, filepath.Join(cfg.Out, f.File))
			}
			break
		}
	}
	res, err := p.Publish(ctx, fileSet{os.DirFS(cfg.Out), names}, message)
	if err != nil {
		return err
	}
	sum.Published = &res
	sum.Changed = res.Changed
	return nil
}

// FileTooLargeError is a catalog file over the size the branch's host
// takes; nothing was pushed.
type FileTooLargeError struct {
	Name        string
	Size, Limit int64
	GzipSize    int64 // of its .gz copy, 0 if none
}

func (e *FileTooLargeError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *FileTooLargeError) Text(l msg.Lang) string {
	return l.T("%s is %s, over the %s a file may be (publish.max_file_mb; GitHub refuses larger files): nothing was pushed",
		e.Name, megabytes(e.Size), megabytes(e.Limit))
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// gitHubWarnSize is where GitHub starts to warn about a file in a push.
const gitHubWarnSize = 50 << 20

// checkFileSizes refuses a publish with a file over limit before anything
// is committed: the push would fail at the end, with the server's words.
func checkFileSizes(dir string, names []string, limit int64, l msg.Lang, log *slog.Logger) error {
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		switch {
		case fi.Size() > limit:
			e := &FileTooLargeError{Name: name, Size: fi.Size(), Limit: limit}
			if gz, err := os.Stat(filepath.Join(dir, gzipName(name))); err == nil {
				e.GzipSize = gz.Size()
			}
			return e
		case fi.Size() > gitHubWarnSize && limit > gitHubWarnSize:
			log.Warn(l.T("%s is %d MB, near the %d MB a file may be on the branch's host", name, fi.Size()>>20, limit>>20), "file", name, "mb", fi.Size()>>20, "limit_mb", limit>>20)
		}
	}
	return nil
}

// publicFiles names the files of the public folder a run writes: the
// feeds and the public preview, each with its gzip copy. Only these are
// published and served.
func publicFiles(cfg *Config) []string {
	var names []string
	for _, f := range cfg.Feeds {
		names = append(names, f.File, gzipName(f.File))
	}
	if cfg.Preview {
		names = append(names, publicPreviewFile, gzipName(publicPreviewFile))
	}
	return names
}

// describeChange compares the published LINE product file with the one
// just written at path, by product id: " (+2 added, -1 removed, 3 changed)".
// The new file is read as a stream: at 100k products it is some 170 MB.
func describeChange(old []byte, path string) (string, error) {
	if old == nil {
		return " (first publish)", nil
	}
	before, err := productLines(bytes.NewReader(old))
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	after, err := productLines(f)
	if err != nil {
		return "", msg.Errorf("read %s: %w", filepath.Base(path), err)
	}
	added, changed := 0, 0
	for id, line := range after {
		prev, ok := before[id]
		switch {
		case !ok:
			added++
		case prev != line:
			changed++
		}
		delete(before, id)
	}
	return fmt.Sprintf(" (+%d added, -%d removed, %d changed)", added, len(before), changed), nil
}

// productLines maps each product id of a LINE product file to a hash of
// its line.
func productLines(r io.Reader) (map[string][sha256.Size]byte, error) {
	const key = `{"product_id":"`
	lines := make(map[string][sha256.Size]byte)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, err
		}
		trimmed := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte(","))
		if rest, ok := bytes.CutPrefix(trimmed, []byte(key)); ok {
			if id, _, ok := bytes.Cut(rest, []byte(`"`)); ok {
				lines[string(id)] = sha256.Sum256(trimmed)
			}
		}
		if err == io.EOF {
			return lines, nil
		}
	}
}

// fileSet is the named files of a folder, for publishing only what a run
// wrote.
type fileSet struct {
	fsys  fs.FS
	names []string
}

func (s fileSet) Open(name string) (fs.File, error) {
	if name == "." || slices.Contains(s.names, name) {
		return s.fsys.Open(name)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (s fileSet) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	all, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return nil, err
	}
	var entries []fs.DirEntry
	for _, e := range all {
		if slices.Contains(s.names, e.Name()) {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// catalogStage writes products into the catalog files in a goroutine of
// its own, so that reading the sheet and judging products (one goroutine,
// with the inflate in another) and writing the catalog keep both cores
// busy; the two sides cost about the same.
type catalogStage struct {
	out *catalogOutput
	in  chan *CatalogProduct
	// failed is closed when writing fails, so the scan stops early.
	failed chan struct{}
	done   chan struct{}
	err    error // set by the stage's goroutine before done is closed
}

// errStageFailed stops the scan; wait returns the stage's own error.
var errStageFailed = msg.New("writing the catalog failed")

func startCatalogStage(out *catalogOutput) *catalogStage {
	s := &catalogStage{out: out, in: make(chan *CatalogProduct, 64), failed: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *catalogStage) loop() {
	defer close(s.done)
	for p := range s.in {
		if s.err != nil {
			continue // drain until the scan notices
		}
		if err := s.add(p); err != nil {
			s.err = err
			close(s.failed)
		}
	}
}

// add writes one product. The writers run here, off the caller's
// goroutine, so a panic in them is turned into the run's error here, as
// the daemon's recover would have done on the caller's.
func (s *catalogStage) add(p *CatalogProduct) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = msg.Errorf("writing product %s failed (a bug in feedgen: please report it with the export): %v\n%s", p.ID, r, debug.Stack())
		}
	}()
	return s.out.add(p)
}

func (s *catalogStage) send(p *CatalogProduct) error {
	select {
	case s.in <- p:
		return nil
	case <-s.failed:
		return errStageFailed
	}
}

// wait ends the stage once the scan is over and returns its error.
func (s *catalogStage) wait() error {
	close(s.in)
	<-s.done
	return s.err
}
