package feedgen

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"feedgen/internal/tempdir"
)

func TestGitHubActionsFromEnv(t *testing.T) {
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       "/runner/out",
		"GITHUB_STEP_SUMMARY": "/runner/summary",
	}
	var stdout strings.Builder
	g := GitHubActionsFromEnv(func(k string) string { return env[k] }, &stdout)
	if g == nil || g.OutputFile != "/runner/out" || g.SummaryFile != "/runner/summary" || g.Commands != &stdout {
		t.Errorf("GitHubActionsFromEnv = %+v", g)
	}

	env["GITHUB_ACTIONS"] = ""
	if g := GitHubActionsFromEnv(func(k string) string { return env[k] }, &stdout); g != nil {
		t.Errorf("GitHubActionsFromEnv outside Actions = %+v, want nil", g)
	}
}

func TestGitHubActionsNilDoesNothing(t *testing.T) {
	var g *GitHubActions
	if err := g.SetOutput("item-count", "3"); err != nil {
		t.Error(err)
	}
	if err := g.AppendSummary("# hi"); err != nil {
		t.Error(err)
	}
	g.Error(Annotation{Message: "x"})
	g.Warning(Annotation{Message: "x"})
}

func TestGitHubEscaping(t *testing.T) {
	tests := []struct {
		in, data, property string
	}{
		{"plain 商品", "plain 商品", "plain 商品"},
		{"100%", "100%25", "100%25"},
		{"%0A is not a newline", "%250A is not a newline", "%250A is not a newline"},
		{"line 1\nline 2", "line 1%0Aline 2", "line 1%0Aline 2"},
		{"crlf\r\n", "crlf%0D%0A", "crlf%0D%0A"},
		{"a:b,c", "a:b,c", "a%3Ab%2Cc"},
		{"exports/商品 匯出.xlsx", "exports/商品 匯出.xlsx", "exports/商品 匯出.xlsx"},
		{"::error::injected", "::error::injected", "%3A%3Aerror%3A%3Ainjected"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.property {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.property)
		}
	}
}

func TestGitHubAnnotations(t *testing.T) {
	tests := []struct {
		name    string
		warning bool
		a       Annotation
		want    string
	}{
		{"AllFields", false,
			Annotation{File: "exports/products.xlsx", Line: 12, Col: 3, Title: "Row 12: price", Message: "售價 is empty"},
			"::error file=exports/products.xlsx,line=12,col=3,title=Row 12%3A price::售價 is empty\n"},
		{"TitleIsEscaped", true,
			Annotation{Title: "a, b: c", Message: "50% off\nsecond line"},
			"::warning title=a%2C b%3A c::50%25 off%0Asecond line\n"},
		{"MessageOnly", false, Annotation{Message: "no products"}, "::error::no products\n"},
		{"FileWithoutLine", true, Annotation{File: "feedgen.toml", Message: "m"}, "::warning file=feedgen.toml::m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			g := &GitHubActions{Commands: &out}
			if tt.warning {
				g.Warning(tt.a)
			} else {
				g.Error(tt.a)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

// readOutputs parses a GITHUB_OUTPUT file the way the runner does.
func readOutputs(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outputs := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, "<<") {
			outputs[k] = v
			continue
		}
		k, delim, ok := strings.Cut(line, "<<")
		if !ok {
			t.Fatalf("malformed output line %q", line)
		}
		var value []string
		for s.Scan() && s.Text() != delim {
			value = append(value, s.Text())
		}
		outputs[k] = strings.Join(value, "\n")
	}
	return outputs
}

func TestGitHubSetOutput(t *testing.T) {
	out := filepath.Join(tempdir.New(t), "output")
	if err := os.WriteFile(out, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &GitHubActions{OutputFile: out}
	want := map[string]string{
		"earlier":      "kept",
		"item-count":   "1234",
		"changed":      "true",
		"catalog-path": "public/catalog.xml",
		"empty":        "",
		"excluded":     "商品 A: gift\n商品 B: not public\nitem-count=0",
	}
	for _, name := range []string{"item-count", "changed", "catalog-path", "empty", "excluded"} {
		if err := g.SetOutput(name, want[name]); err != nil {
			t.Fatal(err)
		}
	}
	if got := readOutputs(t, out); len(got) != len(want) {
		t.Errorf("outputs = %q, want %q", got, want)
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("output %s = %q, want %q", k, got[k], v)
			}
		}
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "excluded<<ghadelimiter_") {
		t.Errorf("multi-line value not written as a heredoc:\n%s", b)
	}
}

func TestGitHubSetOutputErrors(t *testing.T) {
	g := &GitHubActions{OutputFile: filepath.Join(tempdir.New(t), "output")}
	for _, name := range []string{"", "a=b", "a\nb", "a<<b", "商品"} {
		if err := g.SetOutput(name, "v"); err == nil {
			t.Errorf("SetOutput(%q) succeeded, want an error", name)
		}
	}
	if err := (&GitHubActions{}).SetOutput("changed", "true"); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Errorf("SetOutput without a file = %v, want an error naming GITHUB_OUTPUT", err)
	}
}

func TestGitHubAppendSummary(t *testing.T) {
	summary := filepath.Join(tempdir.New(t), "summary")
	g := &GitHubActions{SummaryFile: summary}
	for _, md := range []string{"## Catalog\n", "| items | 3 |\n"} {
		if err := g.AppendSummary(md); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(summary); string(b) != "## Catalog\n| items | 3 |\n" {
		t.Errorf("summary = %q", b)
	}
}

func TestGitHubAppendSummaryCapsAtOneMiB(t *testing.T) {
	summary := filepath.Join(tempdir.New(t), "summary")
	earlier := strings.Repeat("x", 1000) + "\n"
	if err := os.WriteFile(summary, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &GitHubActions{SummaryFile: summary}
	row := "| 商品 | 原因 |\n"
	var md strings.Builder
	for md.Len() < 2<<20 {
		md.WriteString(row)
	}

	if err := g.AppendSummary(md.String()); err != nil {
		t.Fatal(err)
	}

	b, _ := os.ReadFile(summary)
	got := string(b)
	if len(got) > summaryLimit {
		t.Errorf("summary is %d bytes, over %d", len(got), summaryLimit)
	}
	if len(got) < summaryLimit-len(row)-len(summaryTruncated) {
		t.Errorf("summary is %d bytes, cut more than needed", len(got))
	}
	body, ok := strings.CutSuffix(got, summaryTruncated)
	if !ok || !strings.HasPrefix(body, earlier) || !strings.HasSuffix(body, row) {
		t.Errorf("summary not cut after a whole row with the note; ends %q", got[len(got)-100:])
	}

	if err := g.AppendSummary(earlier); err == nil {
		t.Error("AppendSummary to a full summary succeeded, want an error")
	}
}

func TestGitHubTruncateAtLine(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"a\nb\nc", 4, "a\nb\n"},
		{"商品名稱", 4, "商"},
		{"商品名稱", 2, ""},
	}
	for _, tt := range tests {
		got := truncateAtLine(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("truncateAtLine(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// yamlBlock returns the lines nested under the first line that is exactly
// key (with its indentation), as a structural check of a YAML file without a
// YAML dependency.
func yamlBlock(lines []string, key string) []string {
	for i, line := range lines {
		if line != key {
			continue
		}
		indent := len(key) - len(strings.TrimLeft(key, " "))
		var block []string
		for _, l := range lines[i+1:] {
			if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " ")) <= indent {
				break
			}
			block = append(block, l)
		}
		return block
	}
	return nil
}

// TestActionMetadata checks action.yml for what GitHub requires of a
// composite action and for what the workflow and feedgen rely on.
func TestActionMetadata(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Contains(text, "\t") {
		t.Error("action.yml contains a tab; YAML indentation must be spaces")
	}
	lines := strings.Split(text, "\n")
	for _, key := range []string{"name:", "description:", "branding:", "inputs:", "outputs:", "runs:"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, key) }) {
			t.Errorf("action.yml has no top-level %q", key)
		}
	}
	runs := yamlBlock(lines, "runs:")
	if !slices.Contains(runs, "  using: composite") {
		t.Error("runs.using is not composite")
	}
	if !slices.Contains(runs, "      id: run") {
		t.Error("no step with id run, which the outputs read")
	}
	branding := strings.Join(yamlBlock(lines, "branding:"), "\n")
	if !regexp.MustCompile(`icon: (rss|shopping-cart)\n`).MatchString(branding + "\n") {
		t.Errorf("branding icon not rss or shopping-cart:\n%s", branding)
	}
	if !regexp.MustCompile(`color: (white|black|yellow|blue|green|orange|red|purple|gray-dark)\n`).MatchString(branding + "\n") {
		t.Errorf("branding color not one GitHub allows:\n%s", branding)
	}

	inputs := yamlBlock(lines, "inputs:")
	for _, name := range []string{"export", "config", "out", "publish-branch", "at", "force", "max-drop"} {
		in := yamlBlock(inputs, "  "+name+":")
		if !slices.ContainsFunc(in, func(l string) bool { return strings.HasPrefix(l, "    description: ") }) {
			t.Errorf("input %s has no description", name)
		}
		if !slices.ContainsFunc(in, func(l string) bool { return strings.HasPrefix(l, "    default: ") }) {
			t.Errorf("input %s has no default", name)
		}
		env := "FEEDGEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if !strings.Contains(text, env+": ${{ inputs."+name+" }}") || !strings.Contains(text, "-"+name) {
			t.Errorf("input %s is not passed to feedgen as -%s through $%s", name, name, env)
		}
	}
	outputs := yamlBlock(lines, "outputs:")
	for _, name := range []string{"item-count", "excluded-count", "changed", "catalog-path"} {
		if !slices.Contains(yamlBlock(outputs, "  "+name+":"), "    value: ${{ steps.run.outputs."+name+" }}") {
			t.Errorf("output %s does not read steps.run.outputs.%s", name, name)
		}
	}

	// Expressions expanded inside a script are a shell injection: inputs
	// reach scripts only through env.
	var script []string
	for i, l := range lines {
		if strings.TrimSpace(l) == "run: |" {
			script = yamlBlock(lines[i:], l)
		} else if strings.HasPrefix(strings.TrimSpace(l), "run: ") {
			script = []string{l}
		} else {
			continue
		}
		for _, s := range script {
			if strings.Contains(s, "${{") {
				t.Errorf("script line %q expands an expression; pass it through env", s)
			}
		}
	}
}
