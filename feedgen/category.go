package feedgen

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"feedgen/internal/msg"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// LINE購物's category file (cate_full) and the ids that products.json's
// product_category_value points into. The categories are the levels of
// 商品類型 and 商品自訂群組; an id is made from its category's path alone,
// so that it stays the same across runs, exports and product order.

// categorySep joins the levels of a category path, as 商品類型 writes them.
const categorySep = " > "

// Limits against a hostile export: a product's categories, the levels of
// one path, the characters of one level (as many as a title), and the
// categories of a catalog held in memory.
const (
	maxProductCategories = 20
	maxCategoryDepth     = 10
	maxCategoryTitle     = 200
	maxCategories        = 10000
)

// The fallback category is a product's when it has none, or when the
// catalog's categories reached maxCategories: LINE's consumers treat
// product_category_value as required. Its id is that of the path 其他,
// fixed here so that it never moves; a merchant's own 其他 is the same
// category.
const (
	fallbackCategoryTitle = "其他"
	fallbackCategoryID    = "702062655670417"
)

// categoryPath normalises one category, such as 「服飾＞ 上衣」, to the
// path that names it, 「服飾 > 上衣」: NFKC (which folds full-width
// characters, ＞ included), levels split at >, each with its white space
// folded and cut to maxCategoryTitle characters, empty levels dropped, at
// most maxCategoryDepth levels. cut reports that something was cut.
func categoryPath(s string) (path string, cut bool) {
	s = norm.NFKC.String(cleanText(s))
	if !strings.Contains(s, ">") {
		return categoryLevel(s)
	}
	var b strings.Builder
	depth := 0
	for level := range strings.SplitSeq(s, ">") {
		level, c := categoryLevel(level)
		cut = cut || c
		if level == "" {
			continue
		}
		if depth == maxCategoryDepth {
			return b.String(), true
		}
		if depth > 0 {
			b.WriteString(categorySep)
		}
		b.WriteString(level)
		depth++
	}
	return b.String(), cut
}

// categoryLevel is one level of a path, folded and cut.
func categoryLevel(s string) (string, bool) {
	s = foldSpace(s)
	if t := strings.TrimSpace(truncate(s, maxCategoryTitle)); t != s {
		return t, true
	}
	return s, false
}

// productCategories returns a product's category paths: 商品類型 first,
// then each of the ;-separated 商品自訂群組 in their order, each once, at
// most maxProductCategories, and without a path that another one extends
// (服飾 beside 服飾 > 上衣): its leaves. cut reports that something was
// cut or left out.
func productCategories(typ, groups string) (paths []string, cut bool) {
	add := func(s string) bool {
		path, c := categoryPath(s)
		cut = cut || c
		if path == "" || slices.Contains(paths, path) {
			return true
		}
		if len(paths) == maxProductCategories {
			cut = true
			return false
		}
		paths = append(paths, path)
		return true
	}
	add(typ)
	// NFKC first, so that a full-width ； separates too.
	for g := range strings.SplitSeq(norm.NFKC.String(groups), ";") {
		if !add(g) {
			break
		}
	}
	return slices.DeleteFunc(paths, func(p string) bool {
		return slices.ContainsFunc(paths, func(q string) bool { return strings.HasPrefix(q, p+categorySep) })
	}), cut
}

// categoryFileNote is the run's note when a LINE product file's
// product_category_value points into a category file no feed writes, nil
// otherwise: a config's [[feed]] tables from before line-categories
// existed leave it out. It is in l, the run's language.
func categoryFileNote(l msg.Lang, feeds []Feed) *Warning {
	var products string
	for _, f := range feeds {
		switch f.Format {
		case "line-categories":
			return nil
		case "line-json":
			products = cmp.Or(products, f.File)
		}
	}
	if products == "" {
		return nil
	}
	return &Warning{Message: l.T("%s gives each product product_category_value, the ids of its categories in LINE's category file, which no [[feed]] writes: add a [[feed]] with format = \"line-categories\"", products)}
}

// category is one entry of the category file.
type category struct {
	path, title, id string
	parent          *category // nil at the top level
}

func (c *category) parentID() string {
	if c.parent == nil {
		return "0"
	}
	return c.parent.id
}

// categoryIndex gives each category path its entry, parents included, and
// its id, at most maxCategories of them. Its entries do not change once
// made, so a product's may be read by another goroutine after it.
type categoryIndex struct {
	byPath map[string]*category
	byID   map[string]*category
	// hash is categoryHash; tests make it collide.
	hash func(path string, probe int) uint64
}

func newCategoryIndex() *categoryIndex {
	fb := fallbackCategory
	return &categoryIndex{byPath: map[string]*category{fb.path: fb}, byID: map[string]*category{fb.id: fb}, hash: categoryHash}
}

// fallbackCategory is the entry of the fallback category, in every index.
var (
	fallbackCategory = &category{path: fallbackCategoryTitle, title: fallbackCategoryTitle, id: fallbackCategoryID}
	fallbackOnly     = []*category{fallbackCategory}
)

// productCategoryEntries are p's entries in the category file: the
// fallback's for a product no catalog builder resolved.
func productCategoryEntries(p *CatalogProduct) []*category {
	if len(p.categories) == 0 {
		return fallbackOnly
	}
	return p.categories
}

// resolve returns the entries of a product's category paths (see
// productCategories): the fallback when it has none. full reports that
// some path was left out because the index is full.
func (x *categoryIndex) resolve(paths []string) (cats []*category, full bool) {
	cats = make([]*category, 0, max(len(paths), 1))
	for _, p := range paths {
		if c := x.get(p); c != nil {
			cats = append(cats, c)
		} else {
			full = true
		}
	}
	if len(cats) == 0 {
		cats = append(cats, fallbackCategory)
	}
	return cats, full
}

// get returns the entry of path, made with its missing parents when there
// is room for all of them, else nil.
func (x *categoryIndex) get(path string) *category {
	if c := x.byPath[path]; c != nil {
		return c
	}
	missing := 1
	for p := path; ; missing++ {
		i := strings.LastIndex(p, categorySep)
		if i < 0 || x.byPath[p[:i]] != nil {
			break
		}
		p = p[:i]
	}
	if len(x.byPath)+missing > maxCategories+1 { // +1: the fallback
		return nil
	}
	return x.add(path)
}

func (x *categoryIndex) add(path string) *category {
	if c := x.byPath[path]; c != nil {
		return c
	}
	c := &category{path: path, title: path}
	if i := strings.LastIndex(path, categorySep); i >= 0 {
		c.parent, c.title = x.add(path[:i]), path[i+len(categorySep):]
	}
	// A path whose id another path has takes the next probe: the one seen
	// first in the export keeps it. Only the two could swap in another
	// export, at odds of one in 10^7 for a catalog of 10,000 categories.
	for probe := 0; ; probe++ {
		c.id = categoryID(x.hash(path, probe))
		if x.byID[c.id] == nil {
			break
		}
	}
	x.byPath[path], x.byID[c.id] = c, c
	return c
}

// categoryHash hashes a path, with the probe for a later try.
func categoryHash(path string, probe int) uint64 {
	if probe > 0 {
		path = strconv.Itoa(probe) + "\x00" + path
	}
	h := sha256.Sum256([]byte(path))
	return binary.BigEndian.Uint64(h[:8])
}

// categoryID makes a hash a 15-digit decimal id: LINE's and CYBERBIZ's ids
// are numbers, and one below 2^53 survives a consumer that reads it as a
// JavaScript number.
func categoryID(h uint64) string {
	const low, span = 100_000_000_000_000, 900_000_000_000_000
	return strconv.FormatUint(low+h%span, 10)
}

// categoryIDs is a product's product_category_value: its categories' ids,
// comma-separated, in the order of its paths.
func categoryIDs(cats []*category) string {
	if len(cats) == 1 {
		return cats[0].id
	}
	ids := make([]string, len(cats))
	for i, c := range cats {
		ids[i] = c.id
	}
	return strings.Join(ids, ",")
}

// lineCategories writes the category file: every category of the
// products written, with its parents, gathered as the products stream
// through and written sorted by path at the end, so parents come before
// their children and a catalog that did not change is the same file.
type lineCategories struct {
	bw   *bufio.Writer
	seen map[*category]bool
	cats []*category
}

func newLineCategories(w io.Writer, _ *CatalogInfo, _ feedOptions) (feedWriter, error) {
	return &lineCategories{bw: bufio.NewWriter(w), seen: map[*category]bool{}}, nil
}

func (l *lineCategories) product(p *CatalogProduct) error {
	for _, c := range productCategoryEntries(p) {
		for ; c != nil && !l.seen[c]; c = c.parent {
			l.seen[c] = true
			l.cats = append(l.cats, c)
		}
	}
	return nil
}

func (l *lineCategories) finish(*exclusionList) error {
	slices.SortFunc(l.cats, func(a, b *category) int { return strings.Compare(a.path, b.path) })
	buf := []byte{'['}
	for i, c := range l.cats {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		o := jsonObject{b: buf}
		o.str("category_title", c.title)
		o.str("category_value", c.id)
		o.str("category_value_parent", c.parentID())
		o.str("category_flag", "1")
		buf = o.close()
	}
	buf = append(buf, "\n]\n"...)
	if _, err := l.bw.Write(buf); err != nil {
		return err
	}
	return l.bw.Flush()
}

// items counts the categories: the file has no items, and the guard
// leaves it alone (see feedFormat.count).
func (l *lineCategories) items() int { return len(l.cats) }
