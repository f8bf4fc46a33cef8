// Package spillfile makes the temporary files in which feedgen keeps what
// it reads from an export beyond what memory should hold.
package spillfile

import (
	"errors"
	"os"
)

// File is a temporary file in os.TempDir that is gone once closed, and
// sooner where the system allows: it is unlinked as soon as it is made,
// so that it cannot outlive the process, even one that crashes. Where the
// system refuses (Windows, while the file is open), Close removes it.
type File struct {
	*os.File
	name string // set when Close must remove the file
}

// Create makes a temporary file, named after pattern as os.CreateTemp
// names it.
func Create(pattern string) (*File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	sf := &File{File: f}
	if os.Remove(f.Name()) != nil {
		sf.name = f.Name()
	}
	return sf, nil
}

// Close closes the file and removes it unless it was unlinked when made.
func (f *File) Close() error {
	err := f.File.Close()
	if f.name != "" {
		err = errors.Join(err, os.Remove(f.name))
	}
	return err
}
