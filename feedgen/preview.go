package feedgen

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// The preview pages show what the channels will see: every product with
// its image, title, price, availability and PID, and a search box. The
// merchant's private one (index.html in the report folder) also lists the
// excluded products with their reasons; the public one
// (feedgen-preview.html beside the catalog) shows nothing the shop's own
// pages do not. Product text is
// untrusted (exports carry <script> in descriptions), so it only ever
// reaches the page through html/template's escaping, and the page's
// Content-Security-Policy lets no script run but the page's own.

// previewScript filters the lists as the merchant types. A #q=… fragment
// fills the box on load, so a link can open a filtered view.
const previewScript = `(function () {
  var input = document.getElementById("q");
  var entries = document.querySelectorAll("[data-search]");
  var shown = document.getElementById("shown");
  function filter() {
    var q = input.value.trim().toLowerCase();
    var n = 0;
    for (var i = 0; i < entries.length; i++) {
      var hit = q === "" || entries[i].getAttribute("data-search").indexOf(q) >= 0;
      entries[i].hidden = !hit;
      if (hit && entries[i].classList.contains("product")) n++;
    }
    shown.textContent = String(n);
  }
  input.addEventListener("input", filter);
  var m = /^#q=(.*)$/.exec(location.hash);
  if (m) input.value = decodeURIComponent(m[1]);
  filter();
})();`

var previewCSP = func() string {
	sum := sha256.Sum256([]byte(previewScript))
	return "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}()

var previewTemplates = template.Must(template.New("preview").Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="zh-Hant">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="generator" content="feedgen">
<title>{{.Info.Title}} — catalog preview</title>
<style>
body{font-family:system-ui,"Noto Sans TC",sans-serif;margin:1rem;color:#222}
header{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd}
input{font-size:1rem;padding:.4rem;width:min(30rem,90%)}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;margin:1rem 0}
.product{border:1px solid #ddd;border-radius:.5rem;padding:.5rem}
.product img{width:100%;aspect-ratio:1;object-fit:cover;background:#f4f4f4}
.pid{font-family:monospace;color:#555}.desc{font-size:.85rem;color:#444}.price{font-weight:bold}.sale{color:#c00}
.out_of_stock{color:#999}.backorder{color:#b60}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
</style>
</head>
<body>
<header>
<h1>{{.Info.Title}}</h1>
<p>What LINE, Google and Meta will see, as of {{.Info.At.Format "2006-01-02 15:04 -07:00"}}. Showing <span id="shown">…</span> products.</p>
<input id="q" type="search" placeholder="Search by name, PID or SKU" autocomplete="off">
</header>
<section class="products">
{{end}}{{define "excluded"}}<h2>Excluded ({{.Excluded}})</h2>
<table>
<thead><tr><th>PID</th><th>name</th><th>row</th><th>why</th></tr></thead>
<tbody>
{{end}}{{define "excluded-end"}}</tbody>
</table>
{{end}}{{define "end"}}<script>{{.Script}}</script>
</body>
</html>
{{end}}`))

// previewSnippet is how much of the plain-text description a card shows.
const previewSnippet = 120

type preview struct {
	bw       *bufio.Writer
	currency string
	n        int
	// private pages also list the excluded products; public ones show
	// only what the channels get.
	private bool
}

func newPreview(w io.Writer, info *CatalogInfo, private bool) (feedWriter, error) {
	p := &preview{bw: bufio.NewWriterSize(w, 64<<10), currency: cleanText(info.Currency), private: private}
	return p, previewTemplates.ExecuteTemplate(p.bw, "head", map[string]any{"CSP": previewCSP, "Info": info})
}

// product writes one product's card. It is written by hand rather than
// through html/template, which costs more than all the other files together
// on a 100k-product catalog; every value goes through escape,
// which is enough inside element text and quoted attributes, and the image
// URL is one feedURL made https.
func (pv *preview) product(p *CatalogProduct) error {
	search := []string{p.ID, p.Name}
	for _, it := range p.Items {
		search = append(search, it.ID, it.SKU)
	}
	pv.n++
	w := pv.bw
	esc := pv.escape
	w.WriteString(`<article class="product" data-search="`)
	esc(strings.ToLower(strings.Join(search, " ")))
	w.WriteString("\">\n<img src=\"")
	esc(p.Images[0])
	w.WriteString("\" alt=\"\" loading=\"lazy\">\n<h2>")
	esc(p.Name)
	w.WriteString("</h2>\n<p class=\"pid\">PID ")
	esc(p.ID)
	w.WriteString("</p>\n<p class=\"desc\">")
	esc(truncate(p.Description, previewSnippet))
	w.WriteString("</p>\n<ul>")
	for _, it := range p.Items {
		w.WriteString(`<li class="`)
		esc(it.Availability)
		w.WriteString(`">`)
		for i, o := range it.Options {
			if i > 0 {
				w.WriteString(" / ")
			}
			esc(o.Value)
		}
		if len(it.Options) > 0 {
			w.WriteString(": ")
		}
		w.WriteString(`<span class="price">`)
		if it.SalePrice != "" {
			w.WriteString(`<span class="sale">`)
			esc(it.SalePrice)
			w.WriteString("</span> <s>")
			esc(it.Price)
			w.WriteString("</s>")
		} else {
			esc(it.Price)
		}
		w.WriteString(" ")
		esc(pv.currency)
		w.WriteString("</span> · ")
		esc(it.Availability)
		w.WriteString("</li>")
	}
	// bufio.Writer errors are sticky: the last write reports any earlier one.
	_, err := w.WriteString("</ul>\n</article>\n")
	return err
}

// escape writes clean text escaped for element text and quoted attributes,
// as html.EscapeString does, straight into the buffer.
func (pv *preview) escape(s string) {
	pv.bw.Write(appendEscaped(pv.bw.AvailableBuffer(), s, &htmlEntities))
}

// finish ends the product list and, on the private page, writes the
// excluded products.
func (pv *preview) finish(excluded *exclusionList) error {
	pv.bw.WriteString("</section>\n")
	if pv.private {
		if err := pv.excluded(excluded); err != nil {
			return err
		}
	}
	if err := previewTemplates.ExecuteTemplate(pv.bw, "end", map[string]any{"Script": template.JS(previewScript)}); err != nil {
		return err
	}
	return pv.bw.Flush()
}

// excluded writes the table of excluded products, by hand like the cards:
// an export with many excluded products made html/template the slowest
// part of the end of a run. Their text comes from the export as it is, so
// it is cleaned.
func (pv *preview) excluded(excluded *exclusionList) error {
	w, esc := pv.bw, pv.escape
	if err := previewTemplates.ExecuteTemplate(w, "excluded", map[string]any{"Excluded": excluded.Len()}); err != nil {
		return err
	}
	for e, err := range excluded.All() {
		if err != nil {
			return err
		}
		id, name := cleanText(e.ID), cleanText(e.Name)
		w.WriteString(`<tr data-search="`)
		esc(strings.ToLower(id + " " + name))
		w.WriteString(`"><td class="pid">`)
		esc(id)
		w.WriteString("</td><td>")
		esc(name)
		w.WriteString("</td><td>")
		w.WriteString(strconv.Itoa(e.Row))
		w.WriteString("</td><td>")
		for _, r := range e.Reasons {
			esc(cleanText(r.Message))
			w.WriteString("<br>")
		}
		w.WriteString("</td></tr>\n")
	}
	return previewTemplates.ExecuteTemplate(w, "excluded-end", nil)
}

func (pv *preview) items() int { return pv.n }
