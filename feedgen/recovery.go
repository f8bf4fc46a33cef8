package feedgen

import (
	"errors"

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
	// guarded is the safety guard refusing the catalog the export makes.
	// That depends on the time products are judged at and on the
	// published catalog too, so the next scheduled run tries again; a
	// retry minutes later would only be refused alike.
	guarded
)

// classify tells what err, a failed run's error, calls for.
func classify(err error) failure {
	var (
		guard *GuardError
		cols  *ColumnError
		read  *xlsx.ReadError
	)
	switch {
	case errors.As(err, &guard):
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
