package feedgen

import (
	"bufio"
	"context"
	"feedgen/internal/msg"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Explanation answers "why isn't my product in the catalog?" for one id.
type Explanation struct {
	ID       string
	Found    bool
	Product  *CatalogProduct // set when the product is in the catalog
	Excluded *Exclusion      // set when it is left out
	Warnings []Warning       // about this product, such as a variant left out
}

// Explain reads the export and judges the products with the given ids
// (PIDs, the 商品 id) at time at, exactly as Run would, without writing
// anything. Explanations come in the order of ids.
func Explain(ctx context.Context, cfg Config, at time.Time, ids []string) ([]Explanation, *Export, error) {
	want := make(map[string]*Explanation, len(ids))
	out := make([]Explanation, len(ids))
	for i, id := range ids {
		out[i].ID = normalizeID(id)
		if want[out[i].ID] == nil {
			want[out[i].ID] = &out[i]
		}
	}
	if err := resolveExport(ctx, &cfg); err != nil {
		return nil, nil, err
	}
	var b *catalogBuilder
	at = at.In(cfg.Location())
	ex, err := streamExportFile(ctx, cfg.Export, cfg, func(ex *Export) error {
		b = newCatalogBuilder(&cfg, ex, at)
		for _, e := range want { // the rows are read again, grouped: start over
			*e = Explanation{ID: e.ID}
		}
		return nil
	}, func(p *Product) error {
		e := want[p.ID]
		if e == nil {
			return nil
		}
		e.Found = true
		e.Product, e.Excluded, e.Warnings = b.add(p)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		if first := want[out[i].ID]; first != &out[i] {
			out[i] = *first
		}
	}
	return out, ex, nil
}

// WriteExplanations prints explanations for a merchant in l, one product
// per paragraph, each reason with the cell's column and row.
func WriteExplanations(w io.Writer, l msg.Lang, exps []Explanation, export string, products int) error {
	bw := bufio.NewWriter(w)
	for _, e := range exps {
		switch {
		case !e.Found:
			l.Fprintf(bw, "%s: not in the export (%s has %d products; the id is column A 「商品 id」, the number at the end of the product's admin URL)\n",
				e.ID, DisplayPath(filepath.Base(export)), products)
		case e.Product != nil:
			ids := make([]string, len(e.Product.Items))
			for i, it := range e.Product.Items {
				ids[i] = it.ID
			}
			l.Fprintf(bw, "%s: in the catalog — %s, %s (%s)\n", e.ID, e.Product.Name, plural(l, len(ids), msg.N("1 item"), msg.N("%d items")), strings.Join(ids, l.T(", ")))
			for _, d := range e.Product.Diagnostics {
				l.Fprintf(bw, "  flag: %s\n", d.Text(l))
				if len(d.Items) > 0 {
					l.Fprintf(bw, "    items: %s\n", strings.Join(d.Items, l.T(", ")))
				}
			}
		case len(e.Excluded.Reasons) == 1:
			l.Fprintf(bw, "%s: excluded — %s\n", e.ID, e.Excluded.Reasons[0].Text(l))
		default:
			l.Fprintf(bw, "%s: excluded, for %d reasons:\n", e.ID, len(e.Excluded.Reasons))
			for _, r := range e.Excluded.Reasons {
				fmt.Fprintf(bw, "  - %s\n", r.Text(l))
			}
		}
		for _, warn := range e.Warnings {
			l.Fprintf(bw, "  note: %s\n", warn.Text(l))
		}
	}
	return bw.Flush()
}
