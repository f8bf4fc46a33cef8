package feedgen

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// realDescription is 商品介紹 as CYBERBIZ's editor writes it: images with
// protocol-relative src, inline styles, a table.
const realDescription = `<p style="text-align: center;"><img alt="" src="//cdn.cybassets.com/s/files/12345/ckeditor/pictures/content_0a1b2c3d.jpg" style="width: 800px; height: 800px;" /></p>` +
	`<p><span style="font-size:18px;"><strong>商品特色</strong></span></p>` +
	`<ul><li>100% 純棉，舒適透氣</li><li>台灣製造 &amp; 品質保證</li><li>尺寸：S–XL</li></ul>` +
	`<table border="1" cellpadding="1" cellspacing="1" style="width:500px;"><tbody>` +
	`<tr><th>尺寸</th><th>胸寬</th><th>衣長</th></tr><tr><td>S</td><td>48</td><td>66</td></tr><tr><td>M</td><td>51</td><td>69</td></tr></tbody></table>` +
	`<p>洗滌說明：請以冷水手洗，勿烘乾。<br />更多商品請見 <a href="https://shop.example.com/collections/all" target="_blank">全部商品</a>。</p>` +
	`<p><img alt="細節" src="//cdn.cybassets.com/s/files/12345/ckeditor/pictures/content_4e5f6a7b.jpg" width="100%" /></p>`

func TestSanitizeLineHTML(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, unsafe string
		fast                   bool
	}{
		{"plain", "<p>100% 純棉&nbsp;<b>舒適</b></p><ul><li>S</li></ul>", "<p>100% 純棉&nbsp;<b>舒適</b></p><ul><li>S</li></ul>", "", true},
		{"protocol-relative image", `<p><img src="//cdn.example.com/a.jpg" alt="圖"></p>`, `<p><img src="https://cdn.example.com/a.jpg" alt="圖"></p>`, "", true},
		{"protocol-relative link", `<a href='//shop.example.com/x'>x</a>`, `<a href='https://shop.example.com/x'>x</a>`, "", true},
		{"styles dropped", `<p style="color:red" class="x"><span style="font-size:18px">大</span></p>`, `<p><span>大</span></p>`, "", true},
		{"table kept", `<table border="1"><tbody><tr><td colspan="2">a</td></tr></tbody></table>`, `<table><tbody><tr><td colspan="2">a</td></tr></tbody></table>`, "", true},
		{"image size", `<img src="https://a.example/x.jpg" width="100%" height="80px">`, `<img src="https://a.example/x.jpg" width="100%">`, "", true},
		{"font and word tags dropped", `<p><font color="red">紅</font><o:p></o:p></p>`, `<p>紅</p>`, "", true},
		{"relative and mailto", `<a href="/pages/faq?a=1&amp;b=2#q">FAQ</a><a href="mailto:a@example.com">信</a>`, `<a href="/pages/faq?a=1&amp;b=2#q">FAQ</a><a href="mailto:a@example.com">信</a>`, "", true},

		{"script", `<script>alert('x')</script><p>手工皂 &lt;禮盒&gt;</p>`, `<p>手工皂 &lt;禮盒&gt;</p>`, "<script>", false},
		{"script in svg", `<svg><script>alert(1)</script></svg><p>a</p>`, `<p>a</p>`, "<svg>", false},
		{"onerror", `<img src=x onerror="alert(1)">`, `<img src="x">`, "onerror", false},
		{"slash separators", `<img/src="//cdn.example.com/a.jpg"/onerror=alert(1)>`, `<img src="https://cdn.example.com/a.jpg">`, "onerror", false},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, `x`, "javascript: URL", false},
		{"hidden javascript link", `<a href="jav&#x09;ascript:alert(1)">x</a>`, `x`, "javascript: URL", false},
		{"data image", `<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="a">`, `<img alt="a">`, "data: URL", false},
		{"iframe", `<iframe src="https://evil.example/"></iframe><p>a</p>`, `<p>a</p>`, "<iframe>", false},
		{"form", `<form action="https://evil.example/"><input name="card"></form>`, ``, "<form>", false},
		{"nested script", `<scr<script>ipt>alert(1)</script>`, `ipt&gt;alert(1)`, "", false}, // the tokenizer reads a tag "scr<script"
		{"comment", `<p>a<!-- <script>x</script> --></p>`, `<p>a</p>`, "", false},
		{"style element", `<style>body{display:none}</style><p>a</p>`, `<p>a</p>`, "<style>", false},
		{"uppercase", `<P><IMG SRC="//cdn.example.com/a.jpg" ONERROR="x"></P>`, `<p><img src="https://cdn.example.com/a.jpg"></p>`, "onerror", false},
		{"unclosed quote", `<p title="x>y</p>`, ``, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, unsafe := sanitizeLineHTML(tt.in)
			if got != tt.want || unsafe != tt.unsafe {
				t.Errorf("sanitizeLineHTML(%q) = %q, %q; want %q, %q", tt.in, got, unsafe, tt.want, tt.unsafe)
			}
			if _, fast := fastLineHTML(tt.in); fast != tt.fast {
				t.Errorf("fastLineHTML(%q) took the fast path: %v, want %v", tt.in, fast, tt.fast)
			}
			checkLineHTML(t, got)
		})
	}
}

// TestSanitizeLineHTMLReal: the editor's HTML takes the fast path, with
// the same result as bluemonday's.
func TestSanitizeLineHTMLReal(t *testing.T) {
	got, ok := fastLineHTML(realDescription)
	if !ok {
		t.Fatal("fastLineHTML refused the editor's HTML")
	}
	if strings.Contains(got, `"//`) || strings.Contains(got, "style=") || strings.Contains(got, "target=") {
		t.Errorf("fastLineHTML left a protocol-relative URL or a dropped attribute: %s", got)
	}
	if g, w := lineTokens(t, got), lineTokens(t, slowLineHTML(realDescription)); !slices.Equal(g, w) {
		t.Errorf("fast path:\n%q\nbluemonday:\n%q", g, w)
	}
}

// TestSanitizeLineHTMLNoAlloc: a description that needs no change is
// returned as it is, without a copy.
func TestSanitizeLineHTMLNoAlloc(t *testing.T) {
	s := strings.ReplaceAll(realDescription, `"//`, `"https://`)
	s = strings.NewReplacer(` style="width: 800px; height: 800px;"`, "", ` style="text-align: center;"`, "", ` style="font-size:18px;"`, "",
		` border="1" cellpadding="1" cellspacing="1" style="width:500px;"`, "", ` target="_blank"`, "").Replace(s)
	if n := testing.AllocsPerRun(100, func() {
		if got, ok := fastLineHTML(s); !ok || got != s {
			t.Fatalf("fastLineHTML changed safe HTML: %v %q", ok, got)
		}
	}); n != 0 {
		t.Errorf("fastLineHTML allocated %v times on safe HTML", n)
	}
}

var lineFuzzSeeds = []string{
	realDescription,
	"<p>a</p>", "<br/>", "<br />", "<P>x</P>", "a < b", "<", "x<",
	`<scr<script>ipt>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="x" onerror="alert(1)">`,
	`<img src="x"onerror="alert(1)">`,
	`<img/src=x/onerror=alert(1)>`,
	`<img/src="x"/onerror="alert(1)">`,
	`<a href="jav&#x09;ascript:alert(1)">x</a>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href=" javascript:alert(1)">x</a>`,
	`<a href="JaVaScRiPt:alert(1)">x</a>`,
	`<a href="vbscript:x">x</a>`,
	`<img src="data:text/html,<script>x</script>">`,
	`<a href="//evil.example">x</a>`, `<a href="/\evil.example">x</a>`, `<a href="\\evil.example">x</a>`, `<a href="///evil.example">x</a>`,
	`<a href="https:evil.example">x</a>`, `<a href="http://user@evil.example">x</a>`, `<a href="https://a.example:80/p?q=1&amp;r=2#f">x</a>`,
	`<a href="%zz">x</a>`, `<a href="">x</a>`, `<a>x</a>`, `<img alt="a">`, `<img>`,
	`<svg><script>alert(1)</script></svg>`,
	`<math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
	`<p title="unclosed>x</p>`, `<p title='x'>`, `<a href="x`,
	`<!-- x -->`, `<!--><script>x</script>-->`, `<![CDATA[<script>x</script>]]>`, `<!DOCTYPE html>`, `<?xml version="1.0"?>`,
	`<IMG SRC="//cdn.example.com/a.jpg">`, `<img src>`, `<p hidden>`, `<td colspan="2" rowspan="x">`, `<td colspan="&#50;">`,
	`<img width="10&#48;%">`, `<style>p{}</style>`, `<iframe src="x"></iframe>`, `<textarea><p></textarea>`, `<title><img src=x onerror=1></title>`,
	`<font color="red">x</font>`, `<o:p></o:p>`, `</font>`, `</p foo="x">`, `</>`, `</ p>`, `<p/>`, `<p / >`,
	"<p>\x00</p>", "<p>\xff</p>", "<p>a\r\nb</p>", `<p>&amp;&lt;&#39;&unknown;</p>`, `<a href="x" href="javascript:y">z</a>`,
	`<img A=""width="00">`, `<<o:p></o:p>img src=x onerror=1>`, `&am<font>p;`, `<A href="#">`, `<a href="?\evil">`,
	`<a href="&#106;avascript:x">y</a>`, `<a href="java&NewLine;script:x">y</a>`, `<noscript><p title="</noscript><img src=x onerror=1>"></noscript>`,
}

// FuzzSanitizeLineHTML: whatever the input, l_description holds only
// allowed elements and attributes with safe URLs, cut or not; and
// whenever the fast path takes an input, it gives what bluemonday gives,
// read as HTML, and nothing the run's note should have reported.
func FuzzSanitizeLineHTML(f *testing.F) {
	for _, s := range lineFuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := sanitizeLineHTML(s)
		checkLineHTML(t, got)
		checkLineHTML(t, truncateHTML(got, len(got)/2))
		fast, ok := fastLineHTML(s)
		if !ok {
			return
		}
		if g, w := lineTokens(t, fast), lineTokens(t, slowLineHTML(s)); !slices.Equal(g, w) {
			t.Fatalf("fastLineHTML(%q) = %q\nas tokens %q\nbluemonday gives %q", s, fast, g, w)
		}
		if u := lineUnsafe(s); u != "" {
			t.Fatalf("fastLineHTML(%q) took HTML with %s", s, u)
		}
	})
}

// checkLineHTML fails unless s, read as bluemonday and browsers read it,
// holds only what lineElements allows.
func checkLineHTML(t *testing.T, s string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		tok := z.Token()
		switch tt {
		case html.ErrorToken:
			return
		case html.CommentToken, html.DoctypeToken:
			t.Fatalf("%q: %s token %q", s, tt, tok.Data)
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			rules, ok := lineElements[tok.Data]
			if !ok {
				t.Fatalf("%q: element %q", s, tok.Data)
			}
			for _, a := range tok.Attr {
				switch rules[a.Key] {
				case 0:
					t.Fatalf("%q: attribute %s of <%s>", s, a.Key, tok.Data)
				case attrNumber, attrDimension:
					if !dimensionAttr.MatchString(a.Val) {
						t.Fatalf("%q: %s=%q", s, a.Key, a.Val)
					}
				case attrURL:
					if !lineSafeURL(a.Val) {
						t.Fatalf("%q: URL %q", s, a.Val)
					}
				}
			}
		}
	}
}

// lineSafeURL: no character a browser would skip to find a scheme, a
// scheme of http, https or mailto or none, and not protocol-relative
// (browsers read a '\\' there as '/').
func lineSafeURL(v string) bool {
	slash := func(c byte) bool { return c == '/' || c == '\\' }
	if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) || len(v) >= 2 && slash(v[0]) && slash(v[1]) {
		return false
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https", "mailto":
		return true
	case "":
		return u.Host == ""
	}
	return false
}

// lineTokens is s read as HTML: tags with their attributes, URLs
// normalised as bluemonday writes them, and text decoded, adjacent runs
// joined.
func lineTokens(t *testing.T, s string) []string {
	t.Helper()
	var toks []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		tok := z.Token()
		switch tt {
		case html.ErrorToken:
			return toks
		case html.TextToken:
			if n := len(toks); n > 0 && strings.HasPrefix(toks[n-1], "text ") {
				toks[n-1] += tok.Data
				continue
			}
			toks = append(toks, "text "+tok.Data)
			continue
		}
		for i, a := range tok.Attr {
			if a.Key == "href" || a.Key == "src" {
				u, err := url.Parse(strings.TrimSpace(a.Val))
				if err != nil {
					t.Fatalf("%q: URL %q: %v", s, a.Val, err)
				}
				tok.Attr[i].Val = u.String()
			}
		}
		toks = append(toks, tok.String())
	}
}

func BenchmarkSanitizeLineHTMLFast(b *testing.B) {
	b.SetBytes(int64(len(realDescription)))
	for b.Loop() {
		if _, ok := fastLineHTML(realDescription); !ok {
			b.Fatal("slow path")
		}
	}
}

func BenchmarkSanitizeLineHTMLSlow(b *testing.B) {
	b.SetBytes(int64(len(realDescription)))
	for b.Loop() {
		slowLineHTML(realDescription)
	}
}
