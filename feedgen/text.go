package feedgen

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Export text reaches the feeds through these functions: cleaned of what
// XML forbids, HTML turned into plain text, white space folded. They run on
// every product's kilobytes of description, so each has a fast path for
// the common case (valid UTF-8, ordinary markup) that does no per-character
// decoding and no allocation beyond its result, and falls back to the
// general code, which defines the behaviour, for anything else.

// truncate cuts s to at most n characters, on a character boundary. A
// character is counted at each byte that starts one, so invalid UTF-8 is
// never split inside a valid sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := 0; i < len(s); i++ {
		if utf8.RuneStart(s[i]) {
			if count == n {
				return s[:i]
			}
			count++
		}
	}
	return s
}

// truncateHTML cuts the markup s to at most n characters as truncate
// does, moved back so that it ends neither inside a tag nor inside a
// character reference: what is left is markup a browser closes itself,
// not a tag or an "&am" shown as text.
func truncateHTML(s string, n int) string {
	t := truncate(s, n)
	if len(t) == len(s) {
		return s
	}
	for {
		i := strings.LastIndexByte(t, '<')
		if i < 0 || tagEnds(t[i:]) {
			break
		}
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '&'); i >= 0 && !strings.ContainsAny(t[i:], "; \t\n<>") {
		t = t[:i]
	}
	return t
}

// tagEnds reports whether the tag that s starts with ends in s: at a '>'
// outside quoted attribute values.
func tagEnds(s string) bool {
	var quote byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return true
		}
	}
	return false
}

// runeCount counts the characters of valid UTF-8 s as bytes that start
// one: the same as utf8.RuneCountInString, without decoding.
func runeCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if utf8.RuneStart(s[i]) {
			n++
		}
	}
	return n
}

// cleanText drops what no feed may carry: invalid UTF-8 and the control
// characters XML 1.0 forbids (all below U+0020 but tab, LF and CR), plus
// U+FFFE/U+FFFF. Exports pasted from other systems contain them, and one is
// enough to make a whole XML feed unreadable.
func cleanText(s string) string {
	if isCleanText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if validXMLRune(r, n) {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isCleanText reports whether cleanText would return s unchanged. In valid
// UTF-8 the only characters XML forbids are the ASCII controls and
// U+FFFE/U+FFFF (EF BF BE/BF), so bytes are compared, not runes decoded.
func isCleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
		if c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && s[i+2] >= 0xBE {
			return false
		}
	}
	return utf8.ValidString(s)
}

// validXMLRune reports whether a decoded rune of size bytes is valid UTF-8
// that XML allows.
func validXMLRune(r rune, size int) bool {
	return (r != utf8.RuneError || size > 1) && xmlChar(r)
}

// xmlChar reports whether XML 1.0 allows r (its Char production).
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= utf8.MaxRune
}

// foldSpace returns s cleaned (see cleanText) with white space folded to
// single spaces and trimmed: strings.Join(strings.Fields(cleanText(s)), " ")
// in one pass.
func foldSpace(s string) string {
	var f textFolder
	f.b.Grow(len(s))
	f.write(s)
	return f.b.String()
}

// textFolder builds folded text (see foldSpace) from pieces: what it is
// given is folded as if it had been given in one string.
type textFolder struct {
	b     strings.Builder
	space bool // a space is due before the next character
	// valid says all text written is valid UTF-8, checked once by the
	// caller: a 100k-product export's descriptions are hundreds of MB.
	valid bool
}

// breakWord is a white space character: it separates what comes before
// from what comes after, and adds nothing at the start or end.
func (f *textFolder) breakWord() { f.space = f.b.Len() > 0 }

func (f *textFolder) keep(s string) {
	if s == "" {
		return
	}
	if f.space {
		f.b.WriteByte(' ')
		f.space = false
	}
	f.b.WriteString(s)
}

// Byte classes for folding valid UTF-8: most bytes, continuation bytes
// included, belong to characters that are kept as they are.
const (
	foldKeep   = iota
	foldSpaceC // ASCII white space XML allows: space, tab, LF, CR
	foldDrop   // ASCII controls XML forbids
	foldDecode // lead bytes of the only multi-byte white space (U+0085, U+00A0, U+1680, U+2000–U+205F, U+3000) and of U+FFFE/U+FFFF
)

var foldClass = func() (c [256]uint8) {
	for b := range 0x20 {
		c[b] = foldDrop
	}
	for _, b := range []byte{' ', '\t', '\n', '\r'} {
		c[b] = foldSpaceC
	}
	for _, b := range []byte{0xC2, 0xE1, 0xE2, 0xE3, 0xEF} {
		c[b] = foldDecode
	}
	return c
}()

func (f *textFolder) write(s string) {
	if !f.valid && !utf8.ValidString(s) {
		f.writeRunes(s)
		return
	}
	start := 0 // the kept bytes not yet written start here
	for i := 0; i < len(s); {
		switch foldClass[s[i]] {
		case foldKeep:
			i++
			continue
		case foldDecode:
			r, n := utf8.DecodeRuneInString(s[i:])
			space := unicode.IsSpace(r)
			if xmlChar(r) && !space {
				i += n
				continue
			}
			f.keep(s[start:i])
			if space {
				f.breakWord()
			}
			i += n
		case foldSpaceC:
			f.keep(s[start:i])
			f.breakWord()
			i++
		case foldDrop:
			f.keep(s[start:i])
			i++
		}
		start = i
	}
	f.keep(s[start:])
}

// writeRunes is write for text that is not valid UTF-8.
func (f *textFolder) writeRunes(s string) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case !validXMLRune(r, n):
		case unicode.IsSpace(r):
			f.breakWord()
		default:
			f.keep(s[i : i+n])
		}
		i += n
	}
}

// htmlToText turns 商品介紹 HTML into the plain text that Google and Meta
// want: tags removed, entities decoded, scripts and styles dropped, white
// space folded, block elements separated. Inline tags add no space, which
// matters for Chinese: <b>紅</b>色 is 紅色.
func htmlToText(s string) string {
	if text, ok := plainHTMLToText(s); ok {
		return text
	}
	return tokenizeHTMLToText(s)
}

// tokenizeHTMLToText is htmlToText by the HTML tokenizer: it defines the
// result for every input.
func tokenizeHTMLToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return foldSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return foldSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Template:
				// <script/> opens a script like <script>: HTML ignores the
				// slash on these, and the tokenizer reads on as raw text.
				if tt != html.EndTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			case blockElement[a]:
				b.WriteByte(' ')
			}
		}
	}
}

// plainHTMLToText is htmlToText for the HTML that product descriptions are
// made of: text, entities, and tags with or without attributes. It scans
// tags as the tokenizer does (html/token.go: readTag and its helpers) and
// reports false, for tokenizeHTMLToText to do the work, at anything else:
// invalid UTF-8, comments, doctypes, processing instructions, elements
// whose content the tokenizer reads as raw text, <template>, and input
// that ends inside a tag. A fuzz test holds the two to the same result.
func plainHTMLToText(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	f := textFolder{valid: true}
	f.b.Grow(len(s))
	text := 0 // the current text run starts here
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 || i+j+1 == len(s) {
			break // a '<' at the very end is text
		}
		i += j
		c := s[i+1]
		end := false
		switch {
		case isASCIILetter(c):
		case c == '/' && i+2 < len(s) && s[i+2] == '>':
			// "</>" is no token at all.
			f.text(s[text:i])
			i += 3
			text = i
			continue
		case c == '/' && i+2 < len(s) && isASCIILetter(s[i+2]):
			end = true
		case c == '/' || c == '!' || c == '?':
			return "", false
		default:
			i++ // '<' followed by anything else is text
			continue
		}
		f.text(s[text:i])
		nameStart := i + 1
		if end {
			nameStart++
		}
		next, name, ok := scanTag(s, nameStart)
		if !ok {
			return "", false
		}
		switch a := tagAtom(name); {
		case a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Template:
			if !end {
				return "", false
			}
		case !end && rawTextElement[a]:
			return "", false
		case blockElement[a]:
			f.breakWord()
		}
		i, text = next, next
	}
	f.text(s[text:])
	return f.b.String(), true
}

// text adds a run of HTML text: entities decoded as the tokenizer's Text
// does. Its newline conversion is left out: \r and \n fold alike.
//
// Entities are decoded one at a time rather than the run at once, which
// would copy every description: an entity never reaches past its name
// ([#] and letters and digits) and an optional ';', so decoding that much
// of the run on its own gives what decoding the whole run gives there.
func (f *textFolder) text(s string) {
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			f.write(s)
			return
		}
		f.write(s[:i])
		j := i + 1
		if j < len(s) && s[j] == '#' {
			j++
		}
		for j < len(s) && (isASCIILetter(s[j]) || '0' <= s[j] && s[j] <= '9') {
			j++
		}
		if j < len(s) && s[j] == ';' {
			j++
		}
		entity := s[i:j]
		if text, ok := commonEntities[entity]; ok {
			f.write(text)
		} else {
			f.write(html.UnescapeString(entity))
		}
		s = s[j:]
	}
}

// commonEntities are decoded without a call, which would allocate.
var commonEntities = map[string]string{
	"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": `"`, "&#39;": "'", "&nbsp;": "\u00a0",
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f'
}

// scanTag reads a tag from the first letter of its name, as the
// tokenizer's readTag does, and returns the offset after its '>' and its
// name. ok is false when s ends inside the tag.
func scanTag(s string, p int) (next int, name string, ok bool) {
	nameStart := p
	for {
		if p >= len(s) {
			return 0, "", false
		}
		if c := s[p]; isHTMLSpace(c) {
			name = s[nameStart:p]
			p++
			break
		} else if c == '/' || c == '>' {
			name = s[nameStart:p]
			break
		}
		p++
	}
	p = skipHTMLSpace(s, p)
	for {
		if p >= len(s) {
			return 0, "", false
		}
		if s[p] == '>' {
			return p + 1, name, true
		}
		// The attribute's name: an '=' that starts it is part of it.
		keyStart := p
	key:
		for ; p < len(s); p++ {
			switch c := s[p]; {
			case c == '=' && p == keyStart:
			case c == '=' || c == '/' || c == '>' || isHTMLSpace(c):
				break key
			}
		}
		// Its value, if an '=' follows.
		if p = skipHTMLSpace(s, p); p >= len(s) {
			return 0, "", false
		}
		switch s[p] {
		case '/':
			p++
		case '=':
			if p = skipHTMLSpace(s, p+1); p >= len(s) {
				return 0, "", false
			}
			switch q := s[p]; q {
			case '>':
			case '\'', '"':
				k := strings.IndexByte(s[p+1:], q)
				if k < 0 {
					return 0, "", false
				}
				p += k + 2
			default:
				for p++; p < len(s) && !isHTMLSpace(s[p]) && s[p] != '>'; p++ {
				}
				if p < len(s) && s[p] != '>' {
					p++
				}
			}
		}
		p = skipHTMLSpace(s, p)
	}
}

func skipHTMLSpace(s string, p int) int {
	for p < len(s) && isHTMLSpace(s[p]) {
		p++
	}
	return p
}

// tagAtom is the atom of a tag name, compared without case.
func tagAtom(name string) atom.Atom {
	var buf [16]byte
	if len(name) > len(buf) {
		return 0
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return atom.Lookup(buf[:len(name)])
}

// rawTextElement are the start tags after which the tokenizer reads raw
// text (html/token.go: readStartTag).
var rawTextElement = map[atom.Atom]bool{
	atom.Iframe: true, atom.Noembed: true, atom.Noframes: true, atom.Noscript: true, atom.Plaintext: true,
	atom.Script: true, atom.Style: true, atom.Textarea: true, atom.Title: true, atom.Xmp: true,
}

var blockElement = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true, atom.Br: true,
	atom.Dd: true, atom.Div: true, atom.Dl: true, atom.Dt: true, atom.Figcaption: true, atom.Figure: true,
	atom.Footer: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Img: true, atom.Li: true, atom.Main: true, atom.Nav: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Table: true, atom.Td: true, atom.Th: true, atom.Tr: true,
	atom.Ul: true,
}
