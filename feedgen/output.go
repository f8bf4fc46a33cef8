package feedgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Feed is one catalog file: its format, its name in the output folder, and
// how to write and count it.
type Feed struct {
	Format string
	File   string
	open   func(io.Writer, *CatalogInfo) (feedWriter, error)
	count  func(io.Reader) (int, error) // items in a published file
}

// DefaultFeeds are the files a run writes unless configured otherwise.
func DefaultFeeds() []Feed {
	return []Feed{
		{Format: "google-xml", File: "catalog.xml", open: newGoogleXML, count: countXMLItems},
		{Format: "line-json", File: "products.json", open: newLineJSON, count: countJSONItems},
	}
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
// accepted them. Until then the published files are untouched.
type catalogOutput struct {
	dir     string
	feeds   []Feed
	temps   []*os.File
	writers []feedWriter
}

func createCatalog(dir string, info *CatalogInfo, feeds []Feed) (_ *catalogOutput, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	removeStaleTemps(dir, feeds)
	o := &catalogOutput{dir: dir, feeds: feeds}
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range feeds {
		tmp, err := os.CreateTemp(dir, tempPattern(f.File))
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", f.File, err)
		}
		o.temps = append(o.temps, tmp)
		fw, err := f.open(tmp, info)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", f.File, err)
		}
		o.writers = append(o.writers, fw)
	}
	return o, nil
}

func (o *catalogOutput) add(p *CatalogProduct) error {
	for i, w := range o.writers {
		if err := w.product(p); err != nil {
			return fmt.Errorf("write %s: %w", o.feeds[i].File, err)
		}
	}
	return nil
}

// commit finishes every file and replaces the published ones. It aborts,
// leaving them untouched, on any error or when the guard refuses.
func (o *catalogOutput) commit(excluded []Exclusion, maxDrop Fraction, force bool) (err error) {
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for i, f := range o.feeds {
		if err := o.writers[i].finish(excluded); err != nil {
			return fmt.Errorf("write %s: %w", f.File, err)
		}
		if err := finishTemp(o.temps[i]); err != nil {
			return fmt.Errorf("write %s: %w", f.File, err)
		}
	}
	if !force {
		for i, f := range o.feeds {
			if err := guard(o.dir, f, o.writers[i].items(), maxDrop); err != nil {
				return err
			}
		}
	}
	for i, f := range o.feeds {
		if err := replaceFile(o.temps[i].Name(), filepath.Join(o.dir, f.File)); err != nil {
			return fmt.Errorf("replace %s: %w", f.File, err)
		}
	}
	o.temps = nil
	return syncDir(o.dir)
}

// abort removes the temporary files.
func (o *catalogOutput) abort() {
	for _, t := range o.temps {
		t.Close()
		os.Remove(t.Name())
	}
	o.temps = nil
}

// writeCatalog writes an in-memory catalog: createCatalog, add, commit.
func writeCatalog(dir string, c *Catalog, feeds []Feed, maxDrop Fraction, force bool) error {
	o, err := createCatalog(dir, &c.CatalogInfo, feeds)
	if err != nil {
		return err
	}
	for i := range c.Products {
		if err := o.add(&c.Products[i]); err != nil {
			o.abort()
			return err
		}
	}
	return o.commit(c.Excluded, maxDrop, force)
}

func guard(dir string, f Feed, n int, maxDrop Fraction) error {
	if n == 0 {
		return &GuardError{File: f.File, New: 0, MaxDrop: maxDrop}
	}
	old, err := os.Open(filepath.Join(dir, f.File))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read published %s: %w", f.File, err)
	}
	defer old.Close()
	prev, err := f.count(old)
	if err != nil || prev == 0 {
		// A published file that cannot be read is no catalog worth keeping.
		return nil
	}
	if float64(prev-n)/float64(prev) > float64(maxDrop) {
		return &GuardError{File: f.File, Old: prev, New: n, MaxDrop: maxDrop}
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

func removeStaleTemps(dir string, feeds []Feed) {
	for _, f := range feeds {
		matches, _ := filepath.Glob(filepath.Join(dir, tempPattern(f.File)))
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
