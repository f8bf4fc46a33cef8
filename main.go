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

const usage = `feedgen turns a CYBERBIZ product export (.xlsx) into the product catalog
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
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCommand(ctx, args[1:], stdout, stderr)
	case "explain":
		return explainCommand(ctx, args[1:], stdout, stderr)
	case "daemon":
		return daemonCommand(ctx, args[1:], stderr)
	case "service":
		return serviceCommand(args[1:], stdout, stderr)
	case "notify":
		return notifyCommand(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "feedgen", buildVersion())
		return exitOK
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "feedgen: error: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// commonFlags are the flags shared by the commands that read an export.
type commonFlags struct {
	config, export, out, report, shopURL, at, maxDrop, publishBranch, publishRepository string
}

// register adds the flags; output adds those that only matter when the
// catalog is written.
func (c *commonFlags) register(fs *flag.FlagSet, output bool) {
	fs.StringVar(&c.config, "config", "", "TOML config `file` (default: built-in settings for a CYBERBIZ export)")
	fs.StringVar(&c.export, "export", "", "product export .xlsx `file` (overrides export in the config)")
	fs.StringVar(&c.shopURL, "shop-url", "", "shop base `URL`, e.g. https://shop.example.com; product links are built from it")
	fs.StringVar(&c.at, "at", "", "evaluate 已上架 as of `TIME` (RFC 3339, or 2006-01-02 15:04 in the shop's time zone; default now)")
	if output {
		fs.StringVar(&c.out, "out", "", "public output `folder` for the catalog files (default \"public\")")
		fs.StringVar(&c.report, "report", "", "private `folder` for the run's report and the preview with the excluded products (default \"report\")")
		fs.StringVar(&c.maxDrop, "max-drop", "", "refuse to publish a catalog that lost more than this share of the published items, e.g. 50% or 0.5 (default 50%)")
		fs.StringVar(&c.publishBranch, "publish-branch", "", "also commit the catalog onto `branch` (e.g. gh-pages) of the git repository here, and push it")
		fs.StringVar(&c.publishRepository, "publish-repository", "", "push the branch to this other repository (`URL` or path) instead of the remote; FEEDGEN_PUBLISH_TOKEN authenticates an https one, FEEDGEN_PUBLISH_SSH_KEY (a deploy key) an ssh one")
	}
}

// load builds the configuration: defaults, then the config file, then flags.
func (c *commonFlags) load() (feedgen.Config, time.Time, error) {
	cfg := feedgen.DefaultConfig()
	if c.config != "" {
		var err error
		if cfg, err = feedgen.LoadConfig(c.config, cfg); err != nil {
			return cfg, time.Time{}, err
		}
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
			return cfg, time.Time{}, fmt.Errorf("-max-drop: %w", err)
		}
		cfg.MaxDrop = f
	}
	// A secret comes from the environment only: a config file may be in
	// a repository.
	cfg.Publish.Token = os.Getenv("FEEDGEN_PUBLISH_TOKEN")
	cfg.Publish.SSHKey = os.Getenv("FEEDGEN_PUBLISH_SSH_KEY")
	if err := cfg.Validate(); err != nil {
		return cfg, time.Time{}, fmt.Errorf("config: %w", err)
	}
	if cfg.Export == "" {
		return cfg, time.Time{}, errors.New("no export given: use -export FILE, or set export in the config")
	}
	var at time.Time
	if c.at != "" {
		var err error
		if at, err = feedgen.ParseTime(c.at, cfg.Location()); err != nil {
			return cfg, time.Time{}, fmt.Errorf("-at: %w", err)
		}
	}
	if cfg.ShopURL == "" {
		// Without it no handle makes a link: every product would be left
		// out as invalid, one by one, with nothing saying why.
		return cfg, time.Time{}, fmt.Errorf("config: %w", &feedgen.ConfigError{Key: "shop_url", Err: errors.New(
			"is not set: give your shop's address, as your browser shows it on the shop's home page (such as https://your-shop.cyberbiz.co), with -shop-url or shop_url in the config")})
	}
	return cfg, at, nil
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, true)
	force := fs.Bool("force", false, "publish even when the safety guard refuses (empty catalog, or a drop over max-drop)")
	summary := fs.String("summary", "", "also write the run's summary as Markdown to `file`")
	verbose := fs.Bool("v", false, "log progress")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: feedgen run [flags]\n\nRead the export, apply the eligibility rules, and replace the catalog files\natomically. Flags override the config file. Inside GitHub Actions it also sets\nthe step's outputs, writes the job summary, and annotates errors and warnings.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	gh := feedgen.GitHubActionsFromEnv(os.Getenv, stdout)
	cfg, at, err := cf.load()
	if err != nil {
		gh.ReportRun(cf.config, &cfg, nil, err)
		return fail(stderr, err, exitUsage)
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
		printSummary(stderr, sum)
		if *summary != "" {
			if werr := writeMarkdown(*summary, sum); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	gh.ReportRun(cf.config, &cfg, sum, err)
	if err != nil {
		return fail(stderr, err, exitFailed)
	}
	fmt.Fprintf(stderr, "feedgen: the report, for you alone (never published): %s\n", feedgen.DisplayPath(filepath.Join(cfg.Report, "report.json")))
	return exitOK
}

func writeMarkdown(path string, sum *feedgen.Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write summary %s: %w", feedgen.DisplayPath(path), err)
	}
	if err := sum.WriteMarkdown(f, true); err != nil {
		f.Close()
		return fmt.Errorf("write summary %s: %w", feedgen.DisplayPath(path), err)
	}
	return f.Close()
}

func explainCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, false)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: feedgen explain [flags] ID...\n\nSay for each product id (PID, column A 「商品 id」) whether it is in the catalog,\nand if not, every reason, with the cell and its row. Exit 0 when every id was\nfound in the export, 1 otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "feedgen: error: name at least one product id, e.g. feedgen explain -export 商品匯出.xlsx 1000123")
		return exitUsage
	}
	cfg, at, err := cf.load()
	if err != nil {
		return fail(stderr, err, exitUsage)
	}
	if at.IsZero() {
		at = time.Now()
	}
	exps, ex, err := feedgen.Explain(ctx, cfg, at, fs.Args())
	if err != nil {
		return fail(stderr, err, exitFailed)
	}
	if err := feedgen.WriteExplanations(stdout, exps, cfg.Export, ex.ProductCount); err != nil {
		return fail(stderr, err, exitFailed)
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
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "feedgen: error: unexpected argument %q (flags go before it? use -export FILE)\n", fs.Arg(0))
		return exitUsage, true
	}
	return 0, false
}

// newLogger logs to w with paths as typed (see textlog) and without
// credentials.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(redact.Handler(textlog.New(w, level)))
}

func printSummary(w io.Writer, s *feedgen.Summary) {
	sheet := ""
	if s.Sheet != "" {
		sheet = ", sheet " + feedgen.DisplayPath(s.Sheet)
	}
	fmt.Fprintf(w, "feedgen: read %s%s: %d rows, %d products\n", feedgen.DisplayPath(s.Export), sheet, s.Rows, s.Products)
	var by []string
	for _, c := range s.ReasonCodes() {
		by = append(by, fmt.Sprintf("%s %d", c, s.ExcludedBy[c]))
	}
	excluded := ""
	if len(by) > 0 {
		excluded = " (" + strings.Join(by, ", ") + ")"
	}
	fmt.Fprintf(w, "feedgen: %d eligible products, %d items; %d excluded%s\n", s.Eligible, s.Items, s.Excluded, excluded)
	if s.WarningCount > 0 {
		fmt.Fprintf(w, "feedgen: %d warnings:\n", s.WarningCount)
		const shown = 20
		for i, warn := range s.Warnings {
			if i == shown {
				fmt.Fprintf(w, "  … and %d more\n", s.WarningCount-shown)
				break
			}
			fmt.Fprintf(w, "  %s\n", warn)
		}
	}
	if len(s.Diagnosed) > 0 {
		fmt.Fprintf(w, "feedgen: what the channels would flag (the products stay in; each is in the report, and feedgen explain PID says more):\n")
		for _, c := range s.DiagnosticCodes() {
			d := s.Diagnosed[c]
			first := strings.Join(d.First, ", ")
			if d.Products > len(d.First) {
				first += ", …"
			}
			fmt.Fprintf(w, "  %s: %s (%s): %s\n", c, d.Counts(), first, feedgen.DiagnosticTitle(c))
		}
	}
	if len(s.Feeds) > 0 {
		files := make([]string, len(s.Feeds))
		for i, f := range s.Feeds {
			files[i] = fmt.Sprintf("%s (%d %s)", f.File, f.Items, f.Unit())
		}
		fmt.Fprintf(w, "feedgen: wrote %s\n", strings.Join(files, ", "))
	}
}

// fail prints err once, with a hint when one helps, and returns code.
// fail prints err and its hint, without credentials, and returns code.
func fail(w io.Writer, err error, code int) int {
	fmt.Fprintf(w, "feedgen: error: %s\n", redact.String(err.Error()))
	if h := feedgen.Hint(err); h != "" {
		fmt.Fprintf(w, "feedgen: hint: %s\n", redact.String(h))
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

func daemonCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs, true)
	listen := fs.String("listen", "", "serve the catalog, /healthz and POST /refresh over HTTP at `address`, e.g. 127.0.0.1:8080")
	underManager := fs.Bool(svc.ServiceFlag, false, "run under the service manager, as feedgen service install sets up (paths in the config are then from the config's folder)")
	fs.Usage = func() {
		hangup := " SIGHUP runs at once."
		if runtime.GOOS == "windows" {
			hangup = "" // Windows has no SIGHUP
		}
		fmt.Fprint(stderr, "Usage: feedgen daemon [flags]\n\nKeep the catalog up to date until stopped (Ctrl-C, SIGTERM): run at the\nscheduled times (04:45 and 16:45 Asia/Taipei by default), at start when the\ncatalog is missing or older than the last scheduled time, and as soon as a new\nexport is saved. -export may name a folder: the newest .xlsx dropped there\nwins."+hangup+" POST /refresh (with -listen) runs at once. A failed run leaves\nthe last good catalog in place and is retried after 1, 5 and 15 minutes,\nunless the export was refused: then the scheduled runs wait for a new export.\nIt logs to stderr and to a file (log_file; default report/feedgen.log).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *underManager {
		// A Windows service starts in the system folder.
		if cf.config == "" {
			return fail(stderr, errors.New("-service needs -config"), exitUsage)
		}
		abs, err := filepath.Abs(cf.config)
		if err == nil {
			err = os.Chdir(filepath.Dir(abs))
		}
		if err != nil {
			return fail(stderr, err, exitFailed)
		}
		cf.config = abs
	}
	cfg, _, err := cf.load()
	if err != nil {
		return fail(stderr, err, exitUsage)
	}
	if cf.at != "" {
		return fail(stderr, errors.New("-at does not apply to the daemon, which always evaluates at the time of each run"), exitUsage)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if token := os.Getenv("FEEDGEN_REFRESH_TOKEN"); token != "" {
		cfg.RefreshToken = token
	}
	if err := cfg.Notify.ApplyEnv(os.Getenv); err != nil {
		return fail(stderr, fmt.Errorf("config: %w", err), exitUsage)
	}
	logFile, err := openLog(cfg.DaemonLog())
	if err != nil {
		return fail(stderr, err, exitFailed)
	}
	defer logFile.Close()
	// A service has no stderr, and a write to it fails, which would stop
	// io.MultiWriter before the file.
	logTo := io.MultiWriter(logFile, stderr)
	if *underManager {
		logTo = logFile
	}
	log := newLogger(logTo, slog.LevelInfo)
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP) // never delivered on Windows
	defer signal.Stop(hangup)
	d := feedgen.NewDaemon(cfg, log)
	serve := func(ctx context.Context) error {
		err := d.Serve(ctx, hangup)
		if err != nil {
			log.Error("daemon stopped: " + redact.String(err.Error()))
		}
		return err
	}
	if *underManager {
		s, err := svc.New("", cf.config, serve)
		if err == nil {
			err = s.Run()
		}
		if err != nil {
			return fail(stderr, err, exitFailed)
		}
		return exitOK
	}
	if err := serve(ctx); err != nil {
		return fail(stderr, err, exitFailed)
	}
	return exitOK
}

// openLog opens the daemon's log file, rotated at 10 MB and kept to 5
// files, in a folder only its owner reads: the log names products.
func openLog(path string) (io.WriteCloser, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open log file %s: %w", feedgen.DisplayPath(path), err)
	}
	return &lumberjack.Logger{Filename: path, MaxSize: 10, MaxBackups: 5, LocalTime: true}, nil
}

// serviceCommand installs the daemon as a service with its config, and
// controls it.
func serviceCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the daemon's TOML config `file` (required for install)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: feedgen service install|uninstall|start|stop|restart|status -config FILE\n\n"+
			"Run feedgen daemon with the config FILE as a service that starts with the\n"+
			"computer: a Windows service (run this in a terminal opened as administrator),\n"+
			"a systemd unit (with sudo), or a launchd agent that starts when you log in.\n"+
			"Paths in the config are then taken from the config's folder. The log is in\n"+
			"the log_file of the config (default report%cfeedgen.log).\n\nFlags:\n", filepath.Separator)
		fs.PrintDefaults()
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if code, done := parseFlags(fs, args); done {
			return code
		}
		fs.Usage()
		return exitUsage
	}
	action := args[0]
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if action != "status" && !slices.Contains(svc.Actions[:], action) {
		fmt.Fprintf(stderr, "feedgen: error: unknown service action %q\n", action)
		fs.Usage()
		return exitUsage
	}
	path := *config
	if action == "install" {
		if path == "" {
			return fail(stderr, errors.New("install needs -config FILE: the service runs feedgen daemon with it"), exitUsage)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fail(stderr, err, exitUsage)
		}
		path = abs
		// A config that fails now would fail at every start, unseen.
		cf := commonFlags{config: path}
		if err := os.Chdir(filepath.Dir(path)); err != nil {
			return fail(stderr, err, exitFailed)
		}
		if _, _, err := cf.load(); err != nil {
			return fail(stderr, err, exitUsage)
		}
	}
	s, err := svc.New("", path, nil)
	if err != nil {
		return fail(stderr, err, exitFailed)
	}
	if action == "status" {
		st, err := s.Status()
		if err != nil {
			return fail(stderr, err, exitFailed)
		}
		fmt.Fprintf(stdout, "feedgen service: %s\n", st)
		return exitOK
	}
	if err := s.Control(action); err != nil {
		return fail(stderr, err, exitFailed)
	}
	fmt.Fprintf(stdout, "feedgen service: %s done\n", action)
	return exitOK
}

// notifyCommand sends a test message to every channel of the config's
// [notify], so that a merchant sees the setup work before a failure
// needs it. It exits 1 naming each channel that failed.
func notifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feedgen notify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the daemon's TOML config `file`, with a [notify] table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: feedgen notify -config FILE\n\n"+
			"Send a test message to every channel configured under [notify] in FILE:\n"+
			"the webhook, email and LINE. The secrets may come from the environment\n"+
			"(%s, %s, %s), as for the daemon.\n"+
			"Exit 0 when every channel took it, 1 when one failed.\n\nFlags:\n",
			feedgen.EnvWebhookURL, feedgen.EnvSMTPPassword, feedgen.EnvLINEToken)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *config == "" {
		return fail(stderr, errors.New("name the config with -config FILE"), exitUsage)
	}
	cfg, err := feedgen.LoadConfig(*config, feedgen.DefaultConfig())
	if err == nil {
		if err = cfg.Notify.ApplyEnv(os.Getenv); err != nil {
			err = fmt.Errorf("config %s: %w", feedgen.DisplayPath(*config), err)
		}
	}
	if err != nil {
		return fail(stderr, err, exitUsage)
	}
	if !cfg.Notify.Enabled() {
		return fail(stderr, fmt.Errorf("config %s sets no channel under [notify]: set webhook, [notify.smtp] or [notify.line] (see config.example.toml)", feedgen.DisplayPath(*config)), exitUsage)
	}
	n := feedgen.NewNotifier(cfg.Notify, cfg.ShopURL, nil)
	code := exitOK
	for _, d := range n.Send(ctx, feedgen.Notice{Kind: feedgen.NoticeTest, At: time.Now().In(cfg.Location())}) {
		if d.Err != nil {
			fmt.Fprintf(stderr, "feedgen: error: %s (to %s)\n", redact.String(d.Err.Error()), d.Target)
			code = exitFailed
			continue
		}
		fmt.Fprintf(stdout, "feedgen: test message sent by %s to %s\n", d.Channel, d.Target)
	}
	return code
}
