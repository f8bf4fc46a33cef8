package feedgen

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

// TestWritingErrorsInChinese: the errors of writing and publishing a
// merchant reads say themselves in Chinese through msg.Text, and their
// Error() is the English it was.
func TestWritingErrorsInChinese(t *testing.T) {
	held := &HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}
	for _, c := range []struct {
		err      error
		english  string
		contains []string
	}{
		{&GuardError{File: "catalog.xml", Old: 100, New: 10, MaxDrop: 0.5},
			"refusing to replace catalog.xml: it would go from 100 items to 10, a drop of 90%, more than max_drop 50%",
			[]string{"拒絕取代 catalog.xml", "減少 90%", "max_drop 50%"}},
		{&GuardError{File: "catalog.xml", Old: 100},
			"refusing to publish catalog.xml: the new catalog has no items",
			[]string{"拒絕發布 catalog.xml", "沒有任何品項"}},
		{msg.Errorf("write catalog: %w", held),
			"",
			[]string{"catalog.csv 正被另一個程式開著", "沒有取代任何檔案"}},
		{fmt.Errorf("wrapped by fmt: %w", ErrGitMissing), "", nil},
		{msg.Errorf("publish to branch %q: %w", "gh-pages", msg.Errorf("%w: install git and make sure it is on PATH: %w", ErrGitMissing, os.ErrNotExist)),
			`publish to branch "gh-pages": git is not installed: install git and make sure it is on PATH: file does not exist`,
			[]string{`發布到分支 "gh-pages"：沒有安裝 git：請安裝 git`, os.ErrNotExist.Error()}},
	} {
		if c.english != "" && c.err.Error() != c.english {
			t.Errorf("Error() = %q, want %q", c.err.Error(), c.english)
		}
		if got := msg.Text(msg.English, c.err); got != c.err.Error() {
			t.Errorf("Text(English) = %q, want Error() %q", got, c.err.Error())
		}
		zh := msg.Text(msg.Chinese, c.err)
		for _, s := range c.contains {
			if !strings.Contains(zh, s) {
				t.Errorf("Text(Chinese) = %q, want it to say %q", zh, s)
			}
		}
	}
}

// TestLockedErrorInChinese: a run that gives up waiting for another says
// who holds the folder and what it does, in either language.
func TestLockedErrorInChinese(t *testing.T) {
	dir := tempdir.New(t)
	unlock, err := lockFolder(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = lockFolder(dir, 200*time.Millisecond, nil)
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("lockFolder = %v, want a LockedError", err)
	}
	wantEN := fmt.Sprintf("another feedgen %s is still writing to %s after 0s of waiting", locked.holder, DisplayPath(dir))
	if err.Error() != wantEN {
		t.Errorf("Error() = %q, want %q", err.Error(), wantEN)
	}
	zh := msg.Text(msg.Chinese, err)
	for _, s := range []string{fmt.Sprintf("程序 %d", os.Getpid()), "仍在寫入 " + DisplayPath(dir)} {
		if !strings.Contains(zh, s) {
			t.Errorf("Text(Chinese) = %q, want it to say %q", zh, s)
		}
	}
}

// TestAuthErrorHintInChinese: the advice on refused credentials names the
// repository in the merchant's language.
func TestAuthErrorHintInChinese(t *testing.T) {
	g := &gitRepo{authAdvice: msg.Errorf("the publish token may not write to %s: give it Contents: Read and write on that repository (GitHub: Settings > Developer settings > Personal access tokens), and store it again in the secret", "https://github.com/o/r.git")}
	err := g.classifyRemoteError(&gitError{Args: []string{"push"}, Stderr: "remote: Write access to repository not granted.", Err: errors.New("exit status 128")}, "origin")
	var auth *AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("classifyRemoteError = %v, want an AuthError", err)
	}
	if !strings.HasPrefix(auth.Hint(msg.English), "the publish token may not write to https://github.com/o/r.git:") || auth.Hint(msg.English) != auth.Advice.Error() {
		t.Errorf("Advice %q, Hint(English) %q", auth.Advice, auth.Hint(msg.English))
	}
	if h := auth.Hint(msg.Chinese); !strings.Contains(h, "發布權杖可能沒有寫入 https://github.com/o/r.git 的權限") {
		t.Errorf("Hint(Chinese) = %q", h)
	}
	if zh := msg.Text(msg.Chinese, err); !strings.HasPrefix(zh, "git 驗證失敗（origin）：") {
		t.Errorf("Text(Chinese) = %q", zh)
	}
}

// TestGitHubReportRunInChinese: the annotations of a failed run are in
// the run's language: title, error and hint.
func TestGitHubReportRunInChinese(t *testing.T) {
	var out strings.Builder
	g := &GitHubActions{Commands: &out}
	cfg := &Config{Export: "products.xlsx", Language: msg.Chinese}
	g.ReportRun("", cfg, nil, msg.Errorf("publish to branch %q: %w", "gh-pages", ErrGitMissing))
	got := out.String()
	for _, s := range []string{"title=feedgen 執行失敗", `發布到分支 "gh-pages"：沒有安裝 git`, "%0A請安裝 git"} {
		if !strings.Contains(got, s) {
			t.Errorf("annotation %q, want it to say %q", got, s)
		}
	}
	out.Reset()
	cfg.Language = msg.English
	g.ReportRun("", cfg, nil, msg.Errorf("publish to branch %q: %w", "gh-pages", ErrGitMissing))
	if want := "::error file=products.xlsx,title=feedgen failed::publish to branch \"gh-pages\": git is not installed%0Ainstall git"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("annotation %q, want %q…", out.String(), want)
	}
}
