package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fatal: unable to access 'https://user:ghp_abc123@github.com/o/r.git/': 403",
			"fatal: unable to access 'https://***@github.com/o/r.git/': 403"},
		{"https://ghp_abc123@github.com/o/r.git", "https://***@github.com/o/r.git"},
		{"remote http://a:b@h/x and https://c:d@h/y", "remote http://***@h/x and https://***@h/y"},
		{`no such git remote "https://x-access-token:TOKEN@github.com/o/r.git"`, `no such git remote "https://***@github.com/o/r.git"`},
		{"To github.com:owner/shop.git", "To github.com:owner/shop.git"},
		{"https://github.com/o/r.git", "https://github.com/o/r.git"},
		{"see https://example.com/a@b", "see https://example.com/a@b"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.slack.com/services/T0/B0/SECRET", "https://hooks.slack.com/…"},
		{"https://discord.com/api/webhooks/1/SECRET?wait=true", "https://discord.com/…"},
		{"https://user:SECRET@example.com/hook", "https://example.com/…"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://example.com?token=SECRET", "https://example.com/…"},
		{"not a url", "(URL)"},
		{"https://exa mple.com/SECRET", "(URL)"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestHandler: a token in the message, a string, an error, a Stringer, a
// group or an attribute added with With never reaches the output.
func TestHandler(t *testing.T) {
	const url = "https://user:SECRET@github.com/o/r.git"
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil))).With("base", url)
	log.Info("pushing to "+url, "remote", url, "err", errors.New("git push "+url+": denied"),
		"s", stringer(url), slog.Group("g", "remote", url), "n", 3)
	out := buf.String()
	if strings.Contains(out, "SECRET") {
		t.Errorf("the log line holds the token: %s", out)
	}
	for _, want := range []string{"pushing to https://***@github.com", "remote=https://***@github.com", "g.remote=https://***@", "n=3", "base=https://***@"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log line lacks %q: %s", want, out)
		}
	}
}
