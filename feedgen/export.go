package feedgen

import (
	"context"
	"errors"
	"feedgen/internal/msg"
	"feedgen/internal/xlsx"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Product is one product of the export, gathered from its variant rows.
// Product-level cells are taken from the first row that fills them, which is
// how exports that leave them blank on later variant rows still read right.
type Product struct {
	ID  string
	Row int // the product's first row in the sheet

	Name, Public, Status, Summary, Handle, Groups, Type, Vendor, Tags, Description string
	// Start and End are the raw 商品上架時間 and 商品下架時間 cells: an Excel
	// date serial or text; they are read in the shop's time zone later.
	Start, End string
	Images     []string
	Variants   []Variant

	rows [numProductFields]int32 // row each product-level value came from
	size int                     // bytes of the variants' text, for checkProductSize
}

// Variant is one variant (款式) row.
type Variant struct {
	ID  string
	Row int

	SKU, GTIN, MPN, Price, ListPrice, ManageStock, Stock, OutOfStock string
	Options                                                          []Option
}

// Option is one variant option, such as 顏色 = 紅.
type Option struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Warning is something in the export worth a merchant's attention that did
// not stop the run.
type Warning struct {
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (w Warning) String() string { return w.Text(msg.English) }

// Text is the warning with its cell, in l; the message is in the language
// it was made in, the run's.
func (w Warning) Text(l msg.Lang) string { return cellText(l, w.Row, w.Column, w.Message) }

// maxWarnings bounds the warnings kept in memory; an export with a problem on
// every row should not cost a copy of itself. The count stays exact.
const maxWarnings = 1000

// Export is the content of a product export.
type Export struct {
	// Products is filled by ReadExport; a streaming run leaves it nil.
	Products     []*Product
	ProductCount int
	Rows         int  // data rows read (variant rows, blank rows excluded)
	HeaderRow    int  // the row the headers were found on
	HasStatus    bool // the export has a 上架狀態 column
	Date1904     bool // the workbook counts dates from 1904
	// RowsApart is set when the rows of some product were apart (a sorted
	// export), and the sheet was read a second time to group them.
	RowsApart bool
	// SHA256 is the hex SHA-256 of the file that was read, when it was
	// read from a file.
	SHA256 string
	// Sheet is the sheet read, when the workbook has several.
	Sheet string

	Warnings     []Warning
	WarningCount int

	lang msg.Lang // of the warnings
}

func (e *Export) warn(w Warning) {
	e.WarningCount++
	if len(e.Warnings) < maxWarnings {
		e.Warnings = append(e.Warnings, w)
	}
}

// Product returns the product with the given id, or nil.
func (e *Export) Product(id string) *Product {
	id = normalizeID(id)
	for _, p := range e.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// ColumnError reports a column the export lacks.
type ColumnError struct {
	Missing []string // header texts of the missing columns
	Found   []string // the headers of the row that looked most like a header row
	Row     int
}

func (e *ColumnError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *ColumnError) Text(l msg.Lang) string {
	return l.T("missing column %s (headers found on row %d: %s)",
		quoteAll(e.Missing), e.Row, strings.Join(e.Found, l.T(", ")))
}

// errEmptySheet is a sheet without a single row.
var errEmptySheet = msg.New("the sheet is empty")

// ErrNoProducts is returned for an export with a header row and nothing else.
var ErrNoProducts = msg.New("the export has a header row but no product rows")

// ErrProductTooLarge is a product whose rows are over maxVariants or
// maxProductBytes: far beyond any shop's, so a damaged or hostile export.
var ErrProductTooLarge = msg.New("product too large")

// Bounds of one product, which is held in memory until its last row.
const (
	maxVariants     = 10_000
	maxProductBytes = 64 << 20
)

// productField is a product-level column: read once per product and carried
// forward to its later rows.
type productField int

const (
	fName productField = iota
	fPublic
	fStatus
	fSummary
	fHandle
	fGroups
	fType
	fVendor
	fTags
	fDescription
	fStart
	fEnd
	numProductFields
)

// column describes how one configured column is read.
type column struct {
	key      string // key under [columns]
	header   string
	required bool
	product  productField // -1 for variant-level and id columns
	variant  func(*Variant) *string
}

func (c *Columns) layout() []column {
	noProduct := productField(-1)
	return []column{
		{key: "product_id", header: c.ProductID, required: true, product: noProduct},
		{key: "variant_id", header: c.VariantID, required: true, product: noProduct},
		{key: "name", header: c.Name, required: true, product: fName},
		{key: "public", header: c.Public, required: true, product: fPublic},
		{key: "status", header: c.Status, product: fStatus},
		{key: "summary", header: c.Summary, product: fSummary},
		{key: "handle", header: c.Handle, product: fHandle},
		{key: "groups", header: c.Groups, product: fGroups},
		{key: "type", header: c.Type, product: fType},
		{key: "vendor", header: c.Vendor, product: fVendor},
		{key: "tags", header: c.Tags, required: true, product: fTags},
		{key: "description", header: c.Description, product: fDescription},
		{key: "start", header: c.Start, required: true, product: fStart},
		{key: "end", header: c.End, required: true, product: fEnd},
		{key: "price", header: c.Price, required: true, product: noProduct, variant: func(v *Variant) *string { return &v.Price }},
		{key: "list_price", header: c.ListPrice, product: noProduct, variant: func(v *Variant) *string { return &v.ListPrice }},
		{key: "sku", header: c.SKU, product: noProduct, variant: func(v *Variant) *string { return &v.SKU }},
		{key: "gtin", header: c.GTIN, product: noProduct, variant: func(v *Variant) *string { return &v.GTIN }},
		{key: "mpn", header: c.MPN, product: noProduct, variant: func(v *Variant) *string { return &v.MPN }},
		{key: "manage_stock", header: c.ManageStock, product: noProduct, variant: func(v *Variant) *string { return &v.ManageStock }},
		{key: "stock", header: c.Stock, product: noProduct, variant: func(v *Variant) *string { return &v.Stock }},
		{key: "when_out_of_stock", header: c.OutOfStock, product: noProduct, variant: func(v *Variant) *string { return &v.OutOfStock }},
	}
}

func (c *Columns) required() []column {
	var req []column
	for _, col := range c.layout() {
		if col.required {
			req = append(req, col)
		}
	}
	return req
}

// field returns a pointer to a product-level value.
func (p *Product) field(f productField) *string {
	switch f {
	case fName:
		return &p.Name
	case fPublic:
		return &p.Public
	case fStatus:
		return &p.Status
	case fSummary:
		return &p.Summary
	case fHandle:
		return &p.Handle
	case fGroups:
		return &p.Groups
	case fType:
		return &p.Type
	case fVendor:
		return &p.Vendor
	case fTags:
		return &p.Tags
	case fDescription:
		return &p.Description
	case fStart:
		return &p.Start
	case fEnd:
		return &p.End
	}
	panic(fmt.Sprintf("feedgen: unknown product field %d", f))
}

// RowOf returns the row a product-level value was read from; the product's
// first row when the value is blank.
func (p *Product) rowOf(f productField) int {
	if r := p.rows[f]; r > 0 {
		return int(r)
	}
	return p.Row
}

// headerScanRows is how far down the sheet the header row is looked for;
// exports sometimes carry a title or notes above it.
const headerScanRows = 20

// scanExport reads the rows of an export sheet, which open opens from the
// top, and hands each product to emit once its last row is read. In the
// usual order, where each product's rows are together as exports list
// them, a product is handed on as soon as the next one starts, so that a
// 100k-product export never sits in memory whole. A row of a product
// already handed on (the export was sorted by price, say) shows that the
// rows are in another order: the sheet is then read again from the top by
// scanGrouped, which keeps the rows aside until the sheet ends, and begin
// is called again, with a new Export: what emit was given before is void.
// Either way a product is gathered from all of its rows, in the order of
// the sheet, and products come in the order of their first rows.
func scanExport(ctx context.Context, open func() (rowReader, error), cols Columns, lang msg.Lang, date1904 bool, begin func(*Export) error, emit func(*Product) error) (*Export, error) {
	ex, err := scanPass(ctx, open, cols, lang, date1904, false, begin, emit)
	if errors.Is(err, errRowsApart) {
		ex, err = scanPass(ctx, open, cols, lang, date1904, true, begin, emit)
	}
	return ex, err
}

// scanPass reads the sheet once, with scanGrouped when grouped is set and
// scanInOrder otherwise.
func scanPass(ctx context.Context, open func() (rowReader, error), cols Columns, lang msg.Lang, date1904, grouped bool, begin func(*Export) error, emit func(*Product) error) (*Export, error) {
	rows, err := open()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ex := &Export{Date1904: date1904, RowsApart: grouped, lang: lang}
	b, err := readHeader(rows, cols, ex)
	if err != nil {
		return nil, err
	}
	if begin != nil {
		if err := begin(ex); err != nil {
			return nil, err
		}
	}
	scan := scanInOrder
	if grouped {
		scan = scanGrouped
	}
	if err := scan(ctx, rows, b, emit); err != nil {
		return nil, err
	}
	if ex.ProductCount == 0 {
		return nil, ErrNoProducts
	}
	return ex, nil
}

// readHeader reads rows up to the header row, within the first
// headerScanRows, and returns what gathers the products of the rows after
// it into ex.
func readHeader(rows rowReader, cols Columns, ex *Export) (*productRows, error) {
	layout := cols.layout()
	var (
		best     []string
		bestRow  int
		bestHits = -1
	)
	for rows.Next() {
		num, cells := rows.Row()
		if num > headerScanRows {
			break
		}
		hi, hits := matchHeaders(cells, layout, cols)
		if hits > bestHits {
			best, bestRow, bestHits = append([]string(nil), cells...), num, hits
		}
		if hi.missing == nil {
			ex.HeaderRow, ex.HasStatus = num, hi.cols["status"] >= 0
			if len(hi.unreadOptions) > 0 {
				ex.warn(Warning{Row: num, Message: ex.lang.T(
					"the columns 「%s」 look like variant options but are not read, so variants may lose them: map each pair under [columns] as option_names and option_values",
					strings.Join(hi.unreadOptions, "」, 「"))})
			}
			return &productRows{ex: ex, cols: cols, layout: layout, idx: hi, variantIDs: make(map[string]int)}, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if best == nil {
		return nil, errEmptySheet
	}
	hi, _ := matchHeaders(best, layout, cols)
	return nil, &ColumnError{Missing: hi.missing, Found: nonBlank(best), Row: bestRow}
}

// scanInOrder gathers products from rows where each product's rows are
// together, handing each on as soon as the next product starts. It fails
// with errRowsApart at a row of a product it handed on.
func scanInOrder(ctx context.Context, rows rowReader, b *productRows, emit func(*Product) error) error {
	emitted := newIDSet() // the products handed on
	flush := func() error {
		if b.p == nil {
			return nil
		}
		emitted.add(b.p.ID)
		b.ex.ProductCount++
		return emit(b.take())
	}
	for rows.Next() {
		num, cells := rows.Row()
		var current string
		if b.p != nil {
			current = b.p.ID
		}
		id, ok, err := b.rowID(ctx, num, cells, current)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if id != current {
			if err := flush(); err != nil {
				return err
			}
			if emitted.has(id) {
				return errRowsApart
			}
			b.start(id, num)
		}
		if err := b.add(num, cells); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// productRows gathers a product from its rows, one at a time in the order
// of the sheet, and the export's warnings about them.
type productRows struct {
	ex     *Export
	cols   Columns
	layout []column
	idx    headerIndex
	p      *Product // the product being gathered
	// variant id -> row, within p
	variantIDs map[string]int
}

// rowID returns the product id of data row num, or, for a row whose id
// is blank, prev, the product of the row before it: some exports leave
// every product-level cell, the id included, blank on a product's later
// variants. ok is false for a row to skip: blank, or with no product to
// continue. Every 1024 rows it checks whether ctx is done.
func (b *productRows) rowID(ctx context.Context, num int, cells []string, prev string) (id string, ok bool, err error) {
	if b.ex.Rows&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return "", false, err
		}
	}
	if blankRow(cells) {
		return "", false, nil
	}
	b.ex.Rows++
	id = normalizeID(cell(cells, b.idx.cols["product_id"]))
	switch {
	case id != "":
		return id, true, nil
	case prev != "":
		return prev, true, nil
	}
	b.ex.warn(Warning{Row: num, Column: b.cols.ProductID, Message: "row has no product id and follows no product; skipped"})
	return "", false, nil
}

// start begins gathering product id, whose first row is row.
func (b *productRows) start(id string, row int) {
	b.p = &Product{ID: strings.Clone(id), Row: row}
	clear(b.variantIDs)
}

// take returns the product gathered.
func (b *productRows) take() *Product {
	p := b.p
	b.p = nil
	return p
}

// add gathers data row num, a row of the product started last, into it.
func (b *productRows) add(num int, cells []string) error {
	p, idx := b.p, &b.idx
	// A repeated variant row is ignored whole: its cells would
	// otherwise fill or contradict the product's.
	vid := normalizeID(cell(cells, idx.cols["variant_id"]))
	if first, dup := b.variantIDs[vid]; dup && vid != "" {
		b.ex.warn(Warning{Row: num, Column: b.cols.VariantID, Message: b.ex.lang.T(
			"variant %s of product %s already appeared on row %d; this row is ignored", vid, p.ID, first)})
		return nil
	}
	for _, col := range b.layout {
		if col.product < 0 {
			continue
		}
		v := strings.TrimSpace(cell(cells, idx.cols[col.key]))
		if v == "" {
			continue
		}
		dst := p.field(col.product)
		switch {
		case *dst == "":
			*dst, p.rows[col.product] = strings.Clone(v), int32(num)
		case *dst != v:
			b.ex.warn(Warning{Row: num, Column: col.header, Message: b.ex.lang.T(
				"product %s has %q here but %q on row %d; using row %d",
				p.ID, clip(v, 40), clip(*dst, 40), p.rowOf(col.product), p.rowOf(col.product))})
		}
	}
	if len(p.Images) == 0 {
		for _, c := range idx.images {
			if u := strings.TrimSpace(cell(cells, c)); u != "" {
				p.Images = append(p.Images, strings.Clone(u))
			}
		}
	}
	v := Variant{ID: strings.Clone(vid), Row: num}
	for _, col := range b.layout {
		if col.variant != nil {
			*col.variant(&v) = strings.Clone(strings.TrimSpace(cell(cells, idx.cols[col.key])))
		}
	}
	for _, pair := range idx.options {
		name, value := strings.TrimSpace(cell(cells, pair.name)), strings.TrimSpace(cell(cells, pair.value))
		if value != "" {
			if name == "" {
				name = pair.header
			}
			v.Options = append(v.Options, Option{Name: strings.Clone(name), Value: strings.Clone(value)})
		}
	}
	if v.ID != "" {
		b.variantIDs[v.ID] = num
	}
	p.Variants = append(p.Variants, v)
	return checkProductSize(p, &v, num)
}

// headerIndex locates the configured columns in a header row.
type headerIndex struct {
	cols    map[string]int // key -> column, -1 when the optional column is absent
	images  []int
	options []optionColumns
	missing []string // headers of required columns not found
	// unreadOptions are headers that look like an option's but that no
	// pair reads.
	unreadOptions []string
}

// optionColumns is one option pair found in the header row; header names
// the option when its name cell is blank or its name column is absent.
type optionColumns struct {
	name, value int
	header      string
}

func matchHeaders(cells []string, layout []column, cols Columns) (headerIndex, int) {
	at := make(map[string]int, len(cells))
	for i, c := range cells {
		if h := normalizeHeader(c); h != "" {
			if _, dup := at[h]; !dup {
				at[h] = i
			}
		}
	}
	hi := headerIndex{cols: make(map[string]int, len(layout))}
	hits := 0
	for _, col := range layout {
		i, ok := at[normalizeHeader(col.header)]
		if !ok {
			i = -1
			if col.required {
				hi.missing = append(hi.missing, col.header)
			}
		} else {
			hits++
		}
		hi.cols[col.key] = i
	}
	img := normalizeHeader(cols.Images)
	for i, c := range cells {
		h := normalizeHeader(c)
		if rest, ok := strings.CutPrefix(h, img); ok && img != "" && strings.TrimFunc(rest, unicode.IsDigit) == "" {
			hi.images = append(hi.images, i)
		}
	}
	used := map[int]bool{}
	taken := map[int]bool{} // option slots, from 1, that a configured pair filled
	for i := range cols.OptionNames {
		n, nok := at[normalizeHeader(cols.OptionNames[i])]
		v, vok := at[normalizeHeader(cols.OptionValues[i])]
		if !nok {
			n = -1
		}
		if vok {
			hi.options = append(hi.options, optionColumns{name: n, value: v, header: cols.OptionNames[i]})
			taken[i+1], used[v], used[n] = true, true, true
		}
	}
	// The pairs CYBERBIZ documents only as 「商品款式選項/內容」 (help
	// article p=1960), under whatever header this export gives them, fill
	// the slots no configured pair did, in order.
	names, values := map[int]int{}, map[int]int{}
	for i, c := range cells {
		switch kind, slot := optionHeader(normalizeHeader(c)); kind {
		case optionName:
			if _, dup := names[slot]; !dup {
				names[slot] = i
			}
		case optionValue:
			if _, dup := values[slot]; !dup {
				values[slot] = i
			}
		}
	}
	slots := slices.Sorted(maps.Keys(values))
	for _, slot := range slots {
		if taken[slot] || used[values[slot]] {
			continue
		}
		n, ok := names[slot]
		if !ok || used[n] {
			n = -1
		}
		header := "選項" + strconv.Itoa(slot)
		if slot <= len(cols.OptionNames) {
			header = cols.OptionNames[slot-1]
		}
		hi.options = append(hi.options, optionColumns{name: n, value: values[slot], header: header})
		used[values[slot]], used[n] = true, true
	}
	// Option-like columns left unread would lose every variant's option
	// without a word: the run says which, and how to map them.
	for i, c := range cells {
		h := normalizeHeader(c)
		if !used[i] && (strings.Contains(h, "選項") || strings.Contains(h, "option")) {
			hi.unreadOptions = append(hi.unreadOptions, strings.TrimSpace(c))
		}
	}
	return hi, hits
}

// Kinds of option header, for optionHeader.
const (
	notOption = iota
	optionName
	optionValue
)

var (
	optionNameHeader  = regexp.MustCompile(`^(?:選項|option)([一二三四五六七八九1-9])(?:名稱|name)?$`)
	optionValueHeader = regexp.MustCompile(`^(?:選項|option)?([一二三四五六七八九1-9])?(?:內容|值|value)([一二三四五六七八九1-9])?$`)
)

// optionHeader tells an option pair's column by its normalised header, as
// exports and merchants' sheets write them: 選項一 / 選項一內容,
// 商品款式選項1 / 商品款式內容1, option1 / option1 value, numbered ([23]) or
// noted ((選填)) as normalizeHeader leaves them. slot counts from 1.
func optionHeader(h string) (kind, slot int) {
	h = strings.TrimPrefix(h, "商品款式")
	if m := optionNameHeader.FindStringSubmatch(h); m != nil {
		return optionName, optionDigit(m[1])
	}
	if m := optionValueHeader.FindStringSubmatch(h); m != nil && (m[1] == "") != (m[2] == "") {
		return optionValue, optionDigit(m[1] + m[2])
	}
	return notOption, 0
}

func optionDigit(d string) int {
	if i := strings.Index("一二三四五六七八九", d); i >= 0 {
		return i/len("一") + 1
	}
	return int(d[0] - '0')
}

var (
	headerNumber = regexp.MustCompile(`^\[\d+\]`)
	headerNote   = regexp.MustCompile(`\([^()]*\)$`)
)

// normalizeHeader makes header text comparable across export versions and
// sites: "[29]商品款式SKU碼", "商品款式 sku碼 (選填，為POS商品時必填)" and
// "商品款式SKU碼" are the same column.
func normalizeHeader(s string) string {
	s = norm.NFKC.String(s) // full-width brackets and letters become ASCII
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = headerNumber.ReplaceAllString(s, "")
	for headerNote.MatchString(s) {
		s = headerNote.ReplaceAllString(s, "")
	}
	return cases.Fold().String(s) // a Caser is not safe for concurrent use
}

// normalizeText folds a value for comparison with a merchant's setting, so
// that " 排除Product Feed " matches 排除product feed.
func normalizeText(s string) string {
	if foldStable(s) {
		return strings.TrimSpace(s)
	}
	return cases.Fold().String(strings.TrimSpace(norm.NFKC.String(s)))
}

// foldStable reports whether NFKC and case folding leave s as it is, as
// they do text of ASCII without capitals and of CJK ideographs, which is
// what 是/否, tags and statuses on every row are: the folding allocates.
func foldStable(s string) bool {
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				return false
			}
		case 0x4E00 <= r && r <= 0x9FFF, 0x3400 <= r && r <= 0x4DBF:
		default:
			return false
		}
	}
	return true
}

// normalizeID turns an id cell into its canonical text: Excel stores ids
// typed as numbers as "1000123" or, after some edits, "1000123.0".
func normalizeID(s string) string {
	s = strings.TrimSpace(s)
	if whole, frac, ok := strings.Cut(s, "."); ok && whole != "" && strings.Trim(frac, "0") == "" {
		if _, err := strconv.ParseUint(whole, 10, 64); err == nil {
			return whole
		}
	}
	return s
}

func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return cells[i]
}

func blankRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func nonBlank(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "「" + s + "」"
	}
	return strings.Join(q, ", ")
}

// clip shortens s to at most n characters for messages.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ReadExport reads a product export workbook into memory, for callers
// that look products up; Run and Explain stream instead.
func ReadExport(ctx context.Context, r io.ReaderAt, size int64, cfg Config) (*Export, error) {
	return collectProducts(func(begin func(*Export) error, emit func(*Product) error) (*Export, error) {
		return streamExport(ctx, r, size, cfg, begin, emit)
	})
}

// collectProducts runs a streaming read and keeps every product it emits.
func collectProducts(read func(begin func(*Export) error, emit func(*Product) error) (*Export, error)) (*Export, error) {
	var products []*Product
	ex, err := read(func(*Export) error {
		products = nil // the rows are read again, grouped: start over
		return nil
	}, func(p *Product) error {
		products = append(products, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ex.Products = products
	return ex, nil
}

// checkProductSize adds the variant v just read on row num to p's size
// and fails once p is over its bounds.
func checkProductSize(p *Product, v *Variant, num int) error {
	n := len(v.ID) + len(v.SKU) + len(v.GTIN) + len(v.MPN) + len(v.Price) + len(v.ListPrice) + len(v.ManageStock) + len(v.Stock) + len(v.OutOfStock)
	for _, o := range v.Options {
		n += len(o.Name) + len(o.Value)
	}
	p.size += n
	switch {
	case len(p.Variants) > maxVariants:
		return msg.Errorf("%w: product %s has more than %d variant rows (row %d)", ErrProductTooLarge, p.ID, maxVariants, num)
	case p.size > maxProductBytes:
		return msg.Errorf("%w: the variant rows of product %s hold more than %d MiB (row %d)", ErrProductTooLarge, p.ID, maxProductBytes>>20, num)
	}
	return nil
}

// rowReader streams the rows of one worksheet, as *xlsx.Rows does; the
// tests read exports from rows held in memory.
type rowReader interface {
	// Next advances to the next row that is present in the sheet.
	Next() bool
	// Row returns the current row's 1-based number and its raw cell values,
	// valid until the next call to Next.
	Row() (num int, cells []string)
	// Err reports why Next returned false, nil at the clean end.
	Err() error
	Close() error
}

// testOnlySpillSize, when not zero, is the size of a shared-string table
// from which the reader keeps strings in a temporary file: tests lower it
// to spill the tables of small exports.
var testOnlySpillSize int64

// streamExport reads a product export workbook, handing each product to
// emit; see streamExportFile.
func streamExport(ctx context.Context, r io.ReaderAt, size int64, cfg Config, begin func(*Export) error, emit func(*Product) error) (*Export, error) {
	wb, err := xlsx.Open(r, size, xlsx.Limits{MaxUnzipSize: cfg.MaxUnzipMB << 20, SpillSize: testOnlySpillSize})
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	name, err := productSheet(wb, cfg)
	if err != nil {
		return nil, err
	}
	open := func() (rowReader, error) {
		sheet, err := wb.Rows(name)
		if err != nil {
			return nil, err
		}
		return prefetchRows(sheet), nil
	}
	ex, err := scanExport(ctx, open, cfg.Columns, cfg.Language, wb.Date1904(), begin, emit)
	if err == nil && len(wb.SheetNames()) > 1 {
		ex.Sheet = name
	}
	return ex, err
}

// productSheet returns the sheet to read: the configured one, else the
// first whose header row has the columns feedgen needs, so that an export
// to which the merchant added a sheet of notes in front still reads. With
// none, it is the error of the sheet that came nearest (fewest columns
// missing), with the others named; an empty sheet is passed over, and a
// sheet that cannot be read at all is that error, as a damaged export.
func productSheet(wb *xlsx.Workbook, cfg Config) (string, error) {
	names := wb.SheetNames()
	if cfg.Sheet != "" || len(names) < 2 {
		return cfg.Sheet, nil
	}
	var nearest *ColumnError
	var nearestSheet, empty string
	for _, name := range names {
		rows, err := wb.Rows(name)
		if err == nil {
			_, err = readHeader(rows, cfg.Columns, &Export{})
			rows.Close()
		}
		var cerr *ColumnError
		switch {
		case err == nil:
			return name, nil
		case errors.Is(err, errEmptySheet):
			// A blank 工作表1 in front is no damage: look on.
			if empty == "" {
				empty = name
			}
		case !errors.As(err, &cerr):
			return "", msg.Errorf("sheet 「%s」: %w", name, err)
		case nearest == nil || len(cerr.Missing) < len(nearest.Missing):
			nearest, nearestSheet = cerr, name
		}
	}
	if nearest == nil {
		return "", msg.Errorf("sheet 「%s」: %w", empty, errEmptySheet)
	}
	others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == nearestSheet })
	return "", msg.Errorf("sheet 「%s」: %w; no other sheet (%s) has them either: set sheet in the config to the products' sheet",
		nearestSheet, nearest, quoteAll(others))
}

// idSet is the set of product ids handed on by scanInOrder, by a 64-bit
// hash of the id in an open-addressed table: 8 bytes a slot, 14 an id at
// 300k products, where a map of the same hashes takes 31. A collision
// (odds about 1 in 10^9 at 300k) would only make the export be read a
// second time, grouped, which gives the same products; the seed differs
// from run to run.
type idSet struct {
	seed maphash.Seed
	keys []uint64 // hashes; 0 marks a free slot
	n    int
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed()} }

func (s *idSet) hash(id string) uint64 {
	return max(maphash.String(s.seed, id), 1)
}

// slot is where hash h is, or the free slot where it would go.
func (s *idSet) slot(h uint64) int {
	mask := len(s.keys) - 1
	i := int(h) & mask
	for s.keys[i] != h && s.keys[i] != 0 {
		i = (i + 1) & mask
	}
	return i
}

func (s *idSet) add(id string) {
	if 4*(s.n+1) > 3*len(s.keys) {
		s.grow()
	}
	h := s.hash(id)
	i := s.slot(h)
	if s.keys[i] == 0 {
		s.n++
	}
	s.keys[i] = h
}

func (s *idSet) has(id string) bool {
	return s.n > 0 && s.keys[s.slot(s.hash(id))] != 0
}

func (s *idSet) grow() {
	keys := s.keys
	s.keys = make([]uint64, max(1024, 2*len(keys)))
	for _, h := range keys {
		if h != 0 {
			s.keys[s.slot(h)] = h
		}
	}
}

// prefetchedRows reads the sheet on a goroutine of its own, a few batches
// of rows ahead of the scan. Parsing the sheet XML is a third of the work
// of reading an export; this way it runs beside judging and mapping the
// products instead of before each of them. Cell strings are the reader's
// own, never reused, so they may cross goroutines as they are.
type prefetchedRows struct {
	src  rowReader
	full chan *rowBatch // filled batches, closed after the last
	free chan *rowBatch // batches the scan is done with
	stop chan struct{}  // closed by Close
	done chan struct{}  // closed when the goroutine is over
	err  error          // src.Err(), set before full is closed

	cur    *rowBatch
	next   int // of cur's rows
	num    int
	cells  []string
	ended  bool // Next returned false: err is set and may be read
	closed bool
}

// rowBatch is a run of rows: row i is nums[i] with cells[ends[i-1]:ends[i]].
type rowBatch struct {
	nums, ends []int
	cells      []string
}

const (
	prefetchBatchRows = 128
	// prefetchBatchBytes ends a batch early, so that rows of big cells
	// (up to xlsx.MaxRowBytes each) cannot fill the batches with
	// gigabytes: a shared string may be looked up by every cell.
	prefetchBatchBytes = 4 << 20
	prefetchBatches    = 4 // one being filled, two waiting, one being scanned
)

func prefetchRows(src rowReader) *prefetchedRows {
	p := &prefetchedRows{
		src:  src,
		full: make(chan *rowBatch, prefetchBatches),
		free: make(chan *rowBatch, prefetchBatches),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range prefetchBatches {
		p.free <- &rowBatch{}
	}
	go p.fill()
	return p
}

func (p *prefetchedRows) fill() {
	defer close(p.done)
	defer close(p.full)
	// The sheet parser runs here, off the caller's goroutine and so out of
	// reach of the daemon's recover: a bug in it fails the run, as it
	// would have there, instead of ending the process.
	defer func() {
		if r := recover(); r != nil {
			p.err = msg.Errorf("reading the sheet failed (a bug in feedgen: please report it with the export): %v\n%s", r, debug.Stack())
		}
	}()
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
		case <-p.stop:
			return
		}
		b.nums, b.ends, b.cells = b.nums[:0], b.ends[:0], b.cells[:0]
		more, size := true, 0
		for more && len(b.nums) < prefetchBatchRows && size < prefetchBatchBytes {
			if more = p.src.Next(); more {
				num, cells := p.src.Row()
				b.nums = append(b.nums, num)
				b.cells = append(b.cells, cells...)
				b.ends = append(b.ends, len(b.cells))
				for _, c := range cells {
					size += len(c)
				}
			}
		}
		if !more {
			p.err = p.src.Err()
		}
		if len(b.nums) > 0 {
			select {
			case p.full <- b:
			case <-p.stop:
				return
			}
		}
		if !more {
			return
		}
	}
}

func (p *prefetchedRows) Next() bool {
	for p.cur == nil || p.next == len(p.cur.nums) {
		if p.cur != nil {
			p.free <- p.cur // never blocks: free holds every batch
			p.cur = nil
		}
		b, ok := <-p.full
		if !ok {
			p.cells, p.ended = nil, true
			return false
		}
		p.cur, p.next = b, 0
	}
	start := 0
	if p.next > 0 {
		start = p.cur.ends[p.next-1]
	}
	p.num, p.cells = p.cur.nums[p.next], p.cur.cells[start:p.cur.ends[p.next]]
	p.next++
	return true
}

func (p *prefetchedRows) Row() (int, []string) { return p.num, p.cells }

// Err is the sheet's error once Next has returned false, and nil before:
// a scan that stops early (no header in the first rows) must not read err
// while the goroutine, rows ahead, may be setting it.
func (p *prefetchedRows) Err() error {
	if !p.ended {
		return nil
	}
	return p.err
}

// Close stops the goroutine, waiting for it, and closes the sheet.
func (p *prefetchedRows) Close() error {
	if !p.closed {
		p.closed = true
		close(p.stop)
		<-p.done
	}
	return p.src.Close()
}
