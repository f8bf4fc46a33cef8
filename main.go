// Feedgen turns a CYBERBIZ product export (.xlsx) into the static product
// catalog that LINE live shopping, LINE購物, Google Merchant Center and Meta
// fetch.
//
// Usage:
//
//	feedgen run [-config FILE] [-export FILE] [-out DIR] [-shop-url URL] [-at TIME] [-max-drop N] [-force] [-summary FILE]
//	feedgen explain [-config FILE] [-export FILE] [-shop-url URL] [-at TIME] ID...
//	feedgen daemon [-config FILE] [-export FILE|DIR] [-out DIR] [-listen ADDR] [-publish-branch BRANCH]
//	feedgen service install|uninstall|start|stop|restart|status -config FILE
//	feedgen notify -config FILE
//	feedgen version
//
// Run `feedgen run -h` for the flags. Exit codes: 0 done; 1 the run failed
// and nothing was replaced; 2 usage or configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"feedgen/feedgen"
	"feedgen/internal/msg"
	"feedgen/internal/redact"
	"feedgen/internal/svc"
	"feedgen/internal/textlog"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Exit codes, documented in the usage text and the README.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); builds
// without it report the module version or the VCS revision.
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

var usage = msg.N(`feedgen turns a CYBERBIZ product export (.xlsx) into the product catalog
that LINE live shopping, LINE購物, Google Merchant Center and Meta fetch.

Usage:
  feedgen run [flags]           read the export, apply the rules, write the catalog
  feedgen explain [flags] ID... say whether each product (PID) is in the catalog, and why not
  feedgen daemon [flags]        keep the catalog up to date: on a schedule (04:45 and 16:45
                                by default) and whenever a new export is saved
  feedgen service ACTION -config FILE
                                run the daemon as a service that starts with the computer:
                                install, uninstall, start, stop, restart, status
  feedgen notify -config FILE   send a test message to every channel under [notify]
  feedgen version               print the version

Run "feedgen <command> -h" for the flags of a command.

Exit codes: 0 done; 1 the run failed and the published catalog was left as
it was; 2 usage or configuration error.
`)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	l := argLang(args)
	if len(args) == 0 {
		fmt.Fprint(stderr, l.T(usage))
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCommand(ctx, l, args[1:], stdout, stderr)
	case "explain":
		return explainCommand(ctx, l, args[1:], stdout, stderr)
	case "daemon":
		return daemonCommand(ctx, l, args[1:], stderr)
	case "service":
		return serviceCommand(l, args[1:], stdout, stderr)
	case "notify":
		return notifyCommand(ctx, l, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "feedgen", buildVersion())
		return exitOK
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, l.T(usage))
		return exitOK
	default:
		l.Fprintf(stderr, "feedgen: error: unknown command %q\n\n", args[0])
		fmt.Fprint(stderr, l.T(usage))
		return exitUsage
	}
}

// argLang is the language of the command line's messages, before the
// config is read: -lang's, else the system's. The config's lang applies
// once it is read (see load).
func argLang(args []string) msg.Lang {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if a == "--" || !strings.HasPrefix(a, "-") || name != "lang" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		if l, err := msg.Parse(value); err == nil {
			return l
		}
		break
	}
	return msg.System()
}

// commonFlags are the flags shared by the commands that read an export.
type commonFlags struct {
	config, export, out, report, shopURL, at, maxDrop, publishBranch, publishRepository, lang string
}

// register adds the flags; output adds those that only matter when the
// catalog is written.
func (c *commonFlags) register(fs *flag.FlagSet, l msg.Lang, output bool) {
	fs.StringVar(&c.config, "config", "", l.T("TOML config `file` (default: built-in settings for a CYBERBIZ export)"))
	fs.StringVar(&c.export, "export", "", l.T("product export .xlsx `file` (overrides export in the config)"))
	fs.StringVar(&c.shopURL, "shop-url", "", l.T("shop base `URL`, e.g. https://shop.example.com; product links are built from it"))
	fs.StringVar(&c.at, "at", "", l.T("evaluate 已上架 as of `TIME` (RFC 3339, or 2006-01-02 15:04 in the shop's time zone; default now)"))
	langFlag(fs, l, &c.lang)
	if output {
		fs.StringVar(&c.out, "out", "", l.T("public output `folder` for the catalog files (default \"public\")"))
		fs.StringVar(&c.report, "report", "", l.T("private `folder` for the run's report and the preview with the excluded products (default \"report\")"))
		fs.StringVar(&c.maxDrop, "max-drop", "", l.T("refuse to publish a catalog that lost more than this share of the published items, e.g. 50%% or 0.5 (default 50%%)"))
		fs.StringVar(&c.publishBranch, "publish-branch", "", l.T("also commit the catalog onto `branch` (e.g. gh-pages) of the git repository here, and push it"))
		fs.StringVar(&c.publishRepository, "publish-repository", "", l.T("push the branch to this other repository (`URL` or path) instead of the remote; FEEDGEN_PUBLISH_TOKEN authenticates an https one, FEEDGEN_PUBLISH_SSH_KEY (a deploy key) an ssh one"))
	}
}

// langFlag registers -lang into dst, as every command has it.
func langFlag(fs *flag.FlagSet, l msg.Lang, dst *string) {
	fs.StringVar(dst, "lang", "", l.T("`language` of the messages: zh-TW (繁體中文) or en (default: lang in the config, else the system's)"))
}

// loadConfig reads the config file at path over the defaults (none: the
// defaults alone) and decides the language of what follows: flagLang
// (-lang), else the config's lang, else the system's. A config that does
// not load is reported in the lang it sets, found line by line.
func loadConfig(path, flagLang string) (feedgen.Config, error) {
	cfg := feedgen.DefaultConfig()
	var err error
	if cfg.Language, err = msg.Resolve(flagLang); err != nil || path == "" {
		return cfg, err
	}
	lang := cfg.Language
	if cfg, err = feedgen.LoadConfig(path, cfg); err != nil {
		cfg.Language = lang
		if l, perr := msg.Parse(feedgen.ConfigLang(path)); perr == nil && flagLang == "" {
			cfg.Language = l // the broken config's own choice
		}
		return cfg, err
	}
	if flagLang == "" && cfg.Lang != "" { // -lang wins
		if cfg.Language, err = msg.Parse(cfg.Lang); err != nil {
			return cfg, msg.Errorf("config %s: %w", feedgen.DisplayPath(path), &feedgen.ConfigError{Key: "lang", Err: err})
		}
	}
	return cfg, nil
}

// load builds the configuration: defaults, then the config file, then flags.
func (c *commonFlags) load() (feedgen.Config, time.Time, error) {
	cfg, err := loadConfig(c.config, c.lang)
	if err != nil {
		return cfg, time.Time{}, err
	}
	for _, o := range []struct {
		val string
		dst *string
	}{
		{c.export, &cfg.Export}, {c.out, &cfg.Out}, {c.report, &cfg.Report}, {c.shopURL, &cfg.ShopURL}, {c.publishBranch, &cfg.Publish.Branch},
		{c.publishRepository, &cfg.Publish.Repository},
	} {
		if o.val != "" {
			*o.dst = o.val
		}
	}
	if c.maxDrop != "" {
		f, err := feedgen.ParseFraction(c.maxDrop)
		if err != nil {
			return cfg, time.Time{}, msg.Errorf("%s: %w", "-max-drop", err)
		}
		cfg.MaxDrop = f
	}
	// A secret comes from the environment only: a config file may be in
	// a repository.
	cfg.Publish.Token = os.Getenv("FEEDGEN_PUBLISH_TOKEN")
	cfg.Publish.SSHKey = os.Getenv("FEEDGEN_PUBLISH_SSH_KEY")
	if err := cfg.Validate(); err != nil {
		return cfg, time.Time{}, msg.Errorf("config: %w", err)
	}
	if cfg.Export == "" {
		return cfg, time.Time{}, msg.New("no export given: use -export FILE, or set export in the config")
	}
	var at time.Time
	if c.at != "" {
		var err error
		if at, err = feedgen.ParseTime(c.at, cfg.Location()); err != nil {
			return cfg, time.Time{}, msg.Errorf("%s: %w", "-at", err)
		}
	}
	if cfg.ShopURL == "" {
		// Without it no handle makes a link: every product would be left
		// out as invalid, one by one, with nothing saying why.
		return cfg, time.Time{}, msg.Errorf("config: %w", &feedgen.ConfigError{Key: "shop_url", Err: msg.New(
			"is not set: give your shop's address, as your browser shows it on the shop's home page (such as https://your-shop.cyberbiz.co), with -shop-url or shop_url in the config")})
	}
	return cfg, at, nil
}

func runCommand(ctx context.Context, l msg.Lang, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, l, true)
	force := fs.Bool("force", false, l.T("publish even when the safety guard refuses (empty catalog, or a drop over max-drop)"))
	summary := fs.String("summary", "", l.T("also write the run's summary as Markdown to `file`"))
	verbose := fs.Bool("v", false, l.T("log progress"))
	fs.Usage = func() {
		l.Fprintf(stderr, "Usage: feedgen run [flags]\n\nRead the export, apply the eligibility rules, and replace the catalog files\natomically. Flags override the config file. Inside GitHub Actions it also sets\nthe step's outputs, writes the job summary, and annotates errors and warnings.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(l, fs, args); done {
		return code
	}
	gh := feedgen.GitHubActionsFromEnv(os.Getenv, stdout)
	cfg, at, err := cf.load()
	l = cfg.Language
	if err != nil {
		gh.ReportRun(cf.config, &cfg, nil, err)
		return fail(l, stderr, err, exitUsage)
	}
	if gh != nil {
		gh.DefaultAuthor(&cfg.Publish, os.Getenv)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	opts := feedgen.RunOptions{At: at, Force: *force, DetectChange: gh != nil, Logger: newLogger(stderr, level)}
	sum, err := feedgen.Run(ctx, cfg, opts)
	if sum != nil {
		printSummary(l, stderr, sum)
		if *summary != "" {
			if werr := writeMarkdown(*summary, sum); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	gh.ReportRun(cf.config, &cfg, sum, err)
	if err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	l.Fprintf(stderr, "feedgen: the report, for you alone (never published): %s\n", feedgen.DisplayPath(filepath.Join(cfg.Report, "report.json")))
	return exitOK
}

func writeMarkdown(path string, sum *feedgen.Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return msg.Errorf("write summary %s: %w", feedgen.DisplayPath(path), err)
	}
	if err := sum.WriteMarkdown(f, true); err != nil {
		f.Close()
		return msg.Errorf("write summary %s: %w", feedgen.DisplayPath(path), err)
	}
	return f.Close()
}

func explainCommand(ctx context.Context, l msg.Lang, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, l, false)
	fs.Usage = func() {
		l.Fprintf(stderr, "Usage: feedgen explain [flags] ID...\n\nSay for each product id (PID, column A 「商品 id」) whether it is in the catalog,\nand if not, every reason, with the cell and its row. Exit 0 when every id was\nfound in the export, 1 otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		l.Fprintf(stderr, "feedgen: error: name at least one product id, e.g. feedgen explain -export 商品匯出.xlsx 1000123\n")
		return exitUsage
	}
	cfg, at, err := cf.load()
	l = cfg.Language
	if err != nil {
		return fail(l, stderr, err, exitUsage)
	}
	if at.IsZero() {
		at = time.Now()
	}
	exps, ex, err := feedgen.Explain(ctx, cfg, at, fs.Args())
	if err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	if err := feedgen.WriteExplanations(stdout, l, exps, cfg.Export, ex.ProductCount); err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	for _, e := range exps {
		if !e.Found {
			return exitFailed
		}
	}
	return exitOK
}

// parseFlags parses args, treating -h as success and stray arguments as
// usage errors; done reports that the command should exit with code.
func parseFlags(l msg.Lang, fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		l.Fprintf(fs.Output(), "feedgen: error: unexpected argument %q (flags go before it? use -export FILE)\n", fs.Arg(0))
		return exitUsage, true
	}
	return 0, false
}

// newLogger logs to w with paths as typed (see textlog) and without
// credentials.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(redact.Handler(textlog.New(w, level)))
}

func printSummary(l msg.Lang, w io.Writer, s *feedgen.Summary) {
	if s.Sheet != "" {
		l.Fprintf(w, "feedgen: read %s, sheet %s: %d rows, %d products\n", feedgen.DisplayPath(s.Export), feedgen.DisplayPath(s.Sheet), s.Rows, s.Products)
	} else {
		l.Fprintf(w, "feedgen: read %s: %d rows, %d products\n", feedgen.DisplayPath(s.Export), s.Rows, s.Products)
	}
	if len(s.ExcludedBy) > 0 {
		var by []string
		for _, c := range s.ReasonCodes() {
			by = append(by, l.T("%s %d", feedgen.ReasonLabel(l, c), s.ExcludedBy[c]))
		}
		l.Fprintf(w, "feedgen: %d eligible products, %d items; %d excluded (%s)\n", s.Eligible, s.Items, s.Excluded, strings.Join(by, l.T(", ")))
	} else {
		l.Fprintf(w, "feedgen: %d eligible products, %d items; %d excluded\n", s.Eligible, s.Items, s.Excluded)
	}
	if s.WarningCount > 0 {
		l.Fprintf(w, "feedgen: %d warnings:\n", s.WarningCount)
		const shown = 20
		for i, warn := range s.Warnings {
			if i == shown {
				l.Fprintf(w, "  … and %d more\n", s.WarningCount-shown)
				break
			}
			fmt.Fprintf(w, "  %s\n", warn.Text(l))
		}
	}
	if len(s.Diagnosed) > 0 {
		l.Fprintf(w, "feedgen: what the channels would flag (the products stay in; each is in the report, and feedgen explain PID says more):\n")
		for _, c := range s.DiagnosticCodes() {
			d := s.Diagnosed[c]
			first := strings.Join(d.First, l.T(", "))
			if d.Products > len(d.First) {
				first += l.T(", ") + "…"
			}
			l.Fprintf(w, "  %s: %s (%s): %s\n", c, d.Counts(l), first, feedgen.DiagnosticTitle(l, c))
		}
	}
	if len(s.Feeds) > 0 {
		files := make([]string, len(s.Feeds))
		for i, f := range s.Feeds {
			files[i] = f.Text(l)
		}
		l.Fprintf(w, "feedgen: wrote %s\n", strings.Join(files, l.T(", ")))
	}
}

// fail prints err and its hint, in l and without credentials, and
// returns code.
func fail(l msg.Lang, w io.Writer, err error, code int) int {
	l.Fprintf(w, "feedgen: error: %s\n", redact.String(msg.Text(l, err)))
	if h := feedgen.Hint(l, err); h != "" {
		l.Fprintf(w, "feedgen: hint: %s\n", redact.String(h))
	}
	return code
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "(devel)"
}

func daemonCommand(ctx context.Context, l msg.Lang, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, l, true)
	listen := fs.String("listen", "", l.T("serve the catalog, /healthz and POST /refresh over HTTP at `address`, e.g. 127.0.0.1:8080"))
	underManager := fs.Bool(svc.ServiceFlag, false, l.T("run under the service manager, as feedgen service install sets up (paths in the config are then from the config's folder)"))
	fs.Usage = func() {
		l.Fprintf(stderr, "Usage: feedgen daemon [flags]\n\nKeep the catalog up to date until stopped (Ctrl-C, SIGTERM): run at the\nscheduled times (04:45 and 16:45 Asia/Taipei by default), at start when the\ncatalog is missing or older than the last scheduled time, and as soon as a new\nexport is saved. -export may name a folder: the newest .xlsx dropped there\nwins.")
		if runtime.GOOS != "windows" { // Windows has no SIGHUP
			l.Fprintf(stderr, " SIGHUP runs at once.")
		}
		l.Fprintf(stderr, " POST /refresh (with -listen) runs at once. A failed run leaves\nthe last good catalog in place and is retried after 1, 5 and 15 minutes,\nunless the export was refused: then the scheduled runs wait for a new export.\nIt logs to stderr and to a file (log_file; default report/feedgen.log).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(l, fs, args); done {
		return code
	}
	if *underManager {
		// A Windows service starts in the system folder.
		if cf.config == "" {
			return fail(l, stderr, msg.New("-service needs -config"), exitUsage)
		}
		abs, err := filepath.Abs(cf.config)
		if err == nil {
			err = os.Chdir(filepath.Dir(abs))
		}
		if err != nil {
			return fail(l, stderr, err, exitFailed)
		}
		cf.config = abs
		// A service has no stderr: what stops it before its config names
		// the log goes to the log the config would name by default.
		defaults := feedgen.DefaultConfig()
		early := &lazyLog{path: defaults.DaemonLog()}
		defer early.Close()
		stderr = early
	}
	cfg, _, err := cf.load()
	l = cfg.Language
	if err != nil {
		return fail(l, stderr, err, exitUsage)
	}
	if cf.at != "" {
		return fail(l, stderr, msg.New("-at does not apply to the daemon, which always evaluates at the time of each run"), exitUsage)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if token := os.Getenv("FEEDGEN_REFRESH_TOKEN"); token != "" {
		cfg.RefreshToken = token
	}
	if err := cfg.Notify.ApplyEnv(os.Getenv); err != nil {
		return fail(l, stderr, msg.Errorf("config: %w", err), exitUsage)
	}
	logFile, err := openLog(cfg.DaemonLog())
	if err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	defer logFile.Close()
	// A service has no stderr, and a write to it fails, which would stop
	// io.MultiWriter before the file.
	logTo := io.MultiWriter(logFile, stderr)
	if *underManager {
		logTo, stderr = logFile, logFile
	}
	log := newLogger(logTo, slog.LevelInfo)
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP) // never delivered on Windows
	defer signal.Stop(hangup)
	d := feedgen.NewDaemon(cfg, log)
	serve := func(ctx context.Context) error {
		err := d.Serve(ctx, hangup)
		if err != nil {
			log.Error(l.T("daemon stopped: %s", redact.String(msg.Text(l, err))))
		}
		return err
	}
	if *underManager {
		s, err := svc.New("", cf.config, "", nil, serve)
		if err == nil {
			err = s.Run()
		}
		if err != nil {
			return fail(l, stderr, err, exitFailed)
		}
		return exitOK
	}
	if err := serve(ctx); err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	return exitOK
}

// openLog opens the daemon's log file, rotated at 10 MB and kept to 5
// files, in a folder only its owner reads: the log names products.
func openLog(path string) (io.WriteCloser, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, msg.Errorf("open log file %s: %w", feedgen.DisplayPath(path), err)
	}
	return &lumberjack.Logger{Filename: path, MaxSize: 10, MaxBackups: 5, LocalTime: true}, nil
}

// lazyLog is a log opened at its first write: a service that starts well
// leaves no folder of its own behind where the config names another.
type lazyLog struct {
	path string
	w    io.WriteCloser
	err  error
}

func (l *lazyLog) Write(p []byte) (int, error) {
	if l.w == nil && l.err == nil {
		l.w, l.err = openLog(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.w.Write(p)
}

func (l *lazyLog) Close() error {
	if l.w == nil {
		return nil
	}
	return l.w.Close()
}

// serviceEnv is what of this terminal's environment the installed
// service gets: feedgen's own variables, the secrets above all, which a
// service would not otherwise see.
func serviceEnv(environ []string) map[string]string {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FEEDGEN_") && v != "" {
			env[k] = v
		}
	}
	return env
}

// serviceCommand installs the daemon as a service with its config, and
// controls it.
func serviceCommand(l msg.Lang, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", l.T("the daemon's TOML config `file` (required for install)"))
	var lang string
	langFlag(fs, l, &lang)
	fs.Usage = func() {
		l.Fprintf(stderr, "Usage: feedgen service install|uninstall|start|stop|restart|status -config FILE\n\n"+
			"Run feedgen daemon with the config FILE as a service that starts with the\n"+
			"computer: a Windows service (run this in a terminal opened as administrator),\n"+
			"a systemd unit (with sudo), or a launchd agent that starts when you log in.\n"+
			"Paths in the config are then taken from the config's folder. The log is in\n"+
			"the log_file of the config (default report%cfeedgen.log).\n\nFlags:\n", filepath.Separator)
		fs.PrintDefaults()
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if code, done := parseFlags(l, fs, args); done {
			return code
		}
		fs.Usage()
		return exitUsage
	}
	action := args[0]
	if code, done := parseFlags(l, fs, args[1:]); done {
		return code
	}
	if action != "status" && !slices.Contains(svc.Actions[:], action) {
		l.Fprintf(stderr, "feedgen: error: unknown service action %q\n", action)
		fs.Usage()
		return exitUsage
	}
	path := *config
	var env map[string]string
	var serviceLang string
	if action == "install" {
		if path == "" {
			return fail(l, stderr, msg.New("install needs -config FILE: the service runs feedgen daemon with it"), exitUsage)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fail(l, stderr, err, exitUsage)
		}
		path = abs
		// A config that fails now would fail at every start, unseen.
		cf := commonFlags{config: path, lang: lang}
		if err := os.Chdir(filepath.Dir(path)); err != nil {
			return fail(l, stderr, err, exitFailed)
		}
		cfg, _, err := cf.load()
		l = cfg.Language
		if err != nil {
			return fail(l, stderr, err, exitUsage)
		}
		if lang != "" || cfg.Lang == "" {
			// The installer's language, which the service (the system
			// account, or root) would not have; a config's lang stays
			// the config's to change.
			serviceLang = cfg.Language.String()
		}
		env = serviceEnv(os.Environ())
		for _, name := range slices.Sorted(maps.Keys(env)) {
			l.Fprintf(stdout, "feedgen service: the service gets %s from this terminal\n", name)
		}
		if cfg.Publish.Repository != "" && env["FEEDGEN_PUBLISH_TOKEN"] == "" && env["FEEDGEN_PUBLISH_SSH_KEY"] == "" {
			l.Fprintf(stderr, "feedgen: warning: the config pushes to %s, but neither FEEDGEN_PUBLISH_TOKEN nor FEEDGEN_PUBLISH_SSH_KEY is set in this terminal: the service does not see your own git credentials, so its pushes may be refused; set the one for your repository (README: \"Setting it up (once)\"), then install again\n",
				redact.String(cfg.Publish.Repository))
		}
	}
	s, err := svc.New("", path, serviceLang, env, nil)
	if err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	if action == "status" {
		st, err := s.Status()
		if err != nil {
			return fail(l, stderr, err, exitFailed)
		}
		fmt.Fprintf(stdout, "feedgen service: %s\n", l.T(st))
		return exitOK
	}
	if err := s.Control(action); err != nil {
		return fail(l, stderr, err, exitFailed)
	}
	l.Fprintf(stdout, "feedgen service: %s done\n", action)
	return exitOK
}

// notifyCommand sends a test message to every channel of the config's
// [notify], so that a merchant sees the setup work before a failure
// needs it. It exits 1 naming each channel that failed.
func notifyCommand(ctx context.Context, l msg.Lang, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen notify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", l.T("the daemon's TOML config `file`, with a [notify] table"))
	var lang string
	langFlag(fs, l, &lang)
	fs.Usage = func() {
		l.Fprintf(stderr, "Usage: feedgen notify -config FILE\n\n"+
			"Send a test message to every channel configured under [notify] in FILE:\n"+
			"the webhook, email and LINE. The secrets may come from the environment\n"+
			"(%s, %s, %s), as for the daemon.\n"+
			"Exit 0 when every channel took it, 1 when one failed.\n\nFlags:\n",
			feedgen.EnvWebhookURL, feedgen.EnvSMTPPassword, feedgen.EnvLINEToken)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(l, fs, args); done {
		return code
	}
	if *config == "" {
		return fail(l, stderr, msg.New("name the config with -config FILE"), exitUsage)
	}
	cfg, err := loadConfig(*config, lang)
	l = cfg.Language
	if err == nil {
		if err = cfg.Notify.ApplyEnv(os.Getenv); err != nil {
			err = msg.Errorf("config %s: %w", feedgen.DisplayPath(*config), err)
		}
	}
	if err != nil {
		return fail(l, stderr, err, exitUsage)
	}
	if !cfg.Notify.Enabled() {
		return fail(l, stderr, msg.Errorf("config %s sets no channel under [notify]: set webhook, [notify.smtp] or [notify.line] (see config.example.toml)", feedgen.DisplayPath(*config)), exitUsage)
	}
	n := feedgen.NewNotifier(cfg.Notify, cfg.ShopURL, l, nil)
	code := exitOK
	for _, d := range n.Send(ctx, feedgen.Notice{Kind: feedgen.NoticeTest, At: time.Now().In(cfg.Location())}) {
		if d.Err != nil {
			l.Fprintf(stderr, "feedgen: error: %s: %s (to %s)\n", d.Channel, redact.String(msg.Text(l, d.Err)), d.Target)
			code = exitFailed
			continue
		}
		l.Fprintf(stdout, "feedgen: test message sent by %s to %s\n", d.Channel, d.Target)
	}
	return code
}
