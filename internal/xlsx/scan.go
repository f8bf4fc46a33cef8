package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"feedgen/internal/msg"
)

// xmlParser is a byte-level XML scanner over a partStream's window. It
// checks well-formedness as strictly as encoding/xml does, or more, because
// whatever excelize's decoder would stop at must be an error here.
//
// Parsing proceeds in units (a row, a shared string, an element to skip):
// scanning functions take and return indexes into b and return errMore when
// the window ends, and unit throws the unit's work away and starts it again
// once the window holds more bytes.
type xmlParser struct {
	s     *partStream
	b     []byte // s.buf
	pos   int    // start of the next unit
	val   []byte // decoded text of the current unit
	tmp   []byte // decoded attribute value
	attrs []attr // attributes of the last start tag
	stack []span // open elements inside a skipped element
}

type span struct{ s, e int }

// tag is a parsed start tag: qualified name b[qs:qe], local name b[ls:qe].
// Its attributes are in xmlParser.attrs until the next start tag.
type tag struct {
	qs, ls, qe int
	empty      bool
}

// attr is an attribute: qualified name b[qs:le], local name b[ls:le], raw
// value b[vs:ve]. plain means the raw value is the value.
type attr struct {
	qs, ls, le, vs, ve int
	quote              byte
	plain              bool
}

func (p *xmlParser) fail(i int, format string, args ...any) error {
	return &syntaxError{off: p.s.off + int64(i), msg: fmt.Sprintf(format, args...)}
}

// need returns errMore unless b holds n bytes.
func (p *xmlParser) need(n int) error {
	if n > len(p.b) {
		return errMore
	}
	return nil
}

// unit runs f at the current position and, on success, moves past what it
// consumed. While f needs more input, it fetches more and runs f again.
func (p *xmlParser) unit(f func(i int) (int, error)) error {
	for {
		p.b = p.s.buf
		j, err := f(p.pos)
		if err != errMore {
			if err == nil {
				p.pos = j
			}
			return err
		}
		if err := p.more(); err != nil {
			return err
		}
	}
}

// more extends the window, or explains why it cannot be extended.
func (p *xmlParser) more() error {
	added, err := p.s.more(p.pos)
	p.pos, p.b = 0, p.s.buf
	if err != nil {
		return err
	}
	if added {
		return nil
	}
	if cause := p.s.cause(); cause != nil {
		return p.s.src.failure(cause)
	}
	return p.fail(len(p.b), "unexpected end of the XML; the part is truncated")
}

// explain turns a scanning error into a message; damage to the compressed
// data is the root cause of any XML error, so it is looked for first.
func (p *xmlParser) explain(err error) error {
	var d *damageError
	var re *ReadError
	if errors.As(err, &d) || errors.As(err, &re) {
		return err
	}
	if cause := p.s.drain(); cause != nil {
		return msg.Errorf("%w; first symptom: %v", p.s.src.failure(cause), err)
	}
	return err
}

// Character classes for scanning text and attribute values.
const (
	clPlain   = iota
	clStop    // '<' ending text; the quote ending an attribute value
	clAmp     // a reference
	clCR      // carriage return, normalised to a line feed
	clBracket // ']', which may begin a forbidden "]]>" in text
	clCtl     // a control character XML forbids
	clHigh    // first byte of a multi-byte sequence
	clLT      // '<' inside an attribute value, which is forbidden
)

var textClass, dquoteClass, squoteClass = classes(0), classes('"'), classes('\'')

func classes(quote byte) *[256]uint8 {
	var t [256]uint8
	for c := range 0x20 {
		if c != '\t' && c != '\n' {
			t[c] = clCtl
		}
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = clHigh
	}
	t['&'], t['\r'] = clAmp, clCR
	if quote == 0 {
		t['<'], t[']'] = clStop, clBracket
	} else {
		t['<'], t[quote] = clLT, clStop
	}
	return &t
}

// chars scans character data from i to the byte that ends it (a '<' in
// text, the quote in an attribute value), checking it as encoding/xml
// does: valid UTF-8, characters XML allows, known references, no "]]>". With
// out, it appends the decoded text, with line ends normalised, to *out.
// plain reports that the raw bytes are the decoded text.
func (p *xmlParser) chars(i int, class *[256]uint8, out *[]byte) (end int, plain bool, err error) {
	b := p.b
	run := i
	plain = true
	for i < len(b) {
		c := b[i]
		cl := class[c]
		if cl == clPlain {
			i++
			continue
		}
		switch cl {
		case clHigh:
			// Most non-ASCII text is two- or three-byte characters that
			// need no range check beyond the lead byte's.
			if (0xE1 <= c && c <= 0xEC || c == 0xEE) && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80 {
				i += 3
				continue
			}
			if 0xC2 <= c && c <= 0xDF && i+1 < len(b) && b[i+1]&0xC0 == 0x80 {
				i += 2
				continue
			}
			j, err := p.utf8(i)
			if err != nil {
				return i, plain, err
			}
			i = j
		case clStop:
			if out != nil {
				*out = append(*out, b[run:i]...)
			}
			return i, plain, nil
		case clAmp:
			if out != nil {
				*out = append(*out, b[run:i]...)
			}
			r, j, err := p.reference(i)
			if err != nil {
				return i, plain, err
			}
			if out != nil {
				*out = utf8.AppendRune(*out, r)
			}
			i, run, plain = j, j, false
		case clCR:
			if i+1 >= len(b) {
				return i, plain, errMore
			}
			if out != nil {
				*out = append(append(*out, b[run:i]...), '\n')
			}
			i++
			if b[i] == '\n' {
				i++
			}
			run, plain = i, false
		case clBracket:
			if i+2 >= len(b) {
				return i, plain, errMore
			}
			if b[i+1] == ']' && b[i+2] == '>' {
				return i, plain, p.fail(i, `"]]>" in text`)
			}
			i++
		case clCtl:
			return i, plain, p.fail(i, "control character %#02x", c)
		case clLT:
			return i, plain, p.fail(i, "unescaped < in an attribute value")
		}
	}
	return i, plain, errMore
}

// text scans character data up to the next '<'.
func (p *xmlParser) text(i int, out *[]byte) (int, error) {
	j, _, err := p.chars(i, textClass, out)
	return j, err
}

// utf8 checks the multi-byte character at i.
func (p *xmlParser) utf8(i int) (int, error) {
	b := p.b[i:]
	if !utf8.FullRune(b) {
		return i, errMore
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 {
		return i, p.fail(i, "invalid UTF-8")
	}
	if r == 0xFFFE || r == 0xFFFF {
		return i, p.fail(i, "character %U is not allowed in XML", r)
	}
	return i + n, nil
}

// maxReference bounds the length of a reference such as "&#x10FFFF;".
const maxReference = 16

// reference decodes the entity or character reference at i. Numeric
// references to surrogates decode to U+FFFD, as encoding/xml's do.
func (p *xmlParser) reference(i int) (rune, int, error) {
	b := p.b[i:min(len(p.b), i+maxReference)]
	end := bytes.IndexByte(b, ';')
	if end < 0 {
		if len(b) < maxReference && i+len(b) == len(p.b) {
			return 0, i, errMore
		}
		return 0, i, p.fail(i, "invalid reference %q", b)
	}
	ref := b[1:end]
	var r rune
	switch string(ref) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		if len(ref) < 2 || ref[0] != '#' {
			return 0, i, p.fail(i, "unknown entity %q", b[:end+1])
		}
		digits, base := ref[1:], 10
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		n, err := strconv.ParseUint(string(digits), base, 32)
		if err != nil || len(digits) == 0 || digits[0] == '+' || n > utf8.MaxRune {
			return 0, i, p.fail(i, "invalid character reference %q", b[:end+1])
		}
		r = rune(n)
		if 0xD800 <= r && r <= 0xDFFF {
			r = utf8.RuneError
		}
	}
	if !xmlChar(r) {
		return 0, i, p.fail(i, "reference %q to a character XML does not allow", b[:end+1])
	}
	return r, i + end + 1, nil
}

// xmlChar reports whether XML 1.0 allows r.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= utf8.MaxRune
}

var nameStart, nameChar = func() (s, c [256]bool) {
	for ch := range 256 {
		letter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_'
		s[ch] = letter
		c[ch] = letter || '0' <= ch && ch <= '9' || ch == '-' || ch == '.'
	}
	return
}()

// name scans the name at i and returns its end and where its local part
// starts. Names are ASCII with at most one colon, which separates a
// non-empty prefix from a non-empty local part.
func (p *xmlParser) name(i int) (end, local int, err error) {
	b := p.b
	if i >= len(b) {
		return i, i, errMore
	}
	if !nameStart[b[i]] {
		return i, i, p.fail(i, "expected a name, found %q", b[i])
	}
	local, j := i, i+1
	for ; j < len(b); j++ {
		c := b[j]
		if nameChar[c] {
			continue
		}
		if c != ':' {
			break
		}
		if local != i || j+1 >= len(b) || !nameStart[b[j+1]] {
			if j+1 >= len(b) {
				return i, i, errMore
			}
			return i, i, p.fail(j, "invalid name %q", b[i:j+1])
		}
		local = j + 1
	}
	if j >= len(b) {
		return i, i, errMore
	}
	if b[j] >= utf8.RuneSelf {
		return i, i, p.fail(j, "unsupported non-ASCII name")
	}
	return j, local, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// startTag parses the start tag whose '<' is at i.
func (p *xmlParser) startTag(i int) (tag, int, error) {
	b := p.b
	qe, ls, err := p.name(i + 1)
	if err != nil {
		return tag{}, i, err
	}
	t := tag{qs: i + 1, ls: ls, qe: qe}
	// The attributes are collected in a local slice and stored once: a
	// store into p per attribute costs a write barrier each while the GC
	// runs.
	attrs := p.attrs[:0]
	j := qe
	for {
		j = skipSpace(b, j)
		if j+1 >= len(b) {
			return t, i, errMore
		}
		switch b[j] {
		case '>':
			p.attrs = attrs
			return t, j + 1, nil
		case '/':
			if b[j+1] != '>' {
				return t, i, p.fail(j, "expected /> in <%s>", b[t.qs:t.qe])
			}
			t.empty = true
			p.attrs = attrs
			return t, j + 2, nil
		}
		a := attr{qs: j}
		if a.le, a.ls, err = p.name(j); err != nil {
			return t, i, err
		}
		j = skipSpace(b, a.le)
		if j+1 >= len(b) {
			return t, i, errMore
		}
		if b[j] != '=' {
			return t, i, p.fail(j, "attribute %s without a value", b[a.qs:a.le])
		}
		j = skipSpace(b, j+1)
		if j >= len(b) {
			return t, i, errMore
		}
		class := dquoteClass
		switch a.quote = b[j]; a.quote {
		case '"':
		case '\'':
			class = squoteClass
		default:
			return t, i, p.fail(j, "unquoted value of attribute %s", b[a.qs:a.le])
		}
		a.vs = j + 1
		// Most values are short and plain: scan them here, and leave
		// anything else to chars.
		k := a.vs
		for k < len(b) && class[b[k]] == clPlain {
			k++
		}
		if k < len(b) && b[k] == a.quote {
			a.ve, a.plain = k, true
		} else if a.ve, a.plain, err = p.chars(a.vs, class, nil); err != nil {
			return t, i, err
		}
		attrs = append(attrs, a)
		j = a.ve + 1
	}
}

// attrValue returns the decoded value of a, valid until the next call.
func (p *xmlParser) attrValue(a attr) []byte {
	if a.plain {
		return p.b[a.vs:a.ve]
	}
	class := dquoteClass
	if a.quote == '\'' {
		class = squoteClass
	}
	p.tmp = p.tmp[:0]
	_, _, _ = p.chars(a.vs, class, &p.tmp) // already checked by startTag
	return p.tmp
}

// endTag parses the end tag at i, which must close the element named name.
func (p *xmlParser) endTag(i int, name []byte) (int, error) {
	b := p.b
	if k := i + 2 + len(name); k < len(b) && bytes.Equal(b[i+2:k], name) {
		if b[k] == '>' {
			return k + 1, nil
		}
		if !nameChar[b[k]] && b[k] != ':' {
			if j := skipSpace(b, k); j < len(b) && b[j] == '>' {
				return j + 1, nil
			}
		}
	}
	end, _, err := p.name(i + 2)
	if err != nil {
		return i, err
	}
	if !bytes.Equal(b[i+2:end], name) {
		return i, p.fail(i, "<%s> closed by </%s>", name, b[i+2:end])
	}
	j := skipSpace(b, end)
	if j >= len(b) {
		return i, errMore
	}
	if b[j] != '>' {
		return i, p.fail(j, "expected > after </%s", name)
	}
	return j + 1, nil
}

// misc parses the comment, processing instruction or CDATA section at i,
// appending CDATA text to *out when out is not nil.
func (p *xmlParser) misc(i int, out *[]byte) (int, error) {
	b := p.b
	if err := p.need(i + 4); err != nil {
		return i, err
	}
	if b[i+1] == '?' {
		end, _, err := p.name(i + 2)
		if err != nil {
			return i, err
		}
		if strings.EqualFold(string(b[i+2:end]), "xml") {
			return i, p.fail(i, "XML declaration not at the start of the part")
		}
		k := bytes.Index(b[end:], []byte("?>"))
		if k < 0 {
			return i, errMore
		}
		return end + k + 2, nil
	}
	switch {
	case b[i+2] == '-' && b[i+3] == '-':
		k := bytes.Index(b[i+4:], []byte("--"))
		if k < 0 || i+4+k+2 >= len(b) {
			return i, errMore
		}
		if b[i+4+k+2] != '>' {
			return i, p.fail(i+4+k, `"--" inside a comment`)
		}
		return i + 4 + k + 3, nil
	}
	cdata, err := p.hasPrefix(i, "<![CDATA[")
	if err != nil {
		return i, err
	}
	if cdata {
		k := bytes.Index(b[i+9:], []byte("]]>"))
		if k < 0 {
			return i, errMore
		}
		return i + 9 + k + 3, p.cdata(i+9, i+9+k, out)
	}
	return i, p.fail(i, "document type declarations and other <! markup are not allowed")
}

// cdata checks the CDATA text b[i:end] and appends it to *out.
func (p *xmlParser) cdata(i, end int, out *[]byte) error {
	b := p.b
	run := i
	for i < end {
		switch textClass[b[i]] {
		case clCtl:
			return p.fail(i, "control character %#02x", b[i])
		case clHigh:
			j, err := p.utf8(i)
			if err != nil {
				return err
			}
			i = j
		case clCR:
			if out != nil {
				*out = append(append(*out, b[run:i]...), '\n')
			}
			i++
			if i < end && b[i] == '\n' {
				i++
			}
			run = i
		default:
			i++
		}
	}
	if out != nil {
		*out = append(*out, b[run:end]...)
	}
	return nil
}

// prolog parses the start of a part up to and including the root's start
// tag: a byte-order mark, the XML declaration, comments and white space.
func (p *xmlParser) prolog(i int) (tag, int, error) {
	b := p.b
	bom, err := p.hasPrefix(i, "\xEF\xBB\xBF")
	if err != nil {
		return tag{}, i, err
	}
	if bom {
		i += 3
	}
	decl, err := p.hasPrefix(i, "<?xml")
	if err != nil {
		return tag{}, i, err
	}
	if decl {
		if err := p.need(i + 6); err != nil {
			return tag{}, i, err
		}
		if b[i+5] == '?' || skipSpace(b, i+5) > i+5 {
			if i, err = p.declaration(i); err != nil {
				return tag{}, i, err
			}
		}
	}
	for {
		j := skipSpace(b, i)
		if err := p.need(j + 2); err != nil {
			return tag{}, i, err
		}
		if b[j] != '<' {
			return tag{}, i, p.fail(j, "text before the root element")
		}
		if b[j+1] != '!' && b[j+1] != '?' {
			return p.startTag(j)
		}
		if i, err = p.misc(j, nil); err != nil {
			return tag{}, i, err
		}
	}
}

// hasPrefix reports whether the bytes at i start with s.
func (p *xmlParser) hasPrefix(i int, s string) (bool, error) {
	rest := p.b[i:]
	if len(rest) < len(s) && strings.HasPrefix(s, string(rest)) {
		return false, errMore
	}
	return bytes.HasPrefix(rest, []byte(s)), nil
}

// declaration checks the XML declaration at i: version 1.0, and UTF-8, or
// UTF-16 for a part the inflater transcoded.
func (p *xmlParser) declaration(i int) (int, error) {
	b := p.b
	j := i + 5
	for {
		j = skipSpace(b, j)
		if err := p.need(j + 2); err != nil {
			return i, err
		}
		if b[j] == '?' && b[j+1] == '>' {
			return j + 2, nil
		}
		ne, _, err := p.name(j)
		if err != nil {
			return i, err
		}
		k := skipSpace(b, ne)
		if err := p.need(k + 1); err != nil {
			return i, err
		}
		if b[k] != '=' {
			return i, p.fail(k, "malformed XML declaration")
		}
		k = skipSpace(b, k+1)
		if err := p.need(k + 1); err != nil {
			return i, err
		}
		q := b[k]
		if q != '"' && q != '\'' {
			return i, p.fail(k, "malformed XML declaration")
		}
		end := bytes.IndexByte(b[k+1:], q)
		if end < 0 {
			return i, errMore
		}
		v := string(b[k+1 : k+1+end])
		switch string(b[j:ne]) {
		case "version":
			if v != "1.0" {
				return i, p.fail(j, "unsupported XML version %q", v)
			}
		case "encoding":
			if !strings.EqualFold(v, "utf-8") && !(p.s.utf16 && isUTF16(v)) {
				return i, p.fail(j, "unsupported encoding %q; only UTF-8 and UTF-16 are read", v)
			}
		case "standalone":
		default:
			return i, p.fail(j, "malformed XML declaration")
		}
		j = k + 1 + end + 1
	}
}
