package feedgen

import (
	"bufio"
	"bytes"
	"errors"
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
}

// feedFormat is how one format is written and counted.
type feedFormat struct {
	file  string // default file name
	open  func(w io.Writer, info *CatalogInfo, expand bool) (feedWriter, error)
	count func(io.Reader) (int, error) // items in a published file
}

var feedFormats = map[string]feedFormat{
	"google-xml": {file: "catalog.xml", open: newGoogleXML, count: countXMLItems},
	"google-tsv": {file: "catalog.tsv", open: newGoogleTSV, count: countLines},
	"meta-csv":   {file: "catalog.csv", open: newMetaCSV, count: countCSVRecords},
	"line-json":  {file: "products.json", open: newLineJSON, count: countJSONItems},
}

// DefaultFeeds are the files a run writes unless configured otherwise.
func DefaultFeeds() []Feed {
	return []Feed{{Format: "google-xml", File: "catalog.xml"}, {Format: "line-json", File: "products.json"}}
}

func (f Feed) expand() bool { return f.ExpandVariants == nil || *f.ExpandVariants }

// reservedFiles are written by feedgen itself beside the feeds.
var reservedFiles = map[string]bool{publicPreviewFile: true}

func validateFeeds(feeds []Feed) error {
	if len(feeds) == 0 {
		return &ConfigError{Key: "feed", Err: errors.New("no feeds configured; remove the [[feed]] tables to get the defaults")}
	}
	seen := map[string]bool{}
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
			return &ConfigError{Key: key + ".format", Err: fmt.Errorf("unknown format %q; use one of %s", f.Format, strings.Join(names, ", "))}
		}
		if f.File == "" {
			f.File = ff.file
		}
		if f.File != filepath.Base(f.File) || strings.ContainsAny(f.File, `/\:`) || strings.HasPrefix(f.File, ".") {
			return &ConfigError{Key: key + ".file", Err: fmt.Errorf("%q must be a plain file name inside the output folder", f.File)}
		}
		if reservedFiles[f.File] || seen[f.File] {
			return &ConfigError{Key: key + ".file", Err: fmt.Errorf("%q is already written by another feed or by feedgen itself", f.File)}
		}
		seen[f.File] = true
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

func (e *GuardError) Error() string {
	if e.New == 0 {
		return fmt.Sprintf("refusing to publish %s: the new catalog has no items", e.File)
	}
	drop := float64(e.Old-e.New) / float64(e.Old)
	return fmt.Sprintf("refusing to replace %s: it would go from %d items to %d, a drop of %.0f%%, more than max_drop %s",
		e.File, e.Old, e.New, drop*100, e.MaxDrop)
}

// tempPattern names temporary files: hidden, and recognisable so that one
// left by a killed run can be removed.
func tempPattern(file string) string { return "." + file + ".tmp-*" }

// catalogOutput writes a catalog's files into temporary files beside the
// published ones while the export is read, and replaces the published files
// only at commit, after every file was written and synced and the guard
// accepted them. Until then the published files are untouched. Each file
// is replaced atomically; should a rename fail midway (a full disk, a
// locked file on Windows), the files already renamed are new and the rest
// old, each of them whole.
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
	w     feedWriter // nil for the report, written at commit
	count func(io.Reader) (int, error)
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
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	if err := os.MkdirAll(report, 0o700); err != nil {
		return nil, fmt.Errorf("create report folder: %w", err)
	}
	o := &catalogOutput{dir: dir, report: report}
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range feeds {
		ff := feedFormats[f.Format]
		of, err := o.create(dir, f.File, func(w io.Writer) (feedWriter, error) { return ff.open(w, info, f.expand()) })
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
			if _, err := o.create(p.dir, p.name, func(w io.Writer) (feedWriter, error) { return newPreview(w, info, p.private) }); err != nil {
				return nil, err
			}
		}
	}
	if _, err := o.create(report, reportFile, nil); err != nil {
		return nil, err
	}
	removeStaleTemps(o.files)
	return o, nil
}

func (o *catalogOutput) create(dir, name string, open func(io.Writer) (feedWriter, error)) (*outputFile, error) {
	tmp, err := os.CreateTemp(dir, tempPattern(name))
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	of := &outputFile{dir: dir, name: name, temp: tmp}
	o.files = append(o.files, of)
	if open != nil {
		if of.w, err = open(&writebackFile{f: tmp}); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
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
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// commit finishes every file, records the feeds in sum, writes the report,
// and replaces the published files. It aborts, leaving them untouched, on
// any error or when the guard refuses.
func (o *catalogOutput) commit(sum *Summary, maxDrop Fraction, force, detectChange bool) (err error) {
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range o.files {
		if f.w == nil {
			continue
		}
		if err := f.w.finish(sum.ExcludedProducts); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if f.count != nil {
			sum.Feeds = append(sum.Feeds, FeedResult{Format: f.feed.Format, File: f.name, Items: f.w.items()})
		}
	}
	if len(sum.Feeds) > 0 {
		sum.Items = sum.Feeds[0].Items
	}
	for _, f := range o.files {
		if f.name == reportFile {
			if err := sum.WriteJSON(f.temp); err != nil {
				return fmt.Errorf("write %s: %w", f.name, err)
			}
		}
	}
	// The files are synced together: each fsync mostly waits for the disk,
	// and one after the other they added up at the end of every run.
	errs := make([]error, len(o.files))
	var wg sync.WaitGroup
	for i, f := range o.files {
		wg.Go(func() { errs[i] = finishTemp(f.temp) })
	}
	wg.Wait()
	for i, f := range o.files {
		if errs[i] != nil {
			return fmt.Errorf("write %s: %w", f.name, errs[i])
		}
	}
	if !force {
		for _, f := range o.files {
			if f.count == nil {
				continue
			}
			if err := guard(f.dir, f.name, f.count, f.w.items(), maxDrop); err != nil {
				return err
			}
		}
	}
	if detectChange {
		for _, f := range o.files {
			if f.count != nil && !sameFile(f.temp.Name(), filepath.Join(f.dir, f.name)) {
				sum.Changed = true
			}
		}
	}
	for _, f := range o.files {
		laterThan(f.temp.Name(), filepath.Join(f.dir, f.name))
		if err := replaceFile(f.temp.Name(), filepath.Join(f.dir, f.name)); err != nil {
			return fmt.Errorf("replace %s: %w", f.name, err)
		}
	}
	o.files = nil
	removeLegacyFiles(o.dir)
	return errors.Join(syncDir(o.dir), syncDir(o.report))
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
		f.temp.Close()
		os.Remove(f.temp.Name())
	}
	o.files = nil
}

// sameFile reports whether two files have the same bytes; a missing or
// unreadable one is different.
func sameFile(a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		return false
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false
	}
	defer fb.Close()
	sa, erra := fa.Stat()
	sb, errb := fb.Stat()
	if erra != nil || errb != nil || sa.Size() != sb.Size() {
		return false
	}
	ra, rb := bufio.NewReaderSize(fa, 64<<10), bufio.NewReaderSize(fb, 64<<10)
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, erra := io.ReadFull(ra, bufA)
		nb, errb := io.ReadFull(rb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false
		}
		if erra != nil || errb != nil {
			// Equal sizes: both ends come together, or a read failed.
			return endOfFile(erra) && endOfFile(errb)
		}
	}
}

func endOfFile(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

func guard(dir, file string, count func(io.Reader) (int, error), n int, maxDrop Fraction) error {
	if n == 0 {
		return &GuardError{File: file, New: 0, MaxDrop: maxDrop}
	}
	old, err := os.Open(filepath.Join(dir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read published %s: %w", file, err)
	}
	defer old.Close()
	prev, err := count(old)
	if err != nil || prev == 0 {
		// A published file that cannot be read is no catalog worth keeping.
		return nil
	}
	if float64(prev-n)/float64(prev) > float64(maxDrop) {
		return &GuardError{File: file, Old: prev, New: n, MaxDrop: maxDrop}
	}
	return nil
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

// replaceFile renames src over dst. On Windows a reader holding dst open
// (a web server, an antivirus scan) makes the rename fail for a moment, so
// it is retried briefly there.
func replaceFile(src, dst string) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = os.Rename(src, dst); err == nil || runtime.GOOS != "windows" {
			return err
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	return err
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
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// staleTempAge is how old a temporary file must be before a later run
// takes it for the leftover of a killed run rather than a run in progress.
const staleTempAge = time.Hour

func removeStaleTemps(files []*outputFile) {
	for _, f := range files {
		matches, _ := filepath.Glob(filepath.Join(f.dir, tempPattern(f.name)))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > staleTempAge {
				os.Remove(m)
			}
		}
	}
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
				return 0, errors.New("truncated JSON")
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
