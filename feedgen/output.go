package feedgen

import (
	"bufio"
	"bytes"
	"errors"
	"feedgen/internal/msg"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Feed is one catalog file to write: a format and a file name in the
// output folder.
type Feed struct {
	Format string `toml:"format"`
	File   string `toml:"file"`
	// ExpandVariants writes one item per variant, grouped by
	// item_group_id, like the platform's 依款式展開商品 switch; false writes
	// one item per product. Formats with one object per product ignore it.
	ExpandVariants *bool `toml:"expand_variants"`
	// FeedgenKeys adds, to a line-json feed, feedgen's own keys category
	// and variants: no known LINE implementation sends them, and whether
	// LINE tolerates unknown keys is not known, so they are off.
	FeedgenKeys bool `toml:"feedgen_keys"`
}

// feedOptions are what a feed writer takes of its [[feed]] table.
type feedOptions struct{ expand, feedgenKeys bool }

// feedFormat is how one format is written and counted.
type feedFormat struct {
	file string // default file name
	open func(w io.Writer, info *CatalogInfo, opt feedOptions) (feedWriter, error)
	// count counts the items in a published file, for the safety guard.
	// It is nil for the category file, which has categories, not items:
	// the guard leaves it alone, since its categories follow from the
	// products, which the guard watches in the product feeds, and a
	// merchant who merges 商品類型 drops categories on purpose.
	count func(io.Reader) (int, error)
}

var feedFormats = map[string]feedFormat{
	"google-xml":      {file: "catalog.xml", open: newGoogleXML, count: countXMLItems},
	"google-tsv":      {file: "catalog.txt", open: newGoogleTSV, count: countLines},
	"meta-csv":        {file: "catalog.csv", open: newMetaCSV, count: countCSVRecords},
	"line-json":       {file: "products.json", open: newLineJSON, count: countJSONItems},
	"line-categories": {file: "categories.json", open: newLineCategories},
}

// DefaultFeeds are the files a run writes unless configured otherwise.
func DefaultFeeds() []Feed {
	return []Feed{{Format: "google-xml", File: "catalog.xml"}, {Format: "line-json", File: "products.json"}, {Format: "line-categories", File: "categories.json"}}
}

func (f Feed) options() feedOptions {
	return feedOptions{expand: f.ExpandVariants == nil || *f.ExpandVariants, feedgenKeys: f.FeedgenKeys}
}

// reservedFiles are written by feedgen itself beside the feeds.
var reservedFiles = map[string]bool{publicPreviewFile: true}

func validateFeeds(feeds []Feed) error {
	if len(feeds) == 0 {
		return &ConfigError{Key: "feed", Err: msg.New("no feeds configured; remove the [[feed]] tables to get the defaults")}
	}
	seen, items := map[string]bool{}, false
	for i := range feeds {
		f := &feeds[i]
		key := fmt.Sprintf("feed[%d]", i)
		ff, ok := feedFormats[f.Format]
		if !ok {
			names := make([]string, 0, len(feedFormats))
			for n := range feedFormats {
				names = append(names, n)
			}
			sort.Strings(names)
			return &ConfigError{Key: key + ".format", Err: msg.Errorf("unknown format %q; use one of %s", f.Format, strings.Join(names, ", "))}
		}
		if f.File == "" {
			f.File = ff.file
		}
		if f.File != filepath.Base(f.File) || strings.ContainsAny(f.File, `/\:`) || strings.HasPrefix(f.File, ".") {
			return &ConfigError{Key: key + ".file", Err: msg.Errorf("%s must be a plain file name inside the output folder", DisplayPath(f.File))}
		}
		if f.Format == "google-tsv" && !strings.EqualFold(filepath.Ext(f.File), ".txt") {
			return &ConfigError{Key: key + ".file", Err: msg.Errorf("%s: Google takes a text feed only in a file named .txt; name it %s, and give Google the new address",
				DisplayPath(f.File), strings.TrimSuffix(f.File, filepath.Ext(f.File))+".txt")}
		}
		if reservedFiles[f.File] || seen[f.File] {
			return &ConfigError{Key: key + ".file", Err: msg.Errorf("%s is already written by another feed or by feedgen itself", DisplayPath(f.File))}
		}
		seen[f.File] = true
		items = items || ff.count != nil
	}
	if !items {
		return &ConfigError{Key: "feed", Err: msg.New("line-categories alone writes no products; add a feed of them, such as format = \"line-json\"")}
	}
	return nil
}

// GuardError is the safety guard refusing to replace a published catalog
// with one that looks broken: empty, or much smaller than before.
type GuardError struct {
	File     string
	Old, New int
	MaxDrop  Fraction
}

func (e *GuardError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *GuardError) Text(l msg.Lang) string {
	if e.New == 0 {
		return l.T("refusing to publish %s: the new catalog has no items", e.File)
	}
	drop := float64(e.Old-e.New) / float64(e.Old)
	return l.T("refusing to replace %s: it would go from %d items to %d, a drop of %.0f%%, more than max_drop %s",
		e.File, e.Old, e.New, drop*100, e.MaxDrop)
}

// tempPattern names temporary files: hidden, and recognisable so that one
// left by a killed run can be removed.
func tempPattern(file string) string { return "." + file + ".tmp-*" }

// catalogOutput writes a catalog's files into temporary files beside the
// published ones while the export is read, and replaces the published files
// only at commit, after every file was written and synced and the guard
// accepted them. Until then the published files are untouched. Each folder
// changes as one generation (see manifest): the whole previous set of files
// or, once committed or rolled forward, the whole new one.
type catalogOutput struct {
	dir    string // the public folder: the feeds and the public preview
	report string // the private folder: the report and the full preview
	files  []*outputFile
}

// outputFile is one file of the catalog being written.
type outputFile struct {
	feed  Feed   // zero for the previews and the report
	dir   string // the folder the file goes to
	name  string
	temp  *os.File
	gz    *os.File // the temporary gzip copy, for a public file
	sink  *sink
	w     feedWriter // nil for the report, written at commit
	count func(io.Reader) (int, error)
	entry manifestEntry // known at commit
}

const (
	// publicPreviewFile is named so as not to collide with a page of the
	// merchant's own, such as the index.html of a GitHub Pages site.
	publicPreviewFile = "feedgen-preview.html"
	previewFile       = "index.html"
	reportFile        = "report.json"
)

// createCatalog starts the files of a catalog: the feeds and, with
// withPreview, the public preview in the public folder dir; the report and
// the full preview in the private folder report.
func createCatalog(dir, report string, info *CatalogInfo, feeds []Feed, withPreview bool) (_ *catalogOutput, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, msg.Errorf("create output folder: %w", err)
	}
	if err := os.MkdirAll(report, 0o700); err != nil {
		return nil, msg.Errorf("create report folder: %w", err)
	}
	o := &catalogOutput{dir: dir, report: report}
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range feeds {
		ff := feedFormats[f.Format]
		of, err := o.create(dir, f.File, true, func(w io.Writer) (feedWriter, error) { return ff.open(w, info, f.options()) })
		if err != nil {
			return nil, err
		}
		of.feed, of.count = f, ff.count
	}
	if withPreview {
		for _, p := range []struct {
			dir, name string
			private   bool
		}{{dir, publicPreviewFile, false}, {report, previewFile, true}} {
			if _, err := o.create(p.dir, p.name, !p.private, func(w io.Writer) (feedWriter, error) { return newPreview(w, info, p.private) }); err != nil {
				return nil, err
			}
		}
	}
	if _, err := o.create(report, reportFile, false, nil); err != nil {
		return nil, err
	}
	return o, nil
}

// create starts one file; a public one gets a gzip copy beside it.
func (o *catalogOutput) create(dir, name string, public bool, open func(io.Writer) (feedWriter, error)) (*outputFile, error) {
	tmp, err := os.CreateTemp(dir, tempPattern(name))
	if err != nil {
		return nil, msg.Errorf("write %s: %w", name, err)
	}
	of := &outputFile{dir: dir, name: name, temp: tmp}
	o.files = append(o.files, of)
	if public {
		if of.gz, err = os.CreateTemp(dir, tempPattern(gzipName(name))); err != nil {
			return nil, msg.Errorf("write %s: %w", gzipName(name), err)
		}
	}
	of.sink = newSink(tmp, of.gz)
	if open != nil {
		if of.w, err = open(of.sink); err != nil {
			return nil, msg.Errorf("write %s: %w", name, err)
		}
	}
	return of, nil
}

func (o *catalogOutput) add(p *CatalogProduct) error {
	p = p.cleaned()
	for _, f := range o.files {
		if f.w == nil {
			continue
		}
		if err := f.w.product(p); err != nil {
			return msg.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// commit finishes every file, records the feeds in sum, writes the report,
// and replaces the published files. It aborts, leaving them untouched, on
// any error or when the guard refuses.
func (o *catalogOutput) commit(sum *Summary, excluded *exclusionList, diagnosed *diagnosisList, maxDrop Fraction, force, detectChange bool) (err error) {
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range o.files {
		if f.w == nil {
			continue
		}
		if err := f.w.finish(excluded); err != nil {
			return msg.Errorf("write %s: %w", f.name, err)
		}
		if f.feed.Format != "" {
			sum.Feeds = append(sum.Feeds, FeedResult{Format: f.feed.Format, File: f.name, Items: f.w.items()})
		}
	}
	if cf := sum.catalogFeed(); cf != nil {
		sum.Items = cf.Items
	}
	for _, f := range o.files {
		if f.name == reportFile {
			if err := sum.writeJSON(f.sink, excluded, diagnosed); err != nil {
				return msg.Errorf("write %s: %w", f.name, err)
			}
		}
	}
	// The files are finished together: each waits mostly for its gzip copy
	// or for the disk, and one after the other they added up at the end of
	// every run.
	errs := make([]error, len(o.files))
	var wg sync.WaitGroup
	for i, f := range o.files {
		wg.Go(func() { errs[i] = f.finish() })
	}
	wg.Wait()
	for i, f := range o.files {
		if errs[i] != nil {
			return msg.Errorf("write %s: %w", f.name, errs[i])
		}
	}
	published, err := readManifest(o.dir)
	if err != nil {
		return msg.Errorf("read the published catalog: %w", err)
	}
	if !force {
		for _, f := range o.files {
			if f.count == nil {
				continue
			}
			if err := guard(f.dir, f.name, published, f.count, f.w.items(), maxDrop); err != nil {
				return err
			}
		}
	}
	if detectChange {
		sum.Changed = o.changed(published)
	}
	for _, dir := range []string{o.dir, o.report} {
		if err := o.commitFolder(dir, sum.At); err != nil {
			return err
		}
	}
	o.files = nil
	removeLegacyFiles(o.dir)
	return nil
}

// finish waits for the file's digest and makes its temporary files durable.
func (f *outputFile) finish() (err error) {
	items := -1
	if f.count != nil {
		items = f.w.items()
	}
	if f.entry, err = f.sink.close(f.name, items); err != nil {
		return err
	}
	if f.gz != nil {
		if err := finishTemp(f.gz); err != nil {
			return err
		}
	}
	return finishTemp(f.temp)
}

// changed reports whether a feed differs from the published generation.
func (o *catalogOutput) changed(published *manifest) bool {
	for _, f := range o.files {
		if f.feed.Format == "" {
			continue
		}
		old := published.entryOf(f.name)
		if old == nil || old.SHA256 != f.entry.SHA256 || !hasSize(filepath.Join(f.dir, f.name), old.Size) {
			return true
		}
	}
	return false
}

// commitFolder replaces the files of dir with the new ones, as one
// generation. A file another program holds open is waited for, within
// heldFileWait, before anything is replaced.
func (o *catalogOutput) commitFolder(dir string, at time.Time) error {
	m := &manifest{Generated: at}
	var targets []string
	for _, f := range o.files {
		if f.dir != dir {
			continue
		}
		m.Files = append(m.Files, f.entry)
		m.Renames = append(m.Renames, rename{filepath.Base(f.temp.Name()), f.name})
		if f.gz != nil {
			m.Renames = append(m.Renames, rename{filepath.Base(f.gz.Name()), gzipName(f.name)})
		}
	}
	for _, r := range m.Renames {
		targets = append(targets, r.To)
		laterThan(filepath.Join(dir, r.From), filepath.Join(dir, r.To))
	}
	if err := waitUntilReplaceable(dir, targets, heldFileWait); err != nil {
		return err
	}
	if err := writeJournal(dir, m); err != nil {
		return msg.Errorf("write %s: %w", journalFile, err)
	}
	replaced, err := applyJournal(dir, m)
	if err != nil && len(replaced) == 0 {
		// Nothing was replaced: the commit is dropped whole.
		os.Remove(filepath.Join(dir, journalFile))
		return err
	}
	// From here the journal owns the temporary files: the next run rolls
	// the commit forward with them.
	for _, f := range o.files {
		if f.dir == dir {
			f.temp, f.gz = nil, nil
		}
	}
	return err
}

// laterThan gives the new file at path a modification time in a later
// second than the file old it replaces, when two runs come within one
// second: HTTP's Last-Modified counts whole seconds, and a client holding
// the old file must not be told by If-Modified-Since that it is current.
// It is best effort: a file system that refuses leaves the time as it is.
func laterThan(path, old string) {
	prev, err := os.Stat(old)
	if err != nil {
		return
	}
	cur, err := os.Stat(path)
	if err != nil {
		return
	}
	if next := prev.ModTime().Truncate(time.Second).Add(time.Second); cur.ModTime().Before(next) {
		_ = os.Chtimes(path, next, next)
	}
}

// removeLegacyFiles removes from the public folder the report and the full
// preview that feedgen wrote there before they moved to the report folder:
// they name the excluded products. A file of the same name that feedgen
// did not write is left alone.
func removeLegacyFiles(dir string) {
	for name, ours := range legacyPrivateFiles {
		p := filepath.Join(dir, name)
		if b, err := readHead(p, legacyHead); err == nil && ours(b) {
			os.Remove(p)
		}
	}
}

// legacyPrivateFiles are the private files older versions of feedgen put
// in the public folder, by name, with how to tell from the first
// legacyHead bytes of a file of that name that feedgen wrote it.
var legacyPrivateFiles = map[string]func(head []byte) bool{
	reportFile: func(b []byte) bool { return bytes.Contains(b, []byte(`"export_sha256"`)) },
	previewFile: func(b []byte) bool {
		return bytes.Contains(b, []byte("— catalog preview</title>")) && bytes.Contains(b, []byte(`<meta name="robots" content="noindex">`))
	},
}

const legacyHead = 4096

// readHead returns up to n bytes from the start of a file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:m], err
}

// abort removes the temporary files.
func (o *catalogOutput) abort() {
	for _, f := range o.files {
		if f.sink != nil {
			f.sink.stop()
		}
		for _, t := range []*os.File{f.temp, f.gz} {
			if t != nil {
				t.Close()
				os.Remove(t.Name())
			}
		}
	}
	o.files = nil
}

// guard refuses a feed of n items that is empty or, against the published
// one, drops more than maxDrop. The published count comes from the
// folder's manifest while the file is the one it describes, and is counted
// otherwise (a folder an older feedgen wrote).
func guard(dir, file string, published *manifest, count func(io.Reader) (int, error), n int, maxDrop Fraction) error {
	if n == 0 {
		return &GuardError{File: file, New: 0, MaxDrop: maxDrop}
	}
	prev := -1
	if e := published.entryOf(file); e != nil && e.Items >= 0 && hasSize(filepath.Join(dir, file), e.Size) {
		prev = e.Items
	} else {
		old, err := os.Open(filepath.Join(dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return msg.Errorf("read published %s: %w", file, err)
		}
		defer old.Close()
		if prev, err = count(old); err != nil {
			// A published file that cannot be read is no catalog worth keeping.
			return nil
		}
	}
	if prev > 0 && float64(prev-n)/float64(prev) > float64(maxDrop) {
		return &GuardError{File: file, Old: prev, New: n, MaxDrop: maxDrop}
	}
	return nil
}

// hasSize reports whether the file at path exists with size bytes.
func hasSize(path string, size int64) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// finishTemp makes a temporary file readable like the file it replaces
// (CreateTemp makes it private) and durable before the rename.
func finishTemp(f *os.File) error {
	if err := f.Chmod(0o644); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// writebackFile passes each few MiB written to the kernel for writing out
// at once, where the system allows (Linux), so that the fsync at commit
// finds little left to write: a 100k-product catalog is hundreds of MB,
// and syncing it all at the end took half a second after the work was done.
type writebackFile struct {
	f                *os.File
	written, started int64
}

const writebackChunk = 8 << 20

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.started >= writebackChunk {
		startWriteback(w.f, w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}

// replaceFile renames the file from over the file to, both in dir. It
// renames through an os.Root, which on Windows replaces with POSIX
// semantics: a file open with delete sharing, as the daemon's server and
// feedgen's export reader open theirs, does not stop it. A reader holding
// the file for a moment without that sharing (an antivirus scan) does, so
// there it is retried briefly.
func replaceFile(dir, from, to string) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = renameFile(dir, from, to); err == nil || runtime.GOOS != "windows" {
			return err
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	return err
}

func renameInRoot(dir, from, to string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.Rename(from, to)
}

// renameFile and isHeld are the system's; tests replace them to fail a
// commit at a given step or to hold a file.
var (
	renameFile = renameInRoot
	isHeld     = held
)

// heldFileWait is how long a commit waits for another program to close a
// file it is to replace; tests shorten it.
var heldFileWait = 30 * time.Second

// HeldFileError is a file another program holds open so that it cannot be
// replaced (Windows: Excel with catalog.csv open, a download in progress).
type HeldFileError struct {
	File string
	Wait time.Duration
}

func (e *HeldFileError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *HeldFileError) Text(l msg.Lang) string {
	return l.T("%s is held open by another program (still after %s); nothing was replaced", e.File, e.Wait)
}

// waitUntilReplaceable waits, with backoff and for at most wait, until no
// other program holds any of the files names in dir open in a way that
// stops a rename over it, so that a commit does not stop halfway because
// of the second or third file. Only Windows has such holds.
func waitUntilReplaceable(dir string, names []string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	delay := 100 * time.Millisecond
	for _, name := range names {
		for isHeld(filepath.Join(dir, name)) {
			if time.Now().After(deadline) {
				return &HeldFileError{File: name, Wait: wait}
			}
			time.Sleep(delay)
			delay = min(2*delay, 2*time.Second)
		}
	}
	return nil
}

// syncDir makes the renames durable; Windows has no directory fsync.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return msg.Errorf("sync %s: %w", DisplayPath(dir), err)
	}
	return nil
}

// countXMLItems counts <item> elements in an RSS feed by scanning bytes: a
// published catalog can be hundreds of megabytes and only the count matters.
func countXMLItems(r io.Reader) (int, error) {
	const tag = "<item>"
	br := bufio.NewReaderSize(r, 64<<10)
	n, carry := 0, ""
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		chunk := carry + string(buf[:k])
		n += strings.Count(chunk, tag)
		if len(chunk) >= len(tag)-1 {
			carry = chunk[len(chunk)-(len(tag)-1):]
		} else {
			carry = chunk
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// countJSONItems counts the elements of a top-level JSON array of objects.
func countJSONItems(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	depth, n := 0, 0
	inString, escaped := false, false
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			if depth != 0 || inString {
				return 0, msg.New("truncated JSON")
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '[' || b == '{':
			if depth == 1 && b == '{' {
				n++
			}
			depth++
		case b == ']' || b == '}':
			depth--
		}
	}
}
