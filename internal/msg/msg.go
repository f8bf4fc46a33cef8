// Package msg holds every text feedgen shows a merchant, in English and
// in Traditional Chinese, and picks the language: the run's summary, its
// errors and hints, explain, the reports, the daemon's log and the
// preview page.
//
// A message's English text is its key in the table (zh_tw.go), as with
// gettext: code reads as it prints, and a message missing from the table
// still prints, in English. Tests check that every message feedgen
// formats has its Chinese text, with the same arguments, and that the
// table holds nothing feedgen no longer says.
package msg

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Lang is a language a merchant reads feedgen in.
type Lang uint8

const (
	// English is the default where the system asks for no language
	// feedgen has.
	English Lang = iota
	// Chinese is Traditional Chinese as written in Taiwan (zh-TW).
	Chinese
)

// String is the language's tag, as the config and -lang take it.
func (l Lang) String() string {
	if l == Chinese {
		return "zh-TW"
	}
	return "en"
}

// T formats the message format in l, as fmt.Sprintf does. A %w verb is
// printed as %v, so that a format may be shared with Errorf.
func (l Lang) T(format string, args ...any) string {
	return fmt.Sprintf(l.format(format), l.texts(args)...)
}

// Fprintf writes the message format in l to w.
func (l Lang) Fprintf(w io.Writer, format string, args ...any) (int, error) {
	return fmt.Fprintf(w, l.format(format), l.texts(args)...)
}

// N marks s as a message that is formatted later, from a table or a
// variable, so that the tests find it; it returns s.
func N(s string) string { return s }

// format is format's text in l.
func (l Lang) format(format string) string {
	if l == Chinese {
		if zh, ok := zhTW[format]; ok {
			format = zh
		}
	}
	if !strings.Contains(format, "%w") {
		return format // most messages: T runs per product for some
	}
	return wrapVerb.ReplaceAllStringFunc(format, func(v string) string {
		if len(v)%2 == 1 { // %%w is a percent sign and a w
			return v
		}
		return v[:len(v)-1] + "v"
	})
}

// wrapVerb matches %w with the percent signs before it.
var wrapVerb = regexp.MustCompile(`%+w`)

// texts renders errors and Localizers among args in l, leaving the rest
// as they are.
func (l Lang) texts(args []any) []any {
	var out []any
	for i, a := range args {
		var text string
		switch a := a.(type) {
		case Localizer:
			text = a.Text(l)
		case error:
			text = Text(l, a)
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = text
	}
	if out == nil {
		return args
	}
	return out
}

// Localizer is an error, or other value, that can say itself in a
// language.
type Localizer interface {
	Text(Lang) string
}

// Error is an error made by Errorf: fmt.Errorf's, which says itself in
// English, with the message and arguments to say it in another.
type Error struct {
	format string
	args   []any
	err    error
}

// Errorf is fmt.Errorf whose message Text prints in the merchant's
// language. Its Error is English, for logs and for errors.Is.
func Errorf(format string, args ...any) error {
	return &Error{format: format, args: args, err: fmt.Errorf(format, args...)}
}

// New is errors.New for a message Text prints in the merchant's language.
func New(text string) error {
	return &Error{format: text, err: errors.New(text)}
}

func (e *Error) Error() string { return e.err.Error() }

// Unwrap returns what %w wrapped, one error or several.
func (e *Error) Unwrap() []error {
	switch u := e.err.(type) {
	case interface{ Unwrap() error }:
		return []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

// Text renders err in l: Errorf's errors and Localizers by the table,
// down through what they wrap; any other error (the operating system's,
// a library's) as it says itself.
func Text(l Lang, err error) string {
	if err == nil {
		return ""
	}
	switch e := err.(type) {
	case *Error:
		return l.T(e.format, e.args...)
	case Localizer:
		return e.Text(l)
	}
	text := err.Error()
	if l == English {
		return text
	}
	// Errors joined by errors.Join, whose text is theirs line by line,
	// each say themselves; a foreign error that ends with the text of
	// one of ours it wraps says that part (fmt.Errorf("x: %w", ours)).
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var english, local []string
		for _, e := range u.Unwrap() {
			english, local = append(english, e.Error()), append(local, Text(l, e))
		}
		if text == strings.Join(english, "\n") {
			return strings.Join(local, "\n")
		}
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			if prefix, ok := strings.CutSuffix(text, inner.Error()); ok {
				return prefix + Text(l, inner)
			}
		}
	}
	return text
}
