package feedgen

import (
	"feedgen/internal/msg"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Availability values, in Google's spelling; each writer maps them to its
// channel's own.
const (
	InStock    = "in_stock"
	OutOfStock = "out_of_stock"
	Backorder  = "backorder"
)

// Catalog is what the feed writers write: the eligible products, mapped
// onto feed fields, and the excluded ones with their reasons.
type Catalog struct {
	CatalogInfo
	Products []CatalogProduct
	Excluded []Exclusion
}

// CatalogInfo describes a catalog as a whole.
type CatalogInfo struct {
	Title    string
	ShopURL  string
	Currency string
	At       time.Time
	// BackorderDate is the availability_date of items on backorder, as
	// Google writes it; "" sends none.
	BackorderDate string
	// Lang is the language of the preview's words.
	Lang msg.Lang
}

// Items counts the variant items of the catalog.
func (c *Catalog) Items() int {
	n := 0
	for i := range c.Products {
		n += len(c.Products[i].Items)
	}
	return n
}

// CatalogProduct is an eligible product with its feed fields resolved.
type CatalogProduct struct {
	ID          string
	Row         int
	Name        string
	Summary     string // 商品簡述, plain text
	HTML        string // 商品介紹, sanitised for LINE (see sanitizeLineHTML)
	Description string // plain text for channels that want it
	Link        string
	Images      []string // absolute URLs, main image first
	Brand       string
	ProductType string
	// Categories are the paths of the product's categories for LINE, from
	// 商品類型 and 商品自訂群組, normalised (see productCategories); none
	// gives it the fallback category.
	Categories []string
	Items      []Item
	// Diagnostics are what the channels would flag about the items; they
	// do not keep the product out.
	Diagnostics []Diagnostic
	// Dropped are the variants left out of the feeds while the product
	// stays, with why: the run warns of each once, but the private preview
	// shows them beside the variants that stay, so that a variant missing
	// from the channels is not missing without a sign.
	Dropped []DroppedItem
	// categories are Categories' entries in the category file, made by
	// the catalog builder (or writeAll), which gives them their ids; nil,
	// in a product neither saw, stands for the fallback category.
	categories []*category
	// clean records that every text field already passed cleanText, as
	// mapProduct leaves them, so that the writers need not scan each
	// product's kilobytes again; see cleaned.
	clean bool
}

// cleaned returns p with every text field cleaned (see cleanText), which
// the feed writers rely on: p itself when it is clean already.
func (p *CatalogProduct) cleaned() *CatalogProduct {
	if p.clean {
		return p
	}
	c := *p
	for _, s := range []*string{&c.ID, &c.Name, &c.Summary, &c.HTML, &c.Description, &c.Link, &c.Brand, &c.ProductType} {
		*s = cleanText(*s)
	}
	c.Images = make([]string, len(p.Images))
	for i, u := range p.Images {
		c.Images[i] = cleanText(u)
	}
	if p.Categories != nil {
		c.Categories = make([]string, len(p.Categories))
		for i, path := range p.Categories {
			c.Categories[i] = cleanText(path)
		}
	}
	c.Items = make([]Item, len(p.Items))
	for i, it := range p.Items {
		for _, s := range []*string{&it.ID, &it.GroupID, &it.VariantID, &it.SKU, &it.GTIN, &it.MPN, &it.Link, &it.Size, &it.Color, &it.Material, &it.Pattern, &it.AgeGroup, &it.Gender, &it.Title, &it.Price, &it.SalePrice, &it.Availability} {
			*s = cleanText(*s)
		}
		it.Options = cleanOptions(it.Options)
		c.Items[i] = it
	}
	if p.Dropped != nil {
		c.Dropped = make([]DroppedItem, len(p.Dropped))
		for i, d := range p.Dropped {
			c.Dropped[i] = DroppedItem{ID: cleanText(d.ID), Options: cleanOptions(d.Options), Reason: cleanText(d.Reason)}
		}
	}
	c.clean = true
	return &c
}

func cleanOptions(opts []Option) []Option {
	if opts == nil {
		return nil
	}
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = Option{Name: cleanText(o.Name), Value: cleanText(o.Value)}
	}
	return out
}

// DroppedItem is a variant left out of its product's items: one without a
// valid price.
type DroppedItem struct {
	ID      string // as Item.ID
	Options []Option
	Reason  string
}

// Item is one variant as a feed item.
type Item struct {
	ID        string // g:id: the variant id (商品款式 id), for a product of one variant too
	GroupID   string // g:item_group_id: the product id when the product has several variants
	VariantID string
	SKU       string // the shop's own number: never sent as an identifier
	GTIN, MPN string // from the columns the config maps to them, else ""
	Link      string // the variant's own landing page; "" is the product's (see ItemLink)
	// Size, Color, Material and Pattern are the values of the options the
	// config maps to those attributes; they tell a group's variants apart.
	Size, Color, Material, Pattern string
	// AgeGroup and Gender are Google's words (adult, female…) for the
	// values of the options mapped to them.
	AgeGroup, Gender string
	// Distinct reports that the attributes alone tell the item from the
	// other variants of its group: every option of it is one.
	Distinct     bool
	Title        string
	Options      []Option
	Price        string // decimal, no currency
	SalePrice    string // set only when lower than Price
	Availability string
}

// Exclusion is a product left out of the catalog, with every reason.
type Exclusion struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Row     int      `json:"row"`
	Reasons []Reason `json:"reasons"`
}

// catalogBuilder decides each product's fate: excluded with its reasons,
// or mapped onto feed fields.
type catalogBuilder struct {
	cfg   *Config
	rules *rules
	at    time.Time
	// categories gives the products' categories their ids; noRoom counts
	// the products given fewer because it was full.
	categories *categoryIndex
	noRoom     int
}

func newCatalogBuilder(cfg *Config, ex *Export, at time.Time) *catalogBuilder {
	if cfg.attributeOf == nil {
		// A Config that was not validated gets the index once here,
		// on a copy, rather than once per option mapped.
		c := *cfg
		c.attributeOf = c.Options.index()
		cfg = &c
	}
	return &catalogBuilder{cfg: cfg, rules: newRules(cfg, ex.Date1904), at: at, categories: newCategoryIndex()}
}

func (b *catalogBuilder) info() CatalogInfo {
	return CatalogInfo{Title: catalogTitle(b.cfg), ShopURL: b.cfg.ShopURL, Currency: b.cfg.Currency, At: b.at, Lang: b.cfg.Language,
		BackorderDate: backorderDate(b.at, b.cfg.BackorderDays)}
}

// add returns the product's catalog entry, or its exclusion, and what is
// worth a warning about it.
func (b *catalogBuilder) add(p *Product) (*CatalogProduct, *Exclusion, []Warning) {
	reasons := b.rules.check(p, b.at)
	if len(reasons) == 0 {
		cp, invalid, warns := mapProduct(p, b.cfg)
		if len(invalid) == 0 {
			var full bool
			if cp.categories, full = b.categories.resolve(cp.Categories); full {
				b.noRoom++
			}
			return &cp, nil, warns
		}
		reasons = invalid
	}
	return nil, &Exclusion{ID: p.ID, Name: p.Name, Row: p.Row, Reasons: reasons}, b.unreadableDates(p, reasons)
}

// unreadableDates warns of the sale dates that kept p out because they
// could not be read: a typing slip, where other reasons are choices, and
// one the run's summary should show, not only explain.
func (b *catalogBuilder) unreadableDates(p *Product, reasons []Reason) []Warning {
	var warns []Warning
	for _, r := range reasons {
		if r.Code != ReasonNotOnSale || (r.Column != b.cfg.Columns.Start && r.Column != b.cfg.Columns.End) {
			continue
		}
		if _, err := parseShopTime(r.Value, b.rules.loc, b.rules.date1904); err != nil {
			warns = append(warns, Warning{Row: r.Row, Column: r.Column, Message: b.cfg.Language.T(
				"product %s is left out: 「%s」 is not a date; write it like 2026/11/20 10:00 (民國 115/11/20 and 2026年11月20日 are read too)", p.ID, r.Value)})
		}
	}
	return warns
}

// setAttribute sets the attribute of it that the option o is, and
// reports whether it is one. Several options of one attribute join with
// "/"; an age group or gender takes one of Google's values, so a value
// it cannot read (a second one included) leaves the option in the title
// alone, and known is false.
func setAttribute(it *Item, cfg *Config, o Option) (attr, known bool) {
	a, ok := cfg.attributeOf[normalizeText(o.Name)]
	if !ok {
		return false, false
	}
	var words map[string]string
	switch a {
	case attrAgeGroup:
		words = ageGroups
	case attrGender:
		words = genders
	default:
		f := [...]*string{attrSize: &it.Size, attrColor: &it.Color, attrMaterial: &it.Material, attrPattern: &it.Pattern}[a]
		if *f != "" {
			*f += "/"
		}
		*f += o.Value
		return true, true
	}
	f := map[attribute]*string{attrAgeGroup: &it.AgeGroup, attrGender: &it.Gender}[a]
	v, ok := words[normalizeText(o.Value)]
	if !ok || *f != "" {
		return true, false
	}
	*f = v
	return true, true
}

// ageGroups and genders read an option's value, as a Taiwanese shop or an
// English one writes it, as Google's age_group and gender
// (answer/6324463, answer/6324479), which Meta takes too.
var (
	ageGroups = wordsOf(map[string][]string{
		"newborn": {"新生兒", "newborn"},
		"infant":  {"嬰兒", "嬰幼兒", "infant", "baby"},
		"toddler": {"幼兒", "學步", "toddler"},
		"kids":    {"兒童", "童", "童裝", "孩童", "小孩", "kids", "kid", "child", "children"},
		"adult":   {"成人", "大人", "成人款", "adult", "adults"},
	})
	genders = wordsOf(map[string][]string{
		"male":   {"男", "男性", "男款", "男生", "男士", "男用", "male", "men", "man", "mens"},
		"female": {"女", "女性", "女款", "女生", "女士", "女用", "female", "women", "woman", "womens"},
		"unisex": {"中性", "男女", "男女皆可", "男女適用", "男女通用", "不限", "unisex"},
	})
)

// wordsOf maps each word, normalised, to its value.
func wordsOf(values map[string][]string) map[string]string {
	m := map[string]string{}
	for v, words := range values {
		for _, w := range words {
			m[normalizeText(w)] = v
		}
	}
	return m
}

// variantsDiffer reports whether a shopper landing on the product's page,
// which shows its default variant, could see another price or
// availability than an item promised.
func variantsDiffer(items []Item) bool {
	for _, it := range items[min(1, len(items)):] {
		if it.Price != items[0].Price || it.SalePrice != items[0].SalePrice || it.Availability != items[0].Availability {
			return true
		}
	}
	return false
}

// categoriesNote is the run's note about the products whose categories
// did not fit in the category file, nil when there are none.
func (b *catalogBuilder) categoriesNote() *Warning {
	if b.noRoom == 0 {
		return nil
	}
	return &Warning{Message: b.cfg.Language.T("%d products have categories (%s, %s) beyond the %d the category file holds; they are left out of it, and a product with none left is in %s",
		b.noRoom, b.cfg.Columns.Type, b.cfg.Columns.Groups, maxCategories, fallbackCategoryTitle)}
}

// ItemLink is it's landing page: its own, else its product's.
func (p *CatalogProduct) ItemLink(it *Item) string {
	if it.Link != "" {
		return it.Link
	}
	return p.Link
}

// variantLinkFields are the placeholders of a variant_link template.
var variantLinkFields = []string{"{link}", "{variant_id}", "{sku}"}

// checkVariantLink accepts a template that starts with the product's page,
// so that every link stays on the shop, and names only known fields.
func checkVariantLink(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	if !strings.HasPrefix(tmpl, "{link}") {
		return msg.Errorf("%q must start with {link}, the product's page, such as \"{link}?sku={sku}\"", tmpl)
	}
	rest := tmpl
	for _, f := range variantLinkFields {
		rest = strings.ReplaceAll(rest, f, "")
	}
	if strings.ContainsAny(rest, "{} \t") {
		return msg.Errorf("%q: use only %s, and no spaces", tmpl, strings.Join(variantLinkFields, ", "))
	}
	return nil
}

// variantLink fills the template with the product's page and the
// variant's id and SKU, each escaped for a query.
func variantLink(tmpl, link string, it Item) string {
	return strings.NewReplacer("{link}", link, "{variant_id}", url.QueryEscape(it.VariantID), "{sku}", url.QueryEscape(it.SKU)).Replace(tmpl)
}

// backorderDate is midnight, days after at, in at's zone, as Google's
// availability_date is written: a date that moves once a day, so that a
// catalog that did not change is byte for byte the same all day.
func backorderDate(at time.Time, days int) string {
	if days <= 0 {
		return ""
	}
	y, m, d := at.Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, at.Location()).Format("2006-01-02T15:04-0700")
}

func catalogTitle(cfg *Config) string {
	if cfg.Brand != "" {
		return cfg.Brand
	}
	if u, err := url.Parse(cfg.ShopURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "Product catalog"
}

// mapProduct resolves an eligible product's feed fields. A product that
// cannot make a valid item (no link, no image, no priced variant) is
// returned with reasons instead: never emitted broken. A variant without a
// valid price is left out with a warning while its siblings stay.
func mapProduct(p *Product, cfg *Config) (CatalogProduct, []Reason, []Warning) {
	cols, l := &cfg.Columns, cfg.Language
	cp := CatalogProduct{
		ID:          cleanText(p.ID),
		Row:         p.Row,
		Name:        foldSpace(p.Name),
		Summary:     htmlToText(p.Summary),
		Brand:       strings.TrimSpace(cleanText(p.Vendor)),
		ProductType: strings.TrimSpace(cleanText(p.Type)),
	}
	if cp.Brand == "" {
		cp.Brand = strings.TrimSpace(cleanText(cfg.Brand))
	}
	var unsafe string
	if cp.HTML, unsafe = sanitizeLineHTML(cleanText(p.Description)); unsafe != "" {
		cp.diagnose(Diagnostic{Code: DiagUnsafeHTML, Row: p.rowOf(fDescription), Column: cols.Description, Message: l.T(
			"the description had %s or other unsafe HTML, removed from LINE's l_description", unsafe)})
	}
	cp.Description = htmlToText(p.Description)
	if cp.Description == "" {
		cp.Description = cp.Summary
	}
	if cp.Description == "" {
		cp.Description = cp.Name
	}
	var (
		reasons  []Reason
		warns    []Warning
		priceErr error
	)
	invalid := func(col string, row int, value, why string) {
		reasons = append(reasons, Reason{Code: ReasonInvalid, Column: col, Row: row, Value: value, Message: l.T("invalid: %s", why)})
	}
	if cp.Name == "" {
		invalid(cols.Name, p.Row, "", l.T("missing title (%s is blank)", cols.Name))
	} else if n := runeCount(cp.Name); n > metaLimits.title {
		// No channel takes more, and every variant's title repeats the
		// name: a name of megabytes would be written once per variant.
		// The title_cut diagnostic reports it with the items.
		cp.Name = truncate(cp.Name, metaLimits.title)
	}
	if n := runeCount(cp.Description); n > googleLimits.description {
		cp.diagnose(Diagnostic{Code: DiagDescriptionCut, Row: p.rowOf(fDescription), Column: cols.Description, Message: l.T(
			"description is %d characters as plain text; Google gets the first %d, Meta the first %d", n, googleLimits.description, metaLimits.description)})
	}
	// A string has no more characters than bytes, so most HTML, far
	// shorter, is never counted.
	if len(cp.HTML) > lineLimits.longDescription {
		if n := runeCount(cp.HTML); n > lineLimits.longDescription {
			cp.diagnose(Diagnostic{Code: DiagLongDescriptionCut, Row: p.rowOf(fDescription), Column: cols.Description, Message: l.T(
				"description is %d characters of HTML; LINE gets the first %d (cut before an unfinished tag)", n, lineLimits.longDescription)})
		}
	}
	var err error
	if cp.Link, err = productLink(cfg.ShopURL, p.Handle); err != nil {
		invalid(cols.Handle, p.rowOf(fHandle), p.Handle, l.T("missing link: %v", err))
	}
	httpImages := 0
	for _, img := range p.Images {
		if u := absoluteURL(cfg.ShopURL, img); u != "" {
			cp.Images = append(cp.Images, u)
			if isHTTP(img) {
				httpImages++
			}
		}
	}
	if httpImages > 0 {
		cp.diagnose(Diagnostic{Code: DiagImageHTTP, Row: p.Row, Column: cols.Images, Message: l.T(
			"%s at http:// sent as https://", plural(l, httpImages, msg.N("1 image"), msg.N("%d images")))})
	}
	if len(cp.Images) == 0 {
		invalid(cols.Images, p.Row, "", l.T("missing image_link (no usable URL in the %s columns)", cols.Images))
	}
	multi := len(p.Variants) > 1
	var (
		unmapped   []string // option names that are no attribute, for the diagnostic
		unread     []Option // age groups and genders not in Google's words
		unreadIDs  []string // the items with them
		cutIDs     []string // items with an option cut
		itemUnread []Option
	)
	for i, v := range p.Variants {
		optionCut := false
		itemUnread = itemUnread[:0]
		it := Item{VariantID: cleanText(v.ID), SKU: cleanText(v.SKU), GTIN: strings.TrimSpace(cleanText(v.GTIN)), MPN: strings.TrimSpace(cleanText(v.MPN)), Options: cleanOptions(v.Options), Title: cp.Name, Availability: availability(v)}
		// No channel takes an option, or a title, longer than a title:
		// cut here, a variant of megabytes of options is not carried into
		// memory and written in every feed.
		for j := range it.Options {
			o := &it.Options[j]
			if len(o.Name) > metaLimits.title || len(o.Value) > metaLimits.title {
				name, value := truncate(o.Name, metaLimits.title), truncate(o.Value, metaLimits.title)
				optionCut = optionCut || name != o.Name || value != o.Value
				o.Name, o.Value = name, value
			}
		}
		// An item is its variant, whether or not the product has others:
		// Google and Meta keep an item's history by its id, which must not
		// change when a second size is added (answer/6324405).
		it.ID = it.VariantID
		if it.ID == "" {
			it.ID = fmt.Sprintf("%s-%d", cp.ID, i+1)
		}
		it.Distinct = multi && len(it.Options) > 0
		for _, o := range it.Options {
			attr, known := setAttribute(&it, cfg, o)
			if !known {
				it.Distinct = false
			}
			switch {
			case !attr && multi && !slices.Contains(unmapped, o.Name):
				unmapped = append(unmapped, o.Name)
			case attr && !known:
				itemUnread = append(itemUnread, o)
			}
		}
		if multi {
			it.GroupID = cp.ID
			if cfg.VariantLink != "" && cp.Link != "" && (it.SKU != "" || !strings.Contains(cfg.VariantLink, "{sku}")) {
				// A variant without the SKU the template needs lands on
				// the product's page, not on "?sku=".
				it.Link = variantLink(cfg.VariantLink, cp.Link, it)
			}
			if len(it.Options) > 0 {
				it.Title = truncate(it.Title+" - "+optionValues(it.Options), metaLimits.title)
			}
		}
		if st := strings.TrimSpace(v.Stock); st != "" {
			if _, err := parseStock(st); err != nil {
				warns = append(warns, Warning{Row: v.Row, Column: cols.Stock, Message: l.T(
					"variant %s of product %s: 庫存量 「%s」 is not a number; it is listed as in stock", it.ID, p.ID, st)})
			}
		}
		price, err := parseMoney(v.Price)
		if err != nil {
			if priceErr == nil {
				priceErr = err
			}
			warns = append(warns, Warning{Row: v.Row, Column: cols.Price, Message: l.T(
				"variant %s of product %s left out: %v", it.ID, p.ID, err)})
			cp.Dropped = append(cp.Dropped, DroppedItem{ID: it.ID, Options: it.Options, Reason: cleanText(msg.Text(l, err))})
			continue
		}
		it.Price = formatMoney(price)
		if list, err := parseMoney(v.ListPrice); err == nil && list > price {
			it.Price, it.SalePrice = formatMoney(list), formatMoney(price)
		}
		cp.Items = append(cp.Items, it)
		// A variant left out for its price is no item a channel sees.
		if optionCut {
			cutIDs = append(cutIDs, it.ID)
		}
		if len(itemUnread) > 0 {
			unreadIDs = append(unreadIDs, it.ID)
			for _, o := range itemUnread {
				if len(unread) < 5 && !slices.Contains(unread, o) {
					unread = append(unread, o)
				}
			}
		}
	}
	if len(unread) > 0 {
		vals := make([]string, len(unread))
		for i, o := range unread {
			vals[i] = o.Name + " 「" + o.Value + "」"
		}
		cp.diagnose(Diagnostic{Code: DiagUnknownValue, Items: unreadIDs, Row: p.Row, Message: l.T(
			"%s: not an age group or gender Google knows, so it stays in the title only", strings.Join(vals, ", "))})
	}
	var categoryCut bool
	if cp.Categories, categoryCut = productCategories(p.Type, p.Groups); categoryCut {
		warns = append(warns, Warning{Row: p.Row, Message: l.T(
			"product %s: its categories (%s, %s) are cut for LINE to %d, each of at most %d levels of %d characters", p.ID, cols.Type, cols.Groups, maxProductCategories, maxCategoryDepth, maxCategoryTitle)})
	}
	if len(cutIDs) > 0 {
		cp.diagnose(Diagnostic{Code: DiagValueCut, Items: cutIDs, Row: p.Row, Message: l.T(
			"an option name or value is over %d characters; the channels get the first %d", metaLimits.title, metaLimits.title)})
	} else if long := longAttribute(cp.Items); len(long) > 0 {
		cp.diagnose(Diagnostic{Code: DiagValueCut, Items: long, Row: p.Row, Message: l.T(
			"a size, color or pattern is over %d characters, or a material over %d; Google and Meta get the first %d and %d", googleLimits.attribute, googleLimits.material, googleLimits.attribute, googleLimits.material)})
	}
	if len(cp.Items) == 0 && priceErr != nil {
		invalid(cols.Price, p.Row, p.Variants[0].Price, l.T("missing price: no variant has a valid price (%v)", priceErr))
	}
	if len(reasons) > 0 {
		return CatalogProduct{}, reasons, nil
	}
	diagnoseItems(&cp, cfg, unmapped)
	cp.clean = true
	return cp, nil, warns
}

// optionValues names a variant by its option values, as its title in the
// feeds and the preview do.
func optionValues(opts []Option) string {
	switch len(opts) {
	case 0:
		return ""
	case 1:
		return opts[0].Value
	}
	vals := make([]string, len(opts))
	for i, o := range opts {
		vals[i] = o.Value
	}
	return strings.Join(vals, " / ")
}

// availability follows the export's stock columns: unmanaged or blank stock
// is unlimited; none left sells on only when 庫存不足時 says 繼續銷售.
func availability(v Variant) string {
	stock := strings.TrimSpace(v.Stock)
	if normalizeText(v.ManageStock) == "否" || stock == "" {
		return InStock
	}
	n, err := parseStock(stock)
	if err != nil || n > 0 {
		return InStock
	}
	if normalizeText(v.OutOfStock) == "繼續銷售" {
		return Backorder
	}
	return OutOfStock
}

// parseStock reads 庫存量. A value that is not a number is reported by
// mapProduct and counts as in stock, as a blank one does.
func parseStock(s string) (float64, error) {
	return strconv.ParseFloat(strings.ReplaceAll(norm.NFKC.String(strings.TrimSpace(s)), ",", ""), 64)
}

// errBlankPrice is a blank price cell, as most 定價 cells are: one error
// for all, not one made for each variant.
var errBlankPrice = msg.New("price is blank")

// parseMoney reads a price cell: "1280", "1,280", "1280.00", "NT$ 1,280",
// "1280元", or the same in full-width digits.
func parseMoney(s string) (float64, error) {
	t := strings.ToUpper(norm.NFKC.String(s))
	t = strings.Map(func(r rune) rune {
		if r == ',' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, t)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "NT"), "$")
	t = strings.TrimSuffix(t, "元")
	if t == "" {
		return 0, errBlankPrice
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, msg.Errorf("price 「%s」 is not a number", s)
	}
	if v <= 0 {
		return 0, msg.Errorf("price 「%s」 is not above 0", s)
	}
	return v, nil
}

// formatMoney writes a price without trailing zeros: 1280, 99.5.
func formatMoney(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// maxURLLength is Google's limit for link and image_link.
const maxURLLength = 2000

// productLink builds the product page URL from 商品網址, which holds the
// handle after /products/ or, in some shops, a full URL.
func productLink(shopURL, handle string) (string, error) {
	handle = strings.TrimSpace(handle)
	if handle == "" {
		return "", msg.Errorf("商品網址 is blank")
	}
	raw := handle
	if !isAbsoluteHTTP(handle) {
		if shopURL == "" {
			return "", msg.Errorf("商品網址 「%s」 is a handle and no shop URL is set (use -shop-url or shop_url)", handle)
		}
		handle = strings.TrimPrefix(handle, "/")
		handle = strings.TrimPrefix(handle, "products/")
		raw = strings.TrimRight(shopURL, "/") + "/products/" + url.PathEscape(handle)
	}
	link := feedURL(raw)
	if link == "" {
		return "", msg.Errorf("商品網址 「%s」 does not make a valid URL", handle)
	}
	if len(link) > maxURLLength {
		return "", msg.Errorf("the product URL is %d characters, over the %d channels accept", len(link), maxURLLength)
	}
	return link, nil
}

// isHTTP reports whether s is an http:// address, which feedURL sends as
// https.
func isHTTP(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 7 && strings.EqualFold(s[:7], "http://")
}

// longAttribute reports whether an item's size, color, material or
// pattern, the option values joined, is longer than Google and Meta take.
func longAttribute(items []Item) (ids []string) {
	for i := range items {
		it := &items[i]
		if max(runeCount(it.Size), runeCount(it.Color), runeCount(it.Pattern)) > googleLimits.attribute || runeCount(it.Material) > googleLimits.material {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

func isAbsoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// absoluteURL makes an image URL fit for a feed: protocol-relative //cdn…
// becomes https://cdn…, and a path is resolved against the shop. It returns
// "" for what cannot be a URL.
func absoluteURL(shopURL, s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(s, "//"):
		s = "https:" + s
	case strings.HasPrefix(s, "/") && shopURL != "":
		s = strings.TrimRight(shopURL, "/") + s
	}
	u := feedURL(s)
	if len(u) > maxURLLength {
		return ""
	}
	return u
}

// feedURL returns s as the channels want a URL: absolute, https, and ASCII
// (an internationalised host in punycode, other non-ASCII bytes and spaces
// percent-encoded). It returns "" for anything but an http(s) URL.
func feedURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	u.Scheme = "https"
	host, err := idna.Lookup.ToASCII(u.Hostname())
	if err != nil {
		return ""
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	u.Host = host
	str := u.String()
	var b strings.Builder
	for i := 0; i < len(str); i++ {
		c := str[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
