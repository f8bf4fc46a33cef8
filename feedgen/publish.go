package feedgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/redact"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Errors Publish returns, so that the command line can tell a merchant what
// to fix instead of printing git's output alone.
var (
	ErrGitMissing       = msg.New("git is not installed")
	ErrNotRepo          = msg.New("not a git repository")
	ErrNoRemote         = msg.New("no such git remote")
	ErrBranchCheckedOut = msg.New("branch is checked out in a working tree")
	ErrPushRejected     = msg.New("push rejected")
	// ErrPushRefused is the server refusing the update itself (a protected
	// branch, a rule or a hook), unlike ErrPushRejected, which is losing
	// the race with other pushes.
	ErrPushRefused = msg.New("push refused by the server")
	ErrGitAuth     = msg.New("git authentication failed")
)

// pushAttempts bounds how often Publish rebuilds its commit on a branch tip
// that another writer moved while it was pushing.
const pushAttempts = 3

const (
	defaultAuthorName    = "feedgen"
	defaultAuthorEmail   = "feedgen@users.noreply.github.com"
	defaultCommitMessage = "Update catalog"
)

// BranchPublisher commits catalog files onto a branch (e.g. gh-pages) without
// touching the user's working tree, index or HEAD.
//
// It shells out to git plumbing with a throw-away index, so it reuses
// whatever credentials the user's git already has (credential helpers, SSH
// agent, the token actions/checkout leaves behind) and needs no checkout of
// the branch.
type BranchPublisher struct {
	RepoDir string // a folder inside the git repository (work tree or bare); "" = the current folder
	Branch  string // e.g. "gh-pages"
	Dir     string // folder inside the branch; "" = root
	Remote  string // e.g. "origin"; used when Push is true
	// Repository, when set, is pushed to instead of Remote: a URL or path
	// of another repository.
	Repository string
	// Token authenticates to an https Repository, as GitHub's
	// x-access-token user; it replaces any credentials git would send to
	// that host, such as those actions/checkout leaves for its own repo.
	Token string
	// SSHKey, the text of a private key (a deploy key), authenticates to
	// an ssh Repository; git's ssh then offers that key alone, not the
	// user's own keys or agent.
	SSHKey string
	Push   bool
	// AuthorName and AuthorEmail default to "feedgen" and
	// "feedgen@users.noreply.github.com"; in GitHub Actions the caller may
	// pass GITHUB_ACTOR-based values.
	AuthorName, AuthorEmail string
	// Volatile reports files (by name in files) whose changes alone make no
	// commit: the report and the preview carry the run's time, and a
	// catalog that did not change should not make a commit every run.
	Volatile func(name string) bool
	// Remove takes files off the branch, under Dir, when present and when
	// the function given their name says from their first legacyHead bytes
	// that they are to go: the private files older versions of feedgen
	// published.
	Remove map[string]func(head []byte) bool
	// Describe, when set, says what the commit changes, for the end of its
	// message. It reads files (by name under Dir) as the commit's base
	// has them, nil when absent: under the same lock and after the same
	// fetch as the commit, so that it describes what is pushed.
	Describe func(published func(name string) ([]byte, error)) (string, error)
	Logger   *slog.Logger // nil = discard
	// Lang is the language of the log's messages.
	Lang msg.Lang

	// testHookBeforePush runs before each push attempt, so that tests can
	// move the remote branch the way a concurrent publisher would.
	testHookBeforePush func(attempt int)
}

// PublishResult says what Publish did.
type PublishResult struct {
	// Changed reports whether a new commit was made; false when the files
	// already on the branch are identical.
	Changed bool
	// Commit is the branch tip after publishing: the new commit, or the
	// existing tip when nothing changed ("" if there is none).
	Commit string
	// Pushed reports whether Commit was pushed to the remote.
	Pushed bool
}

// Publish writes every regular file in files under Dir on the branch, keeps
// all other files already there (CNAME, index.html, other folders), ensures a
// .nojekyll at the branch root so GitHub Pages serves the files as they are,
// and commits with message. With Push, the commit is based on the remote's
// tip and pushed; a push that loses a race with another writer is rebuilt on
// the new tip and retried. The local branch then follows the remote, so
// commits made only on the local branch are left out of it.
func (p *BranchPublisher) Publish(ctx context.Context, files fs.FS, message string) (PublishResult, error) {
	res, err := p.publish(ctx, files, message)
	if err != nil {
		return res, msg.Errorf("publish to branch %q: %w", p.Branch, err)
	}
	return res, nil
}

func (p *BranchPublisher) publish(ctx context.Context, files fs.FS, message string) (PublishResult, error) {
	dir, err := cleanBranchDir(p.Dir)
	if err != nil {
		return PublishResult{}, err
	}
	if p.Push && (p.Remote == "" || strings.HasPrefix(p.Remote, "-")) {
		return PublishResult{}, msg.Errorf("invalid remote name %q", redact.String(p.Remote))
	}
	if message == "" {
		message = defaultCommitMessage
	}
	g, err := p.openRepo(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	defer g.close()
	unlock, err := g.lock(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	defer unlock()
	ref := "refs/heads/" + p.Branch
	if err := g.checkBranch(ctx, p.Branch); err != nil {
		return PublishResult{}, err
	}
	entries, err := g.hashFiles(ctx, files, dir, p.Volatile)
	if err != nil {
		return PublishResult{}, err
	}
	local, err := g.resolveCommit(ctx, ref)
	if err != nil {
		return PublishResult{}, err
	}

	describe := func(base string) (string, error) {
		if p.Describe == nil {
			return message, nil
		}
		change, err := p.Describe(func(name string) ([]byte, error) { return g.readFile(ctx, base, path.Join(dir, name)) })
		return message + change, err
	}
	if !p.Push {
		message, err := describe(local)
		if err != nil {
			return PublishResult{}, err
		}
		commit, changed, err := g.commitFiles(ctx, local, entries, p.removals(dir), message)
		if err != nil {
			return PublishResult{}, err
		}
		if !changed {
			p.logger().Info(p.Lang.T("catalog unchanged"), "branch", p.Branch, "commit", commit)
			return PublishResult{Commit: commit}, nil
		}
		if err := g.updateRef(ctx, ref, commit, local); err != nil {
			return PublishResult{}, err
		}
		p.logger().Info(p.Lang.T("catalog committed"), "branch", p.Branch, "commit", commit)
		return PublishResult{Changed: true, Commit: commit}, nil
	}

	target, tracking, err := p.target(ctx, g)
	if err != nil {
		return PublishResult{}, err
	}
	for attempt := 1; ; attempt++ {
		remoteTip, err := g.fetchBranch(ctx, target, p.Branch, tracking)
		if err != nil {
			return PublishResult{}, err
		}
		base := remoteTip
		if base == "" {
			base = local // a branch made without Push is published as it is
		}
		message, err := describe(base)
		if err != nil {
			return PublishResult{}, err
		}
		commit, changed, err := g.commitFiles(ctx, base, entries, p.removals(dir), message)
		if err != nil {
			return PublishResult{}, err
		}
		if commit == remoteTip {
			p.logger().Info(p.Lang.T("catalog unchanged"), "branch", p.Branch, "commit", commit)
			return PublishResult{Commit: commit}, nil
		}
		if p.testHookBeforePush != nil {
			p.testHookBeforePush(attempt)
		}
		err = g.push(ctx, target, commit, ref)
		if errors.Is(err, errNonFastForward) && attempt < pushAttempts {
			p.logger().Warn(p.Lang.T("branch moved on the remote while publishing; retrying"), "branch", p.Branch, "attempt", attempt)
			continue
		}
		if errors.Is(err, errNonFastForward) {
			return PublishResult{}, msg.Errorf("%w %d times because %s/%s kept moving (is another job publishing to it?): %w",
				ErrPushRejected, pushAttempts, redact.String(target), p.Branch, err)
		}
		if err != nil {
			return PublishResult{}, err
		}
		// The remote is the branch's source of truth; a local ref that moved
		// meanwhile only misses this one update, so it is not worth failing
		// a publish that already succeeded.
		if err := g.updateRef(context.WithoutCancel(ctx), ref, commit, local); err != nil {
			p.logger().Warn(p.Lang.T("local branch not updated to the published commit"), "branch", p.Branch, "err", err)
		}
		p.logger().Info(p.Lang.T("catalog published"), "branch", p.Branch, "commit", commit, "remote", redact.String(target), "changed", changed)
		return PublishResult{Changed: changed, Commit: commit, Pushed: true}, nil
	}
}

func (p *BranchPublisher) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// target returns where to push and the ref that keeps the fetched branch
// tip: Remote, checked to exist, and its remote-tracking ref; or
// Repository and a ref of feedgen's own, with the token's credentials set
// up for git.
func (p *BranchPublisher) target(ctx context.Context, g *gitRepo) (target, tracking string, err error) {
	repository := p.Repository
	if repository == "" && isAddress(p.Remote) {
		// A remote given by its address, as a merchant copies it from
		// GitHub's page, is pushed to as an address: git knows no remote
		// of that name.
		repository = p.Remote
	}
	if repository == "" {
		if err := g.checkRemote(ctx, p.Remote); err != nil {
			return "", "", err
		}
		return p.Remote, "refs/remotes/" + p.Remote + "/" + p.Branch, nil
	}
	switch {
	case p.Token != "" && p.SSHKey != "":
		return "", "", msg.New("both a publish token and a deploy key are set: keep the one the repository address needs (a token for https, a deploy key for ssh)")
	case p.Token != "":
		auth, err := tokenConfig(repository, p.Token)
		if err != nil {
			return "", "", err
		}
		g.env = append(g.env, auth...)
		g.authAdvice = msg.Errorf("the publish token may not write to %s: give it Contents: Read and write on that repository (GitHub: Settings > Developer settings > Personal access tokens), and store it again in the secret", redact.String(repository))
	case p.SSHKey != "":
		auth, remove, err := deployKeyConfig(repository, p.SSHKey)
		if err != nil {
			return "", "", err
		}
		g.env = append(g.env, auth...)
		g.cleanup = append(g.cleanup, remove)
		g.authAdvice = msg.Errorf("the deploy key may not write to %s: add its public half (the .pub file) to that repository under Settings > Deploy keys, with \"Allow write access\" ticked", redact.String(repository))
	}
	return repository, "refs/feedgen/published/" + p.Branch, nil
}

// isAddress reports whether remote is a repository's address (a URL,
// user@host:path, or a path) rather than a remote's name, which git
// allows neither a colon nor a backslash in, nor to start with a dot or a
// slash.
func isAddress(remote string) bool {
	return strings.ContainsAny(remote, `:\`) || strings.HasPrefix(remote, ".") || strings.HasPrefix(remote, "/")
}

// tokenConfig is the git configuration, as environment variables (so that
// the token is in no command line), that sends token to the host of the
// https repository url and nothing else git has for that host: the empty
// value first clears the list of extra headers, such as the one
// actions/checkout configures with the workflow's own token.
func tokenConfig(repository, token string) ([]string, error) {
	u, err := url.Parse(repository)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, msg.Errorf("a publish token needs an https repository address, not %s", DisplayPath(redact.String(repository)))
	}
	key := "http." + u.Scheme + "://" + u.Host + "/.extraheader"
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	return []string{
		"GIT_CONFIG_COUNT=2",
		"GIT_CONFIG_KEY_0=" + key, "GIT_CONFIG_VALUE_0=",
		"GIT_CONFIG_KEY_1=" + key, "GIT_CONFIG_VALUE_1=AUTHORIZATION: basic " + basic,
	}, nil
}

// deployKeyConfig writes key where only this user may read it, beside the
// host keys GitHub publishes, and returns the git configuration that has
// ssh offer that key alone, never prompt, and check github.com against the
// published keys (other hosts against the user's known_hosts; one seen
// for the first time is accepted, and not remembered). remove deletes
// both files; the key is in no command line and no message.
func deployKeyConfig(repository, key string) (env []string, remove func(), err error) {
	if !isSSHAddress(repository) {
		return nil, nil, msg.Errorf("a deploy key needs an ssh repository address, such as git@github.com:OWNER/REPO.git, not %s", DisplayPath(redact.String(repository)))
	}
	// A secret pasted into a web form may lose its last line break or
	// gain Windows ones; ssh refuses a key file with either.
	key = strings.TrimSpace(strings.ReplaceAll(key, "\r\n", "\n")) + "\n"
	if !strings.HasPrefix(key, "-----BEGIN ") || !strings.Contains(key, "PRIVATE KEY-----") {
		return nil, nil, msg.New("the deploy key (FEEDGEN_PUBLISH_SSH_KEY) is not a private key: paste the whole private file, from -----BEGIN OPENSSH PRIVATE KEY----- to its END line, not the .pub file")
	}
	dir, err := os.MkdirTemp("", "feedgen-ssh-")
	if err != nil {
		return nil, nil, msg.Errorf("store the deploy key: %w", err)
	}
	remove = func() { os.RemoveAll(dir) }
	keyFile, hostsFile := filepath.Join(dir, "deploy_key"), filepath.Join(dir, "known_hosts")
	if err := errors.Join(os.WriteFile(keyFile, []byte(key), 0o600), os.WriteFile(hostsFile, []byte(githubHostKeys), 0o600)); err != nil {
		remove()
		return nil, nil, msg.Errorf("store the deploy key: %w", err)
	}
	// Forward slashes: git runs this through its shell, and both the ssh
	// of Windows and that of Git for Windows read C:/… paths.
	ssh := "ssh -i " + shellQuote(filepath.ToSlash(keyFile)) +
		" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=accept-new" +
		// ssh splits the list of files at spaces unless quoted, and a
		// user's temporary folder may have one (C:/Users/John Smith/…).
		" -o " + shellQuote(`UserKnownHostsFile="`+filepath.ToSlash(hostsFile)+`" ~/.ssh/known_hosts`)
	return []string{"GIT_SSH_COMMAND=" + ssh}, remove, nil
}

// githubHostKeys are github.com's ssh host keys as GitHub publishes them
// (docs.github.com, "GitHub's SSH key fingerprints": SHA256:+DiY3wvv…,
// SHA256:p2QAMXNI…, SHA256:uNiVztks…), so that a deploy key is offered to
// GitHub alone even on a runner that has never seen it.
const githubHostKeys = `github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=
github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=
`

// isSSHAddress reports whether repository is reached over ssh: an ssh://
// URL, or git's [user@]host:path form ("C:\…" being a Windows drive).
func isSSHAddress(repository string) bool {
	if scheme, _, ok := strings.Cut(repository, "://"); ok {
		return scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git"
	}
	host, _, ok := strings.Cut(repository, ":")
	return ok && len(host) > 1 && !strings.ContainsAny(host, `/\`)
}

// shellQuote quotes s for the POSIX shell git runs GIT_SSH_COMMAND with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cleanBranchDir turns Dir into a slash-separated path relative to the
// branch root, "" for the root itself.
func cleanBranchDir(dir string) (string, error) {
	d := strings.Trim(dir, "/")
	if d == "" || d == "." {
		return "", nil
	}
	if !fs.ValidPath(d) || strings.Contains(d, `\`) {
		return "", msg.Errorf("invalid folder %s on the branch: use a relative path with forward slashes", DisplayPath(dir))
	}
	return d, nil
}

// gitRepo runs git commands in one repository.
type gitRepo struct {
	git     string // path of the git executable
	dir     string
	shallow bool
	env     []string
	ident   []string // author and committer identity for commit-tree
	logger  *slog.Logger
	lang    msg.Lang // of the log's messages
	// authAdvice says how to fix the credentials a remote refused (a
	// message, which is no error).
	authAdvice error
	cleanup    []func() // run by close
}

// publishLockFile is the lock a publish holds in the repository's git
// folder, shared by its work trees, from reading the branch to pushing it:
// two runs with different output folders, or the daemon beside a manual
// run, then publish one after the other instead of failing each other's
// update of the branch.
const publishLockFile = "feedgen-publish.lock"

// lock takes the repository's publish lock, waiting as long as a run waits
// for its output folder.
func (g *gitRepo) lock(ctx context.Context) (unlock func(), err error) {
	gitDir, err := g.run(ctx, nil, nil, "rev-parse", "--git-common-dir")
	if err != nil {
		return nil, msg.Errorf("find the git folder of %s: %w", DisplayPath(g.dir), err)
	}
	if !filepath.IsAbs(gitDir) {
		gitDir = filepath.Join(g.dir, gitDir)
	}
	return lockAt(filepath.Join(gitDir, publishLockFile), msg.Errorf("publishing from the repository %s", DisplayPath(g.dir)), lockWait, func(holder string) {
		g.logger.Info(g.lang.T("waiting for another feedgen to finish publishing"), "repository", g.dir, "holder", holder)
	})
}

// close removes what the repository's commands needed, such as a deploy
// key's file.
func (g *gitRepo) close() {
	for _, f := range g.cleanup {
		f()
	}
}

func (p *BranchPublisher) openRepo(ctx context.Context) (*gitRepo, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, msg.Errorf("%w: install git and make sure it is on PATH: %w", ErrGitMissing, err)
	}
	dir := p.RepoDir
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, msg.Errorf("%w: %w", ErrNotRepo, err)
	} else if !fi.IsDir() {
		return nil, msg.Errorf("%w: %s is not a folder", ErrNotRepo, DisplayPath(dir))
	}
	name, email := p.AuthorName, p.AuthorEmail
	if name == "" {
		name = defaultAuthorName
	}
	if email == "" {
		email = defaultAuthorEmail
	}
	g := &gitRepo{
		git:    bin,
		dir:    dir,
		env:    gitEnv(os.Environ()),
		logger: p.logger(),
		lang:   p.Lang,
		// The workflow's own token, as actions/checkout leaves it.
		authAdvice: msg.New("in GitHub Actions give the workflow \"permissions: contents: write\"; elsewhere set up git credentials for the remote"),
		ident: []string{
			"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email,
			"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email,
		},
	}
	out, err := g.run(ctx, nil, nil, "rev-parse", "--is-shallow-repository")
	if err != nil {
		var gerr *gitError
		if errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "dubious ownership") {
			// git's message names the safe.directory setting that fixes it.
			return nil, msg.Errorf("git refuses to use %s because another user owns it: %w", DisplayPath(dir), err)
		}
		return nil, msg.Errorf("%w: %s: %w", ErrNotRepo, DisplayPath(dir), err)
	}
	g.shallow = out == "true"
	return g, nil
}

// gitEnv makes git non-interactive and predictable: it never prompts for
// credentials (a prompt would hang a scheduled run), speaks English so that
// its errors can be recognised, and ignores variables that would point it at
// another repository or index (set when running inside a git hook).
func gitEnv(environ []string) []string {
	env := make([]string, 0, len(environ)+5)
	for _, kv := range environ {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX":
			continue
		}
		if strings.HasPrefix(kv, "FEEDGEN_PUBLISH_") {
			continue // the secrets reach git only as the configuration made of them
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=", // empty, unlike unset, also stops git falling back to SSH_ASKPASS
		"SSH_ASKPASS_REQUIRE=never",
		"GCM_INTERACTIVE=never", // Git Credential Manager on Windows and macOS
		"LC_ALL=C",
	)
}

// gitError is a failed git command carrying git's own explanation, with any
// credentials embedded in URLs removed.
type gitError struct {
	Args   []string
	Stdout string
	Stderr string
	Err    error
}

func (e *gitError) Error() string {
	msg := "git " + e.Args[0] + ": " + e.Err.Error()
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *gitError) Unwrap() error { return e.Err }

// gitMessage is git's stderr for an error message: without credentials,
// and without the "hint:" lines meant for someone typing git commands (such
// as advice to "git pull" after a rejected push, which Publish does itself).
func gitMessage(stderr string) string {
	var b strings.Builder
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, "hint:") {
			b.WriteString(line)
		}
	}
	return redact.String(strings.TrimSpace(b.String()))
}

// run runs git with args in the repository and returns its trimmed stdout.
func (g *gitRepo) run(ctx context.Context, extraEnv []string, stdin io.Reader, args ...string) (string, error) {
	out, err := g.output(ctx, extraEnv, stdin, args...)
	return strings.TrimSpace(string(out)), err
}

// runBytes returns git's output untouched, for file contents.
func (g *gitRepo) runBytes(ctx context.Context, args ...string) ([]byte, error) {
	return g.output(ctx, nil, nil, args...)
}

func (g *gitRepo) output(ctx context.Context, extraEnv []string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.git, args...)
	cmd.Dir = g.dir
	cmd.Env = slices.Concat(g.env, extraEnv)
	cmd.Stdin = stdin
	// A credential helper or ssh that git started may keep the pipes open
	// after git is killed; do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	g.logger.Debug("git", "args", redact.String(strings.Join(args, " ")), "duration", time.Since(start), "err", err)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &gitError{
			Args:   args,
			Stdout: strings.TrimSpace(stdout.String()),
			Stderr: gitMessage(stderr.String()),
			Err:    err,
		}
	}
	return stdout.Bytes(), nil
}

// checkBranch rejects branch names git would refuse, and branches checked
// out in some working tree: moving such a branch would change that tree's
// HEAD under the user's feet.
func (g *gitRepo) checkBranch(ctx context.Context, branch string) error {
	// --branch also expands "@{-1}"; a name that expands is not a name.
	if out, err := g.run(ctx, nil, nil, "check-ref-format", "--branch", branch); err != nil || out != branch {
		return msg.Errorf("invalid branch name %q", branch)
	}
	out, err := g.run(ctx, nil, nil, "worktree", "list", "--porcelain")
	if err != nil {
		return msg.Errorf("list working trees: %w", err)
	}
	var tree string
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		if p, ok := strings.CutPrefix(line, "worktree "); ok {
			tree = p
		}
		if line == "branch refs/heads/"+branch {
			return msg.Errorf("%w: %s; publish to a branch nobody has checked out", ErrBranchCheckedOut, DisplayPath(tree))
		}
	}
	return nil
}

// indexEntry is one file to put on the branch.
type indexEntry struct {
	path     string // slash-separated, relative to the branch root
	blob     string
	volatile bool // a change to it alone makes no commit
}

// hashFiles stores every regular file in files as a blob in the repository.
// --no-filters keeps the bytes exactly as written: a catalog must not get
// its line endings converted by the user's autocrlf setting.
func (g *gitRepo) hashFiles(ctx context.Context, files fs.FS, dir string, volatile func(string) bool) ([]indexEntry, error) {
	var entries []indexEntry
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		// Streamed to git: a catalog of 100k products is 130 MB.
		f, err := files.Open(name)
		if err != nil {
			return err
		}
		blob, err := g.run(ctx, nil, f, "hash-object", "-w", "--no-filters", "--stdin")
		f.Close()
		if err != nil {
			return msg.Errorf("store %s: %w", name, err)
		}
		entries = append(entries, indexEntry{path: path.Join(dir, name), blob: blob, volatile: volatile != nil && volatile(name)})
		return nil
	})
	if err != nil {
		return nil, msg.Errorf("read catalog files: %w", err)
	}
	if len(entries) == 0 {
		return nil, msg.New("no catalog files to publish")
	}
	return entries, nil
}

// resolveCommit returns the commit ref points at, "" when ref does not exist.
func (g *gitRepo) resolveCommit(ctx context.Context, ref string) (string, error) {
	out, err := g.run(ctx, nil, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return "", nil
	}
	if err != nil {
		return "", msg.Errorf("resolve %s: %w", ref, err)
	}
	return out, nil
}

// commitFiles builds the tree of base with entries written over it, in a
// temporary index so the user's own index is never involved, and commits it
// on top of base ("" for a first, parentless commit). When the tree equals
// base's, it returns base and changed=false instead of an empty commit.
// removal is a file to take off the branch if it is there and ours says
// so of its first bytes.
type removal struct {
	path string
	ours func(head []byte) bool
}

func (p *BranchPublisher) removals(dir string) []removal {
	var rs []removal
	for name, ours := range p.Remove {
		rs = append(rs, removal{path.Join(dir, name), ours})
	}
	slices.SortFunc(rs, func(a, b removal) int { return strings.Compare(a.path, b.path) })
	return rs
}

func (g *gitRepo) commitFiles(ctx context.Context, base string, entries []indexEntry, removals []removal, message string) (commit string, changed bool, err error) {
	tmp, err := os.MkdirTemp("", "feedgen-index-")
	if err != nil {
		return "", false, msg.Errorf("create temporary index: %w", err)
	}
	defer os.RemoveAll(tmp)
	index := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}

	readTree := []string{"read-tree", "--empty"}
	var baseTree string
	hasNojekyll := false
	var drop []string // paths of removals present on the branch
	if base != "" {
		query := base + "^{tree}\n" + base + ":.nojekyll\n"
		for _, e := range entries {
			query += base + ":" + e.path + "\n"
		}
		for _, r := range removals {
			query += base + ":" + r.path + "\n"
		}
		out, err := g.run(ctx, nil, strings.NewReader(query), "cat-file", "--batch-check")
		if err != nil {
			return "", false, msg.Errorf("read branch tip %s: %w", base, err)
		}
		lines := strings.Split(out, "\n")
		if len(lines) != 2+len(entries)+len(removals) {
			return "", false, msg.Errorf("read branch tip %s: unexpected answer from git cat-file", base)
		}
		baseTree, _, _ = strings.Cut(lines[0], " ")
		hasNojekyll = !strings.HasSuffix(lines[1], " missing")
		for i, r := range removals {
			if strings.HasSuffix(lines[2+len(entries)+i], " missing") {
				continue
			}
			blob, err := g.runBytes(ctx, "cat-file", "blob", base+":"+r.path)
			if err != nil {
				return "", false, msg.Errorf("read %s on the branch: %w", r.path, err)
			}
			if r.ours(blob[:min(len(blob), legacyHead)]) {
				drop = append(drop, r.path)
			}
		}
		if hasNojekyll && len(drop) == 0 && onlyVolatileChanged(entries, lines[2:2+len(entries)]) {
			return base, false, nil
		}
		readTree = []string{"read-tree", base}
	}
	if _, err := g.run(ctx, index, nil, readTree...); err != nil {
		return "", false, msg.Errorf("read branch tree: %w", err)
	}

	var info strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&info, "100644 %s\t%s\x00", e.blob, e.path)
	}
	for _, p := range drop {
		// Mode 0 removes the path from the index.
		fmt.Fprintf(&info, "0 %s\t%s\x00", strings.Repeat("0", len(baseTree)), p)
	}
	if !hasNojekyll {
		empty, err := g.run(ctx, nil, strings.NewReader(""), "hash-object", "-w", "--no-filters", "--stdin")
		if err != nil {
			return "", false, msg.Errorf("store .nojekyll: %w", err)
		}
		fmt.Fprintf(&info, "100644 %s\t.nojekyll\x00", empty)
	}
	if _, err := g.run(ctx, index, strings.NewReader(info.String()), "update-index", "-z", "--index-info"); err != nil {
		return "", false, msg.Errorf("add catalog files to the branch tree: %w", err)
	}
	tree, err := g.run(ctx, index, nil, "write-tree")
	if err != nil {
		return "", false, msg.Errorf("write branch tree: %w", err)
	}
	if tree == baseTree {
		return base, false, nil
	}

	// --no-gpg-sign: a user's commit.gpgSign would make an unattended run
	// wait for a passphrase.
	args := []string{"commit-tree", "--no-gpg-sign", "-m", message}
	if base != "" {
		args = append(args, "-p", base)
	}
	commit, err = g.run(ctx, g.ident, nil, append(args, tree)...)
	if err != nil {
		return "", false, msg.Errorf("commit: %w", err)
	}
	return commit, true, nil
}

// onlyVolatileChanged reports whether every entry that is not volatile has
// the same blob on the branch already; published lines are cat-file
// --batch-check answers ("<sha> blob <size>" or "<name> missing").
func onlyVolatileChanged(entries []indexEntry, published []string) bool {
	for i, e := range entries {
		sha, _, _ := strings.Cut(published[i], " ")
		if !e.volatile && sha != e.blob {
			return false
		}
	}
	return true
}

// ReadPublished returns a file (by its name under Dir) as it is on the
// branch now: the remote's tip when Push is set, else the local branch.
// It returns nil and no error when the branch or the file does not exist.
func (p *BranchPublisher) ReadPublished(ctx context.Context, name string) ([]byte, error) {
	dir, err := cleanBranchDir(p.Dir)
	if err != nil {
		return nil, err
	}
	g, err := p.openRepo(ctx)
	if err != nil {
		return nil, err
	}
	defer g.close()
	// Its fetch updates the refs a publish from elsewhere updates too.
	unlock, err := g.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tip, err := g.resolveCommit(ctx, "refs/heads/"+p.Branch)
	if p.Push && err == nil {
		target, tracking, err := p.target(ctx, g)
		if err != nil {
			return nil, err
		}
		tip, err = g.fetchBranch(ctx, target, p.Branch, tracking)
		if err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	return g.readFile(ctx, tip, path.Join(dir, name))
}

// readFile returns the file at name in commit, nil when commit is "" or
// has no such file.
func (g *gitRepo) readFile(ctx context.Context, commit, name string) ([]byte, error) {
	if commit == "" {
		return nil, nil
	}
	spec := commit + ":" + name
	if out, err := g.run(ctx, nil, strings.NewReader(spec+"\n"), "cat-file", "--batch-check"); err != nil || strings.HasSuffix(out, " missing") {
		return nil, err
	}
	out, err := g.runBytes(ctx, "cat-file", "blob", spec)
	if err != nil {
		return nil, msg.Errorf("read published %s: %w", name, err)
	}
	return out, nil
}

// updateRef moves ref from old ("" = must not exist) to commit, failing if
// someone else moved it in between.
func (g *gitRepo) updateRef(ctx context.Context, ref, commit, old string) error {
	if _, err := g.run(ctx, nil, nil, "update-ref", "-m", "feedgen: publish catalog", ref, commit, old); err != nil {
		return msg.Errorf("update %s: %w", ref, err)
	}
	return nil
}

func (g *gitRepo) checkRemote(ctx context.Context, remote string) error {
	if _, err := g.run(ctx, nil, nil, "remote", "get-url", remote); err != nil {
		shown := redact.String(remote)
		return msg.Errorf("%w %q in %s: add it with: git remote add %s <url>: %w", ErrNoRemote, shown, DisplayPath(g.dir), shown, err)
	}
	return nil
}

// fetchBranch fetches branch from remote and returns its tip, "" when the
// remote has no such branch yet. In a shallow clone (the default of
// actions/checkout) it fetches only the tip, which is all a new commit
// needs, so the branch's growing history is never downloaded.
func (g *gitRepo) fetchBranch(ctx context.Context, remote, branch, tracking string) (string, error) {
	args := []string{"fetch", "--quiet", "--no-tags"}
	if g.shallow {
		args = append(args, "--depth=1")
	}
	args = append(args, remote, "+refs/heads/"+branch+":"+tracking)
	if _, err := g.run(ctx, nil, nil, args...); err != nil {
		var gerr *gitError
		if errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "couldn't find remote ref") {
			return "", nil
		}
		return "", msg.Errorf("fetch %s from %s: %w", branch, redact.String(remote), g.classifyRemoteError(err, remote))
	}
	return g.resolveCommit(ctx, tracking)
}

// errNonFastForward is a push the remote refused because the branch moved.
var errNonFastForward = msg.New("remote branch has commits this push does not contain")

// push sends commit to ref on remote. --no-verify: the user's pre-push hooks
// guard their source branches, not a generated catalog branch.
// pushGrace bounds a push once it has begun: a stop signal does not cut it
// short, since a push cut short may still land on the server, and the run
// would then report a failure, and leave the local branch behind, for a
// catalog that was published.
const pushGrace = 2 * time.Minute

func (g *gitRepo) push(ctx context.Context, remote, commit, ref string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushGrace)
	defer cancel()
	_, err := g.run(ctx, nil, nil, "push", "--porcelain", "--no-verify", remote, commit+":"+ref)
	if err == nil {
		return nil
	}
	var gerr *gitError
	if errors.As(err, &gerr) {
		for line := range strings.Lines(gerr.Stdout) {
			if strings.HasPrefix(line, "!") && strings.Contains(line, "[rejected]") {
				return msg.Errorf("push to %s: %w: %w", redact.String(remote), errNonFastForward, err)
			}
		}
		if strings.Contains(gerr.Stdout, "[remote rejected]") {
			return msg.Errorf("push to %s: %w (a protected branch, a ruleset or a server hook): %w",
				redact.String(remote), ErrPushRefused, err)
		}
	}
	return msg.Errorf("push to %s: %w", redact.String(remote), g.classifyRemoteError(err, remote))
}

// authFailures are what git, GitHub and ssh print when credentials are
// missing or may not write (compared in lower case).
var authFailures = []string{
	"authentication failed",
	"could not read username",
	"could not read password",
	"terminal prompts disabled",
	"invalid username or password",
	"permission denied (publickey",
	"write access to repository not granted",
	"the requested url returned error: 401",
	"the requested url returned error: 403",
}

// AuthError is a remote that refused the credentials git sent; Advice says
// which ones to fix, as the repository and its credentials tell.
type AuthError struct {
	Remote string // without credentials
	Advice error  // as a message; nil when there is none
	Err    error
}

func (e *AuthError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *AuthError) Text(l msg.Lang) string {
	return l.T("%v for %s: %v", ErrGitAuth, e.Remote, e.Err)
}

// Hint is Advice in l.
func (e *AuthError) Hint(l msg.Lang) string { return msg.Text(l, e.Advice) }

func (e *AuthError) Is(target error) bool { return target == ErrGitAuth }
func (e *AuthError) Unwrap() error        { return e.Err }

// classifyRemoteError makes err an AuthError when git's output says the
// remote refused its credentials.
func (g *gitRepo) classifyRemoteError(err error, remote string) error {
	var gerr *gitError
	if !errors.As(err, &gerr) {
		return err
	}
	stderr := strings.ToLower(gerr.Stderr)
	// GitHub: "Permission to owner/repo.git denied to github-actions[bot]."
	auth := strings.Contains(stderr, "permission to ") && strings.Contains(stderr, " denied to ")
	for _, marker := range authFailures {
		auth = auth || strings.Contains(stderr, marker)
	}
	if !auth {
		return err
	}
	return &AuthError{Remote: redact.String(remote), Advice: g.authAdvice, Err: err}
}
