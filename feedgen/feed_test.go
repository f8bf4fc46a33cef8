package feedgen

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
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

// googleRSS is what a consumer reads back from WriteGoogleXML.
type googleRSS struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		Link  string `xml:"link"`
		Items []struct {
			ID          string   `xml:"http://base.google.com/ns/1.0 id"`
			Group       string   `xml:"http://base.google.com/ns/1.0 item_group_id"`
			Title       string   `xml:"http://base.google.com/ns/1.0 title"`
			Description string   `xml:"http://base.google.com/ns/1.0 description"`
			Link        string   `xml:"http://base.google.com/ns/1.0 link"`
			Image       string   `xml:"http://base.google.com/ns/1.0 image_link"`
			More        []string `xml:"http://base.google.com/ns/1.0 additional_image_link"`
			Price       string   `xml:"http://base.google.com/ns/1.0 price"`
			Sale        string   `xml:"http://base.google.com/ns/1.0 sale_price"`
			Brand       string   `xml:"http://base.google.com/ns/1.0 brand"`
			Type        string   `xml:"http://base.google.com/ns/1.0 product_type"`
			MPN         string   `xml:"http://base.google.com/ns/1.0 mpn"`
		} `xml:"item"`
	} `xml:"channel"`
}

func TestCleanTextKeepsGoogleXMLWellFormed(t *testing.T) {
	const nasty = "A & B <c> ]]> \"q\" 'x'\x00\x01\x0b\ufffe\xff end\ttab\nline"
	const clean = "A & B <c> ]]> \"q\" 'x' end\ttab\nline"
	c := &Catalog{CatalogInfo: CatalogInfo{Title: "小店 & <Co>", ShopURL: testShop + "/?a=1&b=2", Currency: "TWD"}, Products: []CatalogProduct{{
		ID: "1001", Name: nasty, Description: nasty, Brand: nasty, ProductType: "上衣 > T恤",
		Link:   testShop + "/products/x?a=1&b=2",
		Images: []string{"https://cdn.example.com/1.jpg?a=1&b=2", "https://cdn.example.com/2.jpg"},
		Items: []Item{
			{ID: "5001", GroupID: "1001", Title: nasty, SKU: "SKU<&>\x01", Price: "1280", SalePrice: "1000", Availability: InStock},
			{ID: "5002", GroupID: "1001", Title: "]]>", Price: "99.5", Availability: OutOfStock},
		},
	}}}
	var buf bytes.Buffer
	if err := WriteGoogleXML(&buf, c); err != nil {
		t.Fatalf("WriteGoogleXML = %v", err)
	}
	if !utf8.Valid(buf.Bytes()) {
		t.Fatalf("output is not valid UTF-8")
	}

	// Every token must read in strict mode, to the end.
	d := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the feed is not well-formed XML: %v\n%s", err, buf.String())
		}
	}

	var got googleRSS
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("xml.Unmarshal = %v", err)
	}
	if got.Version != "2.0" || got.Channel.Title != "小店 & <Co>" || got.Channel.Link != testShop+"/?a=1&b=2" {
		t.Errorf("rss version, title, link = %q, %q, %q", got.Version, got.Channel.Title, got.Channel.Link)
	}
	if len(got.Channel.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(got.Channel.Items))
	}
	it := got.Channel.Items[0]
	checks := []struct{ field, got, want string }{
		{"g:id", it.ID, "5001"},
		{"g:item_group_id", it.Group, "1001"},
		{"g:title", it.Title, clean},
		{"g:description", it.Description, clean},
		{"g:brand", it.Brand, clean},
		{"g:product_type", it.Type, "上衣 > T恤"},
		{"g:link", it.Link, testShop + "/products/x?a=1&b=2"},
		{"g:image_link", it.Image, "https://cdn.example.com/1.jpg?a=1&b=2"},
		{"g:price", it.Price, "1280 TWD"},
		{"g:sale_price", it.Sale, "1000 TWD"},
		{"g:mpn", it.MPN, "SKU<&>"},
		{"second g:title", got.Channel.Items[1].Title, "]]>"},
		{"second g:price", got.Channel.Items[1].Price, "99.5 TWD"},
		{"second g:sale_price", got.Channel.Items[1].Sale, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(it.More) != 1 || it.More[0] != "https://cdn.example.com/2.jpg" {
		t.Errorf("g:additional_image_link = %q, want [https://cdn.example.com/2.jpg]", it.More)
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

// FuzzLineJSONMatchesEncodingJSON: the hand-written LINE encoder writes
// exactly what encoding/json writes for the same object.
func FuzzLineJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("1001", "T恤 <b>&</b>", "\u2028\u2029\x00\x1f\"\\\b\f\n\r\t", "\xff\xfe bad", "", true)
	f.Add("", "", "", "", "紅", false)
	f.Fuzz(func(t *testing.T, id, name, desc, html, opt string, withVariants bool) {
		lp := lineProduct{ProductID: id, ProductName: name, Description: desc, LDescription: html,
			Link: html, ImageLink: desc, AdditionalImageLink: opt, Price: id, SalePrice: opt,
			Availability: name, ProductType: "normal", AgeGroup: "normal", Brand: opt, Category: desc}
		if withVariants {
			lp.Variants = []lineVariant{
				{VariantID: id, SKU: opt, Title: name, Price: desc, Availability: html},
				{VariantID: opt, Title: desc, Options: []Option{{Name: name, Value: opt}, {Name: desc, Value: html}}, SalePrice: id},
			}
		}
		want, err := json.Marshal(lp)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendLineProduct(nil, &lp); !bytes.Equal(got, want) {
			t.Errorf("appendLineProduct =\n%s\nencoding/json =\n%s", got, want)
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
