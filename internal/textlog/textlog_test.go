package textlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// logLine logs one record through a handler made by mk, as the logger
// from with makes it, and returns the line.
func logLine(mk func(*bytes.Buffer) slog.Handler, with func(*slog.Logger) *slog.Logger, msg string, args ...any) string {
	var buf bytes.Buffer
	l := with(slog.New(mk(&buf)))
	rec := slog.NewRecord(time.Time{}, slog.LevelInfo, msg, 0)
	rec.Add(args...)
	l.Handler().Handle(context.Background(), rec)
	return buf.String()
}

func ours(buf *bytes.Buffer) slog.Handler { return New(buf, slog.LevelDebug) }

func standard(buf *bytes.Buffer) slog.Handler { return slog.NewTextHandler(buf, nil) }

func same(l *slog.Logger) *slog.Logger { return l }

func TestWindowsPathsAsTyped(t *testing.T) {
	const export = `C:\Users\Shop Owner\商品匯出.xlsx`
	err := errors.New("read export 「" + export + "」: file not found")
	got := logLine(ours, same, "run failed", "export", export, "out", `C:\商店\public`, "err", err)
	want := `level=INFO msg="run failed" export="C:\Users\Shop Owner\商品匯出.xlsx" out=C:\商店\public err="read export 「C:\Users\Shop Owner\商品匯出.xlsx」: file not found"` + "\n"
	if got != want {
		t.Errorf("log line\n%s want\n%s", got, want)
	}
}

func TestEscapesWhatWouldEndTheValueOrLine(t *testing.T) {
	tests := []struct{ value, want string }{
		{`say "hi"`, `v="say \"hi\""`},
		{"git push: rejected\nhint: pull first", `v="git push: rejected\nhint: pull first"`},
		{"a\tb\r", `v="a\tb\r"`},
		{"zero\u200bwidth", `v="zero\u200bwidth"`},
		{"\xb0\xa5 Big5", `v="\xb0\xa5 Big5"`},
		{"輸出\u3000資料夾", "v=\"輸出\u3000資料夾\""},
		{"", `v=""`},
	}
	for _, tt := range tests {
		got := logLine(ours, same, "m", "v", tt.value)
		if want := "level=INFO msg=m " + tt.want + "\n"; got != want {
			t.Errorf("value %q: log line %s want %s", tt.value, got, want)
		}
	}
}

// Without backslashes, the lines are TextHandler's, whatever the kinds,
// groups and attributes.
func TestAgreesWithTextHandler(t *testing.T) {
	at := time.Date(2026, 11, 23, 5, 0, 0, 0, time.FixedZone("CST", 8*3600))
	cases := []struct {
		name string
		with func(*slog.Logger) *slog.Logger
		args []any
	}{
		{"kinds", same, []any{"s", "plain", "spaces", "two words", "eq", "a=b", "n", 12, "f", 0.5, "ok", true,
			"took", 1500 * time.Millisecond, "at", at, "err", errors.New("boom"), "items", []int{1, 2}}},
		{"groups", same, []any{slog.Group("run", "reason", "schedule", slog.Group("export", "rows", 16)), slog.Group("empty"), slog.Attr{}}},
		{"an inline group", same, []any{slog.Group("", "a", 1)}},
		{"with attributes and a group", func(l *slog.Logger) *slog.Logger {
			return l.With("watch", "drop").WithGroup("http").With("addr", "127.0.0.1:8080")
		}, []any{"status", 200}},
	}
	for _, c := range cases {
		got := logLine(ours, c.with, "catalog written", c.args...)
		want := logLine(standard, c.with, "catalog written", c.args...)
		if got != want {
			t.Errorf("%s: log line\n%s want TextHandler's\n%s", c.name, got, want)
		}
	}

	var ourBuf, stdBuf bytes.Buffer
	rec := slog.NewRecord(at, slog.LevelWarn, "late", 0)
	New(&ourBuf, slog.LevelInfo).Handle(context.Background(), rec)
	slog.NewTextHandler(&stdBuf, nil).Handle(context.Background(), rec)
	if ourBuf.String() != stdBuf.String() {
		t.Errorf("with a time: log line\n%s want TextHandler's\n%s", &ourBuf, &stdBuf)
	}
}

func TestLevel(t *testing.T) {
	h := New(&bytes.Buffer{}, slog.LevelInfo)
	if h.Enabled(context.Background(), slog.LevelDebug) || !h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("a handler at INFO must take INFO and drop DEBUG")
	}
}
