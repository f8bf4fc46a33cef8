package feedgen

import (
	"crypto/rand"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/redact"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GitHubActions writes workflow commands, step outputs and the job summary
// when feedgen runs inside GitHub Actions.
//
// A nil *GitHubActions is valid and does nothing, so callers can report
// unconditionally with the value GitHubActionsFromEnv returns.
type GitHubActions struct {
	OutputFile  string    // $GITHUB_OUTPUT
	SummaryFile string    // $GITHUB_STEP_SUMMARY
	Commands    io.Writer // where workflow commands go: the step's stdout
}

// GitHubActionsFromEnv returns the reporter for the current job, or nil
// unless GITHUB_ACTIONS is "true".
func GitHubActionsFromEnv(getenv func(string) string, commands io.Writer) *GitHubActions {
	if getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	return &GitHubActions{
		OutputFile:  getenv("GITHUB_OUTPUT"),
		SummaryFile: getenv("GITHUB_STEP_SUMMARY"),
		Commands:    commands,
	}
}

// SetOutput sets the step output name, which later steps and the action's
// outputs read. Multi-line values are written as a heredoc whose delimiter
// is random, so a value cannot end it early and inject other outputs.
func (g *GitHubActions) SetOutput(name, value string) error {
	if g == nil {
		return nil
	}
	if !validOutputName(name) {
		return msg.Errorf("set step output %q: name must be letters, digits, '-' or '_'", name)
	}
	if g.OutputFile == "" {
		return msg.Errorf("set step output %q: GITHUB_OUTPUT is not set", name)
	}
	line := name + "=" + value + "\n"
	if strings.ContainsAny(value, "\r\n") {
		delim := "ghadelimiter_" + rand.Text()
		if strings.Contains(value, delim) {
			return msg.Errorf("set step output %q: value contains the delimiter", name)
		}
		line = name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
	}
	if err := appendFile(g.OutputFile, line); err != nil {
		return msg.Errorf("set step output %q: %w", name, err)
	}
	return nil
}

func validOutputName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// summaryLimit is GitHub's cap on one step's job summary; a larger summary
// is dropped with an error annotation instead of shown.
const summaryLimit = 1 << 20

const summaryTruncated = "\n\n*Summary truncated: GitHub shows at most 1 MiB per step.*\n"

// AppendSummary appends markdown to the job summary. What would push the
// step's summary past 1 MiB is cut at a line break and replaced by a note.
func (g *GitHubActions) AppendSummary(markdown string) error {
	if g == nil {
		return nil
	}
	if g.SummaryFile == "" {
		return msg.New("append job summary: GITHUB_STEP_SUMMARY is not set")
	}
	var size int64
	if fi, err := os.Stat(g.SummaryFile); err == nil {
		size = fi.Size()
	} else if !errors.Is(err, os.ErrNotExist) {
		return msg.Errorf("append job summary: %w", err)
	}
	if size+int64(len(markdown)) > summaryLimit {
		room := summaryLimit - size - int64(len(summaryTruncated))
		if room < 0 {
			return msg.Errorf("append job summary: %s already holds GitHub's 1 MiB limit", g.SummaryFile)
		}
		markdown = truncateAtLine(markdown, int(room)) + summaryTruncated
	}
	if err := appendFile(g.SummaryFile, markdown); err != nil {
		return msg.Errorf("append job summary: %w", err)
	}
	return nil
}

// truncateAtLine returns the longest prefix of s of at most n bytes that ends
// at a line break, so a Markdown table is not left with half a row; if there
// is none, it cuts at a character boundary.
func truncateAtLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], '\n'); i >= 0 {
		return s[:i+1]
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func appendFile(name, s string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Annotation is a message GitHub shows on the run and, with File and Line,
// beside that line of the file. Zero fields are left out.
type Annotation struct {
	File      string
	Line, Col int
	Title     string
	Message   string
}

// Error writes an ::error workflow command. Write errors are ignored: the
// step's stdout is the job log, and there is nowhere else to report them.
func (g *GitHubActions) Error(a Annotation) { g.annotate("error", a) }

// Warning writes a ::warning workflow command; see Error.
func (g *GitHubActions) Warning(a Annotation) { g.annotate("warning", a) }

func (g *GitHubActions) annotate(command string, a Annotation) {
	if g == nil || g.Commands == nil {
		return
	}
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(a.File))
	}
	if a.Line > 0 {
		props = append(props, "line="+strconv.Itoa(a.Line))
	}
	if a.Col > 0 {
		props = append(props, "col="+strconv.Itoa(a.Col))
	}
	if a.Title != "" {
		props = append(props, "title="+escapeProperty(a.Title))
	}
	cmd := "::" + command
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	fmt.Fprintf(g.Commands, "%s::%s\n", cmd, escapeData(redact.String(a.Message)))
}

// escapeData and escapeProperty follow the runner's escaping of workflow
// commands, so a message cannot break out of its command or start another.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

// maxAnnotations bounds the warnings annotated per run: GitHub shows only
// the first ten of a step, and the job summary lists them all.
const maxAnnotations = 10

// ReportRun tells GitHub Actions how a run went: the step's outputs
// (item-count, excluded-count, changed, catalog-path), the Markdown summary,
// an error annotation naming the file (and line) at fault, and a warning
// annotation per warning. configFile is the -config flag, for errors in it.
func (g *GitHubActions) ReportRun(configFile string, cfg *Config, sum *Summary, runErr error) {
	if g == nil {
		return
	}
	l := cfg.Language
	if sum != nil {
		outputs := [][2]string{
			{"item-count", strconv.Itoa(sum.Items)},
			{"excluded-count", strconv.Itoa(sum.Excluded)},
			{"changed", strconv.FormatBool(sum.Changed)},
		}
		if cf := sum.catalogFeed(); cf != nil {
			outputs = append(outputs, [2]string{"catalog-path", filepath.ToSlash(filepath.Join(cfg.Out, cf.File))})
		}
		for _, o := range outputs {
			if err := g.SetOutput(o[0], o[1]); err != nil {
				g.Warning(Annotation{Title: "feedgen", Message: l.T("could not set step output %s: %v", o[0], err)})
			}
		}
		var md strings.Builder
		if err := sum.WriteMarkdown(&md, cfg.SummaryExcludedProducts); err == nil {
			if err := g.AppendSummary(md.String()); err != nil {
				g.Warning(Annotation{Title: "feedgen", Message: l.T("could not write the job summary: %v", err)})
			}
		}
		for i, w := range sum.Warnings {
			if i == maxAnnotations {
				break
			}
			a := Annotation{File: cfg.Export, Title: l.T("feedgen warning"), Message: w.Text(l)}
			if w.Row > 0 {
				a.Title = l.T("row %d", w.Row)
				a.Message = Warning{Column: w.Column, Message: w.Message}.Text(l)
			}
			g.Warning(a)
		}
	}
	if runErr != nil {
		a := Annotation{File: cfg.Export, Title: l.T("feedgen failed"), Message: msg.Text(l, runErr)}
		var ce *ConfigError
		if errors.As(runErr, &ce) && configFile != "" {
			a.File, a.Line = configFile, ce.Line
		}
		if h := Hint(l, runErr); h != "" {
			a.Message += "\n" + h
		}
		g.Error(a)
	}
}

// DefaultAuthor signs publish commits as the actor who started the
// workflow, as other Pages publishers do, unless the config names one.
func (g *GitHubActions) DefaultAuthor(pc *PublishConfig, getenv func(string) string) {
	actor := getenv("GITHUB_ACTOR")
	if g == nil || pc.AuthorName != "" || actor == "" {
		return
	}
	pc.AuthorName = actor
	pc.AuthorEmail = actor + "@users.noreply.github.com"
	if id := getenv("GITHUB_ACTOR_ID"); id != "" {
		pc.AuthorEmail = id + "+" + pc.AuthorEmail
	}
}
