package feedgen

import (
	"errors"
	"time"

	"feedgen/internal/xlsx"
)

// failure is what a failed run calls for, by what it failed on.
type failure int

const (
	// passing is trouble that may be gone in a minute: a catalog file
	// another program holds open, the output folder locked by another
	// feedgen, a full or unreachable disk, a push that did not go through,
	// an export saved over while it was read. An error not known to be
	// the export's is taken as passing, since most are the system's. The
	// run is tried again soon (see retryDelays).
	passing failure = iota
	// badExport is the export itself: missing, not a workbook, damaged,
	// password-protected, too large, or without the sheet, the columns or
	// the products a catalog needs. Every run of it fails alike, so the
	// schedule leaves it alone until it changes.
	badExport
	// guarded is a check refusing the catalog the export makes: the
	// safety guard, or a file over the size the branch's host takes. That
	// depends on the time products are judged at and on the published
	// catalog too, so the next scheduled run tries again; a retry minutes
	// later would only be refused alike.
	guarded
)

// classify tells what err, a failed run's error, calls for.
func classify(err error) failure {
	var (
		guard *GuardError
		large *FileTooLargeError
		cols  *ColumnError
		read  *xlsx.ReadError
	)
	switch {
	case errors.As(err, &guard), errors.As(err, &large):
		return guarded
	case errors.As(err, &read):
		return passing // the disk or network folder failed, not the workbook
	case errors.As(err, &cols),
		errors.Is(err, ErrNotFound),
		errors.Is(err, errNoExport),
		errors.Is(err, ErrNoProducts),
		errors.Is(err, ErrProductTooLarge),
		errors.Is(err, xlsx.ErrNotXLSX),
		errors.Is(err, xlsx.ErrOpenDocument),
		errors.Is(err, xlsx.ErrLegacyXLS),
		errors.Is(err, xlsx.ErrEncrypted),
		errors.Is(err, xlsx.ErrTooLarge),
		errors.Is(err, xlsx.ErrOverLimit),
		errors.Is(err, xlsx.ErrCorrupt),
		errors.Is(err, xlsx.ErrNoSheet):
		return badExport
	}
	return passing
}

// retryDelays are the waits before the retries of a run that failed for a
// passing reason, each counted from the failure before. A failed 04:45 run
// is tried again at 04:46, 04:51 and 05:06; after that, or sooner when it
// comes first, the next scheduled run takes over.
var retryDelays = [...]time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// nextSlot returns the first scheduled time after now.
func nextSlot(now time.Time, loc *time.Location, slots []TimeOfDay) time.Time {
	now = now.In(loc)
	var next time.Time
	for _, t := range slots {
		at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour, t.Minute, 0, 0, loc)
		if !at.After(now) {
			at = time.Date(now.Year(), now.Month(), now.Day()+1, t.Hour, t.Minute, 0, 0, loc)
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// exportVersion is the export a run would read, as far as a look at the
// folder tells: which file, and its size and time of change.
type exportVersion struct {
	path  string    // "" when a drop folder holds no complete export
	stamp fileStamp // zero when the file is missing
}

func (v exportVersion) same(w exportVersion) bool {
	return v.path == w.path && v.stamp.same(w.stamp)
}

// refusal is an export the last run failed on by its own fault.
type refusal struct {
	export exportVersion
	at     time.Time
	err    error
}
