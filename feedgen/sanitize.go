package feedgen

import (
	"bytes"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// LINE shows l_description, the 商品介紹 HTML, on a page of its own, and
// the merchant's HTML is not to be trusted there: exports carry <script>
// (5 of 745 products in one), and HTML pasted from elsewhere can carry
// event handlers and javascript: links. sanitizeLineHTML keeps the markup
// a product page is made of and nothing that runs, loads a page, takes
// input or restyles LINE's page:
//
//   - elements: those of lineElements; any other loses its tags and keeps
//     its text, but script, style, iframe, object and the like lose their
//     content too
//   - attributes: a href; img src, alt, width and height; td and th
//     colspan and rowspan. No event handler, and no style, class or id:
//     CSS can cover LINE's page (position: fixed) or fetch what it likes
//     (url()), and classes and ids name LINE's styles, not the shop's. A
//     description keeps its structure (headings, lists, tables, bold) and
//     loses colours, sizes and alignment.
//   - URLs: http, https, mailto and relative ones; a protocol-relative
//     //cdn… gets https:, as every image in a CYBERBIZ export has one and
//     LINE's page is https.
//
// The sanitizing is bluemonday's: maintained, allowlist-based, and the
// sanitizer Go programs use. It runs at some 30 MB/s, which on a large
// catalog, whose bytes are mostly descriptions, would slow a run by half;
// so fastLineHTML first takes the descriptions it can prove safe in one
// pass, and only the rest go through bluemonday.

// attrRule is what an attribute of an allowed element may hold.
type attrRule uint8

const (
	attrText      attrRule = iota + 1 // anything: alt
	attrURL                           // a URL of an allowed scheme: href, src
	attrNumber                        // digits: colspan, rowspan
	attrDimension                     // digits, optionally with %: width, height
)

// lineElements are the elements l_description keeps, each with the
// attributes it keeps. Every one but a and img is kept without
// attributes too, as bluemonday keeps them.
var lineElements = map[string]map[string]attrRule{
	"a":   {"href": attrURL},
	"img": {"src": attrURL, "alt": attrText, "width": attrDimension, "height": attrDimension},
	"td":  {"colspan": attrNumber, "rowspan": attrNumber},
	"th":  {"colspan": attrNumber, "rowspan": attrNumber},

	"p": nil, "br": nil, "hr": nil, "div": nil, "span": nil, "section": nil,
	"h1": nil, "h2": nil, "h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"ul": nil, "ol": nil, "li": nil, "dl": nil, "dt": nil, "dd": nil,
	"table": nil, "caption": nil, "colgroup": nil, "col": nil, "thead": nil, "tbody": nil, "tfoot": nil, "tr": nil,
	"b": nil, "strong": nil, "i": nil, "em": nil, "u": nil, "s": nil, "del": nil, "ins": nil,
	"small": nil, "sub": nil, "sup": nil, "mark": nil, "blockquote": nil, "pre": nil, "code": nil,
	"figure": nil, "figcaption": nil,
}

// lineDroppedTags are elements of merchants' HTML whose tags bluemonday
// drops, keeping their text, and whose tags fastLineHTML drops itself:
// <font> and <center> from old editors, <o:p> from Word.
var lineDroppedTags = map[string]bool{"font": true, "center": true, "o:p": true}

var (
	numberAttr    = regexp.MustCompile(`^[0-9]+$`)
	dimensionAttr = regexp.MustCompile(`^[0-9]+%?$`)
)

// linePolicy is lineElements as a bluemonday policy.
var linePolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	for name, attrs := range lineElements {
		p.AllowElements(name)
		for attr, rule := range attrs {
			switch rule {
			case attrNumber:
				p.AllowAttrs(attr).Matching(numberAttr).OnElements(name)
			case attrDimension:
				p.AllowAttrs(attr).Matching(dimensionAttr).OnElements(name)
			default:
				p.AllowAttrs(attr).OnElements(name)
			}
		}
	}
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	return p
})

// sanitizeLineHTML returns the HTML s as l_description carries it and,
// when it removed something unsafe, a name for the first such thing
// ("<script>", "onerror"), for the run's note.
func sanitizeLineHTML(s string) (clean, unsafe string) {
	if t, ok := fastLineHTML(s); ok {
		return t, ""
	}
	return slowLineHTML(s), lineUnsafe(s)
}

// slowLineHTML is sanitizeLineHTML by bluemonday, for any input. Its
// output writes every attribute as ` name="value"` with any '"' in a value
// escaped, and escapes '"' in text, so the replacer finds protocol-relative
// URLs there and nowhere else.
func slowLineHTML(s string) string {
	return protocolRelative.Replace(linePolicy().Sanitize(s))
}

var protocolRelative = strings.NewReplacer(` src="//`, ` src="https://`, ` href="//`, ` href="https://`)

// fastLineHTML is sanitizeLineHTML for HTML it can prove safe as it
// scans: text without NUL or a bare '<', entities, and tags of
// lineElements and lineDroppedTags whose attributes all have quoted
// values. It does in the same pass what bluemonday would: adds https: to
// protocol-relative URLs, drops the attributes lineElements does not keep
// and the tags of lineDroppedTags. It returns s itself when nothing
// changes. ok is false, for bluemonday to do the work, at anything it is
// not sure of: comments, doctypes, processing instructions, other
// elements, event handlers, unquoted or missing values, URLs it does not
// know to be safe, input that ends inside a tag. A fuzz test holds its
// output to bluemonday's.
func fastLineHTML(s string) (string, bool) {
	// The tokenizer makes NUL U+FFFD. Bytes from 0x80 are text to it and
	// to this scan alike, so UTF-8 is not checked: mapProduct's cleanText
	// did, and a run's descriptions are hundreds of MB.
	if strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	e := htmlEditor{s: s}
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		if j+1 == len(s[i:]) {
			return "", false
		}
		e.amp = e.amp || strings.IndexByte(s[i:i+j], '&') >= 0
		i += j
		var ok bool
		switch c := s[i+1]; {
		case isASCIILetter(c):
			i, ok = e.startTag(i)
		case c == '/':
			i, ok = e.endTag(i)
		}
		// A '<' that starts no tag is text, but one before a dropped
		// tag could start a tag with what follows it: refused, for
		// bluemonday to escape.
		if !ok {
			return "", false
		}
	}
	return e.result(), true
}

// htmlEditor builds a string from s with pieces cut out and inserted, in
// order, copying nothing until the first change.
type htmlEditor struct {
	s       string
	b       strings.Builder
	done    int // s[:done] is in b
	changed bool
	// amp says the text since the last tag kept has an '&', which
	// dropping a tag could join to the text after it.
	amp bool
}

// dropTag cuts the tag s[from:to] out, unless the text around it could
// join into an entity.
func (e *htmlEditor) dropTag(from, to int) bool {
	if e.amp {
		return false
	}
	e.cut(from, to)
	return true
}

func (e *htmlEditor) copyTo(i int) {
	if !e.changed {
		e.b.Grow(len(e.s) + 64)
		e.changed = true
	}
	e.b.WriteString(e.s[e.done:i])
	e.done = i
}

func (e *htmlEditor) cut(from, to int) {
	e.copyTo(from)
	e.done = to
}

func (e *htmlEditor) insert(at int, t string) {
	e.copyTo(at)
	e.b.WriteString(t)
}

func (e *htmlEditor) result() string {
	if !e.changed {
		return e.s
	}
	e.copyTo(len(e.s))
	return e.b.String()
}

// startTag checks the start tag at s[i] == '<' and returns the offset
// after it.
func (e *htmlEditor) startTag(i int) (int, bool) {
	s := e.s
	p := i + 1
	for p < len(s) && isTagNameByte(s[p]) {
		p++
	}
	if p >= len(s) || !isHTMLSpace(s[p]) && s[p] != '/' && s[p] != '>' {
		return 0, false
	}
	var buf [16]byte
	name, ok := lowerName(&buf, s[i+1:p])
	if !ok {
		return 0, false
	}
	attrs, allowed := lineElements[name]
	drop := lineDroppedTags[name]
	if !allowed && !drop {
		return 0, false
	}
	kept := 0
	for {
		attrStart := p
		p = skipHTMLSpace(s, p)
		if p >= len(s) {
			return 0, false
		}
		switch s[p] {
		case '>':
			p++
		case '/':
			if p+1 >= len(s) || s[p+1] != '>' {
				return 0, false
			}
			p += 2
		default:
			next, keep, ok := e.attr(attrs, p, drop)
			if !ok {
				return 0, false
			}
			if keep {
				kept++
			} else if !drop {
				e.cut(attrStart, next)
				if next < len(s) && !isHTMLSpace(s[next]) && s[next] != '>' && s[next] != '/' {
					// The next attribute followed without a space,
					// which the tag's name must not run into.
					e.insert(next, " ")
				}
			}
			p = next
			continue
		}
		break
	}
	if drop {
		return p, e.dropTag(i, p)
	}
	e.amp = false
	if kept == 0 && (name == "a" || name == "img") {
		// bluemonday drops an <a> or <img> left without attributes,
		// and the <a>'s end tag with it.
		return 0, false
	}
	return p, true
}

// attr checks the attribute at s[p], a name and a quoted value, and
// returns the offset after it and whether the element keeps it. The
// attributes of a tag that is dropped whole are only checked.
func (e *htmlEditor) attr(rules map[string]attrRule, p int, drop bool) (next int, keep, ok bool) {
	s := e.s
	start := p
	if !isASCIILetter(s[p]) {
		return 0, false, false
	}
	for p < len(s) && isAttrNameByte(s[p]) {
		p++
	}
	key := s[start:p]
	if p+1 >= len(s) || s[p] != '=' || s[p+1] != '"' && s[p+1] != '\'' {
		return 0, false, false
	}
	q := strings.IndexByte(s[p+2:], s[p+1])
	if q < 0 {
		return 0, false, false
	}
	vStart, vEnd := p+2, p+2+q
	next, val := vEnd+1, s[vStart:vEnd]
	if len(key) >= 2 && key[0]|0x20 == 'o' && key[1]|0x20 == 'n' {
		return 0, false, false // an event handler: for the run's note
	}
	var buf [16]byte
	lkey, short := lowerName(&buf, key)
	if drop || !short {
		return next, false, true
	}
	switch rules[lkey] {
	case attrText:
		return next, true, true
	case attrURL:
		relative, ok := safeURL(val)
		if !ok {
			return 0, false, false
		}
		if relative {
			e.insert(vStart, "https:")
		}
		return next, true, true
	case attrNumber, attrDimension:
		if strings.IndexByte(val, '&') >= 0 {
			return 0, false, false // bluemonday matches the decoded value
		}
		re := numberAttr
		if rules[lkey] == attrDimension {
			re = dimensionAttr
		}
		return next, re.MatchString(val), true
	}
	return next, false, true
}

// endTag checks the end tag at s[i] == '<' and returns the offset after
// it.
func (e *htmlEditor) endTag(i int) (int, bool) {
	s := e.s
	p := i + 2
	if p >= len(s) || !isASCIILetter(s[p]) {
		return 0, false
	}
	for p < len(s) && isTagNameByte(s[p]) {
		p++
	}
	var buf [16]byte
	name, ok := lowerName(&buf, s[i+2:p])
	if p = skipHTMLSpace(s, p); !ok || p >= len(s) || s[p] != '>' {
		return 0, false
	}
	p++
	if _, allowed := lineElements[name]; allowed {
		e.amp = false
		return p, true
	}
	if lineDroppedTags[name] {
		return p, e.dropTag(i, p)
	}
	return 0, false
}

// safeURL reports whether the raw attribute value v is a URL bluemonday
// keeps as it is: http(s) with a plain host, mailto, or a relative path,
// in characters that neither hide a scheme (entities, white space,
// controls) nor fail to parse. relative says it starts with //, to which
// https: is to be added.
func safeURL(v string) (relative, ok bool) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 0x80:
		case urlRefused[c]:
			return false, false
		case c == '&':
			if !strings.HasPrefix(v[i:], "&amp;") {
				return false, false
			}
			i += len("&amp;") - 1
		case c == '%':
			if i+2 >= len(v) || !isHexDigit(v[i+1]) || !isHexDigit(v[i+2]) {
				return false, false
			}
		}
	}
	switch {
	case strings.HasPrefix(v, "https://"):
		return false, plainAuthority(v[len("https://"):])
	case strings.HasPrefix(v, "http://"):
		return false, plainAuthority(v[len("http://"):])
	case strings.HasPrefix(v, "//"):
		return true, plainAuthority(v[len("//"):])
	case strings.HasPrefix(v, "mailto:"):
		return false, true
	}
	// A relative path: no ':' before its first '/', '?' or '#', which
	// would make what comes before a scheme.
	end := strings.IndexAny(v, "/?#")
	if end < 0 {
		end = len(v)
	}
	// url.Parse makes "#" nothing, which bluemonday drops.
	return false, v != "" && v != "#" && strings.IndexByte(v[:end], ':') < 0
}

// urlRefused are the ASCII bytes safeURL refuses: white space and
// controls, which browsers skip, '\', which they read as '/', and those
// url.Parse or HTML make something of.
var urlRefused = func() (r [128]bool) {
	for c := range byte(' ' + 1) {
		r[c] = true
	}
	for _, c := range []byte("\x7f\"'<>\\^`{|}[]") {
		r[c] = true
	}
	return r
}()

// plainAuthority reports whether the URL after its // starts with a
// host of letters, digits, '.', '-' and '_', with an optional port.
func plainAuthority(rest string) bool {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		for _, c := range []byte(host[i+1:]) {
			if c < '0' || c > '9' {
				return false
			}
		}
		host = host[:i]
	}
	if host == "" {
		return false
	}
	for _, c := range []byte(host) {
		if !isASCIILetter(c) && (c < '0' || c > '9') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// lowerName is name in lower case, in buf; ok is false when it does not
// fit, which no name of lineElements does.
func lowerName(buf *[16]byte, name string) (string, bool) {
	if len(name) > len(buf) {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:len(name)]), true
}

func isTagNameByte(c byte) bool {
	return isASCIILetter(c) || '0' <= c && c <= '9' || c == ':'
}

func isAttrNameByte(c byte) bool {
	return isASCIILetter(c) || '0' <= c && c <= '9' || c == '-' || c == '_' || c == ':'
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// lineUnsafeElements are the elements whose removal the run's note
// reports: they run code, embed or submit to other pages, or restyle
// LINE's.
var lineUnsafeElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "form": true, "input": true, "button": true, "textarea": true,
	"select": true, "base": true, "link": true, "meta": true, "svg": true, "math": true,
}

// lineUnsafe names the first unsafe thing in s that sanitizing removes:
// an element of lineUnsafeElements, an event handler, or a URL of
// another scheme than http, https and mailto ("javascript: URL"). It
// reads s as the tokenizer bluemonday uses does, with entities decoded.
func lineUnsafe(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if lineUnsafeElements[string(name)] {
				return "<" + string(name) + ">"
			}
			for more {
				var key, val []byte
				key, val, more = z.TagAttr()
				if bytes.HasPrefix(key, []byte("on")) {
					return string(key)
				}
				if string(key) == "href" || string(key) == "src" {
					if scheme := urlScheme(val); scheme != "" && scheme != "http" && scheme != "https" && scheme != "mailto" {
						return scheme + ": URL"
					}
				}
			}
		}
	}
}

// urlScheme is the scheme of the URL v as a browser reads it, which
// ignores ASCII white space and controls in it, in lower case; "" for a
// relative URL.
func urlScheme(v []byte) string {
	var b []byte
	for _, c := range v {
		switch {
		case c <= ' ':
		case c == ':':
			return string(b)
		case isASCIILetter(c) || len(b) > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
			b = append(b, c|0x20)
		default:
			return ""
		}
	}
	return ""
}
