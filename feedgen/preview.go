package feedgen

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"feedgen/internal/msg"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// The preview pages show what the channels will see: every product with
// its image, title, link, price, availability and variants, and a search
// box. The merchant's private one (index.html in the report folder) also
// shows each product's warnings (its diagnostics, and the variants left
// out and why) and lists the excluded products with their reasons; the
// public one (feedgen-preview.html beside the catalog) shows nothing the
// shop's own pages do not.
//
// A page of 100k products written as markup was 50 to 80 MB, took a
// minute to open and seconds per character typed in the search box. So
// the products travel as compact data, one JSON array per product in a
// <script type="application/json"> (inline, as the page must open from
// disk and from GitHub Pages alike, with no request of its own), and the
// page's script draws one page of them at a time and searches an index it
// builds once. The data repeats nothing it can refer to: the shop's
// product address is written once, images by their folder, brands and
// option values once in a table of shared strings, availability and
// diagnostics by their number in tables.
//
// Product text is untrusted (exports carry <script> in descriptions): it
// reaches the page only inside JSON strings, escaped as appendJSONString
// does (no <, > or & is left, so no </script> or <!-- can end or change the
// data block), and the script puts it into the page as text, never as
// markup. The page's Content-Security-Policy lets no script run but the
// page's own.

// previewText is every word the preview pages show, in English: the
// message table has their Chinese. The page's static parts are made from
// it here, in the run's language; the script gets it with the data for the
// rest. {name} stands for a value filled in.
var previewText = map[string]string{
	"title":            msg.N("catalog preview"),
	"intro":            msg.N("What LINE, Google and Meta will see, as of {at}."),
	"search":           msg.N("Search"),
	"placeholder":      msg.N("name, PID, variant id, SKU, brand or option"),
	"products":         msg.N("Products"),
	"excluded":         msg.N("Excluded products"),
	"productsStatus":   msg.N("{from}–{to} of {n} matching products ({total} in all)"),
	"excludedStatus":   msg.N("{from}–{to} of {n} matching excluded products ({total} in all)"),
	"none":             msg.N("Nothing matches."),
	"pages":            msg.N("Pages"),
	"page":             msg.N("page {page} of {pages}"),
	"prev":             msg.N("Previous"),
	"next":             msg.N("Next"),
	"pid":              msg.N("PID"),
	"name":             msg.N("name"),
	"row":              msg.N("row"),
	"why":              msg.N("why"),
	"leftOut":          msg.N("left out: {why}"),
	"warnings":         msg.N("Warnings"),
	"only":             msg.N("(variants: {items})"),
	"noscript":         msg.N("This page needs JavaScript to show its {products} products ({items} items)."),
	"noscriptExcluded": msg.N("It also lists {excluded} excluded products with why; report.json has them too."),
}

// availabilityWords say an item's availability on the preview, in the
// merchant's words (有庫存, 缺貨, 可預購 in Chinese), not the channels'
// codes; the data refers to them by their number here. The codes name the
// styles.
var availabilityWords = []struct{ code, word string }{
	{InStock, msg.N("in stock")},
	{OutOfStock, msg.N("out of stock")},
	{Backorder, msg.N("on backorder")},
}

// previewScript draws the products from the data, a page of them at a
// time, and filters them as the merchant types: after a pause of
// DEBOUNCE ms, or at once on Enter. A #q=… fragment fills the box on load,
// so a link can open a filtered view.
const previewScript = `(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("feedgen-data").textContent);
  var G = D.page, T = G.text, S = D.strings, PAGE = 50, DEBOUNCE = 30;
  function str(v) { return typeof v === "number" ? S[v] : v; }
  function fmt(s, a) { return s.replace(/\{(\w+)\}/g, function (m, k) { return k in a ? String(a[k]) : m; }); }
  function under(base, v) { return v === "" || /^https?:\/\//.test(v) ? v : base + v; }
  function safe(u) { return /^https:\/\//.test(u) ? u : ""; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function text(e, s) { e.appendChild(document.createTextNode(s)); }
  function link(href, label) {
    var a = el("a", null, label);
    a.href = href;
    return a;
  }
  function card(p) {
    var a = el("article", "product");
    a.setAttribute("data-pid", p[0]);
    var img = el("img"), src = safe(str(p[3]) + p[4]);
    img.alt = "";
    img.loading = "lazy";
    if (src) img.src = src;
    a.appendChild(img);
    a.appendChild(el("h3", null, p[1]));
    var brand = str(p[5]);
    a.appendChild(el("p", "pid", T.pid + " " + p[0] + (brand ? " · " + brand : "")));
    var page = safe(under(G.shop, p[2]));
    if (page) {
      var lp = el("p", "link");
      lp.appendChild(link(page, page));
      a.appendChild(lp);
    }
    var ul = el("ul", "items"), its = p[6], price = null, names = [];
    for (var j = 0; j < its.length; j++) {
      var it = its[j], opts = str(it[4]), av = it[2];
      if (it[3] !== 0) price = it[3];
      names.push(opts || it[0]);
      var li = el("li", typeof av === "number" ? G.availClass[av] : null);
      if (opts) text(li, opts + ": ");
      var pr = el("span", "price");
      if (Array.isArray(price)) {
        pr.appendChild(el("span", "sale", String(price[1])));
        text(pr, " ");
        pr.appendChild(el("s", null, String(price[0])));
      } else {
        text(pr, String(price));
      }
      text(pr, " " + G.currency);
      li.appendChild(pr);
      text(li, " · " + (typeof av === "number" ? G.avail[av] : av) + " ");
      var own = it.length > 5 ? safe(under(page, it[5])) : "";
      var ids = it[0] + (it[1] ? " · " + it[1] : "");
      li.appendChild(own ? link(own, ids) : el("span", "ids", ids));
      ul.appendChild(li);
    }
    var dropped = p[8] || [];
    for (j = 0; j < dropped.length; j++) {
      var d = dropped[j], dl = el("li", "dropped");
      text(dl, (str(d[1]) ? str(d[1]) + ": " : "") + fmt(T.leftOut, {why: d[2]}) + " ");
      dl.appendChild(el("span", "ids", d[0]));
      ul.appendChild(dl);
    }
    a.appendChild(ul);
    var diags = p[7] || [];
    if (diags.length) {
      var w = el("ul", "warn");
      w.setAttribute("aria-label", T.warnings);
      for (j = 0; j < diags.length; j++) {
        var g = diags[j], title = typeof g[0] === "number" ? G.diags[g[0]] : g[0];
        if (g.length > 1) title += " " + fmt(T.only, {items: g.slice(1).map(function (i) { return names[i]; }).join(", ")});
        w.appendChild(el("li", null, "⚠ " + title));
      }
      a.appendChild(w);
    }
    return a;
  }
  function row(e) {
    var tr = el("tr");
    tr.setAttribute("data-pid", e[0]);
    tr.appendChild(el("td", "pid", e[0]));
    tr.appendChild(el("td", null, e[1]));
    tr.appendChild(el("td", null, String(e[2])));
    var why = el("td");
    for (var j = 3; j < e.length; j++) {
      if (j > 3) why.appendChild(el("br"));
      text(why, str(e[j]));
    }
    tr.appendChild(why);
    return tr;
  }
  function index(rows, fields) {
    var out = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) out[i] = fields(rows[i]).toLowerCase();
    return out;
  }
  var P = D.products, E = D.excluded || [];
  // An id written as a number is the difference from the last one so.
  var lastP = 0, lastI = 0, lastE = 0, i, j;
  for (i = 0; i < P.length; i++) {
    if (typeof P[i][0] === "number") P[i][0] = String(lastP += P[i][0]);
    for (j = 0; j < P[i][6].length; j++) {
      var it = P[i][6][j];
      if (typeof it[0] === "number") it[0] = String(lastI += it[0]);
    }
  }
  for (i = 0; i < E.length; i++) {
    if (typeof E[i][0] === "number") E[i][0] = String(lastE += E[i][0]);
  }
  var PI = index(P, function (p) {
    var s = p[0] + "\n" + p[1] + "\n" + str(p[5]), its = p[6], dr = p[8] || [];
    for (var j = 0; j < its.length; j++) s += "\n" + its[j][0] + "\n" + its[j][1] + "\n" + str(its[j][4]);
    for (j = 0; j < dr.length; j++) s += "\n" + dr[j][0] + "\n" + str(dr[j][1]);
    return s;
  });
  var EI = index(E, function (e) {
    var s = e[0] + "\n" + e[1];
    for (var j = 3; j < e.length; j++) s += "\n" + str(e[j]);
    return s;
  });
  function list(id, rows, idx, render) {
    var sec = document.getElementById(id);
    if (!sec) return null;
    var box = sec.querySelector(".rows"), status = sec.querySelector(".status"), pagers = sec.querySelectorAll(".pager");
    // The matches go into one of two buffers, the other holding the last
    // ones, which a query that extends the last one searches again: a
    // keystroke makes no array of 100k matches for the garbage collector,
    // whose pauses on a heap of 100k products showed as slow keystrokes.
    var bufs = [new Int32Array(rows.length), new Int32Array(rows.length)];
    var L = {q: null, hits: null, n: 0, page: 0};
    function pick(q) {
      if (q === "") return null;
      var terms = q.split(/\s+/), from = L.hits && L.q && q.indexOf(L.q) === 0 ? L.hits : null;
      var out = L.hits === bufs[0] ? bufs[1] : bufs[0], n = from ? L.n : idx.length, m = 0;
      for (var k = 0; k < n; k++) {
        var i = from ? from[k] : k, s = idx[i], t = 0;
        while (t < terms.length && s.indexOf(terms[t]) >= 0) t++;
        if (t === terms.length) out[m++] = i;
      }
      L.n = m;
      return out;
    }
    function draw() {
      var n = L.hits ? L.n : rows.length, pages = Math.max(1, Math.ceil(n / PAGE));
      L.page = Math.max(0, Math.min(L.page, pages - 1));
      var first = L.page * PAGE, end = Math.min(n, first + PAGE), frag = document.createDocumentFragment();
      for (var k = first; k < end; k++) frag.appendChild(render(rows[L.hits ? L.hits[k] : k]));
      box.replaceChildren(frag);
      status.setAttribute("data-shown", String(n));
      status.textContent = n === 0 ? T.none : fmt(T[id + "Status"], {from: first + 1, to: end, n: n, total: rows.length});
      for (var i = 0; i < pagers.length; i++) {
        var nav = pagers[i];
        nav.hidden = pages === 1;
        nav.querySelector(".prev").disabled = L.page === 0;
        nav.querySelector(".next").disabled = L.page === pages - 1;
        nav.querySelector("span").textContent = fmt(T.page, {page: L.page + 1, pages: pages});
      }
    }
    for (var i = 0; i < pagers.length; i++) {
      (function (nav, bottom) {
        function go(by) {
          L.page += by;
          draw();
          if (bottom) sec.scrollIntoView();
        }
        nav.querySelector(".prev").addEventListener("click", function () { go(-1); });
        nav.querySelector(".next").addEventListener("click", function () { go(1); });
      })(pagers[i], i > 0);
    }
    L.search = function (q) {
      if (q === L.q) return;
      L.hits = pick(q);
      L.q = q;
      L.page = 0;
      draw();
    };
    sec.hidden = false;
    return L;
  }
  var lists = [list("products", P, PI, card), list("excluded", E, EI, row)].filter(Boolean);
  var input = document.getElementById("q"), timer = 0;
  function run() {
    clearTimeout(timer);
    var q = input.value.trim().toLowerCase();
    for (var i = 0; i < lists.length; i++) lists[i].search(q);
  }
  function remember() {
    try {
      history.replaceState(null, "", input.value ? "#q=" + encodeURIComponent(input.value) : location.pathname + location.search);
    } catch (e) {}
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(); remember(); }, DEBOUNCE);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { run(); remember(); }
  });
  var m = /^#q=(.*)$/.exec(location.hash);
  if (m) {
    try { input.value = decodeURIComponent(m[1]); } catch (e) { input.value = m[1]; }
  }
  run();
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
<title>{{.Info.Title}} — {{.T.title}}</title>
<style>
body{font-family:system-ui,"Noto Sans TC",sans-serif;margin:1rem;color:#222}
header{position:sticky;top:0;z-index:1;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd}
label{display:block;font-weight:bold}
input{font-size:1rem;padding:.4rem;width:min(30rem,90%)}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:1rem;margin:1rem 0}
.product{border:1px solid #ddd;border-radius:.5rem;padding:.5rem;overflow-wrap:anywhere;content-visibility:auto;contain-intrinsic-size:auto 30rem}
.product img{width:100%;aspect-ratio:1;object-fit:cover;background:#f4f4f4}
.product h3{font-size:1rem;margin:.4rem 0}.product ul{padding-left:1.1rem;margin:.3rem 0}
.pid,.ids{font-family:monospace;color:#555}.ids{font-size:.8rem}.link{font-size:.8rem;margin:.2rem 0}
.price{font-weight:bold}.sale{color:#c00}.out_of_stock{color:#777}.backorder{color:#960}
.dropped{color:#a00}.warn{color:#850;font-size:.85rem}
.pager button{font-size:1rem;padding:.2rem .8rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
</style>
</head>
<body>
<header>
<h1>{{.Info.Title}}</h1>
<p>{{.Intro}}</p>
<label for="q">{{.T.search}}</label>
<input id="q" type="search" placeholder="{{.T.placeholder}}" autocomplete="off" aria-controls="products{{if .Private}} excluded{{end}}">
</header>
<main>
<section id="products" aria-labelledby="products-h" hidden>
<h2 id="products-h">{{.T.products}}</h2>
<p class="status" aria-live="polite"></p>
{{template "pager" .T}}<div class="rows products"></div>
{{template "pager" .T}}</section>
{{if .Private}}<section id="excluded" aria-labelledby="excluded-h" hidden>
<h2 id="excluded-h">{{.T.excluded}}</h2>
<p class="status" aria-live="polite"></p>
{{template "pager" .T}}<table>
<thead><tr><th scope="col">{{.T.pid}}</th><th scope="col">{{.T.name}}</th><th scope="col">{{.T.row}}</th><th scope="col">{{.T.why}}</th></tr></thead>
<tbody class="rows"></tbody>
</table>
{{template "pager" .T}}</section>
{{end}}</main>
{{end}}{{define "pager"}}<nav class="pager" aria-label="{{.pages}}"><button type="button" class="prev">{{.prev}}</button> <span></span> <button type="button" class="next">{{.next}}</button></nav>
{{end}}{{define "end"}}<noscript><p>{{.NoScript}}</p></noscript>
<script>{{.Script}}</script>
</body>
</html>
{{end}}`))

const (
	// previewMaxShared bounds the table of shared strings, and so the
	// memory it takes, whatever the export: a string past it is written
	// out each time.
	previewMaxShared = 1 << 14
	// previewMaxSharedLen is the longest string shared: a longer one,
	// such as an excluded product's reason quoting a cell, is rarely
	// repeated.
	previewMaxSharedLen = 200
)

type preview struct {
	bw *bufio.Writer
	// private pages also show each product's warnings and list the
	// excluded products; public ones show only what the channels get.
	private bool
	// shop is the start of the address of the shop's product pages, left
	// out of each product's link that has it.
	shop string
	lang msg.Lang // of the page's words
	n    int      // products written
	// lastProduct, lastItem and lastExcluded are the last ids written as
	// numbers (see appendID).
	lastProduct, lastItem, lastExcluded int64
	// itemCount is how many items they have, for the page without script.
	itemCount int
	shared    map[string]int // index in sharedList
	// sharedList is the table of shared strings, written at the end.
	sharedList []string
	buf        []byte
}

// previewPage is what the script needs besides the products: the words,
// the tables the data refers to by number, and how to make a link whole.
type previewPage struct {
	Private   bool              `json:"private"`
	Shop      string            `json:"shop"`
	Currency  string            `json:"currency"`
	Text      map[string]string `json:"text"`
	Avail     []string          `json:"avail"`
	AvailCode []string          `json:"availClass"`
	Diags     []string          `json:"diags,omitempty"`
}

func newPreview(w io.Writer, info *CatalogInfo, private bool) (feedWriter, error) {
	pv := &preview{bw: bufio.NewWriterSize(w, 64<<10), private: private, shared: map[string]int{}, lang: info.Lang}
	if info.ShopURL != "" {
		// As productLink makes the links: https, the host in ASCII.
		pv.shop = feedURL(strings.TrimRight(cleanText(info.ShopURL), "/") + "/products/")
	}
	l := info.Lang
	text := make(map[string]string, len(previewText))
	for k, v := range previewText {
		text[k] = l.T(v)
	}
	page := previewPage{Private: private, Shop: pv.shop, Currency: cleanText(info.Currency), Text: text}
	for _, a := range availabilityWords {
		page.Avail, page.AvailCode = append(page.Avail, l.T(a.word)), append(page.AvailCode, a.code)
	}
	if private {
		for _, d := range diagnosticTitles {
			page.Diags = append(page.Diags, l.T(d.title))
		}
	}
	data, err := json.Marshal(page)
	if err != nil {
		return nil, err
	}
	if err := previewTemplates.ExecuteTemplate(pv.bw, "head", map[string]any{
		"CSP": previewCSP, "Info": info, "T": text, "Private": private,
		"Intro": strings.ReplaceAll(text["intro"], "{at}", info.At.Format("2006-01-02 15:04 -07:00")),
	}); err != nil {
		return nil, err
	}
	// The data is written by hand: html/template would not let the head
	// end inside a script. json.Marshal escapes <, > and & as the products
	// are.
	pv.bw.WriteString(`<script type="application/json" id="feedgen-data">{"page":`)
	pv.bw.Write(data)
	_, err = pv.bw.WriteString(`,"products":[` + "\n")
	return pv, err
}

// product writes one product's entry in the data, on a line of its own so
// that two pages compare line by line:
//
//	[id, name, link, image folder, image file, brand, items, diagnostics, dropped]
//
// with the id as appendID writes it, the link less the shop's address (see under), the folder and the
// brand shared (see appendShared), and the last two on the private page
// only, when the product has any. Each item is
//
//	[id, SKU, availability, price, option values, own link]
//
// with the id as appendID writes it, availability's number in availabilityWords, the price 0 when it is
// the previous item's, else the price or [price, sale price], the option
// values joined by " / " and shared, and the link only for an item with
// its own, less its product's. A diagnostic is its number in
// diagnosticTitles and the numbers of the items it concerns (none: all);
// a dropped variant [id, option values, why].
func (pv *preview) product(p *CatalogProduct) error {
	b := pv.buf[:0]
	if pv.n > 0 {
		b = append(b, ",\n"...)
	}
	pv.n++
	pv.itemCount += len(p.Items)
	b = append(b, '[')
	b = appendID(b, p.ID, &pv.lastProduct)
	b = append(b, ',')
	b = appendJSONString(b, p.Name)
	b = append(b, ',')
	b = appendJSONString(b, under(pv.shop, p.Link))
	b = append(b, ',')
	var image string
	if len(p.Images) > 0 {
		image = p.Images[0]
	}
	cut := strings.LastIndexByte(image, '/') + 1
	b = pv.appendShared(b, image[:cut])
	b = append(b, ',')
	b = appendJSONString(b, image[cut:])
	b = append(b, ',')
	b = pv.appendShared(b, p.Brand)
	b = append(b, ",["...)
	for i := range p.Items {
		it := &p.Items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendID(b, it.ID, &pv.lastItem)
		b = append(b, ',')
		b = appendJSONString(b, it.SKU)
		b = append(b, ',')
		b = appendAvailability(b, it.Availability)
		b = append(b, ',')
		switch prev := &p.Items[max(i-1, 0)]; {
		case i > 0 && it.Price == prev.Price && it.SalePrice == prev.SalePrice:
			b = append(b, '0')
		case it.SalePrice != "":
			b = append(b, '[')
			b = appendPrice(b, it.Price)
			b = append(b, ',')
			b = appendPrice(b, it.SalePrice)
			b = append(b, ']')
		default:
			b = appendPrice(b, it.Price)
		}
		b = append(b, ',')
		b = pv.appendShared(b, optionValues(it.Options))
		if it.Link != "" {
			b = append(b, ',')
			b = appendJSONString(b, under(p.Link, it.Link))
		}
		b = append(b, ']')
	}
	b = append(b, ']')
	if pv.private && len(p.Diagnostics)+len(p.Dropped) > 0 {
		b = append(b, ",["...)
		for i := range p.Diagnostics {
			b = appendDiagnostic(b, p, &p.Diagnostics[i], i > 0)
		}
		b = append(b, "],["...)
		for i, d := range p.Dropped {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, d.ID)
			b = append(b, ',')
			b = pv.appendShared(b, optionValues(d.Options))
			b = append(b, ',')
			b = appendJSONString(b, d.Reason)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	b = append(b, ']')
	pv.buf = b
	// bufio.Writer errors are sticky: the last write reports any earlier one.
	_, err := pv.bw.Write(b)
	return err
}

// appendID appends an id that is a number of up to 15 digits, as
// CYBERBIZ's are, as the difference from the last one written so, which
// it becomes: products and variants are mostly numbered in the order of
// the export, so most differences take a digit or two where the id takes
// seven or more. Any other id is written as a string.
func appendID(b []byte, id string, last *int64) []byte {
	if len(id) == 0 || len(id) > 15 || (id[0] == '0' && len(id) > 1) {
		return appendJSONString(b, id)
	}
	var n int64
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return appendJSONString(b, id)
		}
		n = n*10 + int64(id[i]-'0')
	}
	b = strconv.AppendInt(b, n-*last, 10)
	*last = n
	return b
}

// under is link less base when it starts with it, as the script puts it
// back: a link that is left whole starts with https://, which what
// follows base never does here.
func under(base, link string) string {
	if rest, ok := strings.CutPrefix(link, base); ok && base != "" && !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "http://") {
		return rest
	}
	return link
}

// appendShared appends s as its number in the table of shared strings,
// adding it while the table has room, or else as a string.
func (pv *preview) appendShared(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	i, ok := pv.shared[s]
	if !ok {
		if len(pv.sharedList) == previewMaxShared || len(s) > previewMaxSharedLen {
			return appendJSONString(b, s)
		}
		// A clone: s may be part of a larger string the table should not
		// keep alive.
		s = strings.Clone(s)
		i = len(pv.sharedList)
		pv.shared[s] = i
		pv.sharedList = append(pv.sharedList, s)
	}
	return strconv.AppendInt(b, int64(i), 10)
}

// appendAvailability appends a's number in availabilityWords, or a
// itself for a word not there.
func appendAvailability(b []byte, a string) []byte {
	for i, w := range availabilityWords {
		if w.code == a {
			return strconv.AppendInt(b, int64(i), 10)
		}
	}
	return appendJSONString(b, a)
}

// appendPrice appends a price as a JSON number when it is a plain decimal
// that reads back the same (as formatMoney writes them), else as a string.
func appendPrice(b []byte, price string) []byte {
	dot := false
	plain := len(price) > 0 && len(price) <= 15 && price[0] >= '1' && price[0] <= '9'
	for i := 0; plain && i < len(price); i++ {
		switch c := price[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i < len(price)-1:
			dot = true
		default:
			plain = false
		}
	}
	if plain && (!dot || price[len(price)-1] != '0') {
		return append(b, price...)
	}
	return appendJSONString(b, price)
}

// appendDiagnostic appends d as its code's number and the numbers of the
// items it concerns.
func appendDiagnostic(b []byte, p *CatalogProduct, d *Diagnostic, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, '[')
	if i, ok := diagnosticOrder[d.Code]; ok {
		b = strconv.AppendInt(b, int64(i), 10)
	} else {
		b = appendJSONString(b, d.Code)
	}
	for _, id := range d.Items {
		for j := range p.Items {
			if p.Items[j].ID == id {
				b = append(b, ',')
				b = strconv.AppendInt(b, int64(j), 10)
				break
			}
		}
	}
	return append(b, ']')
}

// finish ends the products and, on the private page, writes the excluded
// products; then the table of shared strings, and the message for a
// browser without script.
func (pv *preview) finish(excluded *exclusionList) error {
	w := pv.bw
	w.WriteString("\n]")
	if pv.private {
		w.WriteString(`,"excluded":[`)
		if err := pv.excluded(excluded); err != nil {
			return err
		}
		w.WriteString("\n]")
	}
	w.WriteString(`,"strings":[`)
	for i, s := range pv.sharedList {
		b := w.AvailableBuffer()
		if i > 0 {
			b = append(b, ',')
		}
		w.Write(appendJSONString(b, s))
	}
	w.WriteString("]}</script>\n")
	noScript := strings.NewReplacer("{products}", strconv.Itoa(pv.n), "{items}", strconv.Itoa(pv.itemCount)).Replace(pv.lang.T(previewText["noscript"]))
	if pv.private {
		noScript += " " + strings.ReplaceAll(pv.lang.T(previewText["noscriptExcluded"]), "{excluded}", strconv.Itoa(excluded.Len()))
	}
	if err := previewTemplates.ExecuteTemplate(w, "end", map[string]any{"NoScript": noScript, "Script": template.JS(previewScript)}); err != nil {
		return err
	}
	return w.Flush()
}

// excluded writes the excluded products, one a line, as
//
//	[id, name, row, reasons…]
//
// with the id as appendID writes it and the reasons shared. Their text
// comes from the export as it is, so it is cleaned.
func (pv *preview) excluded(excluded *exclusionList) error {
	n := 0
	for e, err := range excluded.All() {
		if err != nil {
			return err
		}
		b := pv.buf[:0]
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, '\n', '[')
		b = appendID(b, cleanText(e.ID), &pv.lastExcluded)
		b = append(b, ',')
		b = appendJSONString(b, cleanText(e.Name))
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(e.Row), 10)
		for _, r := range e.Reasons {
			b = append(b, ',')
			b = pv.appendShared(b, cleanText(r.Message))
		}
		b = append(b, ']')
		pv.buf = b
		pv.bw.Write(b)
	}
	return nil
}

func (pv *preview) items() int { return pv.n }
