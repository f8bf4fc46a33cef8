// Package textlog writes log records as lines of key=value pairs, as
// slog's TextHandler does, for a merchant to read in a console window.
//
// The difference is the quoting. TextHandler quotes a value with spaces
// as a Go string, which doubles every backslash of a Windows path, and an
// error nearly always has spaces:
//
//	err="read export 「C:\\Users\\Shop Owner\\商品匯出.xlsx」: file not found"
//
// Here a value with spaces is put between double quotes as it is, and
// only the characters that would end the value or the line are escaped: a
// double quote (\"), and line breaks, tabs and other control characters
// (\n, \r, \t, \x00, \u200b). A backslash stays one:
//
//	err="read export 「C:\Users\Shop Owner\商品匯出.xlsx」: file not found"
//
// The lines are for reading, not for parsing back: a backslash written
// before a quote in the value itself reads like the escape.
package textlog

import (
	"context"
	"encoding"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// New returns a handler writing records at level or above to w, each in a
// single Write.
func New(w io.Writer, level slog.Leveler) slog.Handler {
	return &handler{w: w, mu: new(sync.Mutex), level: level}
}

type handler struct {
	w     io.Writer
	mu    *sync.Mutex // shared with the handlers made by WithAttrs and WithGroup
	level slog.Leveler
	attrs []byte // written by WithAttrs, each with its leading space
	group string // prefix of the keys, "a.b." inside groups a and b
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 256)
	if !r.Time.IsZero() {
		buf = appendPair(buf, "time", r.Time.Format(timeFormat))
		buf = append(buf, ' ')
	}
	buf = appendPair(buf, "level", r.Level.String())
	buf = append(buf, ' ')
	buf = appendPair(buf, "msg", r.Message)
	buf = append(buf, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, h.group, a)
		return true
	})
	buf = append(buf, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf)
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = h.attrs[:len(h.attrs):len(h.attrs)] // appending copies
	for _, a := range as {
		h2.attrs = appendAttr(h2.attrs, h.group, a)
	}
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group += name + "."
	return &h2
}

// timeFormat is TextHandler's: RFC 3339 with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// appendAttr appends " key=value", or one such pair per member of a group,
// and nothing for an empty attribute or group.
func appendAttr(buf []byte, prefix string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if v.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, m := range v.Group() {
			buf = appendAttr(buf, prefix, m)
		}
		return buf
	}
	buf = append(buf, ' ')
	return appendPair(buf, prefix+a.Key, text(v))
}

// text is a value as TextHandler writes it, before quoting.
func text(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(timeFormat)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case encoding.TextMarshaler:
			if b, err := x.MarshalText(); err == nil {
				return string(b)
			}
		}
		return fmt.Sprintf("%+v", v.Any())
	}
	return v.String()
}

func appendPair(buf []byte, key, value string) []byte {
	buf = appendQuoted(buf, key)
	buf = append(buf, '=')
	return appendQuoted(buf, value)
}

// appendQuoted appends s as it is when it has no space, '=', '"' or
// character that cannot be shown, and between double quotes otherwise.
func appendQuoted(buf []byte, s string) []byte {
	if s != "" && !strings.ContainsFunc(s, needsQuotes) && utf8.ValidString(s) {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i, r := range s {
		switch {
		case r == '"':
			buf = append(buf, `\"`...)
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			buf = fmt.Appendf(buf, `\x%02x`, s[i])
		case r == ' ' || unicode.IsGraphic(r):
			buf = utf8.AppendRune(buf, r)
		default:
			q := strconv.QuoteRune(r) // '\n', '\t', '\x00', '\u200b'
			buf = append(buf, q[1:len(q)-1]...)
		}
	}
	return append(buf, '"')
}

func needsQuotes(r rune) bool {
	return r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsGraphic(r)
}
