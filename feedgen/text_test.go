package feedgen

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "紅色 T恤", "紅色 T恤"},
		{"empty stays empty", "", ""},
		{"NUL is dropped", "a\x00b", "ab"},
		{"U+0001 is dropped", "a\x01b", "ab"},
		{"vertical tab U+000B is dropped", "a\x0bb", "ab"},
		{"form feed U+000C is dropped", "a\x0cb", "ab"},
		{"U+001F is dropped", "a\x1fb", "ab"},
		{"U+FFFE is dropped", "a\ufffeb", "ab"},
		{"U+FFFF is dropped", "a\uffffb", "ab"},
		{"an invalid UTF-8 byte is dropped", "a\xffb", "ab"},
		{"a truncated UTF-8 sequence is dropped", "a\xe7\xb4b", "ab"},
		{"an encoded surrogate is dropped", "a\xed\xa0\x80b", "ab"},
		{"tab, LF and CR are kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"emoji are kept", "好評👍🏻", "好評👍🏻"},
		{"U+FFFD itself is kept", "a\ufffdb", "a\ufffdb"},
		{"DEL and C1 controls are allowed by XML and kept", "a\x7f\u0085b", "a\x7f\u0085b"},
		{"private use U+E000 is kept", "a\ue000b", "a\ue000b"},
		{"markup characters are not its business", `<&>"'`, `<&>"'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.want {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty stays empty", "", ""},
		{"plain text has its white space folded", "  純棉\n\n 透氣\t", "純棉 透氣"},
		{"inline tags add no space", "<b>紅</b>色", "紅色"},
		{"block elements are separated", "<p>a</p><p>b</p>", "a b"},
		{"br separates", "a<br>b<br/>c", "a b c"},
		{"list items are separated", "<ul><li>一</li><li>二</li></ul>", "一 二"},
		{"named entities are decoded", "&amp; &lt;b&gt; &quot;x&quot; &#39;y&#39;", `& <b> "x" 'y'`},
		{"numeric entities are decoded", "&#x7D05;&#33394;", "紅色"},
		{"nbsp is a space", "a&nbsp;&nbsp;b", "a b"},
		{"an entity without its semicolon is decoded", "AT&amp T", "AT& T"},
		{"script is dropped", `<p>a</p><script>alert("<p>x</p>")</script><p>b</p>`, "a b"},
		{"script in capitals is dropped", `<SCRIPT type="text/javascript">x()</SCRIPT>ok`, "ok"},
		{"self-closing script is still a script", "<script/>alert(1)</script>ok", "ok"},
		{"style is dropped", "<style>p { color: red }</style>ok", "ok"},
		{"self-closing style is still a style", "<style/>p{}</style>ok", "ok"},
		{"noscript is dropped", "<noscript>開啟 JavaScript</noscript>ok", "ok"},
		{"template is dropped", "<template><p>x</p></template>ok", "ok"},
		{"an unclosed script drops the rest", "a<script>x", "a"},
		{"a stray end tag is ignored", "a</script>b", "ab"},
		{"comments are dropped", "a<!-- 備註 -->b", "ab"},
		{"an unclosed comment drops the rest", "a<!-- b", "a"},
		{"an unclosed element keeps its text", "<b>紅", "紅"},
		{"unclosed paragraphs are separated", "<p>a<p>b", "a b"},
		{"an unfinished tag at the end is dropped", "a <b", "a"},
		{"a lone < is text", "a < b", "a < b"},
		{"a lone & is text", "a & b", "a & b"},
		{"& in a word is text", "AT&T", "AT&T"},
		{"& alone is text", "&", "&"},
		{"images separate", `文<img src="x.jpg" alt="圖">字`, "文 字"},
		{"attributes are not text", `<a href="https://x" title="t">連結</a>`, "連結"},
		{"control characters are dropped", "<p>a\x01\x0b</p>b\x00", "a b"},
		{"a control character from an entity is dropped", "&#1;x", "x"},
		{"control characters without markup are dropped", "a\x00b", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// xmlAllowed is XML 1.0's Char production.
func xmlAllowed(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "紅色", "a\x00b", "\x01\x0b\x1f", "\ufffe\uffff", "\xff\xfe", "a\xe7\xb4", "\ufffd", "👍🏻\t\r\n", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := cleanText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("cleanText(%q) = %q, which is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if !xmlAllowed(r) {
				t.Fatalf("cleanText(%q) = %q, which holds %U, not allowed in XML", s, out, r)
			}
		}
		if again := cleanText(out); again != out {
			t.Fatalf("cleanText(cleanText(%q)) = %q, want %q (idempotent)", s, again, out)
		}
		// What is allowed is kept: a clean input comes back unchanged.
		clean := utf8.ValidString(s)
		for _, r := range s {
			clean = clean && xmlAllowed(r)
		}
		if clean && out != s {
			t.Fatalf("cleanText(%q) = %q, want the clean input unchanged", s, out)
		}
		if len(out) > len(s) {
			t.Fatalf("cleanText(%q) = %q, longer than its input", s, out)
		}
	})
}

// scriptLike are the elements whose content htmlToText must drop, each
// opened in ways the tokenizer takes as the start of raw text.
var scriptLike = []struct{ open, body1, body2, close string }{
	{"<script>", "x='<script>1'", "x='<script>2'", "</script>"},
	{"<script/>", "x='<script>1'", "x='<script>2'", "</script>"},
	{`<SCRIPT type="text/javascript">`, "x='<script>1'", "x='<script>2'", "</SCRIPT>"},
	{"<style>", "p{content:'<script>1'}", "p{content:'<script>2'}", "</style>"},
	{"<style/>", "p{content:'1'}", "p{content:'2'}", "</style>"},
	{"<noscript>", "<p>1</p>", "<p>2</p>", "</noscript>"},
}

// endsWithTag reports whether the tokenizer reads open, written after
// prefix, as a tag of its own rather than as text, a comment or part of
// another tag.
func endsWithTag(prefix, open string) bool {
	z := html.NewTokenizer(strings.NewReader(prefix + open))
	last, raw := html.ErrorToken, ""
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		last, raw = tt, string(z.Raw())
	}
	return (last == html.StartTagToken || last == html.SelfClosingTagToken) && raw == open
}

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{
		"", "<b>紅</b>色", "<p>a</p><p>b</p>", "&amp;&lt;&#0;&#1;", "<script>alert(1)</script>", "<script/>x",
		"<style>", "<title>", "<textarea><script>", "<!--", "<noscript>", "</noscript>", "<template>",
		"<plaintext>", "a<", "&", "<a href='", "<p\x00>", "\xff<b>\x01</b>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := htmlToText(s)
		if cleanText(out) != out {
			t.Fatalf("htmlToText(%q) = %q, which cleanText changes to %q", s, out, cleanText(out))
		}
		if folded := strings.Join(strings.Fields(out), " "); folded != out {
			t.Fatalf("htmlToText(%q) = %q, want its white space folded: %q", s, out, folded)
		}
		// Whatever comes before it, once a script-like element really
		// opens, its content must not change the text.
		for _, e := range scriptLike {
			if !endsWithTag(s, e.open) {
				continue
			}
			a := htmlToText(s + e.open + e.body1 + e.close + "後")
			b := htmlToText(s + e.open + e.body2 + e.close + "後")
			if a != b {
				t.Fatalf("the content of %s leaks after %q: htmlToText gives %q and %q", e.open, s, a, b)
			}
		}
	})
}

// FuzzFoldSpace: the one-pass fold equals cleaning, splitting on white
// space and joining with single spaces.
func FuzzFoldSpace(f *testing.F) {
	for _, s := range []string{"", " a  b ", "\u3000紅\u00a0色\t\n", "a\x00 b\xff", "\u2028x\u0085y ", " \x01 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := foldSpace(s), strings.Join(strings.Fields(cleanText(s)), " "); got != want {
			t.Errorf("foldSpace(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestPlainHTMLToText: description HTML of the usual kinds takes the fast
// path, what it leaves to the tokenizer does not, and both give what the
// tokenizer gives.
func TestPlainHTMLToText(t *testing.T) {
	tests := []struct {
		name, in string
		fast     bool
	}{
		{"paragraphs and entities", "<p>純棉&nbsp;<b>舒適</b>好穿 &amp; 透氣</p><ul><li>S–L</li></ul>", true},
		{"attributes of every kind", `<img src="a>b.jpg" alt='x>y' width=300 data-x = "1" hidden>文<br/>字`, true},
		{"upper-case tags", "<P>a</P><DIV>b</DIV>", true},
		{"a lone < is text", "a < b <1 <中", true},
		{"a < at the very end is text", "a<", true},
		{"</> is nothing", "a</>b", true},
		{"an end tag of a script-like element is ignored", "a</script>b</TEMPLATE>c", true},
		{"an unquoted value ends at >", "<a href=x>y</a>", true},
		{"an = that starts an attribute is part of its name", "<a =x>y", true},
		{"a slash between attributes", "<a / b / >y", true},
		{"white space around =", "<a b = 'c>' >y", true},
		{"a tag without a name is text", "a <>b", true},
		{"a script", "<script>x</script>ok", false},
		{"a self-closing style", "<style/>p{}</style>ok", false},
		{"a title is read as text by the tokenizer", "<title>t</title>", false},
		{"a template", "<template>x</template>ok", false},
		{"a comment", "a<!-- b -->c", false},
		{"a processing instruction", "a<?x?>b", false},
		{"an end tag that is not one", "a</ b>c", false},
		{"input that ends inside a tag", `a<img src="x`, false},
		{"input that ends after </", "a</", false},
		{"invalid UTF-8", "<b>\xe7</b>\xb4\x85", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fast := plainHTMLToText(tt.in)
			if fast != tt.fast {
				t.Errorf("plainHTMLToText(%q) took the fast path: %v, want %v", tt.in, fast, tt.fast)
			}
			want := tokenizeHTMLToText(tt.in)
			if fast && got != want {
				t.Errorf("plainHTMLToText(%q) = %q, the tokenizer gives %q", tt.in, got, want)
			}
			if h := htmlToText(tt.in); h != want {
				t.Errorf("htmlToText(%q) = %q, the tokenizer gives %q", tt.in, h, want)
			}
		})
	}
}

// FuzzHTMLToTextMatchesTokenizer: whenever the fast path takes an input,
// its text is the tokenizer's.
func FuzzHTMLToTextMatchesTokenizer(f *testing.F) {
	for _, s := range []string{
		"<p>a</p>b", `<img src="a>b" alt='c'>d`, "<a b=c>d</a>", "<a =b>c", "<a/b/>c", "<a b = 'c' >d",
		"a < b", "a<", "a</>b", "&amp;&lt;&#x7D05;&nbsp;&amp", "<P>A<BR>B", "<a\tb\n=\r'c'\f>d",
		"<a b=>c", "<a b= >c", "a\r\nb\rc", "<b>\x00</b>", "<p\x00>x", "\u3000<li>\u00a0</li>",
		"<a b='c", "<a b=c", "<a b", "<a ", "<a", "</a", "</a ", "</a b='>'>c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, fast := plainHTMLToText(s)
		if !fast {
			return
		}
		if want := tokenizeHTMLToText(s); got != want {
			t.Fatalf("plainHTMLToText(%q) = %q, the tokenizer gives %q", s, got, want)
		}
	})
}

// FuzzTruncate: on valid UTF-8, truncate keeps the first n characters;
// on any input it returns a prefix that splits no character.
func TestTruncateHTML(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"<p>abc</p>", 20, "<p>abc</p>"},
		{"<p>abcdef</p>", 6, "<p>abc"},
		{`<p>ab<img src="x.jpg"></p>`, 10, "<p>ab"},
		{`<p>ab<img src="x.jpg"></p>`, 22, `<p>ab<img src="x.jpg">`},
		{"<p>a &amp; b</p>", 7, "<p>a "},
		{"<p>a &amp; b</p>", 10, "<p>a &amp;"},
		{"<p>AT&T rocks</p>", 6, "<p>AT"},
		{"<p>AT&T rocks</p>", 8, "<p>AT&T "},
		{"紅色<b>T恤</b>", 4, "紅色<b"[:len("紅色")]},
		{`<p>hi</p><img alt="a>b" src="https://x/y.jpg">`, 25, "<p>hi</p>"},
		{`<p>hi</p><img alt='a>b'>x`, 24, `<p>hi</p><img alt='a>b'>`},
	} {
		if got := truncateHTML(tt.s, tt.n); got != tt.want {
			t.Errorf("truncateHTML(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// FuzzTruncateHTML: the cut is a prefix within the limit that ends
// outside any tag the prefix opened.
func FuzzTruncateHTML(f *testing.F) {
	for _, s := range []string{"<p>abc</p>", `<a href="x">紅色</a>`, "a &amp; b", "<<>>", "<<00"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := truncateHTML(s, n)
		if !strings.HasPrefix(s, got) || runeCount(got) > n {
			t.Fatalf("truncateHTML(%q, %d) = %q: not a prefix within the limit", s, n, got)
		}
		if got != s {
			if i := strings.LastIndexByte(got, '<'); i >= 0 && !strings.Contains(got[i:], ">") {
				t.Fatalf("truncateHTML(%q, %d) = %q ends inside a tag", s, n, got)
			}
		}
	})
}

func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"", "abc", "紅色T恤", "👍🏻👍🏻", "a\xffb", "\xb4\x85紅"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := truncate(s, n)
		if !strings.HasPrefix(s, got) {
			t.Fatalf("truncate(%q, %d) = %q, not a prefix", s, n, got)
		}
		if got != s && !utf8.RuneStart(s[len(got)]) {
			t.Fatalf("truncate(%q, %d) = %q, cut inside a character", s, n, got)
		}
		if !utf8.ValidString(s) {
			return
		}
		want := s
		if r := []rune(s); len(r) > n {
			want = string(r[:n])
		}
		if got != want {
			t.Fatalf("truncate(%q, %d) = %q, want %q", s, n, got, want)
		}
		if c, want := runeCount(s), utf8.RuneCountInString(s); c != want {
			t.Fatalf("runeCount(%q) = %d, want %d", s, c, want)
		}
	})
}

// TestPlainHTMLToTextGenerated compares the fast path with the tokenizer
// on HTML assembled from the pieces tags are made of, which random bytes
// seldom hit.
func TestPlainHTMLToTextGenerated(t *testing.T) {
	pieces := []string{
		"<", ">", "</", "/", "/>", "=", " ", "\t", "\n", "\r", "\f", `"`, "'", "&", "&amp;", "&nbsp", "&#x7D05;",
		"&lt", "p", "P", "br", "img", "li", "b", "script", "title", "template", "a", "src", "紅", "\u3000", "\u00a0",
		"\x00", "\x01", "!", "?", "-", "x", "1", "<p>", "</p>", "<br/>", `<img src="a>b">`, "<a href=x>",
		"&#", "&#x", "&#39;", "&quot;", "&notit;", "&;", "AT&T", "&amp;lt;", "&#0;", "&#128;", "&gt",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range 200_000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got, ok := plainHTMLToText(s)
		if !ok {
			continue
		}
		fast++
		if want := tokenizeHTMLToText(s); got != want {
			t.Fatalf("plainHTMLToText(%q) = %q, the tokenizer gives %q", s, got, want)
		}
	}
	if fast < 50_000 {
		t.Errorf("the fast path took %d of 200000 inputs; the comparison proves little", fast)
	}
}

// BenchmarkHTMLToText: a description as exports carry them, through the
// fast path and through the tokenizer it falls back to.
func BenchmarkHTMLToText(b *testing.B) {
	desc := `<p style="text-align:center">` + strings.Repeat(`舒適好穿的棉質商品，適合日常穿搭 &amp; 送禮。<br>`, 16) +
		`</p><p><img src="https://cdn.example.com/1.jpg" alt="圖"></p><ul><li>尺寸：S–XL</li><li>材質：100% 純棉&nbsp;</li></ul>`
	for _, fn := range []struct {
		name string
		f    func(string) string
	}{{"fast", htmlToText}, {"tokenizer", tokenizeHTMLToText}} {
		b.Run(fn.name, func(b *testing.B) {
			b.SetBytes(int64(len(desc)))
			b.ReportAllocs()
			for b.Loop() {
				fn.f(desc)
			}
		})
	}
}
