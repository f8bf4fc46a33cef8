package feedgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"feedgen/internal/exportgen"
	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

// isolateGit skips the test without git and hides the developer's git
// configuration, so that tests neither depend on nor pick up an identity,
// hooks path or credential helper from it.
func isolateGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(tempdir.New(t), "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	for _, v := range []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"} {
		t.Setenv(v, "")
	}
}

// runGit runs a git command for test setup or inspection, as a user with
// an identity of their own, and returns its trimmed output.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Shop Owner", "GIT_AUTHOR_EMAIL=owner@example.com",
		"GIT_COMMITTER_NAME=Shop Owner", "GIT_COMMITTER_EMAIL=owner@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeFile writes data to name, creating its folder.
func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// publishRepos is a bare "remote" and a clone of it that stands for the
// merchant's checkout, with uncommitted work in both the working tree and
// the index. Paths hold Chinese characters and spaces.
type publishRepos struct {
	root, remote, user string
}

func newPublishRepos(t testing.TB) publishRepos {
	t.Helper()
	isolateGit(t)
	root := filepath.Join(tempdir.New(t), "商店 資料")
	r := publishRepos{
		root:   root,
		remote: filepath.Join(root, "遠端 shop.git"),
		user:   filepath.Join(root, "我的 商店"),
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, root, "init", "--quiet", "--bare", "--initial-branch=main", r.remote)
	runGit(t, root, "clone", "--quiet", r.remote, r.user)
	writeFile(t, filepath.Join(r.user, "README.md"), []byte("shop\n"))
	runGit(t, r.user, "add", "README.md")
	runGit(t, r.user, "commit", "--quiet", "-m", "start")
	runGit(t, r.user, "push", "--quiet", "origin", "main")
	writeFile(t, filepath.Join(r.user, "README.md"), []byte("shop, edited but not committed\n"))
	writeFile(t, filepath.Join(r.user, "exports", "商品 匯出.txt"), []byte("staged\n"))
	runGit(t, r.user, "add", "exports")
	return r
}

func (r publishRepos) publisher() *BranchPublisher {
	return &BranchPublisher{RepoDir: r.user, Branch: "gh-pages", Remote: "origin", Push: true}
}

// pushFromOtherClone commits files onto gh-pages in a second clone and
// pushes them, as another publisher or the merchant on another computer
// would, and returns the new commit.
func (r publishRepos) pushFromOtherClone(t testing.TB, files map[string]string) string {
	t.Helper()
	other := filepath.Join(r.root, "other clone")
	if _, err := os.Stat(other); err != nil {
		runGit(t, r.root, "clone", "--quiet", r.remote, other)
	}
	runGit(t, other, "fetch", "--quiet", "origin")
	runGit(t, other, "checkout", "--quiet", "-B", "gh-pages", "origin/gh-pages")
	for name, content := range files {
		writeFile(t, filepath.Join(other, filepath.FromSlash(name)), []byte(content))
	}
	runGit(t, other, "add", "--all")
	runGit(t, other, "commit", "--quiet", "-m", "from another clone")
	runGit(t, other, "push", "--quiet", "origin", "gh-pages")
	return runGit(t, other, "rev-parse", "HEAD")
}

// checkoutState is what a publish must leave alone in the merchant's clone.
type checkoutState struct {
	status, staged, head, branch string
}

func checkoutStateOf(t testing.TB, dir string) checkoutState {
	t.Helper()
	return checkoutState{
		status: runGit(t, dir, "status", "--porcelain=v1", "--untracked-files=all"),
		staged: runGit(t, dir, "diff", "--cached"),
		head:   runGit(t, dir, "rev-parse", "HEAD"),
		branch: runGit(t, dir, "symbolic-ref", "HEAD"),
	}
}

// branchFiles lists the files of rev with their contents.
func branchFiles(t testing.TB, dir, rev string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range strings.Split(runGit(t, dir, "ls-tree", "-r", "-z", "--name-only", rev), "\x00") {
		if name != "" {
			files[name] = runGit(t, dir, "cat-file", "blob", rev+":"+name)
		}
	}
	return files
}

func catalog(xml, json string) fstest.MapFS {
	return fstest.MapFS{
		"catalog.xml":   {Data: []byte(xml)},
		"products.json": {Data: []byte(json)},
	}
}

func publish(t testing.TB, p *BranchPublisher, files fstest.MapFS, message string) PublishResult {
	t.Helper()
	res, err := p.Publish(context.Background(), files, message)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return res
}

func TestPublishFirstCreatesOrphanBranchAndPushes(t *testing.T) {
	r := newPublishRepos(t)
	before := checkoutStateOf(t, r.user)

	res := publish(t, r.publisher(), catalog("<rss/>", "[]"), "Update catalog: 3 products")

	if !res.Changed || !res.Pushed || res.Commit == "" {
		t.Fatalf("Publish = %+v, want a pushed new commit", res)
	}
	if got := runGit(t, r.remote, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
		t.Errorf("remote gh-pages = %s, want %s", got, res.Commit)
	}
	if got := runGit(t, r.user, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
		t.Errorf("local gh-pages = %s, want %s", got, res.Commit)
	}
	if got := runGit(t, r.remote, "rev-list", "--parents", "-n", "1", res.Commit); got != res.Commit {
		t.Errorf("first commit has parents: %q", got)
	}
	want := map[string]string{"catalog.xml": "<rss/>", "products.json": "[]", ".nojekyll": ""}
	if got := branchFiles(t, r.remote, "gh-pages"); !maps.Equal(got, want) {
		t.Errorf("gh-pages files = %v, want %v", got, want)
	}
	if got := runGit(t, r.remote, "log", "-1", "--format=%an <%ae> | %cn | %s", "gh-pages"); got != "feedgen <feedgen@users.noreply.github.com> | feedgen | Update catalog: 3 products" {
		t.Errorf("commit = %q", got)
	}
	if after := checkoutStateOf(t, r.user); after != before {
		t.Errorf("checkout changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestPublishRemoteGivenAsAddress: a merchant who writes the repository's
// address where the remote's name goes gets it pushed to, not "no such
// git remote".
func TestPublishRemoteGivenAsAddress(t *testing.T) {
	r := newPublishRepos(t)
	for _, remote := range []string{r.remote, "file://" + filepath.ToSlash(r.remote)} {
		p := r.publisher()
		p.Remote = remote

		res := publish(t, p, catalog("<rss>"+remote+"</rss>", "[]"), "")

		if !res.Pushed {
			t.Fatalf("remote %s: Publish = %+v, want pushed", remote, res)
		}
		if got := runGit(t, r.remote, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
			t.Errorf("remote %s: gh-pages = %s, want %s", remote, got, res.Commit)
		}
	}
}

func TestIsAddress(t *testing.T) {
	for remote, want := range map[string]bool{
		"origin": false, "upstream/fork": false, "my-remote_2": false,
		"https://github.com/shop/catalog.git": true, "git@github.com:shop/catalog.git": true,
		"../catalog.git": true, "/srv/git/catalog.git": true, `C:\git\catalog.git`: true, `\\server\share\catalog.git`: true,
	} {
		if got := isAddress(remote); got != want {
			t.Errorf("isAddress(%q) = %v, want %v", remote, got, want)
		}
	}
}

func TestPublishUnchangedMakesNoCommit(t *testing.T) {
	r := newPublishRepos(t)
	first := publish(t, r.publisher(), catalog("<rss/>", "[]"), "")

	res := publish(t, r.publisher(), catalog("<rss/>", "[]"), "")

	if res != (PublishResult{Commit: first.Commit}) {
		t.Errorf("second Publish = %+v, want no change at %s", res, first.Commit)
	}
	if got := runGit(t, r.remote, "rev-list", "--count", "gh-pages"); got != "1" {
		t.Errorf("gh-pages has %s commits, want 1", got)
	}
}

func TestPublishChangedMakesOneCommit(t *testing.T) {
	r := newPublishRepos(t)
	first := publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	before := checkoutStateOf(t, r.user)

	res := publish(t, r.publisher(), catalog("<rss><item/></rss>", "[{}]"), "Update catalog: 1 product")

	if !res.Changed || !res.Pushed {
		t.Fatalf("Publish = %+v, want a pushed new commit", res)
	}
	if got := runGit(t, r.remote, "rev-list", "--parents", "-n", "1", "gh-pages"); got != res.Commit+" "+first.Commit {
		t.Errorf("gh-pages tip and parent = %q, want %s %s", got, res.Commit, first.Commit)
	}
	if got := runGit(t, r.remote, "log", "-1", "--format=%B", "gh-pages"); got != "Update catalog: 1 product" {
		t.Errorf("message = %q", got)
	}
	if got := runGit(t, r.remote, "cat-file", "blob", "gh-pages:catalog.xml"); got != "<rss><item/></rss>" {
		t.Errorf("catalog.xml = %q", got)
	}
	if after := checkoutStateOf(t, r.user); after != before {
		t.Errorf("checkout changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestPublishKeepsFilesTheUserAdded(t *testing.T) {
	r := newPublishRepos(t)
	publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	r.pushFromOtherClone(t, map[string]string{
		"CNAME":           "catalog.example.com\n",
		"index.html":      "<h1>目錄</h1>\n",
		"images/logo.svg": "<svg/>\n",
		"catalog.xml":     "<rss>edited by hand</rss>",
		".nojekyll":       "kept as the user wrote it\n",
		"說明 文件/讀我.txt":    "hi\n",
	})

	publish(t, r.publisher(), catalog("<rss/>", "[1]"), "")

	want := map[string]string{
		"CNAME":           "catalog.example.com",
		"index.html":      "<h1>目錄</h1>",
		"images/logo.svg": "<svg/>",
		".nojekyll":       "kept as the user wrote it",
		"說明 文件/讀我.txt":    "hi",
		"catalog.xml":     "<rss/>",
		"products.json":   "[1]",
	}
	if got := branchFiles(t, r.remote, "gh-pages"); !maps.Equal(got, want) {
		t.Errorf("gh-pages files = %v, want %v", got, want)
	}
}

func TestPublishDir(t *testing.T) {
	r := newPublishRepos(t)
	p := r.publisher()
	p.Dir = "feeds/line 直播/"
	files := catalog("<rss/>", "[]")
	files["meta/categories.json"] = &fstest.MapFile{Data: []byte("[]")}

	publish(t, p, files, "")

	want := map[string]string{
		"feeds/line 直播/catalog.xml":          "<rss/>",
		"feeds/line 直播/products.json":        "[]",
		"feeds/line 直播/meta/categories.json": "[]",
		".nojekyll":                          "",
	}
	if got := branchFiles(t, r.remote, "gh-pages"); !maps.Equal(got, want) {
		t.Errorf("gh-pages files = %v, want %v", got, want)
	}
}

func TestPublishRetriesWhenAnotherPushWins(t *testing.T) {
	r := newPublishRepos(t)
	publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	p := r.publisher()
	var racer string
	attempts := 0
	p.testHookBeforePush = func(attempt int) {
		attempts = attempt
		if attempt == 1 {
			racer = r.pushFromOtherClone(t, map[string]string{"CNAME": "catalog.example.com\n"})
		}
	}

	res := publish(t, p, catalog("<rss><item/></rss>", "[]"), "Update catalog")

	if attempts != 2 || !res.Pushed || !res.Changed {
		t.Fatalf("Publish = %+v after %d attempts, want a push on attempt 2", res, attempts)
	}
	if got := runGit(t, r.remote, "rev-list", "--parents", "-n", "1", "gh-pages"); got != res.Commit+" "+racer {
		t.Errorf("gh-pages tip and parent = %q, want %s on top of the racing commit %s", got, res.Commit, racer)
	}
	files := branchFiles(t, r.remote, "gh-pages")
	if files["CNAME"] != "catalog.example.com" || files["catalog.xml"] != "<rss><item/></rss>" {
		t.Errorf("gh-pages files = %v, want both the racing CNAME and the new catalog", files)
	}
	if got := runGit(t, r.user, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
		t.Errorf("local gh-pages = %s, want %s", got, res.Commit)
	}
}

func TestPublishFailsWhenPushKeepsLosing(t *testing.T) {
	r := newPublishRepos(t)
	publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	p := r.publisher()
	p.testHookBeforePush = func(attempt int) {
		r.pushFromOtherClone(t, map[string]string{"race.txt": strings.Repeat("x", attempt)})
	}

	_, err := p.Publish(context.Background(), catalog("<rss><item/></rss>", "[]"), "")

	if !errors.Is(err, ErrPushRejected) {
		t.Fatalf("Publish error = %v, want ErrPushRejected", err)
	}
	if !strings.Contains(err.Error(), "3 times") {
		t.Errorf("error %q does not say how often it tried", err)
	}
	if strings.Contains(err.Error(), "hint:") {
		t.Errorf("error %q passes on git's advice to run git commands", err)
	}
}

func TestPublishWithoutPushCommitsLocally(t *testing.T) {
	r := newPublishRepos(t)
	p := r.publisher()
	p.Push = false
	p.Remote = ""
	before := checkoutStateOf(t, r.user)

	res := publish(t, p, catalog("<rss/>", "[]"), "")

	if !res.Changed || res.Pushed {
		t.Fatalf("Publish = %+v, want a local commit only", res)
	}
	if got := runGit(t, r.user, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
		t.Errorf("local gh-pages = %s, want %s", got, res.Commit)
	}
	if got := runGit(t, r.remote, "branch", "--list", "gh-pages"); got != "" {
		t.Errorf("remote has gh-pages %q, want none", got)
	}
	if after := checkoutStateOf(t, r.user); after != before {
		t.Errorf("checkout changed:\nbefore %+v\nafter  %+v", before, after)
	}

	// A later publish with Push sends the local branch even though
	// nothing changed since it was committed.
	again := publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	if again != (PublishResult{Commit: res.Commit, Pushed: true}) {
		t.Errorf("Publish with Push = %+v, want the local commit %s pushed", again, res.Commit)
	}
}

func TestPublishIntoBareRepository(t *testing.T) {
	r := newPublishRepos(t)
	p := &BranchPublisher{RepoDir: r.remote, Branch: "gh-pages"}

	res := publish(t, p, catalog("<rss/>", "[]"), "")

	if got := runGit(t, r.remote, "rev-parse", "gh-pages"); !res.Changed || got != res.Commit {
		t.Errorf("Publish = %+v, gh-pages = %s", res, got)
	}
}

// TestPublishShallowClone follows actions/checkout, which clones one
// commit deep by default.
func TestPublishShallowClone(t *testing.T) {
	r := newPublishRepos(t)
	publish(t, r.publisher(), catalog("<rss/>", "[]"), "")
	publish(t, r.publisher(), catalog("<rss>2</rss>", "[]"), "")
	shallow := filepath.Join(r.root, "actions checkout")
	runGit(t, r.root, "clone", "--quiet", "--depth=1", "file://"+filepath.ToSlash(r.remote), shallow)

	res := publish(t, &BranchPublisher{RepoDir: shallow, Branch: "gh-pages", Remote: "origin", Push: true}, catalog("<rss>3</rss>", "[]"), "")

	if got := runGit(t, r.remote, "rev-list", "--count", "gh-pages"); !res.Pushed || got != "3" {
		t.Errorf("Publish = %+v; gh-pages has %s commits, want 3", res, got)
	}
	if got := runGit(t, shallow, "rev-parse", "--is-shallow-repository"); got != "true" {
		t.Errorf("clone is no longer shallow")
	}
}

func TestPublishErrors(t *testing.T) {
	r := newPublishRepos(t)
	notRepo := filepath.Join(r.root, "不是 repo")
	if err := os.Mkdir(notRepo, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    BranchPublisher
		want error
		text string
	}{
		{"NotARepository", BranchPublisher{RepoDir: notRepo, Branch: "gh-pages"}, ErrNotRepo, "不是 repo"},
		{"MissingFolder", BranchPublisher{RepoDir: filepath.Join(r.root, "gone"), Branch: "gh-pages"}, ErrNotRepo, "gone"},
		{"NoSuchRemote", BranchPublisher{RepoDir: r.user, Branch: "gh-pages", Remote: "upstream", Push: true}, ErrNoRemote, `"upstream"`},
		{"PushWithoutRemote", BranchPublisher{RepoDir: r.user, Branch: "gh-pages", Push: true}, nil, "invalid remote name"},
		{"BranchCheckedOut", BranchPublisher{RepoDir: r.user, Branch: "main"}, ErrBranchCheckedOut, "我的 商店"},
		{"InvalidBranch", BranchPublisher{RepoDir: r.user, Branch: "gh pages"}, nil, `invalid branch name "gh pages"`},
		{"PreviousBranch", BranchPublisher{RepoDir: r.user, Branch: "@{-1}"}, nil, "invalid branch name"},
		{"DirEscapes", BranchPublisher{RepoDir: r.user, Branch: "gh-pages", Dir: "../x"}, nil, "invalid folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := checkoutStateOf(t, r.user)
			_, err := tt.p.Publish(context.Background(), catalog("<rss/>", "[]"), "")
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Publish error = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
			if after := checkoutStateOf(t, r.user); after != before {
				t.Errorf("checkout changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestPublishWithoutGit(t *testing.T) {
	isolateGit(t)
	t.Setenv("PATH", tempdir.New(t))

	_, err := (&BranchPublisher{RepoDir: tempdir.New(t), Branch: "gh-pages"}).Publish(context.Background(), catalog("", ""), "")

	if !errors.Is(err, ErrGitMissing) {
		t.Errorf("Publish error = %v, want ErrGitMissing", err)
	}
}

func TestPublishAuthFailureRedactsCredentials(t *testing.T) {
	r := newPublishRepos(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://x-access-token:ghs_s3cretT0ken@", 1) + "/shop.git"
	runGit(t, r.user, "remote", "set-url", "origin", url)

	_, err := r.publisher().Publish(context.Background(), catalog("<rss/>", "[]"), "")

	if !errors.Is(err, ErrGitAuth) {
		t.Fatalf("Publish error = %v, want ErrGitAuth", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the token: %v", err)
	}
	if h := Hint(msg.English, err); !strings.Contains(h, "permissions: contents: write") {
		t.Errorf("hint %q for %v does not say what the workflow needs", h, err)
	}
}

func TestPublishRecognisesAuthFailures(t *testing.T) {
	tests := []struct {
		stderr string
		auth   bool
	}{
		{"remote: Permission to owner/shop.git denied to github-actions[bot].\nfatal: unable to access 'https://github.com/owner/shop.git/': The requested URL returned error: 403", true},
		{"remote: Write access to repository not granted.", true},
		{"fatal: could not read Username for 'https://github.com': terminal prompts disabled", true},
		{"git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.", true},
		{"fatal: Authentication failed for 'https://github.com/owner/shop.git/'", true},
		{"fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com", false},
		{"error: cannot open .git/FETCH_HEAD: Permission denied", false},
	}
	for _, tt := range tests {
		err := (&gitRepo{}).classifyRemoteError(&gitError{Args: []string{"push"}, Stderr: tt.stderr, Err: errors.New("exit status 128")}, "origin")
		if got := errors.Is(err, ErrGitAuth); got != tt.auth {
			t.Errorf("classifyRemoteError(%q) is auth failure: %v, want %v", tt.stderr, got, tt.auth)
		}
	}
}

// BenchmarkPublish measures one changed publish with push to a local bare
// remote: the git processes dominate.
func BenchmarkPublish(b *testing.B) {
	r := newPublishRepos(b)
	p := r.publisher()
	files := catalog("<rss/>", "[]")
	for i := 0; b.Loop(); i++ {
		files["products.json"] = &fstest.MapFile{Data: []byte(strings.Repeat("x", i))}
		if _, err := p.Publish(context.Background(), files, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPublishVolatileFilesAloneMakeNoCommit(t *testing.T) {
	r := newPublishRepos(t)
	p := r.publisher()
	p.Volatile = func(name string) bool { return name == "report.json" }
	files := catalog("<rss/>", "[]")
	files["report.json"] = &fstest.MapFile{Data: []byte(`{"at":"05:00"}`)}
	first := publish(t, p, files, "")

	files["report.json"] = &fstest.MapFile{Data: []byte(`{"at":"16:45"}`)}
	if res := publish(t, p, files, ""); res != (PublishResult{Commit: first.Commit}) {
		t.Errorf("Publish with only report.json changed = %+v, want no change at %s", res, first.Commit)
	}

	files["products.json"] = &fstest.MapFile{Data: []byte(`[{"product_id":"1"}]`)}
	res := publish(t, p, files, "")
	if !res.Changed {
		t.Fatalf("Publish with products.json changed = %+v, want a commit", res)
	}
	if got := branchFiles(t, r.remote, "gh-pages")["report.json"]; got != `{"at":"16:45"}` {
		t.Errorf("report.json on the branch = %q, want the latest one, committed with the catalog", got)
	}
}

func TestPublishReadPublished(t *testing.T) {
	r := newPublishRepos(t)
	p := r.publisher()
	if b, err := p.ReadPublished(context.Background(), "products.json"); err != nil || b != nil {
		t.Fatalf("ReadPublished before the branch exists = %q, %v; want nil, nil", b, err)
	}
	publish(t, p, catalog("<rss/>", "[\n{\"product_id\":\"1\"}\n]\n"), "")
	b, err := p.ReadPublished(context.Background(), "products.json")
	if err != nil || string(b) != "[\n{\"product_id\":\"1\"}\n]\n" {
		t.Errorf("ReadPublished = %q, %v; want the file byte for byte", b, err)
	}
	if b, err := p.ReadPublished(context.Background(), "missing.json"); err != nil || b != nil {
		t.Errorf("ReadPublished(missing) = %q, %v; want nil, nil", b, err)
	}
}

// TestPublishTokenReplacesCheckoutCredentials pushes to another repository
// over https with a token, from a clone where actions/checkout left the
// workflow's own token as an extra header for the same host: only the
// publish token is sent, and it is not in the error.
func TestPublishTokenReplacesCheckoutCredentials(t *testing.T) {
	r := newPublishRepos(t)
	var mu sync.Mutex
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		sent = append(sent, req.Header.Values("Authorization")...)
		mu.Unlock()
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	checkoutToken := base64.StdEncoding.EncodeToString([]byte("x-access-token:ghs_workflow"))
	runGit(t, r.user, "config", "--local", "http."+srv.URL+"/.extraheader", "AUTHORIZATION: basic "+checkoutToken)

	p := r.publisher()
	p.Repository, p.Token = srv.URL+"/shop/catalog.git", "ghp_publish"
	_, err := p.Publish(context.Background(), catalog("<rss/>", "[]"), "")
	if err == nil {
		t.Fatal("Publish succeeded against a server that refuses everything")
	}
	if strings.Contains(err.Error(), "ghp_publish") {
		t.Errorf("error leaks the token: %v", err)
	}
	want := "basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:ghp_publish"))
	mu.Lock()
	defer mu.Unlock()
	if len(sent) == 0 {
		t.Fatal("git sent no Authorization header")
	}
	for _, h := range sent {
		if !strings.EqualFold(h, want) {
			t.Errorf("git sent Authorization %q, want only the publish token", h)
		}
	}
}

// TestPublishFinishesAPushWhenStopped: a stop (the context cancelled, as
// SIGTERM does) as the push begins does not cut it short: the push lands,
// Publish says so, and the local branch follows it.
func TestPublishFinishesAPushWhenStopped(t *testing.T) {
	r := newPublishRepos(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := r.publisher()
	p.testHookBeforePush = func(int) { cancel() }
	res, err := p.Publish(ctx, catalog("<rss>1</rss>", "[]"), "stopped")
	if err != nil {
		t.Fatalf("Publish = %v, want the push finished", err)
	}
	if !res.Pushed || res.Commit == "" {
		t.Fatalf("result %+v, want pushed", res)
	}
	if got := runGit(t, r.remote, "rev-parse", "gh-pages"); got != res.Commit {
		t.Errorf("remote gh-pages at %s, want %s", got, res.Commit)
	}
	if got := runGit(t, r.user, "rev-parse", "gh-pages"); got != res.Commit {
		t.Errorf("local gh-pages at %s, want the published %s", got, res.Commit)
	}
}

// fakeSSH puts an ssh on PATH that records what git gave it — its
// arguments, the key file and its mode, the known hosts, its environment,
// and, when a real ssh is installed, the configuration that ssh makes of
// those arguments — in the folder it returns, and then runs git's remote
// command here, as the server would.
func fakeSSH(t *testing.T) (seen string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in for ssh is a shell script")
	}
	bin, seen := tempdir.New(t), tempdir.New(t)
	realSSH, _ := exec.LookPath("ssh")
	writeFile(t, filepath.Join(bin, "ssh"), []byte(`#!/bin/sh
printf '%s\n' "$@" > "$SEEN/args"
env > "$SEEN/env"
prev=
for a; do
	if [ "$prev" = -i ]; then cp "$a" "$SEEN/key"; ls -l "$a" | cut -c1-10 > "$SEEN/mode"; fi
	case $a in
	UserKnownHostsFile=*) f=${a#UserKnownHostsFile=\"}; cp "${f%%\"*}" "$SEEN/known_hosts" ;;
	esac
	prev=$a
done
if [ -n "$REAL_SSH" ]; then "$REAL_SSH" -G "$@" > "$SEEN/config" 2>/dev/null </dev/null; fi
for last; do :; done
exec sh -c "$last"
`))
	if err := os.Chmod(filepath.Join(bin, "ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("SEEN", seen)
	t.Setenv("REAL_SSH", realSSH)
	return seen
}

// TestPublishDeployKey: with a deploy key, git's ssh gets that key alone,
// from a file only this user may read that is gone once Publish returns,
// with GitHub's published host keys and no prompts; the push lands, and
// neither git nor ssh sees the secret in its environment.
func TestPublishDeployKey(t *testing.T) {
	r := newPublishRepos(t)
	seen := fakeSSH(t)
	// A temporary folder with a space in its path, as a Windows user's
	// (C:\Users\John Smith\…): ssh must still read the known hosts there.
	tmp := filepath.Join(tempdir.New(t), "John Smith")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	// As pasted into a secret from Windows: CRLF, no final line break.
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\r\n-----END OPENSSH PRIVATE KEY-----"
	t.Setenv("FEEDGEN_PUBLISH_SSH_KEY", key)
	p := r.publisher()
	p.Repository, p.SSHKey = "git@example.invalid:"+r.remote, key

	res := publish(t, p, catalog("<rss/>", "[]"), "")

	if !res.Pushed {
		t.Fatalf("Publish = %+v, want pushed", res)
	}
	if got := runGit(t, r.remote, "rev-parse", "refs/heads/gh-pages"); got != res.Commit {
		t.Errorf("remote gh-pages = %s, want %s", got, res.Commit)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(seen, name))
		if err != nil {
			t.Fatalf("the fake ssh recorded no %s: %v", name, err)
		}
		return string(b)
	}
	if got, want := read("key"), strings.ReplaceAll(key, "\r\n", "\n")+"\n"; got != want {
		t.Errorf("key file = %q, want %q", got, want)
	}
	if got := strings.TrimSpace(read("mode")); got != "-rw-------" {
		t.Errorf("key file mode %s, want -rw-------", got)
	}
	if got := read("known_hosts"); !strings.Contains(got, "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n") {
		t.Errorf("known hosts lack GitHub's ed25519 key:\n%s", got)
	}
	if env := read("env"); strings.Contains(env, "FEEDGEN_PUBLISH") || strings.Contains(env, "b3BlbnNzaC1rZXktdjEAAAAA") {
		t.Error("ssh's environment holds the deploy key")
	}
	args := strings.Split(read("args"), "\n")
	i := slices.Index(args, "-i")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("ssh got no -i: %q", args)
	}
	if _, err := os.Stat(filepath.Dir(args[i+1])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the key's folder %s is still there after Publish (%v)", filepath.Dir(args[i+1]), err)
	}
	if os.Getenv("REAL_SSH") != "" {
		config := read("config")
		for _, want := range []string{"identitiesonly yes", "identityagent none", "batchmode yes", "stricthostkeychecking accept-new", "userknownhostsfile " + filepath.Dir(args[i+1]) + "/known_hosts "} {
			if !strings.Contains(config, want) {
				t.Errorf("ssh -G of the arguments lacks %q:\n%s", want, config)
			}
		}
	}
}

func TestPublishDeployKeyErrors(t *testing.T) {
	r := newPublishRepos(t)
	const secret = "b3BlbnNzaC1rZXktdjEAAAAA"
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + secret + "\n-----END OPENSSH PRIVATE KEY-----\n"
	tests := []struct {
		name, repository, token, key, want string
	}{
		{"PublicHalf", "git@github.com:shop/catalog.git", "", "ssh-ed25519 AAAAC3Nza" + secret + " me@pc", "not the .pub file"},
		{"HTTPSAddress", "https://github.com/shop/catalog.git", "", key, "a deploy key needs an ssh repository address"},
		{"Path", r.remote, "", key, "a deploy key needs an ssh repository address"},
		{"TokenToo", "git@github.com:shop/catalog.git", "ghp_x", key, "both a publish token and a deploy key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := r.publisher()
			p.Repository, p.Token, p.SSHKey = tt.repository, tt.token, tt.key
			_, err := p.Publish(context.Background(), catalog("<rss/>", "[]"), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Publish error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestIsSSHAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"git@github.com:shop/catalog.git": true, "github.com:shop/catalog.git": true,
		"ssh://git@github.com/shop/catalog.git": true, "git+ssh://github.com/x.git": true,
		"https://github.com/shop/catalog.git": false, "file:///srv/catalog.git": false,
		"/srv/catalog.git": false, `C:\git\catalog.git`: false, "../catalog.git": false,
	} {
		if got := isSSHAddress(addr); got != want {
			t.Errorf("isSSHAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestPublishOneAtATime: publishes into one repository from several
// writers at once (two runs with different output folders, the daemon and
// a manual run) all succeed, one after the other, and the branch ends with
// one writer's files, whole. Without the publish lock the writers fail
// each other's update of the branch.
func TestPublishOneAtATime(t *testing.T) {
	r := newPublishRepos(t)
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			p := r.publisher()
			p.Push = false
			n := strconv.Itoa(i)
			_, errs[i] = p.Publish(context.Background(), catalog("<rss>"+n+"</rss>", "["+n+"]"), "writer "+n)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	files := branchFiles(t, r.user, "gh-pages")
	n := strings.TrimSuffix(strings.TrimPrefix(files["catalog.xml"], "<rss>"), "</rss>")
	if files["products.json"] != "["+n+"]" {
		t.Errorf("branch mixes writers: %v", files)
	}
	if got := runGit(t, r.user, "rev-list", "--count", "gh-pages"); got != strconv.Itoa(writers) {
		t.Errorf("gh-pages has %s commits, want one per writer (%d)", got, writers)
	}
}

// TestPublishWaitsForTheHolder: a publish that finds another feedgen
// publishing from the repository waits a bounded time, then says who.
func TestPublishWaitsForTheHolder(t *testing.T) {
	r := newPublishRepos(t)
	held, err := lockAt(filepath.Join(r.user, ".git", publishLockFile), errors.New("publishing"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock := sync.OnceFunc(held)
	defer unlock()
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 200 * time.Millisecond

	_, err = r.publisher().Publish(context.Background(), catalog("<rss/>", "[]"), "")

	var locked *LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) || !strings.Contains(err.Error(), "publishing from the repository") {
		t.Fatalf("Publish = %v, want a LockedError naming this process", err)
	}
	// Reading the branch fetches it, which a publish elsewhere does too.
	if _, err := r.publisher().ReadPublished(context.Background(), "products.json"); !errors.As(err, &locked) {
		t.Errorf("ReadPublished while another publishes = %v, want a LockedError", err)
	}
	unlock()
	lockWait = 5 * time.Second
	if _, err := r.publisher().Publish(context.Background(), catalog("<rss/>", "[]"), ""); err != nil {
		t.Errorf("Publish once the holder let go = %v", err)
	}
}

// TestRunRefusesAFileOverTheHostsLimit: a catalog file over max_file_mb
// (GitHub refuses files over 100 MB) stops the publish before anything is
// committed, naming the file and its size; the folder is written, and the
// hint offers the .gz copy's address.
func TestRunRefusesAFileOverTheHostsLimit(t *testing.T) {
	r := newPublishRepos(t)
	dir := tempdir.New(t)
	export := filepath.Join(dir, "export.xlsx")
	var buf bytes.Buffer
	if err := exportgen.WriteBulk(&buf, exportgen.BulkOptions{Products: 1500, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, export, buf.Bytes())
	cfg := sampleConfig(t, filepath.Join(dir, "out"))
	cfg.Export = export
	cfg.Publish.Repo, cfg.Publish.Branch, cfg.Publish.MaxFileMB = r.user, "gh-pages", 1

	_, err := Run(t.Context(), cfg, RunOptions{At: exportgen.SampleAt})

	var large *FileTooLargeError
	if !errors.As(err, &large) || large.Name != "catalog.xml" || large.Size <= 1<<20 {
		t.Fatalf("Run = %v, want catalog.xml over the 1 MB limit", err)
	}
	if !strings.Contains(err.Error(), "catalog.xml is ") || !strings.Contains(err.Error(), "nothing was pushed") {
		t.Errorf("error %q should name the file, its size and that nothing was pushed", err)
	}
	if h := Hint(msg.English, err); !strings.Contains(h, "catalog.xml.gz") {
		t.Errorf("hint %q does not offer the .gz copy", h)
	}
	if out := runGit(t, r.remote, "branch", "--list", "gh-pages"); out != "" {
		t.Errorf("the remote got a gh-pages branch: %q", out)
	}
	if fi, err := os.Stat(filepath.Join(cfg.Out, "catalog.xml")); err != nil || fi.Size() != large.Size {
		t.Errorf("the catalog folder was not written: %v", err)
	}
}
