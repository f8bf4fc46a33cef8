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
	write  func(io.Writer, *Catalog) error
	count  func(io.Reader) (int, error) // items in a published file
	items  func(*Catalog) int           // items this catalog will write
}

// DefaultFeeds are the files a run writes unless configured otherwise.
func DefaultFeeds() []Feed {
	return []Feed{
		{Format: "google-xml", File: "catalog.xml", write: WriteGoogleXML, count: countXMLItems, items: (*Catalog).Items},
		{Format: "line-json", File: "products.json", write: WriteLineJSON, count: countJSONItems, items: func(c *Catalog) int { return len(c.Products) }},
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

// writeCatalog writes every feed of c into dir, replacing the published
// files only after all of them were written and synced, and only when the
// guard accepts them. On any error the published files are untouched.
func writeCatalog(dir string, c *Catalog, feeds []Feed, maxDrop Fraction, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	removeStaleTemps(dir, feeds)
	if !force {
		for _, f := range feeds {
			if err := guard(dir, f, f.items(c), maxDrop); err != nil {
				return err
			}
		}
	}
	temps := make([]string, 0, len(feeds))
	defer func() {
		for _, t := range temps {
			os.Remove(t) // gone already after a successful rename
		}
	}()
	for _, f := range feeds {
		tmp, err := writeTemp(dir, f, c)
		if err != nil {
			return fmt.Errorf("write %s: %w", f.File, err)
		}
		temps = append(temps, tmp)
	}
	for i, f := range feeds {
		if err := replaceFile(temps[i], filepath.Join(dir, f.File)); err != nil {
			return fmt.Errorf("replace %s: %w", f.File, err)
		}
	}
	return syncDir(dir)
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

func writeTemp(dir string, f Feed, c *Catalog) (name string, err error) {
	tmp, err := os.CreateTemp(dir, tempPattern(f.File))
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := f.write(tmp, c); err != nil {
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil && runtime.GOOS != "windows" {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	return tmp.Name(), tmp.Close()
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
