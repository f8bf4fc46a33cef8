package feedgen

import (
	"context"
	"errors"
	"feedgen/internal/msg"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the default zone must load on hosts without zoneinfo (Windows, scratch images)

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"golang.org/x/net/netutil"
)

// stopTimeout bounds how long Serve waits, once its context is done, for a
// run, the watcher, the scheduler and HTTP clients to finish.
const stopTimeout = 9 * time.Second

// TimeOfDay is a daily schedule slot such as 04:45, in the daemon's zone.
type TimeOfDay struct{ Hour, Minute int }

// UnmarshalText accepts "04:45" and "04:45:00". TOML 1.1 bare local times
// (schedule = [04:45]) reach it as "0000-01-01T04:45:00Z", so that form is
// accepted too. Seconds must be zero: a slot silently moved by a few
// seconds would be worse than an error.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	s := string(b)
	for _, layout := range []string{"15:04", "15:04:05", time.RFC3339Nano} {
		v, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if layout == time.RFC3339Nano && (v.Year() != 0 || v.YearDay() != 1 || v.Location() != time.UTC) {
			return msg.Errorf("time of day %q: want a time without a date or zone, such as 04:45", s)
		}
		if v.Second() != 0 || v.Nanosecond() != 0 {
			return msg.Errorf("time of day %q: seconds are not supported", s)
		}
		*t = TimeOfDay{Hour: v.Hour(), Minute: v.Minute()}
		return nil
	}
	return msg.Errorf("time of day %q: want hours and minutes such as 04:45", s)
}

// String formats t as "15:04".
func (t TimeOfDay) String() string {
	return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute)
}

func (t TimeOfDay) valid() bool {
	return t.Hour >= 0 && t.Hour < 24 && t.Minute >= 0 && t.Minute < 60
}

// RunReport is what one pipeline run produced.
type RunReport struct {
	Products int // products in the catalog
	Items    int // their items, as the catalog feed has them
}

// Daemon keeps the catalog in OutDir up to date: it runs the pipeline at
// fixed times of day, whenever a new export is saved, on SIGHUP and on
// request over HTTP, one run at a time. A run that failed for a passing
// reason is retried within minutes; an export that was refused is left
// alone by the schedule until it changes (see classify).
type Daemon struct {
	// Export is an .xlsx file, or a folder where exports are dropped; in a
	// folder the newest complete .xlsx wins.
	Export string
	// OutDir is where Run writes the catalog.
	OutDir string
	// Catalog names the catalog files inside OutDir, the only files the
	// HTTP server serves. At start the daemon
	// runs at once if one is missing or older than the latest slot, which
	// is how it catches up after the machine slept or the daemon was down.
	Catalog []string
	// Schedule lists the daily run times; default 04:45 and 16:45, ahead of
	// LINE's daily sync at 05:00 Taipei.
	Schedule []TimeOfDay
	// Location is the zone of Schedule; default Asia/Taipei.
	Location *time.Location
	// Lang is the language of the log's messages.
	Lang msg.Lang
	// Debounce is how long an export must stay quiet before it is read;
	// default 1s.
	Debounce time.Duration
	// Listen is the HTTP address that serves OutDir, /healthz and /refresh;
	// "" serves nothing.
	Listen string
	// RefreshInterval is the least time between two runs requested with
	// POST /refresh; default 1h.
	RefreshInterval time.Duration
	// RefreshToken, when set, is the bearer token POST /refresh must carry
	// (Authorization: Bearer …). Without one, /refresh is only accepted
	// from this computer unless Listen is a loopback address anyway.
	RefreshToken string
	// Notify, when set, is told what the merchant should hear of: a
	// failed run, once per distinct failure; the success after it; and a
	// missed Deadline (see notices). It is called from the worker, so
	// runs wait for it; it should return soon after ctx is done.
	Notify func(ctx context.Context, n Notice)
	// Deadline, with Notify, is the time of day by which a run must have
	// succeeded since the scheduled run before it; nil sets no deadline.
	Deadline *TimeOfDay
	// Clock is the time source; nil means the real clock.
	Clock clockwork.Clock
	// Logger receives the daemon's log; nil discards it.
	Logger *slog.Logger
	// Run is the one-shot pipeline: read the export at exportPath and write
	// the catalog atomically to OutDir. It should return soon after ctx is
	// done.
	Run func(ctx context.Context, exportPath string) (RunReport, error)
}

// daemon is the state of one call to Serve: a copy of the settings with
// defaults applied, and what the goroutines share.
type daemon struct {
	Daemon
	log       *slog.Logger
	exportDir string      // absolute folder of the export
	file      string      // base name of the export in file mode, "" in folder mode
	kick      chan string // pending run and the reason for it; see trigger
	status    runStatus
	job       gocron.Job
}

// NewDaemon makes the daemon for cfg: its export (a file or a drop folder),
// output folder, schedule, zone and HTTP settings, running the one-shot
// pipeline (Run) on each export. Each run is evaluated at its own time.
// With a channel in cfg.Notify, it notifies through them; their secrets
// must have been taken from the environment already (ApplyEnv).
func NewDaemon(cfg Config, log *slog.Logger) *Daemon {
	catalog := publicFiles(&cfg)
	d := &Daemon{
		Export:          cfg.Export,
		OutDir:          cfg.Out,
		Catalog:         catalog,
		Schedule:        cfg.Schedule,
		Location:        cfg.Location(),
		Lang:            cfg.Language,
		Debounce:        cfg.Debounce,
		Listen:          cfg.Listen,
		RefreshInterval: cfg.RefreshInterval,
		RefreshToken:    cfg.RefreshToken,
		Logger:          log,
		Run: func(ctx context.Context, export string) (RunReport, error) {
			c := cfg
			c.Export = export
			sum, err := Run(ctx, c, RunOptions{Logger: log})
			if err != nil {
				return RunReport{}, err
			}
			return RunReport{Products: sum.Eligible, Items: sum.Items}, nil
		},
	}
	if cfg.Notify.Enabled() {
		d.Notify = NewNotifier(cfg.Notify, cfg.ShopURL, cfg.Language, log).Notify
		deadline := cfg.Notify.Deadline
		d.Deadline = &deadline
	}
	return d
}

// Serve runs the daemon until ctx is done. Each value received on hangup
// (normally SIGHUP) requests a run; hangup may be nil.
//
// Serve returns nil after a clean stop, and an error if the daemon could
// not start or did not stop in time.
func (d *Daemon) Serve(ctx context.Context, hangup <-chan os.Signal) error {
	s, err := d.withDefaults()
	if err != nil {
		return err
	}
	watcher, err := newExportWatcher(s.Lang, s.exportDir, s.file, s.Debounce, s.Clock, s.log, s.trigger)
	if err != nil {
		return err
	}
	sched, err := s.schedule()
	if err != nil {
		watcher.fsw.Close()
		return err
	}
	var srv *http.Server
	var ln net.Listener
	if s.Listen != "" {
		if ln, err = net.Listen("tcp", s.Listen); err != nil {
			watcher.fsw.Close()
			_ = sched.Shutdown()
			return msg.Errorf("listen on %s: %w", s.Listen, err)
		}
		// Past the cap, connections wait in the kernel's backlog instead
		// of taking a file descriptor each, which a flood of idle clients
		// would otherwise exhaust until runs fail.
		ln = netutil.LimitListener(ln, maxConnections)
		srv = s.httpServer()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	httpErr := make(chan error, 1)
	wg.Go(func() { s.work(ctx) })
	wg.Go(func() { watcher.loop(ctx) })
	if srv != nil {
		s.log.Info(s.Lang.T("serving the catalog at http://%s", ln.Addr().String()), "addr", ln.Addr().String())
		if s.refreshLocalOnly() {
			s.log.Warn(s.Lang.T("POST /refresh is accepted only from this computer; set refresh_token (or FEEDGEN_REFRESH_TOKEN) to allow it from the network"), "addr", s.Listen)
		}
		wg.Go(func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				httpErr <- msg.Errorf("serve http on %s: %w", ln.Addr(), err)
			}
		})
	}
	sched.Start()

	if reason := s.catchUpReason(); reason != "" {
		s.log.Info(s.Lang.T("the catalog is out of date (%s); running now", reason), "why", reason)
		s.trigger("catch-up")
	}
	next := s.nextRun()
	s.log.Info(s.Lang.T("daemon started: reads %s, writes %s, runs at %s (%s) and when a new export is saved; next run at %s",
		DisplayPath(s.Export), DisplayPath(s.OutDir), scheduleString(s.Schedule), s.Location.String(), next.Format("15:04")),
		"export", s.Export, "out", s.OutDir, "schedule", scheduleString(s.Schedule), "zone", s.Location.String(), "next_run", next)

	var fatal error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case fatal = <-httpErr:
			break loop
		case sig, ok := <-hangup:
			if !ok {
				hangup = nil // a closed channel would be ready forever
				continue
			}
			s.log.Info(s.Lang.T("%v received; running now", sig), "signal", sig)
			s.trigger("hangup")
		}
	}
	return errors.Join(fatal, s.stop(cancel, &wg, sched, srv))
}

// stop cancels the run in progress and waits, within stopTimeout, for every
// goroutine Serve started.
func (s *daemon) stop(cancel context.CancelFunc, wg *sync.WaitGroup, sched gocron.Scheduler, srv *http.Server) error {
	cancel()
	deadline, done := context.WithTimeout(context.Background(), stopTimeout)
	defer done()
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(deadline); err != nil {
			srv.Close()
			errs = append(errs, fmt.Errorf("stop http server: %w", err))
		}
		srv.Handler.(*catalogHandler).close()
	}
	if err := sched.ShutdownWithContext(deadline); err != nil {
		errs = append(errs, fmt.Errorf("stop scheduler: %w", err))
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		s.log.Info(s.Lang.T("daemon stopped"))
	case <-deadline.Done():
		// The run ignores its context; the process is about to exit anyway.
		errs = append(errs, fmt.Errorf("stop daemon: run still busy after %s", stopTimeout))
	}
	return errors.Join(errs...)
}

// withDefaults validates d and returns a copy with the defaults filled in.
func (d *Daemon) withDefaults() (*daemon, error) {
	s := &daemon{Daemon: *d, kick: make(chan string, 1)}
	switch {
	case s.Run == nil:
		return nil, errors.New("daemon: Run is not set")
	case s.Export == "":
		return nil, errors.New("daemon: no export file or folder")
	case s.OutDir == "":
		return nil, errors.New("daemon: no output folder")
	case s.Debounce < 0:
		return nil, fmt.Errorf("daemon: negative debounce %s", s.Debounce)
	case s.RefreshInterval < 0:
		return nil, fmt.Errorf("daemon: negative refresh interval %s", s.RefreshInterval)
	}
	for _, name := range s.Catalog {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return nil, fmt.Errorf("daemon: catalog file %s must be a plain file name inside the output folder", DisplayPath(name))
		}
	}
	export, err := filepath.Abs(s.Export)
	if err != nil {
		return nil, fmt.Errorf("daemon: resolve export path %s: %w", DisplayPath(s.Export), err)
	}
	s.exportDir = export
	if !isExportFolder(export) {
		s.exportDir, s.file = filepath.Dir(export), filepath.Base(export)
	}
	s.Catalog = slices.Clone(s.Catalog)
	if len(s.Schedule) == 0 {
		s.Schedule = []TimeOfDay{{4, 45}, {16, 45}}
	}
	s.Schedule = slices.Clone(s.Schedule)
	for _, t := range s.Schedule {
		if !t.valid() {
			return nil, fmt.Errorf("daemon: invalid schedule time %02d:%02d", t.Hour, t.Minute)
		}
	}
	if s.Deadline != nil {
		if !s.Deadline.valid() {
			return nil, fmt.Errorf("daemon: invalid deadline %02d:%02d", s.Deadline.Hour, s.Deadline.Minute)
		}
		deadline := *s.Deadline
		s.Deadline = &deadline
	}
	if s.Location == nil {
		loc, err := time.LoadLocation("Asia/Taipei")
		if err != nil {
			return nil, fmt.Errorf("daemon: load default zone: %w", err)
		}
		s.Location = loc
	}
	if s.Debounce == 0 {
		s.Debounce = time.Second
	}
	if s.RefreshInterval == 0 {
		s.RefreshInterval = time.Hour
	}
	if s.Clock == nil {
		s.Clock = clockwork.NewRealClock()
	}
	s.log = s.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// schedule creates the scheduler and its daily job. The job only requests
// a run: gocron's singleton modes either drop or queue overlapping runs,
// while the daemon wants them coalesced (see trigger).
func (s *daemon) schedule() (gocron.Scheduler, error) {
	sched, err := gocron.NewScheduler(
		gocron.WithLocation(s.Location),
		gocron.WithClock(s.Clock),
		gocron.WithLogger(quietLogger{s.log.With("component", "gocron")}),
		gocron.WithStopTimeout(stopTimeout/2),
	)
	if err != nil {
		return nil, fmt.Errorf("create scheduler: %w", err)
	}
	at := make([]gocron.AtTime, len(s.Schedule))
	for i, t := range s.Schedule {
		at[i] = gocron.NewAtTime(uint(t.Hour), uint(t.Minute), 0)
	}
	s.job, err = sched.NewJob(
		gocron.DailyJob(1, gocron.NewAtTimes(at[0], at[1:]...)),
		gocron.NewTask(func() { s.trigger(reasonSchedule) }),
		gocron.WithName("catalog"),
	)
	if err != nil {
		_ = sched.Shutdown()
		return nil, fmt.Errorf("schedule runs at %v: %w", s.Schedule, err)
	}
	return sched, nil
}

// nextRun returns the next scheduled run in the daemon's zone, or the zero
// time if the scheduler cannot tell (before it starts, after it stops).
func (s *daemon) nextRun() time.Time {
	next, err := s.job.NextRun()
	if err != nil || next.IsZero() {
		return time.Time{}
	}
	return next.In(s.Location)
}

// catchUpReason returns why the catalog needs a run at start, or "" if it
// is current: every catalog file exists and is newer than the latest slot
// that has passed. With no catalog files named it cannot tell, so it runs.
func (s *daemon) catchUpReason() string {
	if len(s.Catalog) == 0 {
		return s.Lang.T("no catalog files are configured to check")
	}
	slot := latestSlot(s.Clock.Now(), s.Location, s.Schedule)
	switch name, at, missing := s.oldestCatalog(); {
	case missing:
		return s.Lang.T("%s is missing", name)
	case at.Before(slot):
		return s.Lang.T("%s was written before the %s run", name, slot.Format("2006-01-02 15:04 -07:00"))
	}
	return ""
}

// oldestCatalog is the catalog file changed longest ago and when, or the
// first that is missing.
func (s *daemon) oldestCatalog() (name string, at time.Time, missing bool) {
	for _, n := range s.Catalog {
		info, err := os.Stat(filepath.Join(s.OutDir, n))
		if err != nil {
			return n, time.Time{}, true
		}
		if name == "" || info.ModTime().Before(at) {
			name, at = n, info.ModTime()
		}
	}
	return name, at, false
}

// latestSlot returns the most recent scheduled time at or before now.
func latestSlot(now time.Time, loc *time.Location, slots []TimeOfDay) time.Time {
	now = now.In(loc)
	var latest time.Time
	for _, t := range slots {
		at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour, t.Minute, 0, 0, loc)
		if at.After(now) {
			at = time.Date(now.Year(), now.Month(), now.Day()-1, t.Hour, t.Minute, 0, 0, loc)
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest
}

// trigger requests a run. The channel holds one pending request, so
// requests that arrive while a run is in progress collapse into exactly one
// more run after it; the first reason is the one logged.
func (s *daemon) trigger(reason string) {
	select {
	case s.kick <- reason:
	default:
		s.log.Debug("run already pending", "reason", reason)
	}
}

// Reasons for a run that the worker tells apart from the others.
const (
	reasonSchedule = "schedule"
	reasonRetry    = "retry"
)

// reasonWords say why a run started, by its reason, in the log.
var reasonWords = map[string]string{
	reasonSchedule:   msg.N("scheduled"),
	reasonRetry:      msg.N("trying again"),
	"catch-up":       msg.N("the catalog is out of date"),
	"hangup":         msg.N("SIGHUP"),
	"http refresh":   msg.N("asked for over HTTP"),
	"export changed": msg.N("a new export"),
}

// work is the only goroutine that runs the pipeline, so runs never overlap.
// It also does what the last failure calls for (see failure): a retry a
// little later, or no scheduled runs of an export that was refused.
func (s *daemon) work(ctx context.Context) {
	w := worker{retry: s.Clock.NewTimer(time.Hour)}
	w.retry.Stop()
	defer w.retry.Stop()
	deadline := s.armDeadline(&w)
	if deadline != nil {
		defer w.notices.deadline.Stop()
	}
	for {
		var reason string
		select {
		case <-ctx.Done():
			return
		case reason = <-s.kick:
		case <-w.retry.Chan():
			reason = reasonRetry
		case <-deadline:
			s.checkDeadline(ctx, &w)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.runOnce(ctx, &w, reason)
	}
}

// worker is what work keeps from one run to the next.
type worker struct {
	retry   clockwork.Timer // fires when a failed run is to be tried again
	retries int             // retries since the last run that was not one
	refused *refusal        // the export the last run failed on by its own fault
	notices notices         // what was told, for Notify
}

// cancelRetry drops the pending retry, which the run about to start
// stands for. A tick of a timer that fired meanwhile is taken out of the
// channel, where it would later pass for a retry.
func (w *worker) cancelRetry() {
	if !w.retry.Stop() {
		select {
		case <-w.retry.Chan():
		default:
		}
	}
}

// runOnce runs the pipeline, records the result for /healthz and logs it.
// A failure is not fatal (see failed). A scheduled run of an export that
// was refused and has not changed since is skipped; any other trigger
// runs it, since a new export or the merchant asked.
func (s *daemon) runOnce(ctx context.Context, w *worker, reason string) {
	export, err := s.currentExport()
	if r := w.refused; reason == reasonSchedule && r != nil && r.export.same(export) {
		s.log.Warn(s.Lang.T("skipping the scheduled run: the export was refused at %s and has not changed; %s",
			r.at.In(s.Location).Format("15:04"), s.newExportWanted(r.export.path)),
			"export", r.export.path, "err", r.err, "next_run", s.nextRun())
		return
	}
	w.cancelRetry()
	if reason == reasonRetry {
		w.retries++
	} else {
		w.retries = 0
	}
	start := time.Now()
	var rep RunReport
	if err == nil {
		s.log.Info(s.Lang.T("run started (%s): reading %s", s.Lang.T(reasonWords[reason]), DisplayPath(export.path)), "reason", reason, "export", export.path)
		rep, err = s.call(ctx, export.path)
	}
	if err != nil && ctx.Err() != nil {
		s.log.Info(s.Lang.T("run stopped: feedgen is shutting down; the catalog published before stays"), "export", export.path, "err", err)
		return
	}
	now := s.Clock.Now()
	s.status.record(now, rep, err)
	w.refused = nil
	if err != nil {
		next := s.failed(w, reason, export, now, err)
		s.notifyFailure(ctx, w, export, now, err, next)
		return
	}
	next := s.nextRun()
	s.log.Info(s.Lang.T("run finished: %d products, %d items in the catalog; next run at %s", rep.Products, rep.Items, next.Format("15:04")),
		"reason", reason, "export", export.path, "items", rep.Items,
		"duration", time.Since(start).Round(time.Millisecond), "next_run", next)
	s.notifySuccess(ctx, w, now, rep)
}

// failed logs a run that failed at now, saying in its message what comes
// next, and arranges it: a retry after a passing failure, until the
// retries are used up or the next scheduled run comes first; nothing
// after a bad export, until it is replaced. It returns when the export
// is tried again, zero for not until it changes.
func (s *daemon) failed(w *worker, reason string, export exportVersion, now time.Time, err error) time.Time {
	attrs := []any{"reason", reason, "export", export.path, "err", err}
	if hint := Hint(s.Lang, err); hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	next := nextSlot(now, s.Location, s.Schedule)
	switch classify(err) {
	case badExport:
		w.refused = &refusal{export: export, at: now, err: err}
		s.status.expect(time.Time{}, true)
		s.log.Error(s.Lang.T("run failed because %v; %s", err, s.newExportWanted(export.path)), append(attrs, "next_run", next)...)
		return time.Time{}
	case passing:
		if w.retries < len(retryDelays) {
			if at := now.Add(retryDelays[w.retries]).In(s.Location); at.Before(next) {
				w.retry.Reset(at.Sub(now))
				s.status.expect(at, false)
				s.log.Error(s.Lang.T("run failed because %v; trying again at %s", err, at.Format("15:04")), append(attrs, "retry_at", at)...)
				return at
			}
		}
	}
	s.log.Error(s.Lang.T("run failed because %v; trying again at %s, the next scheduled run", err, next.Format("15:04")), append(attrs, "next_run", next)...)
	return next
}

// newExportWanted says what the merchant must do once the export at path
// was refused; path is "" when the drop folder held none.
func (s *daemon) newExportWanted(path string) string {
	switch {
	case path == "":
		return s.Lang.T("save an export in %s", DisplayPath(s.exportDir))
	case s.file == "":
		// In a drop folder, the newest export is read: without this
		// one, the one before it is.
		return s.Lang.T("replace %s with a new export, or delete it to use the one before it", DisplayPath(path))
	}
	return s.Lang.T("replace %s with a new export", DisplayPath(path))
}

// currentExport returns the export a run reads: the file itself, or the
// newest complete .xlsx in the drop folder.
func (s *daemon) currentExport() (exportVersion, error) {
	path := filepath.Join(s.exportDir, s.file)
	if s.file == "" {
		var err error
		if path, err = newestExport(s.exportDir); err != nil {
			return exportVersion{}, msg.Errorf("find export: %w", err)
		}
	}
	// A missing file has the zero stamp; the run says it is missing.
	stamp, _ := stampOf(path)
	return exportVersion{path: path, stamp: stamp}, nil
}

// call runs the pipeline and turns a panic into a failed run, so that a bug
// or a hostile workbook cannot take the daemon down.
func (s *daemon) call(ctx context.Context, path string) (rep RunReport, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error(s.Lang.T("run panicked (a bug in feedgen: please report it with the export): %v", p), "export", path, "panic", p, "stack", string(debug.Stack()))
			err = msg.Errorf("run panicked (a bug in feedgen: please report it with the export): %v", p)
		}
	}()
	return s.Run(ctx, path)
}

// runStatus is the outcome of the last run, for /healthz.
type runStatus struct {
	mu   sync.Mutex
	last runOutcome
}

// runOutcome is how the last run ended and what its failure awaits.
type runOutcome struct {
	finished time.Time // zero until the first run ends
	items    int
	err      error
	retryAt  time.Time // when the failed run is tried again; zero for no retry
	// awaitingExport is set after the export was refused: until it is
	// replaced, scheduled runs are skipped.
	awaitingExport bool
}

// record sets the outcome of a run that ended at at. A failed run's retry
// or wait for an export is set after it, with expect.
func (st *runStatus) record(at time.Time, rep RunReport, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.last = runOutcome{finished: at, items: rep.Items, err: err}
}

// expect sets what the failed run recorded last awaits.
func (st *runStatus) expect(retryAt time.Time, awaitingExport bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.last.retryAt, st.last.awaitingExport = retryAt, awaitingExport
}

func (st *runStatus) get() runOutcome {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.last
}

// scheduleString lists the slots for logs; a JSON log handler would
// otherwise print each slot as an object.
func scheduleString(slots []TimeOfDay) string {
	parts := make([]string, len(slots))
	for i, t := range slots {
		parts[i] = t.String()
	}
	return strings.Join(parts, ",")
}

// quietLogger passes on the scheduler's warnings and errors only: its
// "new scheduler created" and such say nothing to a merchant.
type quietLogger struct{ log *slog.Logger }

func (quietLogger) Debug(string, ...any)            {}
func (quietLogger) Info(string, ...any)             {}
func (q quietLogger) Warn(msg string, args ...any)  { q.log.Warn(msg, args...) }
func (q quietLogger) Error(msg string, args ...any) { q.log.Error(msg, args...) }
