package feedgen

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// RunOptions are the per-run settings that do not belong in a config file.
type RunOptions struct {
	// At is the time 已上架 is evaluated at; zero means now.
	At time.Time
	// Force publishes even when the safety guard refuses.
	Force bool
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Summary is what a run did, for the merchant and for scripts.
type Summary struct {
	Export     string         `json:"export"`
	At         time.Time      `json:"at"`
	Rows       int            `json:"rows"`
	Products   int            `json:"products"`
	Eligible   int            `json:"eligible"`
	Items      int            `json:"items"`
	Excluded   int            `json:"excluded"`
	ExcludedBy map[string]int `json:"excluded_by_reason"`
	Warnings   []Warning      `json:"warnings"`
	// WarningCount is exact; Warnings keeps the first ones.
	WarningCount int      `json:"warning_count"`
	Files        []string `json:"files"`
}

// Run is the whole pipeline once: read cfg.Export, apply the rules at
// opt.At, and replace the catalog files in cfg.Out atomically. It returns a
// summary even when the guard refuses, so the caller can say what it saw.
func Run(ctx context.Context, cfg Config, opt RunOptions) (*Summary, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	at := opt.At
	if at.IsZero() {
		at = time.Now()
	}
	start := time.Now()
	ex, err := ReadExportFile(ctx, cfg.Export, cfg)
	if err != nil {
		return nil, err
	}
	log.Debug("export read", "file", cfg.Export, "rows", ex.Rows, "products", len(ex.Products), "took", time.Since(start))
	cat := buildCatalog(ex, &cfg, at.In(cfg.Location()))
	sum := summarize(cfg.Export, ex, cat)
	feeds := DefaultFeeds()
	if err := writeCatalog(cfg.Out, cat, feeds, cfg.MaxDrop, opt.Force); err != nil {
		return sum, fmt.Errorf("write catalog to %q: %w", cfg.Out, err)
	}
	for _, f := range feeds {
		sum.Files = append(sum.Files, filepath.Join(cfg.Out, f.File))
	}
	log.Debug("catalog written", "dir", cfg.Out, "items", sum.Items, "took", time.Since(start))
	return sum, nil
}

// ReadExportFile opens and reads the export at path.
func ReadExportFile(ctx context.Context, path string, cfg Config) (*Export, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read export %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read export %q: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("read export %q: is a folder, not an .xlsx file", path)
	}
	ex, err := ReadExport(ctx, f, fi.Size(), cfg)
	if err != nil {
		return nil, fmt.Errorf("read export %q: %w", path, err)
	}
	return ex, nil
}

func summarize(export string, ex *Export, c *Catalog) *Summary {
	s := &Summary{
		Export:       export,
		At:           c.At,
		Rows:         ex.Rows,
		Products:     len(ex.Products),
		Eligible:     len(c.Products),
		Items:        c.Items(),
		Excluded:     len(c.Excluded),
		ExcludedBy:   map[string]int{},
		Warnings:     ex.Warnings,
		WarningCount: ex.WarningCount,
	}
	for _, e := range c.Excluded {
		seen := map[string]bool{}
		for _, r := range e.Reasons {
			if !seen[r.Code] {
				seen[r.Code] = true
				s.ExcludedBy[r.Code]++
			}
		}
	}
	return s
}

// ReasonCodes returns the codes of s.ExcludedBy in a stable order.
func (s *Summary) ReasonCodes() []string {
	codes := make([]string, 0, len(s.ExcludedBy))
	for c := range s.ExcludedBy {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}
