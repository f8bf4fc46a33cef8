package feedgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Summary is what a run did. It is written beside the catalog as
// report.json, printed on stderr, and rendered as Markdown for job summaries.
type Summary struct {
	// Export is the export's file name (no folder: the report is published).
	Export       string         `json:"export"`
	ExportSHA256 string         `json:"export_sha256"`
	At           time.Time      `json:"at"`
	Rows         int            `json:"rows"`
	Products     int            `json:"products"`
	Eligible     int            `json:"eligible"`
	Items        int            `json:"items"`
	Excluded     int            `json:"excluded"`
	ExcludedBy   map[string]int `json:"excluded_by_reason"`
	Feeds        []FeedResult   `json:"feeds"`
	// ExcludedProducts lists every excluded product with all its reasons.
	ExcludedProducts []Exclusion `json:"excluded_products"`
	// Warnings keeps the first warnings; WarningCount is exact.
	Warnings     []Warning `json:"warnings"`
	WarningCount int       `json:"warning_count"`
}

// FeedResult is one catalog file a run wrote.
type FeedResult struct {
	Format string `json:"format"`
	File   string `json:"file"`
	Items  int    `json:"items"`
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

// WriteJSON writes s as report.json.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// reasonTitles are the reason codes in a merchant's words.
var reasonTitles = map[string]string{
	ReasonNotPublic:   "not public (商品是否公開)",
	ReasonNotOnSale:   "not on sale (已上架)",
	ReasonExcludedTag: "excluded by tag (商品標籤)",
	ReasonInvalid:     "invalid: missing a required field",
}

// markdownExcludedRows bounds the excluded products listed in Markdown;
// GitHub caps a step summary at 1 MiB. report.json lists them all.
const markdownExcludedRows = 200

// WriteMarkdown writes s for a GitHub Actions job summary or a person.
func (s *Summary) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## Product catalog: %d products, %d items\n\n", s.Eligible, s.Items)
	fmt.Fprintf(bw, "Export `%s` (%d rows, %d products), evaluated at %s.\n\n",
		mdEscape(s.Export), s.Rows, s.Products, s.At.Format("2006-01-02 15:04 MST"))
	if len(s.Feeds) > 0 {
		bw.WriteString("| file | format | items |\n|---|---|---:|\n")
		for _, f := range s.Feeds {
			fmt.Fprintf(bw, "| `%s` | %s | %d |\n", mdEscape(f.File), f.Format, f.Items)
		}
		bw.WriteString("\n")
	}
	if s.Excluded > 0 {
		fmt.Fprintf(bw, "### %d products excluded\n\n| reason | products |\n|---|---:|\n", s.Excluded)
		for _, c := range s.ReasonCodes() {
			fmt.Fprintf(bw, "| %s | %d |\n", reasonTitles[c], s.ExcludedBy[c])
		}
		bw.WriteString("\n<details><summary>Excluded products</summary>\n\n| PID | name | row | why |\n|---|---|---:|---|\n")
		for i, e := range s.ExcludedProducts {
			if i == markdownExcludedRows {
				fmt.Fprintf(bw, "\n… and %d more in report.json\n", len(s.ExcludedProducts)-i)
				break
			}
			why := make([]string, len(e.Reasons))
			for j, r := range e.Reasons {
				why[j] = mdEscape(r.Message)
			}
			fmt.Fprintf(bw, "| %s | %s | %d | %s |\n", mdEscape(e.ID), mdEscape(e.Name), e.Row, strings.Join(why, "; "))
		}
		bw.WriteString("\n</details>\n\n")
	}
	if s.WarningCount > 0 {
		fmt.Fprintf(bw, "### %d warnings\n\n", s.WarningCount)
		for _, warn := range s.Warnings {
			fmt.Fprintf(bw, "- %s\n", mdEscape(warn.String()))
		}
		if s.WarningCount > len(s.Warnings) {
			fmt.Fprintf(bw, "- … and %d more\n", s.WarningCount-len(s.Warnings))
		}
	}
	return bw.Flush()
}

// mdEscape keeps product text from being read as Markdown or HTML.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range flattenSpace(cleanText(s)) {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '<', '>', '#', '!':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
