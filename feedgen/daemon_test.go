package feedgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/jonboulle/clockwork"
	"github.com/xuri/excelize/v2"

	"feedgen/internal/tempdir"
)

// waitLimit bounds every wait in these tests; reaching it is a failure,
// never the expected outcome.
const waitLimit = 10 * time.Second

func TestTimeOfDayUnmarshalText(t *testing.T) {
	tests := []struct {
		in      string
		want    TimeOfDay
		wantErr bool
	}{
		{in: "04:45", want: TimeOfDay{4, 45}},
		{in: "4:45", want: TimeOfDay{4, 45}},
		{in: "16:45:00", want: TimeOfDay{16, 45}},
		{in: "00:00", want: TimeOfDay{0, 0}},
		{in: "23:59", want: TimeOfDay{23, 59}},
		{in: "0000-01-01T04:45:00Z", want: TimeOfDay{4, 45}}, // TOML 1.1 bare local time
		{in: "24:00", wantErr: true},
		{in: "04:60", wantErr: true},
		{in: "04:45:30", wantErr: true},
		{in: "0000-01-01T04:45:30Z", wantErr: true},
		{in: "2026-11-23T04:45:00Z", wantErr: true},
		{in: "0000-01-01T04:45:00+08:00", wantErr: true},
		{in: "4.45", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		var got TimeOfDay
		err := got.UnmarshalText([]byte(tt.in))
		switch {
		case tt.wantErr && err == nil:
			t.Errorf("UnmarshalText(%q) = %v, want an error", tt.in, got)
		case !tt.wantErr && err != nil:
			t.Errorf("UnmarshalText(%q): %v", tt.in, err)
		case !tt.wantErr && got != tt.want:
			t.Errorf("UnmarshalText(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTimeOfDayString(t *testing.T) {
	if got := (TimeOfDay{4, 5}).String(); got != "04:05" {
		t.Errorf("String() = %q, want 04:05", got)
	}
}

func TestTimeOfDayFromTOML(t *testing.T) {
	var cfg struct{ Schedule []TimeOfDay }
	if _, err := toml.Decode(`schedule = [04:45, "16:45", 05:30:00]`, &cfg); err != nil {
		t.Fatal(err)
	}
	want := []TimeOfDay{{4, 45}, {16, 45}, {5, 30}}
	if !slices.Equal(cfg.Schedule, want) {
		t.Errorf("schedule = %v, want %v", cfg.Schedule, want)
	}
}

func TestDaemonLatestSlot(t *testing.T) {
	taipei := taipei(t)
	slots := []TimeOfDay{{4, 45}, {16, 45}}
	at := func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, taipei) }
	tests := []struct{ now, want time.Time }{
		{now: at(23, 4, 44), want: at(22, 16, 45)},
		{now: at(23, 4, 45), want: at(23, 4, 45)},
		{now: at(23, 12, 0), want: at(23, 4, 45)},
		{now: at(23, 23, 59), want: at(23, 16, 45)},
		{now: at(23, 0, 0).UTC(), want: at(22, 16, 45)}, // the zone of now does not matter
	}
	for _, tt := range tests {
		if got := latestSlot(tt.now, taipei, slots); !got.Equal(tt.want) {
			t.Errorf("latestSlot(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestDaemonRejectsBadSettings(t *testing.T) {
	dir := tempdir.New(t)
	run := func(context.Context, string) (RunReport, error) { return RunReport{}, nil }
	tests := map[string]Daemon{
		"NoRun":            {Export: dir, OutDir: dir},
		"NoExport":         {OutDir: dir, Run: run},
		"NoOutDir":         {Export: dir, Run: run},
		"NegativeDebounce": {Export: dir, OutDir: dir, Run: run, Debounce: -time.Second},
		"HourOutOfRange":   {Export: dir, OutDir: dir, Run: run, Schedule: []TimeOfDay{{24, 0}}},
		"CatalogInSubdir":  {Export: dir, OutDir: dir, Run: run, Catalog: []string{"../catalog.xml"}},
		"BadListen":        {Export: dir, OutDir: dir, Run: run, Listen: "256.0.0.1:bad"},
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := d.Serve(ctx, nil); err == nil {
				t.Error("Serve returned nil, want an error")
			}
		})
	}
}

func TestDaemonSchedule(t *testing.T) {
	taipei := taipei(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 4, 44, 0, 0, taipei))
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), time.Date(2026, 11, 22, 17, 0, 0, 0, taipei))
	ran := make(chan time.Time, 10)
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Clock:   clock,
		Run: func(context.Context, string) (RunReport, error) {
			ran <- clock.Now()
			return RunReport{Items: 3}, nil
		},
	})

	for _, want := range []struct{ advance, at, next time.Duration }{
		{advance: time.Minute, at: 4*time.Hour + 45*time.Minute, next: 16*time.Hour + 45*time.Minute},
		{advance: 12 * time.Hour, at: 16*time.Hour + 45*time.Minute, next: 28*time.Hour + 45*time.Minute},
	} {
		day := time.Date(2026, 11, 23, 0, 0, 0, 0, taipei)
		blockUntilTimer(t, clock)
		clock.Advance(want.advance)
		if got := receive(t, ran, "scheduled run"); !got.Equal(day.Add(want.at)) {
			t.Errorf("ran at %v, want %v", got, day.Add(want.at))
		}
		rec := h.logs.waitFor(t, "run finished")
		if got := logAttr(rec, "reason").String(); got != "schedule" {
			t.Errorf("reason = %q, want schedule", got)
		}
		if got := logAttr(rec, "items").Int64(); got != 3 {
			t.Errorf("items = %d, want 3", got)
		}
		next := logAttr(rec, "next_run").Time()
		if !next.Equal(day.Add(want.next)) || next.Location().String() != "Asia/Taipei" {
			t.Errorf("next_run = %v, want %v", next, day.Add(want.next))
		}
	}
	if n := len(ran); n != 0 {
		t.Errorf("%d extra runs", n)
	}
}

func TestDaemonCatchUp(t *testing.T) {
	taipei := taipei(t)
	now := time.Date(2026, 11, 23, 4, 44, 0, 0, taipei) // the latest slot was 2026-11-22 16:45
	tests := []struct {
		name    string
		written map[string]time.Time // catalog files and their mtimes
		want    bool
	}{
		{name: "Missing", written: map[string]time.Time{"catalog.xml": now}, want: true},
		{name: "OlderThanLastSlot", written: map[string]time.Time{
			"catalog.xml":   now.Add(-time.Hour),
			"products.json": time.Date(2026, 11, 22, 16, 40, 0, 0, taipei),
		}, want: true},
		{name: "Fresh", written: map[string]time.Time{
			"catalog.xml":   time.Date(2026, 11, 22, 16, 46, 0, 0, taipei),
			"products.json": time.Date(2026, 11, 22, 16, 46, 0, 0, taipei),
		}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tempdir.New(t)
			for name, mod := range tt.written {
				touch(t, filepath.Join(out, name), mod)
			}
			runs := make(chan struct{}, 10)
			h := startDaemon(t, &Daemon{
				Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
				OutDir:  out,
				Catalog: []string{"catalog.xml", "products.json"},
				Clock:   clockwork.NewFakeClockAt(now),
				Run: func(context.Context, string) (RunReport, error) {
					runs <- struct{}{}
					return RunReport{}, nil
				},
			})
			// A catch-up run is requested before "daemon started" is logged,
			// so it would run before this hangup's run.
			h.hangup <- syscall.SIGHUP
			receive(t, runs, "first run")
			reason := logAttr(h.logs.waitFor(t, "run finished"), "reason").String()
			if got := reason == "catch-up"; got != tt.want {
				t.Errorf("first run's reason = %q; catch-up = %v, want %v", reason, got, tt.want)
			}
		})
	}
}

func TestDaemonCoalescesTriggers(t *testing.T) {
	taipei := taipei(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 4, 44, 0, 0, taipei))
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), clock.Now())
	started := make(chan struct{})
	release := make(chan struct{})
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Clock:   clock,
		Run: func(ctx context.Context, _ string) (RunReport, error) {
			select {
			case started <- struct{}{}:
			case <-ctx.Done():
				return RunReport{}, ctx.Err()
			}
			select {
			case <-release:
				return RunReport{}, nil
			case <-ctx.Done():
				return RunReport{}, ctx.Err()
			}
		},
	})

	h.hangup <- syscall.SIGHUP
	receive(t, started, "first run")
	for range 5 {
		h.hangup <- syscall.SIGHUP
	}
	// Release the run only once all five were handled, or the last could
	// arrive after it and rightly cause another run. One is pending.
	for range 4 {
		h.logs.waitFor(t, "run already pending")
	}
	release <- struct{}{}
	receive(t, started, "the coalesced run")
	release <- struct{}{}
	h.logs.waitFor(t, "run finished")
	h.logs.waitFor(t, "run finished")

	// A third run for the same burst would be queued ahead of the scheduled
	// one and run first.
	blockUntilTimer(t, clock)
	clock.Advance(time.Minute)
	receive(t, started, "scheduled run")
	release <- struct{}{}
	if got := logAttr(h.logs.waitFor(t, "run finished"), "reason").String(); got != "schedule" {
		t.Errorf("third run's reason = %q, want schedule (more than one run after the burst)", got)
	}
}

func TestDaemonRecoversPanic(t *testing.T) {
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), time.Now())
	var calls int
	h := startDaemon(t, &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Run: func(context.Context, string) (RunReport, error) {
			calls++ // only the worker goroutine calls Run
			if calls == 1 {
				panic("boom")
			}
			return RunReport{Items: 5}, nil
		},
	})

	h.hangup <- syscall.SIGHUP
	h.logs.waitFor(t, "run panicked")
	rec := h.logs.waitFor(t, "run failed")
	if err := logAttr(rec, "err").String(); !strings.HasPrefix(err, "run panicked") || !strings.HasSuffix(err, ": boom") {
		t.Errorf("failed run's err = %q, want it to name the panic", err)
	}
	h.hangup <- syscall.SIGHUP
	if got := logAttr(h.logs.waitFor(t, "run finished"), "items").Int64(); got != 5 {
		t.Errorf("items after the panic = %d, want 5", got)
	}
}

func TestDaemonStopsDuringRun(t *testing.T) {
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), time.Now())
	started := make(chan struct{}, 1)
	stopped := make(chan error, 1)
	d := &Daemon{
		Export:  filepath.Join(tempdir.New(t), "export.xlsx"),
		OutDir:  out,
		Catalog: []string{"catalog.xml"},
		Listen:  "127.0.0.1:0",
		Run: func(ctx context.Context, _ string) (RunReport, error) {
			started <- struct{}{}
			<-ctx.Done()
			stopped <- ctx.Err()
			return RunReport{}, ctx.Err()
		},
	}
	logs := newLogSink(t)
	d.Logger = slog.New(logs.handler())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hangup := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, hangup) }()
	logs.waitSeen(t, "daemon started")
	hangup <- syscall.SIGHUP
	receive(t, started, "run")

	begin := time.Now()
	cancel()
	if err := receive(t, done, "Serve to return"); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("Serve took %v to stop", took)
	}
	if err := receive(t, stopped, "Run to see the cancellation"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run's ctx.Err() = %v, want context.Canceled", err)
	}
}

// harness is a daemon running in the background for one test.
type harness struct {
	logs   *logSink
	hangup chan os.Signal // unbuffered: a send returns once Serve has taken it
}

// startDaemon runs d.Serve until the test ends and waits until it has
// started, so that the file watcher is in place.
func startDaemon(t *testing.T, d *Daemon) *harness {
	t.Helper()
	h := &harness{logs: newLogSink(t), hangup: make(chan os.Signal)}
	d.Logger = slog.New(h.logs.handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, h.hangup) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitLimit):
			t.Errorf("Serve did not return within %v of cancellation", waitLimit)
		}
	})
	h.logs.waitSeen(t, "daemon started")
	return h
}

// blockUntilTimer waits until the scheduler has armed its timer on the fake
// clock; advancing before that would skip the slot.
func blockUntilTimer(t *testing.T, clock *clockwork.FakeClock) {
	t.Helper()
	blockUntilTimers(t, clock, 1)
}

// blockUntilTimers waits until n timers are armed on the fake clock: the
// scheduler's and a retry's.
func blockUntilTimers(t *testing.T, clock *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("%d timers were not armed: %v", n, err)
	}
}

// health returns the daemon's /healthz; its Listen must be set.
func (h *harness) health(t *testing.T) health {
	t.Helper()
	resp, err := (&http.Client{Timeout: waitLimit}).Get("http://" + h.logs.httpAddr(t) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got health
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// touch creates path if needed and sets its mtime.
func touch(t *testing.T, path string, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte("<catalog/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// workbook returns the bytes of a small .xlsx whose cell A1 holds value.
func testWorkbook(t *testing.T, value string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetCellValue("Sheet1", "A1", value); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readA1 is a stand-in pipeline: it opens the workbook the way the real one
// does and returns cell A1.
func readA1(path string) (string, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return f.GetCellValue("Sheet1", "A1")
}

// logSink keeps the records of a test's logger, so that tests wait for a
// log line instead of sleeping. On failure it prints them.
type logSink struct {
	mu      sync.Mutex
	records []slog.Record
	grew    chan struct{} // closed and replaced when a record is added
	next    int           // waitFor's position in records
}

func newLogSink(t *testing.T) *logSink {
	s := &logSink{grew: make(chan struct{})}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, r := range s.records {
			line := fmt.Sprintf("%s %s %q", r.Time.Format("15:04:05.000"), r.Level, r.Message)
			r.Attrs(func(a slog.Attr) bool {
				if a.Key != "stack" {
					line += fmt.Sprintf(" %s=%v", a.Key, a.Value)
				}
				return true
			})
			t.Log(line)
		}
	})
	return s
}

func (s *logSink) handler() slog.Handler { return recordHandler{sink: s} }

// waitFor returns the next record with message msg after the previous
// record waitFor returned. A message matches whole, or up to the "; "
// after which the daemon says what comes next: "run failed" matches "run
// failed; trying again at 04:46".
func (s *logSink) waitFor(t *testing.T, msg string) slog.Record {
	t.Helper()
	return s.wait(t, msg, &s.next)
}

// waitSeen returns the first record with message msg, without moving
// waitFor's position.
func (s *logSink) waitSeen(t *testing.T, msg string) slog.Record {
	t.Helper()
	var from int
	return s.wait(t, msg, &from)
}

// logMatches reports whether a log message is the one a test waits for:
// pattern itself, or pattern followed by what the message goes on to say
// ("run finished" matches "run finished: 3 products, …"); parts of a
// pattern split by " … " must come in that order ("run failed … trying
// again at 04:46" matches "run failed because …; trying again at 04:46").
func logMatches(message, pattern string) bool {
	parts := strings.Split(pattern, " … ")
	rest, ok := strings.CutPrefix(message, parts[0])
	if !ok {
		return false
	}
	if len(parts) == 1 {
		return rest == "" || strings.HasPrefix(rest, "; ") || strings.HasPrefix(rest, ": ") || strings.HasPrefix(rest, " (") || strings.HasPrefix(rest, " because ") || strings.HasPrefix(rest, " at ")
	}
	for _, p := range parts[1:] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return rest == "" || strings.HasPrefix(rest, ";")
}

func (s *logSink) wait(t *testing.T, msg string, from *int) slog.Record {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		for *from < len(s.records) {
			r := s.records[*from]
			*from++
			if logMatches(r.Message, msg) {
				s.mu.Unlock()
				return r
			}
		}
		grew := s.grew
		s.mu.Unlock()
		select {
		case <-grew:
		case <-deadline:
			t.Fatalf("no %q log record within %v", msg, waitLimit)
		}
	}
}

// httpAddr returns the address the daemon's HTTP server listens on, from
// its log.
func (s *logSink) httpAddr(t *testing.T) string {
	t.Helper()
	return logAttr(s.waitSeen(t, "serving the catalog"), "addr").String()
}

type recordHandler struct {
	sink  *logSink
	attrs []slog.Attr
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	h.sink.records = append(h.sink.records, r)
	close(h.sink.grew)
	h.sink.grew = make(chan struct{})
	return nil
}

func (h recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return recordHandler{sink: h.sink, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup is not needed: the daemon logs no groups.
func (h recordHandler) WithGroup(string) slog.Handler { return h }

// logAttr returns the value of a record's attribute, resolved.
func logAttr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Resolve()
			return false
		}
		return true
	})
	return v
}
