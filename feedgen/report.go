package feedgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/xlsx"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Summary is what a run did. It is written beside the catalog as
// report.json, printed on stderr, and rendered as Markdown for job summaries.
type Summary struct {
	// Export is the export's file name (no folder: the report is published).
	Export       string `json:"export"`
	ExportSHA256 string `json:"export_sha256"`
	// Sheet is the sheet read, when the workbook has several.
	Sheet      string         `json:"sheet,omitempty"`
	At         time.Time      `json:"at"`
	Rows       int            `json:"rows"`
	Products   int            `json:"products"`
	Eligible   int            `json:"eligible"`
	Items      int            `json:"items"`
	Excluded   int            `json:"excluded"`
	ExcludedBy map[string]int `json:"excluded_by_reason"`
	Feeds      []FeedResult   `json:"feeds"`
	// Diagnosed counts, by diagnostic code, the products in the catalog
	// and their items a channel would flag; report.json lists each
	// product.
	Diagnosed map[string]DiagnosisCount `json:"diagnosed_by_code"`
	// ExcludedProducts is the first excluded products, with all their
	// reasons, as many as the Markdown lists: report.json lists every one,
	// from a temporary file during the run.
	ExcludedProducts []Exclusion `json:"-"`
	// Warnings keeps the first warnings; WarningCount is exact.
	Warnings     []Warning `json:"-"`
	WarningCount int       `json:"warning_count"`

	// Changed reports that the catalog differs from the one published
	// before: from git when publishing, else from the output folder when
	// RunOptions.DetectChange is set. Published is what publishing did.
	// Neither is in report.json, which is written before they are known.
	Changed   bool           `json:"-"`
	Published *PublishResult `json:"-"`
	// Failure is why the catalog was not replaced or not published, when
	// Run returned an error with the summary; the Markdown says it first.
	Failure string `json:"-"`
	// Lang is the language of the run's messages, and of the Markdown.
	Lang msg.Lang `json:"-"`
}

// Text is the file and how many items (or categories) it has, in l.
func (f FeedResult) Text(l msg.Lang) string {
	if f.Unit() != "items" {
		return l.T("%s (%s)", f.File, plural(l, f.Items, msg.N("1 category"), msg.N("%d categories")))
	}
	return l.T("%s (%s)", f.File, plural(l, f.Items, msg.N("1 item"), msg.N("%d items")))
}

// FeedResult is one catalog file a run wrote.
type FeedResult struct {
	Format string `json:"format"`
	File   string `json:"file"`
	// Items is the file's items or, for the category file, which has
	// none, its categories (see Unit).
	Items int `json:"items"`
}

// Unit is what Items counts: "items", or "categories".
func (f FeedResult) Unit() string {
	if feedFormats[f.Format].count == nil {
		return "categories"
	}
	return "items"
}

// catalogFeed is the first feed of items, whose count is the run's; nil
// when there is none.
func (s *Summary) catalogFeed() *FeedResult {
	for i := range s.Feeds {
		if s.Feeds[i].Unit() == "items" {
			return &s.Feeds[i]
		}
	}
	return nil
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

// DiagnosticCodes returns the codes of s.Diagnosed in the order of their
// titles: the most telling first.
func (s *Summary) DiagnosticCodes() []string {
	codes := make([]string, 0, len(s.Diagnosed))
	for c := range s.Diagnosed {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return diagnosticOrder[codes[i]] < diagnosticOrder[codes[j]] })
	return codes
}

// writeJSON writes s as report.json, listing every product of excluded
// and of diagnosed. The lists that grow with the export are written an
// entry at a time, so none is ever a second copy in memory.
func (s *Summary) writeJSON(w io.Writer, excluded *exclusionList, diagnosed *diagnosisList) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(v any, prefix string) []byte {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			panic(err) // only strings, numbers and maps of them: cannot fail
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	head := *s
	head.ExcludedProducts, head.Warnings = nil, nil
	b := encode(head, "")
	bw.Write(b[:len(b)-2]) // all but the closing "\n}"
	entry := func(i int, v any) {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(encode(v, "    "))
	}
	end := func(n int) {
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("]")
	}
	bw.WriteString(",\n  \"excluded_products\": [")
	n := 0
	for e, err := range excluded.All() {
		if err != nil {
			return err
		}
		entry(n, e)
		n++
	}
	end(n)
	bw.WriteString(",\n  \"diagnosed_products\": [")
	n = 0
	for p, err := range diagnosed.All() {
		if err != nil {
			return err
		}
		entry(n, p)
		n++
	}
	end(n)
	bw.WriteString(",\n  \"warnings\": [")
	for i, w := range s.Warnings {
		entry(i, w)
	}
	end(len(s.Warnings))
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// reasonTitles are the reason codes in a merchant's words.
var reasonTitles = map[string]string{
	ReasonNotPublic:   msg.N("not public (商品是否公開)"),
	ReasonNotOnSale:   msg.N("not on sale (已上架)"),
	ReasonExcludedTag: msg.N("excluded by tag (商品標籤)"),
	ReasonInvalid:     msg.N("invalid: missing a required field"),
}

// reasonLabels are the reason codes as the run's summary line shows
// them: the code itself in English, which scripts and the README know,
// and a word in Chinese.
var reasonLabels = map[string]string{
	ReasonNotPublic:   msg.N("not_public"),
	ReasonNotOnSale:   msg.N("not_on_sale"),
	ReasonExcludedTag: msg.N("excluded_tag"),
	ReasonInvalid:     msg.N("invalid"),
}

// ReasonLabel is code as the run's summary line shows it, in l.
func ReasonLabel(l msg.Lang, code string) string {
	if label, ok := reasonLabels[code]; ok {
		return l.T(label)
	}
	return code
}

// markdownExcludedRows bounds the excluded products listed in Markdown;
// GitHub caps a step summary at 1 MiB. report.json lists them all.
const markdownExcludedRows = 200

// WriteMarkdown writes s for a GitHub Actions job summary or a person.
// Only with listExcluded does it name the excluded products: a job summary
// is read by whoever can see the repository's runs, and a product left out
// may be one the shop has not announced.
func (s *Summary) WriteMarkdown(w io.Writer, listExcluded bool) error {
	l := s.Lang
	bw := bufio.NewWriter(w)
	l.Fprintf(bw, "## Product catalog: %d products, %d items\n\n", s.Eligible, s.Items)
	if s.Failure != "" {
		l.Fprintf(bw, "> [!WARNING]\n> **Not published.** %s\n\n", mdEscape(s.Failure))
	}
	if s.Sheet != "" {
		l.Fprintf(bw, "Export `%s`, sheet %s (%d rows, %d products), evaluated at %s.\n\n",
			mdEscape(s.Export), mdEscape(DisplayPath(s.Sheet)), s.Rows, s.Products, s.At.Format("2006-01-02 15:04 -07:00"))
	} else {
		l.Fprintf(bw, "Export `%s` (%d rows, %d products), evaluated at %s.\n\n",
			mdEscape(s.Export), s.Rows, s.Products, s.At.Format("2006-01-02 15:04 -07:00"))
	}
	if len(s.Feeds) > 0 {
		l.Fprintf(bw, "| file | format | items |\n|---|---|---:|\n")
		for _, f := range s.Feeds {
			count := strconv.Itoa(f.Items)
			if f.Unit() != "items" {
				count = plural(l, f.Items, msg.N("1 category"), msg.N("%d categories"))
			}
			fmt.Fprintf(bw, "| `%s` | %s | %s |\n", mdEscape(f.File), f.Format, count)
		}
		bw.WriteString("\n")
	}
	if s.Excluded > 0 {
		l.Fprintf(bw, "### %d products excluded\n\n| reason | products |\n|---|---:|\n", s.Excluded)
		for _, c := range s.ReasonCodes() {
			fmt.Fprintf(bw, "| %s | %d |\n", l.T(reasonTitles[c]), s.ExcludedBy[c])
		}
		if !listExcluded {
			l.Fprintf(bw, "\nWhich products they are is left out here, where others may read it: see report.json in the report folder, or `feedgen explain PID`.\n\n")
		}
	}
	if s.Excluded > 0 && listExcluded {
		l.Fprintf(bw, "\n<details><summary>Excluded products</summary>\n\n| PID | name | row | why |\n|---|---|---:|---|\n")
		listed := s.ExcludedProducts[:min(len(s.ExcludedProducts), markdownExcludedRows)]
		for _, e := range listed {
			why := make([]string, len(e.Reasons))
			for j, r := range e.Reasons {
				why[j] = mdEscape(r.Message)
			}
			fmt.Fprintf(bw, "| %s | %s | %d | %s |\n", mdEscape(e.ID), mdEscape(e.Name), e.Row, strings.Join(why, l.T("; ")))
		}
		if s.Excluded > len(listed) {
			l.Fprintf(bw, "\n… and %d more in report.json\n", s.Excluded-len(listed))
		}
		bw.WriteString("\n</details>\n\n")
	}
	if len(s.Diagnosed) > 0 {
		l.Fprintf(bw, "### What the channels would flag\n\nThe products stay in the catalog. report.json lists each one, and `feedgen explain PID` says what it is about.\n\n| code | items | products | what it means |\n|---|---:|---:|---|\n")
		for _, c := range s.DiagnosticCodes() {
			d := s.Diagnosed[c]
			fmt.Fprintf(bw, "| `%s` | %d | %d | %s |\n", c, d.Items, d.Products, mdEscape(DiagnosticTitle(l, c)))
		}
		bw.WriteString("\n")
	}
	if s.WarningCount > 0 {
		l.Fprintf(bw, "### %d warnings\n\n", s.WarningCount)
		for _, warn := range s.Warnings {
			fmt.Fprintf(bw, "- %s\n", mdEscape(warn.Text(l)))
		}
		if s.WarningCount > len(s.Warnings) {
			l.Fprintf(bw, "- … and %d more\n", s.WarningCount-len(s.Warnings))
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

// DisplayPath is a file or folder path as feedgen's messages show it: as
// the merchant typed it, between 「」, so that C:\商店\匯出\商品匯出.xlsx
// reads as in Explorer and a path with spaces stays in one piece. %q would
// double every backslash on Windows ("C:\\商店\\…"). Only a path that
// holds what cannot be shown (a control character or bytes that are not
// UTF-8, which Unix allows in names) is Go-quoted, so that it can neither
// break a line nor pass for something else.
func DisplayPath(path string) string {
	if !utf8.ValidString(path) || strings.ContainsFunc(path, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return strconv.Quote(path)
	}
	return "「" + path + "」"
}

// Hint says what a merchant can do about an error from Run, Explain,
// LoadConfig or ParseConfig, in l, or "" when the error says it all.
func Hint(l msg.Lang, err error) string {
	var (
		guard *GuardError
		cols  *ColumnError
		auth  *AuthError
		large *FileTooLargeError
	)
	switch {
	case errors.As(err, &guard):
		return l.T("the published catalog was left as it was; check the export, or run again with -force if the change is intended")
	case errors.As(err, &cols):
		return l.T("is this a CYBERBIZ product export (商品匯出)? If the column has another name in your export, map it under [columns] in the config")
	case errors.Is(err, xlsx.ErrEncrypted):
		return l.T("remove the password in Excel (File > Info > Protect Workbook > Encrypt with Password, clear it), save, and run again")
	case errors.As(err, new(*xlsx.ReadError)):
		return l.T("the file could not be read from the disk or network folder it is on; check that it is reachable, and run again")
	case errors.Is(err, xlsx.ErrOpenDocument):
		return l.T("open the file in LibreOffice Calc, choose File > Save As, file type Excel 2007-365 (.xlsx), and run feedgen on that file")
	case errors.Is(err, xlsx.ErrLegacyXLS):
		return l.T("open the file in Excel and save it as an Excel Workbook (.xlsx)")
	case errors.Is(err, xlsx.ErrNotXLSX):
		return l.T("export the products again from CYBERBIZ as .xlsx; a CSV or other file renamed to .xlsx cannot be read")
	case errors.Is(err, xlsx.ErrCorrupt):
		return l.T("the file is damaged or incomplete (an interrupted download or copy?); export it again")
	case errors.Is(err, xlsx.ErrOverLimit), errors.Is(err, ErrProductTooLarge):
		return l.T("no product export comes near this size: check the cell named (a picture or data pasted into 商品介紹?), or export again from CYBERBIZ")
	case errors.Is(err, xlsx.ErrTooLarge):
		return l.T("a genuine export this large needs a higher max_unzip_mb in the config")
	case errors.Is(err, ErrNotUTF8):
		return l.T("in Notepad: 檔案 > 另存新檔 (File > Save As), choose 編碼 (Encoding) UTF-8, and save")
	case errors.Is(err, ErrNotFound):
		return l.T("check the file's name and folder; a path that does not start with a drive (C:\\) or / is taken from the folder feedgen runs in")
	case errors.Is(err, ErrNoProducts):
		return l.T("export again with the products selected")
	case errors.Is(err, xlsx.ErrNoSheet):
		return l.T("set sheet in the config to one of the sheet names")
	case errors.As(err, &auth):
		return auth.Hint(l)
	case errors.As(err, &large) && large.GzipSize > 0 && large.GzipSize <= large.Limit:
		return l.T("the catalog folder was written. Serve it from a host without this limit (feedgen daemon, or any web host) and give the channel the address of %s (%s), which Google fetches; or make fewer items with expand_variants = false under [[feed]]", gzipName(large.Name), megabytes(large.GzipSize))
	case errors.As(err, &large):
		return l.T("the catalog folder was written. Serve it from a host without this limit (feedgen daemon, or any web host), or make fewer items with expand_variants = false under [[feed]]")
	case errors.Is(err, ErrGitMissing):
		return l.T("install git, or run without -publish-branch; the catalog folder was written")
	case errors.Is(err, ErrNotRepo):
		return l.T("run feedgen inside a clone of the repository, or set repo under [publish]")
	case errors.Is(err, ErrNoRemote):
		return l.T("give remote the name of one of the repository's remotes (git remote -v lists them), or the repository's address, or set push = false under [publish]")
	case errors.Is(err, ErrBranchCheckedOut):
		return l.T("that branch is checked out in a working tree; switch the tree to another branch, or publish to another branch")
	case errors.Is(err, ErrPushRefused):
		return l.T("the repository does not let this push through: allow it to update the branch (on GitHub: Settings > Rules or Branches, and the workflow's token), or publish to a branch without protection")
	case errors.Is(err, ErrPushRejected):
		return l.T("another job keeps pushing to the branch; give the workflow a concurrency group, and run again")
	}
	return ""
}
