package feedgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	var (
		out      *catalogOutput
		exp      *Export // the export being read, for warnings
		b        *catalogBuilder
		excluded []Exclusion
		eligible int
	)
	ex, err := streamExportFile(ctx, cfg.Export, cfg, func(ex *Export) error {
		exp = ex
		b = newCatalogBuilder(&cfg, ex, at)
		info := b.info()
		var err error
		out, err = createCatalog(cfg.Out, &info, cfg.Feeds, cfg.Preview)
		if err != nil {
			return fmt.Errorf("write catalog to %q: %w", cfg.Out, err)
		}
		return nil
	}, func(p *Product) error {
		cp, excl, warns := b.add(p)
		for _, w := range warns {
			exp.warn(w)
		}
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
	sum := summarize(ex, at, eligible, excluded)
	sum.Export = filepath.Base(cfg.Export)
	if sum.ExportSHA256, err = fileSHA256(cfg.Export); err != nil {
		out.abort()
		return nil, fmt.Errorf("read export %q: %w", cfg.Export, err)
	}
	if err := out.commit(sum, cfg.MaxDrop, opt.Force); err != nil {
		return sum, fmt.Errorf("write catalog to %q: %w", cfg.Out, err)
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

func summarize(ex *Export, at time.Time, eligible int, excluded []Exclusion) *Summary {
	s := &Summary{
		At:               at,
		Rows:             ex.Rows,
		Products:         ex.ProductCount,
		Eligible:         eligible,
		Excluded:         len(excluded),
		ExcludedProducts: excluded,
		ExcludedBy:       map[string]int{},
		Warnings:         ex.Warnings,
		WarningCount:     ex.WarningCount,
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

// fileSHA256 identifies the export a report was made from.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
