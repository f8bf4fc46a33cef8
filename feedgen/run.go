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
// opt.At, and replace the catalog files in cfg.Out atomically. Products
// flow from the sheet to the files one at a time. It returns a summary even
// when the guard refuses, so the caller can say what it saw.
func Run(ctx context.Context, cfg Config, opt RunOptions) (*Summary, error) {
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
	feeds := DefaultFeeds()
	var (
		out      *catalogOutput
		b        *catalogBuilder
		excluded []Exclusion
		eligible int
	)
	ex, err := streamExportFile(ctx, cfg.Export, cfg, func(ex *Export) error {
		b = newCatalogBuilder(&cfg, ex, at)
		info := b.info()
		var err error
		out, err = createCatalog(cfg.Out, &info, feeds)
		if err != nil {
			return fmt.Errorf("write catalog to %q: %w", cfg.Out, err)
		}
		return nil
	}, func(p *Product) error {
		cp, excl := b.add(p)
		if excl != nil {
			excluded = append(excluded, *excl)
			return nil
		}
		eligible++
		return out.add(cp)
	})
	if err != nil {
		if out != nil {
			out.abort()
		}
		return nil, err
	}
	log.Debug("export read", "file", cfg.Export, "rows", ex.Rows, "products", ex.ProductCount, "took", time.Since(start))
	sum := summarize(cfg.Export, ex, at, eligible, out.writers[0].items(), excluded)
	if err := out.commit(excluded, cfg.MaxDrop, opt.Force); err != nil {
		return sum, fmt.Errorf("write catalog to %q: %w", cfg.Out, err)
	}
	for _, f := range feeds {
		sum.Files = append(sum.Files, filepath.Join(cfg.Out, f.File))
	}
	log.Debug("catalog written", "dir", cfg.Out, "items", sum.Items, "took", time.Since(start))
	return sum, nil
}

// ReadExportFile reads the export at path into memory.
func ReadExportFile(ctx context.Context, path string, cfg Config) (*Export, error) {
	var products []*Product
	ex, err := streamExportFile(ctx, path, cfg, nil, func(p *Product) error {
		products = append(products, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ex.Products = products
	return ex, nil
}

// streamExportFile opens the export at path and hands each product to
// emit. begin, when set, is called once the header row is known and before
// the first product.
func streamExportFile(ctx context.Context, path string, cfg Config, begin func(*Export) error, emit func(*Product) error) (*Export, error) {
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
	ex, err := streamExport(ctx, f, fi.Size(), cfg, begin, emit)
	if err != nil {
		return nil, fmt.Errorf("read export %q: %w", path, err)
	}
	return ex, nil
}

func summarize(export string, ex *Export, at time.Time, eligible, items int, excluded []Exclusion) *Summary {
	s := &Summary{
		Export:       export,
		At:           at,
		Rows:         ex.Rows,
		Products:     ex.ProductCount,
		Eligible:     eligible,
		Items:        items,
		Excluded:     len(excluded),
		ExcludedBy:   map[string]int{},
		Warnings:     ex.Warnings,
		WarningCount: ex.WarningCount,
	}
	for _, e := range excluded {
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
