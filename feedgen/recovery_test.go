package feedgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
	"feedgen/internal/xlsx"
)

// TestClassifyFailures: every kind of error a run ends with, wrapped as
// the pipeline wraps it, calls for what its cause allows.
func TestClassifyFailures(t *testing.T) {
	_, readErr := xlsx.Open(failingFile{}, 100, xlsx.Limits{})
	ods := odsPackage(t)
	_, odsErr := xlsx.Open(bytes.NewReader(ods), int64(len(ods)), xlsx.Limits{})
	export := DisplayPath(`C:\商店\商品匯出.xlsx`)
	read := func(err error) error { return fmt.Errorf("read export %s: %w", export, err) }
	write := func(err error) error { return fmt.Errorf("write catalog to %s: %w", DisplayPath("public"), err) }
	publish := func(err error) error { return fmt.Errorf("publish to branch %q: %w", "gh-pages", err) }
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"HeldFile", write(&HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}), passing},
		{"Locked", write(&LockedError{Doing: msg.New("writing to 「public」"), holder: &holder{Command: "feedgen run"}, Waited: 5 * time.Minute}), passing},
		{"DiskFull", write(&fs.PathError{Op: "write", Path: ".catalog.xml.tmp-1", Err: syscall.ENOSPC}), passing},
		{"ReplaceFailed", write(&ReplaceError{File: "catalog.xml", Err: fs.ErrPermission}), passing},
		{"ExportUnreadable", read(readErr), passing},
		{"ExportChangedWhileRead", read(errExportChanged), passing},
		{"PushRejected", publish(ErrPushRejected), passing},
		{"PublishLocked", publish(&LockedError{Doing: msg.New("publishing from the repository 「.」"), Waited: 5 * time.Minute}), passing},
		{"PushAuth", publish(&AuthError{Remote: "origin", Err: errors.New("exit status 128")}), passing},
		{"FileTooLargeForHost", publish(&FileTooLargeError{Name: "catalog.xml", Size: 200 << 20, Limit: 100 << 20}), guarded},
		{"PushRefused", publish(ErrPushRefused), passing},
		{"GitAuth", publish(ErrGitAuth), passing},
		{"GitFailed", publish(&gitError{Args: []string{"push"}, Err: &exec.ExitError{}, Stderr: "Could not resolve host: github.com"}), passing},
		{"Panic", errors.New("run panicked: boom"), passing},
		{"Unknown", errors.New("something else"), passing},

		{"Guard", write(&GuardError{File: "catalog.xml", Old: 100, New: 0, MaxDrop: 0.5}), guarded},

		{"ExportMissing", read(ErrNotFound), badExport},
		{"NoExportInFolder", fmt.Errorf("find export: %w in %s", errNoExport, DisplayPath("drop")), badExport},
		{"MissingColumn", read(&ColumnError{Missing: []string{"商品名稱"}, Found: []string{"a"}, Row: 1}), badExport},
		{"NoProducts", read(ErrNoProducts), badExport},
		{"ProductTooLarge", read(fmt.Errorf("product P1: %w", ErrProductTooLarge)), badExport},
		{"NotXLSX", read(xlsx.ErrNotXLSX), badExport},
		{"OpenDocument", read(odsErr), badExport},
		{"LegacyXLS", read(xlsx.ErrLegacyXLS), badExport},
		{"Encrypted", read(xlsx.ErrEncrypted), badExport},
		{"TooLarge", read(xlsx.ErrTooLarge), badExport},
		{"OverLimit", read(xlsx.ErrOverLimit), badExport},
		{"Corrupt", read(fmt.Errorf("%w: xl/worksheets/sheet1.xml: row 3: bad", xlsx.ErrCorrupt)), badExport},
		{"NoSheet", read(xlsx.ErrNoSheet), badExport},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestDaemonNextSlot(t *testing.T) {
	taipei := taipei(t)
	slots := []TimeOfDay{{16, 45}, {4, 45}}
	at := func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, taipei) }
	tests := []struct{ now, want time.Time }{
		{now: at(23, 4, 44), want: at(23, 4, 45)},
		{now: at(23, 4, 45), want: at(23, 16, 45)}, // a slot that is now has begun
		{now: at(23, 12, 0), want: at(23, 16, 45)},
		{now: at(23, 16, 45), want: at(24, 4, 45)},
		{now: at(30, 23, 59), want: time.Date(2026, 12, 1, 4, 45, 0, 0, taipei)},
		{now: at(23, 0, 0).UTC(), want: at(23, 4, 45)}, // the zone of now does not matter
	}
	for _, tt := range tests {
		if got := nextSlot(tt.now, taipei, slots); !got.Equal(tt.want) {
			t.Errorf("nextSlot(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

// recoveryClock is a fake clock at 2026-11-23 04:44 Taipei, a minute
// before the first slot.
func recoveryClock(t *testing.T) *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 4, 44, 0, 0, taipei(t)))
}

// recoveryDaemon starts d on clock with a fresh catalog, so that nothing
// runs before the 04:45 slot, serving /healthz.
func recoveryDaemon(t *testing.T, clock *clockwork.FakeClock, d *Daemon) *harness {
	t.Helper()
	taipei := taipei(t)
	d.OutDir = tempdir.New(t)
	d.Catalog = []string{"catalog.xml"}
	touch(t, filepath.Join(d.OutDir, "catalog.xml"), time.Date(2026, 11, 22, 17, 0, 0, 0, taipei))
	if d.Export == "" {
		d.Export = filepath.Join(tempdir.New(t), "export.xlsx")
	}
	d.Clock = clock
	d.Listen = "127.0.0.1:0"
	return startDaemon(t, d)
}

// advanceTo moves the fake clock on to the time of day hhmm, on its day or
// the next.
func advanceTo(t *testing.T, clock *clockwork.FakeClock, hhmm string) {
	t.Helper()
	var at TimeOfDay
	if err := at.UnmarshalText([]byte(hhmm)); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	clock.Advance(nextSlot(now, now.Location(), []TimeOfDay{at}).Sub(now))
}

// TestDaemonRetriesPassingFailure: a scheduled run that fails for a
// passing reason is tried again 1, 5 and 15 minutes after each failure,
// and no more once it succeeds.
func TestDaemonRetriesPassingFailure(t *testing.T) {
	public := DisplayPath("public")
	failures := map[string]error{
		"HeldFile": fmt.Errorf("write catalog to %s: %w", public, &HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}),
		"Locked":   fmt.Errorf("write catalog to %s: %w", public, &LockedError{Doing: msg.Errorf("writing to %s", DisplayPath("public")), holder: &holder{Command: "feedgen run"}, Waited: 5 * time.Minute}),
	}
	for name, failErr := range failures {
		t.Run(name, func(t *testing.T) {
			ran := make(chan time.Time, 10)
			clock := recoveryClock(t)
			var calls int // only the worker goroutine calls Run
			h := recoveryDaemon(t, clock, &Daemon{
				Run: func(context.Context, string) (RunReport, error) {
					calls++
					ran <- clock.Now()
					if calls <= 3 {
						return RunReport{}, failErr
					}
					return RunReport{Items: 3}, nil
				},
			})
			blockUntilTimer(t, clock)
			advanceTo(t, clock, "04:45")
			for _, want := range []struct{ at, retry string }{
				{"04:45", "04:46"}, {"04:46", "04:51"}, {"04:51", "05:06"},
			} {
				if got := receive(t, ran, "run").Format("15:04"); got != want.at {
					t.Fatalf("ran at %s, want %s", got, want.at)
				}
				rec := h.logs.waitFor(t, "run failed … trying again at "+want.retry)
				retryAt := logAttr(rec, "retry_at").Time()
				if got := h.health(t); got.Result != "failed" || !got.RetryAt.Equal(retryAt) || got.AwaitingExport {
					t.Errorf("healthz = %+v, want failed with retry_at %v", got, retryAt)
				}
				blockUntilTimers(t, clock, 2) // the next slot's and the retry's
				advanceTo(t, clock, want.retry)
			}
			if got := receive(t, ran, "last retry").Format("15:04"); got != "05:06" {
				t.Fatalf("last retry ran at %s, want 05:06", got)
			}
			if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "retry" {
				t.Errorf("reason = %q, want retry", got)
			}
			if got := h.health(t); got.Result != "ok" || !got.RetryAt.IsZero() {
				t.Errorf("healthz after the retry succeeded = %+v, want ok without retry_at", got)
			}
			// Had a retry been left, it would run before the 16:45 slot.
			blockUntilTimer(t, clock)
			advanceTo(t, clock, "16:45")
			if got := receive(t, ran, "scheduled run").Format("15:04"); got != "16:45" {
				t.Errorf("next run at %s, want the scheduled 16:45", got)
			}
			if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "schedule" {
				t.Errorf("reason = %q, want schedule", got)
			}
		})
	}
}

// TestDaemonRetryGivesWay: no retry is made when the next slot comes
// before it, a slot's run starts the backoff over, and a run for another
// reason drops the pending retry.
func TestDaemonRetryGivesWay(t *testing.T) {
	ran := make(chan time.Time, 10)
	clock := recoveryClock(t)
	var calls int
	h := recoveryDaemon(t, clock, &Daemon{
		Schedule: []TimeOfDay{{4, 45}, {4, 50}, {16, 45}},
		Run: func(context.Context, string) (RunReport, error) {
			calls++
			ran <- clock.Now()
			if calls <= 3 {
				return RunReport{}, &HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}
			}
			return RunReport{}, nil
		},
	})
	started := func(want string) {
		t.Helper()
		receive(t, ran, want+" run")
		if got := logAttr(h.logs.waitFor(t, "run started"), "reason").String(); got != want {
			t.Errorf("run's reason = %q, want %s", got, want)
		}
	}
	blockUntilTimer(t, clock)
	advanceTo(t, clock, "04:45")
	started("schedule")
	h.logs.waitFor(t, "run failed … trying again at 04:46")
	blockUntilTimers(t, clock, 2)
	advanceTo(t, clock, "04:46")
	started("retry")
	// 04:51 would be after the 04:50 slot.
	h.logs.waitFor(t, "run failed … trying again at 04:50, the next scheduled run")
	if got := h.health(t); !got.RetryAt.IsZero() {
		t.Errorf("healthz retry_at = %v, want none", got.RetryAt)
	}
	blockUntilTimer(t, clock)
	advanceTo(t, clock, "04:50")
	started("schedule")
	h.logs.waitFor(t, "run failed … trying again at 04:51")
	h.hangup <- syscall.SIGHUP
	started("hangup")
	h.logs.waitFor(t, "run finished")
	// The 04:51 retry is gone: the next run is the 16:45 slot's.
	blockUntilTimer(t, clock)
	advanceTo(t, clock, "16:45")
	started("schedule")
}

// TestDaemonLeavesRefusedExport: an export the pipeline refuses is not
// tried again, and scheduled runs skip it until it changes; SIGHUP, the
// merchant asking, runs it anyway.
func TestDaemonLeavesRefusedExport(t *testing.T) {
	export := filepath.Join(tempdir.New(t), "商品匯出.xlsx")
	writeFile(t, export, testWorkbook(t, "header only"))
	refused := fmt.Errorf("read export %s: %w", DisplayPath(export), ErrNoProducts)
	ran := make(chan time.Time, 10)
	clock := recoveryClock(t)
	var calls int
	h := recoveryDaemon(t, clock, &Daemon{
		Export: export,
		// The watcher may see the export's new time of change below
		// (Windows reports it as a write); the run must come from the
		// schedule's own look at the export.
		Debounce: 100 * time.Hour,
		Run: func(context.Context, string) (RunReport, error) {
			calls++
			ran <- clock.Now()
			if calls <= 2 {
				return RunReport{}, refused
			}
			return RunReport{Items: 3}, nil
		},
	})
	replace := "replace " + DisplayPath(export) + " with a new export"

	blockUntilTimer(t, clock)
	advanceTo(t, clock, "04:45")
	receive(t, ran, "scheduled run")
	rec := h.logs.waitFor(t, "run failed … "+replace)
	if got := logAttr(rec, "hint").String(); !strings.Contains(got, "products selected") {
		t.Errorf("hint = %q, want Hint's advice for an export without products", got)
	}
	if got := h.health(t); got.Result != "failed" || !got.AwaitingExport || !got.RetryAt.IsZero() {
		t.Errorf("healthz = %+v, want failed, awaiting an export, no retry", got)
	}

	blockUntilTimer(t, clock)
	advanceTo(t, clock, "16:45")
	h.logs.waitFor(t, "skipping the scheduled run: the export was refused at 04:45 and has not changed; "+replace)
	if len(ran) > 0 {
		t.Fatalf("the refused export ran again at %s", <-ran)
	}

	h.hangup <- syscall.SIGHUP
	receive(t, ran, "hangup run")
	h.logs.waitFor(t, "run failed … "+replace)

	blockUntilTimer(t, clock)
	saved := clock.Now().Add(time.Hour)
	if err := os.Chtimes(export, saved, saved); err != nil {
		t.Fatal(err)
	}
	advanceTo(t, clock, "04:45")
	if got := receive(t, ran, "run of the changed export"); !got.Equal(time.Date(2026, 11, 24, 4, 45, 0, 0, clock.Now().Location())) {
		t.Errorf("changed export ran at %v, want the 04:45 slot", got)
	}
	if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "schedule" {
		t.Errorf("reason = %q, want schedule", got)
	}
	if got := h.health(t); got.Result != "ok" || got.AwaitingExport {
		t.Errorf("healthz = %+v, want ok, not awaiting an export", got)
	}
}

// TestDaemonStopsWithRetryPending: a pending retry does not hold up the
// shutdown, and nothing runs after it.
func TestDaemonStopsWithRetryPending(t *testing.T) {
	clock := recoveryClock(t)
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), clock.Now())
	ran := make(chan time.Time, 10)
	logs := newLogSink(t)
	d := &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Clock:   clock,
		Logger:  slog.New(logs.handler()),
		Run: func(context.Context, string) (RunReport, error) {
			ran <- clock.Now()
			return RunReport{}, &HeldFileError{File: "catalog.csv", Wait: 30 * time.Second}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, nil) }()
	logs.waitSeen(t, "daemon started")
	blockUntilTimer(t, clock)
	advanceTo(t, clock, "04:45")
	receive(t, ran, "scheduled run")
	logs.waitFor(t, "run failed … trying again at 04:46")

	cancel()
	// A worker waiting out the retry would make Serve give up on it after
	// stopTimeout and return an error.
	if err := receive(t, done, "Serve to return"); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	clock.Advance(time.Hour)
	if len(ran) > 0 {
		t.Errorf("ran at %s, after the daemon stopped", <-ran)
	}
}
