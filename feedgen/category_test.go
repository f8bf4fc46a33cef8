package feedgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCategoryPath(t *testing.T) {
	long := strings.Repeat("長", maxCategoryTitle+5)
	deep := strings.Repeat("a > ", maxCategoryDepth) + "b"
	tests := []struct {
		name, in, want string
		cut            bool
	}{
		{"OneLevel", "服飾", "服飾", false},
		{"LevelsKeepTheirSeparator", "服飾 > 上衣", "服飾 > 上衣", false},
		{"SpacingAroundTheSeparatorIsFolded", "  服飾>上衣 ", "服飾 > 上衣", false},
		{"FullWidthSeparatorAndSpaces", "服飾　＞　上衣", "服飾 > 上衣", false},
		{"FullWidthLettersFold", "ＴＳＨＩＲＴ", "TSHIRT", false},
		{"WhiteSpaceInsideALevelFolds", "男  裝\t> 上衣", "男 裝 > 上衣", false},
		{"EmptyLevelsAreDropped", "> 服飾 >> 上衣 >", "服飾 > 上衣", false},
		{"ControlCharactersAreRemoved", "服\x00飾\x1f", "服飾", false},
		{"BlankIsNone", "  ", "", false},
		{"SeparatorsAloneAreNone", " > ＞ ", "", false},
		{"ALongLevelIsCut", long, strings.Repeat("長", maxCategoryTitle), true},
		{"ADeepPathIsCut", deep, strings.TrimSuffix(strings.Repeat("a > ", maxCategoryDepth), " > "), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := categoryPath(tt.in)
			if got != tt.want || cut != tt.cut {
				t.Errorf("categoryPath(%q) = %q, %v; want %q, %v", tt.in, got, cut, tt.want, tt.cut)
			}
		})
	}
}

func TestProductCategories(t *testing.T) {
	many := make([]string, maxProductCategories+3)
	for i := range many {
		many[i] = fmt.Sprintf("群組%d", i)
	}
	tests := []struct {
		name, typ, groups string
		want              []string
		cut               bool
	}{
		{"None", "", "", nil, false},
		{"TypeFirstThenGroupsInTheirOrder", "服飾 > 上衣", "新品;夏季特賣", []string{"服飾 > 上衣", "新品", "夏季特賣"}, false},
		{"FullWidthSemicolonSeparates", "", "新品；夏季特賣", []string{"新品", "夏季特賣"}, false},
		{"GroupsMayHaveLevels", "", "服飾 > 配件; 新品", []string{"服飾 > 配件", "新品"}, false},
		{"EachOnce", "新品", " 新品 ;新品;;", []string{"新品"}, false},
		{"AnAncestorOfAnotherIsDropped", "服飾 > 上衣", "服飾;服飾>上衣>長袖", []string{"服飾 > 上衣 > 長袖"}, false},
		{"APrefixThatIsNoAncestorStays", "服飾 > 上", "服飾 > 上衣", []string{"服飾 > 上", "服飾 > 上衣"}, false},
		{"AtMostTheLimit", "", strings.Join(many, ";"), many[:maxProductCategories], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := productCategories(tt.typ, tt.groups)
			if !slices.Equal(got, tt.want) || cut != tt.cut {
				t.Errorf("productCategories(%q, %q) = %q, %v; want %q, %v", tt.typ, tt.groups, got, cut, tt.want, tt.cut)
			}
		})
	}
}

// TestCategoryIDsStayTheSame: a path's id depends on the path alone, not
// on the order products come in nor on the other categories of the export.
func TestCategoryIDsStayTheSame(t *testing.T) {
	ids := func(paths ...string) map[string]string {
		x := newCategoryIndex()
		m := map[string]string{}
		for _, p := range paths {
			cats, _ := x.resolve([]string{p})
			for c := cats[0]; c != nil; c = c.parent {
				m[c.path] = c.id
			}
		}
		return m
	}
	a := ids("服飾 > 上衣", "美妝", "新品")
	b := ids("廚房", "新品", "美妝", "服飾", "服飾 > 上衣 > 長袖")
	for _, p := range []string{"服飾", "服飾 > 上衣", "美妝", "新品"} {
		if a[p] == "" || a[p] != b[p] {
			t.Errorf("id of %q = %q in one export, %q in another; want one and the same", p, a[p], b[p])
		}
	}
	if a["服飾"] == a["服飾 > 上衣"] {
		t.Errorf("服飾 and 服飾 > 上衣 share id %s", a["服飾"])
	}
	for p, id := range b {
		if len(id) != 15 || strings.Trim(id, "0123456789") != "" || id[0] == '0' {
			t.Errorf("id of %q = %q, want 15 decimal digits", p, id)
		}
	}
	// The fallback's id is the one its path would have, pinned.
	if got := categoryID(categoryHash(fallbackCategoryTitle, 0)); got != fallbackCategoryID {
		t.Errorf("id of %s = %s, fallbackCategoryID = %s", fallbackCategoryTitle, got, fallbackCategoryID)
	}
	x := newCategoryIndex()
	if cats, _ := x.resolve([]string{fallbackCategoryTitle}); cats[0] != fallbackCategory {
		t.Errorf("a merchant's own %s is %+v, want the fallback category", fallbackCategoryTitle, cats[0])
	}
	if cats, full := x.resolve(nil); len(cats) != 1 || cats[0] != fallbackCategory || full {
		t.Errorf("resolve(nil) = %v, %v; want the fallback alone", cats, full)
	}
}

// TestCategoryIDCollision makes every path's first hash collide: the path
// seen first keeps the id, the next takes its next probe, and the same
// export gives the same ids again.
func TestCategoryIDCollision(t *testing.T) {
	tiny := func(_ string, probe int) uint64 { return uint64(probe) }
	run := func() []string {
		x := newCategoryIndex()
		x.hash = tiny
		cats, _ := x.resolve([]string{"服飾 > 上衣", "美妝"})
		return []string{cats[0].parent.id, cats[0].id, cats[1].id}
	}
	got := run()
	want := []string{categoryID(0), categoryID(1), categoryID(2)}
	if !slices.Equal(got, want) {
		t.Errorf("ids of 服飾, 服飾 > 上衣, 美妝 = %q, want %q", got, want)
	}
	if again := run(); !slices.Equal(again, got) {
		t.Errorf("a second run gives %q, the first %q", again, got)
	}
	// A path whose hash is the fallback's id moves, not the fallback.
	x := newCategoryIndex()
	x.hash = func(path string, probe int) uint64 { return categoryHash(fallbackCategoryTitle, probe) }
	if cats, _ := x.resolve([]string{"新品"}); cats[0].id == fallbackCategoryID || cats[0].id != categoryID(categoryHash(fallbackCategoryTitle, 1)) {
		t.Errorf("新品 colliding with %s got id %s, want its next probe", fallbackCategoryTitle, cats[0].id)
	}
}

// TestCategoryIndexFull: beyond maxCategories a product's new categories
// are left out, parents too, and one with none left is in the fallback.
func TestCategoryIndexFull(t *testing.T) {
	x := newCategoryIndex()
	for i := range maxCategories - 1 {
		if c := x.get(fmt.Sprint(i)); c == nil {
			t.Fatalf("category %d of %d refused", i+1, maxCategories)
		}
	}
	if c := x.get("a > b"); c != nil {
		t.Errorf("a > b, two new categories, made with room for one")
	}
	if x.byPath["a"] != nil {
		t.Errorf("the parent a of a refused path was made")
	}
	cats, full := x.resolve([]string{"0", "last", "over"})
	if len(cats) != 2 || cats[1].path != "last" || !full {
		t.Errorf("resolve(0, last, over) on an index with room for one = %v, %v; want 0 and last, full", cats, full)
	}
	if cats, full := x.resolve([]string{"over"}); len(cats) != 1 || cats[0] != fallbackCategory || !full {
		t.Errorf("resolve(over) on a full index = %v, %v; want the fallback, full", cats, full)
	}
	b := newCatalogBuilder(testConfig(t), &Export{}, time.Now())
	b.categories = x
	p := mappable()
	p.Type = "全新類型"
	cp, _, _ := b.add(p)
	if cp == nil || len(cp.categories) != 1 || cp.categories[0] != fallbackCategory {
		t.Fatalf("product in a new category on a full index: %+v, want it in the fallback", cp)
	}
	if note := b.categoriesNote(); note == nil || !strings.Contains(note.Message, "1 products have categories") {
		t.Errorf("categoriesNote() = %v, want one product counted", note)
	}
}

// TestLineCategoriesFile: the category file has each category of the
// products once, its parents too, sorted with parents first, and every
// id products.json names.
func TestLineCategoriesFile(t *testing.T) {
	product := func(id string, cats ...string) CatalogProduct {
		return CatalogProduct{ID: id, Name: "x", Link: "https://shop.example.com/products/x", Images: []string{"https://cdn.example.com/x.jpg"},
			Categories: cats, Items: []Item{{ID: id, Title: "x", Price: "100", Availability: InStock}}}
	}
	c := &Catalog{Products: []CatalogProduct{
		product("1", "服飾 > 上衣", "新品"),
		product("2"),
		product("3", "服飾 > 褲子", "新品"),
		product("4", "<美妝> & \"香水\""),
	}}
	var cats, products bytes.Buffer
	if err := writeAll(&cats, c, "line-categories", feedOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(&products, c, "line-json", feedOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]string
	if err := json.Unmarshal(cats.Bytes(), &entries); err != nil {
		t.Fatalf("categories.json does not parse as an array of string objects: %v\n%s", err, cats.Bytes())
	}
	var titles []string
	byID := map[string]map[string]string{}
	for _, e := range entries {
		if len(e) != 4 || e["category_flag"] != "1" {
			t.Errorf("entry %v, want the four keys and category_flag 1", e)
		}
		if p := e["category_value_parent"]; p != "0" && byID[p] == nil {
			t.Errorf("%s comes before its parent %s", e["category_title"], p)
		}
		byID[e["category_value"]] = e
		titles = append(titles, e["category_title"])
	}
	if want := []string{"<美妝> & \"香水\"", "其他", "新品", "服飾", "上衣", "褲子"}; !slices.Equal(titles, want) {
		t.Errorf("titles = %q, want %q", titles, want)
	}
	if got := bytes.Count(cats.Bytes(), []byte("\n")); got != len(entries)+2 {
		t.Errorf("categories.json has %d lines, want one per category and one per bracket", got)
	}
	var objs []lineProduct
	if err := json.Unmarshal(products.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		for id := range strings.SplitSeq(o.ProductCategoryValue, ",") {
			if byID[id] == nil {
				t.Errorf("product %s: product_category_value %q names %s, which categories.json lacks", o.ProductID, o.ProductCategoryValue, id)
			}
		}
	}
	if objs[1].ProductCategoryValue != fallbackCategoryID {
		t.Errorf("product without categories has %q, want the fallback %s", objs[1].ProductCategoryValue, fallbackCategoryID)
	}
}

// FuzzCategoryPath: whatever the cell, a path is within the limits, has no
// empty level, and is its own normal form, so that it names one category.
func FuzzCategoryPath(f *testing.F) {
	for _, s := range []string{"服飾 > 上衣", "服飾＞上衣", " > >> ", "ＴＳＨＩＲＴ　＞　ｘ", "\x00\xff>\u2028", "a>b>c>d>e>f>g>h>i>j>k>l", "e\u0301 > ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		path, _ := categoryPath(s)
		if path == "" {
			return
		}
		levels := strings.Split(path, categorySep)
		if len(levels) > maxCategoryDepth {
			t.Errorf("categoryPath(%q) has %d levels", s, len(levels))
		}
		for _, l := range levels {
			if l == "" || l != strings.TrimSpace(l) || strings.Contains(l, ">") || utf8.RuneCountInString(l) > maxCategoryTitle {
				t.Errorf("categoryPath(%q) = %q: level %q", s, path, l)
			}
		}
		if again, _ := categoryPath(path); again != path {
			t.Errorf("categoryPath(%q) = %q, and of that %q", s, path, again)
		}
		if !utf8.ValidString(path) || !isCleanText(path) {
			t.Errorf("categoryPath(%q) = %q, not clean text", s, path)
		}
	})
}
