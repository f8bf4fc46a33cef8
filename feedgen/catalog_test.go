package feedgen

import (
	"bytes"
	"feedgen/internal/memtest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testShop = "https://shop.example.com"

// testConfig is the default configuration with a shop URL, validated.
func testConfig(t testing.TB) *Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ShopURL = testShop
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return &cfg
}

// mappable is an eligible product with a link, an image and one variant.
func mappable(variants ...Variant) *Product {
	if len(variants) == 0 {
		variants = []Variant{{ID: "5001", Row: 2, Price: "1280"}}
	}
	return &Product{ID: "1001", Row: 2, Name: "T恤", Public: "是", Handle: "t-shirt",
		Images: []string{"//cdn.example.com/1.jpg"}, Variants: variants}
}

func TestPriceParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string // "" for no error
	}{
		{"1280", 1280, ""},
		{"1,280", 1280, ""},
		{"NT$1,280", 1280, ""},
		{"NT$ 1,280", 1280, ""},
		{"nt$1280", 1280, ""},
		{"１，２８０", 1280, ""},
		{"1280元", 1280, ""},
		{"$1280", 1280, ""},
		{" 1280.00 ", 1280, ""},
		{"99.50", 99.5, ""},
		{"0", 0, "price 「0」 is not above 0"},
		{"-5", 0, "price 「-5」 is not above 0"},
		{"洽詢", 0, "price 「洽詢」 is not a number"},
		{"NaN", 0, "price 「NaN」 is not a number"},
		{"Inf", 0, "price 「Inf」 is not a number"},
		{"", 0, "price is blank"},
		{"NT$", 0, "price is blank"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseMoney(tt.in)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			if got != tt.want || errText != tt.err {
				t.Errorf("parseMoney(%q) = %v, %q; want %v, %q", tt.in, got, errText, tt.want, tt.err)
			}
		})
	}
}

func TestCatalogPrice(t *testing.T) {
	tests := []struct {
		name                string
		price, list         string
		wantPrice, wantSale string
		wantReason          string // the invalid reason's message when the product is dropped
	}{
		{"定價 above 售價: price is 定價, sale is 售價", "1000", "1280", "1280", "1000", ""},
		{"定價 equal to 售價: price only", "1000", "1000", "1000", "", ""},
		{"定價 below 售價: price only", "1000", "900", "1000", "", ""},
		{"定價 blank: price only", "1000", "", "1000", "", ""},
		{"定價 not a number: price only", "1000", "洽詢", "1000", "", ""},
		{"thousands separator", "1,280", "", "1280", "", ""},
		{"NT$ prefix on both", "NT$1,280", "NT$1,500", "1500", "1280", ""},
		{"decimals lose trailing zeros", "99.50", "", "99.5", "", ""},
		{"fractions of a cent are rounded", "99.999", "", "100", "", ""},
		{"0 is no price", "0", "100", "", "", "invalid: missing price: no variant has a valid price (price 「0」 is not above 0)"},
		{"negative is no price", "-5", "", "", "", "invalid: missing price: no variant has a valid price (price 「-5」 is not above 0)"},
		{"text is no price", "洽詢", "", "", "", "invalid: missing price: no variant has a valid price (price 「洽詢」 is not a number)"},
		{"blank is no price", "", "1280", "", "", "invalid: missing price: no variant has a valid price (price is blank)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mappable(Variant{ID: "5001", Row: 2, Price: tt.price, ListPrice: tt.list})
			cp, reasons, _ := mapProduct(p, testConfig(t))
			if tt.wantReason != "" {
				want := []Reason{{Code: ReasonInvalid, Column: "商品款式售價", Row: 2, Value: tt.price, Message: tt.wantReason}}
				if !reflect.DeepEqual(reasons, want) {
					t.Errorf("mapProduct(售價 %q, 定價 %q) reasons = %s, want %s", tt.price, tt.list, show(reasons), show(want))
				}
				return
			}
			if len(reasons) != 0 || len(cp.Items) != 1 {
				t.Fatalf("mapProduct(售價 %q, 定價 %q) = %d items, reasons %s; want 1 item", tt.price, tt.list, len(cp.Items), show(reasons))
			}
			if it := cp.Items[0]; it.Price != tt.wantPrice || it.SalePrice != tt.wantSale {
				t.Errorf("mapProduct(售價 %q, 定價 %q) price, sale = %q, %q; want %q, %q",
					tt.price, tt.list, it.Price, it.SalePrice, tt.wantPrice, tt.wantSale)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name                      string
		manage, stock, outOfStock string
		want                      string
	}{
		{"管理庫存 否 is in stock whatever the count", "否", "0", "停止銷售", InStock},
		{"管理庫存 否 with padding", " 否 ", "0", "停止銷售", InStock},
		{"blank stock is unlimited", "是", "", "停止銷售", InStock},
		{"stock above 0 is in stock", "是", "5", "停止銷售", InStock},
		{"stock with a thousands separator", "是", "1,000", "停止銷售", InStock},
		{"0 with 繼續銷售 is backorder", "是", "0", "繼續銷售", Backorder},
		{"0 with 停止銷售 is out of stock", "是", "0", "停止銷售", OutOfStock},
		{"0 with 庫存不足時 blank is out of stock", "是", "0", "", OutOfStock},
		{"0 with 管理庫存 blank counts as managed", "", "0", "", OutOfStock},
		{"negative with 停止銷售 is out of stock", "是", "-2", "停止銷售", OutOfStock},
		{"negative with 繼續銷售 is backorder", "是", "-2", "繼續銷售", Backorder},
		{"0.0 is 0", "是", "0.0", "停止銷售", OutOfStock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Variant{ManageStock: tt.manage, Stock: tt.stock, OutOfStock: tt.outOfStock}
			if got := availability(v); got != tt.want {
				t.Errorf("availability(管理庫存 %q, 庫存量 %q, 庫存不足時 %q) = %q, want %q",
					tt.manage, tt.stock, tt.outOfStock, got, tt.want)
			}
		})
	}
}

func TestProductLink(t *testing.T) {
	tests := []struct {
		name, shop, handle, want string
		err                      string
	}{
		{"handle goes after /products/", testShop, "t-shirt", testShop + "/products/t-shirt", ""},
		{"shop URL's trailing slash is not doubled", testShop + "/", "t-shirt", testShop + "/products/t-shirt", ""},
		{"Chinese and spaces are percent-encoded", testShop, "紅色 T恤", testShop + "/products/%E7%B4%85%E8%89%B2%20T%E6%81%A4", ""},
		{"a leading /products/ is not repeated", testShop, "/products/t-shirt", testShop + "/products/t-shirt", ""},
		{"a leading products/ is not repeated", testShop, "products/t-shirt", testShop + "/products/t-shirt", ""},
		{"padding is trimmed", testShop, " t-shirt ", testShop + "/products/t-shirt", ""},
		{"a ? in a handle cannot start a query", testShop, "a?b", testShop + "/products/a%3Fb", ""},
		{"a full URL is kept", testShop, "https://other.example.com/products/x", "https://other.example.com/products/x", ""},
		{"a full URL works without a shop URL, made https", "", "http://other.example.com/p/x", "https://other.example.com/p/x", ""},
		{"a full URL with Chinese is made ASCII", "", "https://other.example.com/products/紅", "https://other.example.com/products/%E7%B4%85", ""},
		{"blank handle is an error", testShop, " ", "", "商品網址 is blank"},
		{"a handle without a shop URL is an error", "", "t-shirt", "",
			"商品網址 「t-shirt」 is a handle and no shop URL is set (use -shop-url or shop_url)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := productLink(tt.shop, tt.handle)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			if got != tt.want || errText != tt.err {
				t.Errorf("productLink(%q, %q) = %q, %q; want %q, %q", tt.shop, tt.handle, got, errText, tt.want, tt.err)
			}
			for _, r := range got {
				if r > 0x7e || r < 0x21 {
					t.Errorf("productLink(%q, %q) = %q, which is not printable ASCII", tt.shop, tt.handle, got)
					break
				}
			}
		})
	}
}

func TestAbsoluteURL(t *testing.T) {
	tests := []struct {
		name, shop, in, want string
	}{
		{"protocol-relative becomes https", "", "//cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"},
		{"a path resolves against the shop", testShop, "/files/a.jpg", testShop + "/files/a.jpg"},
		{"a path resolves against a shop URL with a trailing slash", testShop + "/", "/files/a.jpg", testShop + "/files/a.jpg"},
		{"a path without a shop URL is unusable", "", "/files/a.jpg", ""},
		{"http is made https", "", "http://cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"},
		{"an internationalised host is made punycode", "", "https://例え.テスト/a.jpg", "https://xn--r8jz45g.xn--zckzah/a.jpg"},
		{"a URL with credentials is refused", "", "https://user:pw@cdn.example.com/a.jpg", ""},
		{"a URL over 2000 characters is refused", "", "https://cdn.example.com/" + strings.Repeat("a", 2000), ""},
		{"https is kept", "", "https://cdn.example.com/a.jpg?v=2", "https://cdn.example.com/a.jpg?v=2"},
		{"padding is trimmed", "", "  https://cdn.example.com/a.jpg\t", "https://cdn.example.com/a.jpg"},
		{"Chinese and spaces are percent-encoded", "", "https://cdn.example.com/圖 1.jpg", "https://cdn.example.com/%E5%9C%96%201.jpg"},
		{"a scheme without a host is unusable", "", "http://", ""},
		{"blank is unusable", testShop, "", ""},
		{"garbage is unusable", testShop, "not a url", ""},
		{"a bare file name is unusable", testShop, "a.jpg", ""},
		{"javascript: is refused", testShop, "javascript:alert(1)", ""},
		{"data: is refused", testShop, "data:image/png;base64,iVBO", ""},
		{"ftp: is refused", testShop, "ftp://cdn.example.com/a.jpg", ""},
		{"a control character is refused", "", "https://cdn.example.com/a\x00.jpg", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := absoluteURL(tt.shop, tt.in); got != tt.want {
				t.Errorf("absoluteURL(%q, %q) = %q, want %q", tt.shop, tt.in, got, tt.want)
			}
		})
	}
}

// itemsOf describes items compactly for comparison: id|group|title|price|sale|availability.
func itemsOf(c CatalogProduct) []string {
	var out []string
	for _, it := range c.Items {
		out = append(out, strings.Join([]string{it.ID, it.GroupID, it.Title, it.Price, it.SalePrice, it.Availability}, "|"))
	}
	return out
}

func TestBuildCatalog(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, taipei(t))

	t.Run("adding a variant changes no item's id", func(t *testing.T) {
		one := mappable(Variant{ID: "5001", Row: 2, Price: "1280", Options: []Option{{Name: "尺寸", Value: "M"}}})
		two := mappable(one.Variants[0], Variant{ID: "5002", Row: 3, Price: "1280", Options: []Option{{Name: "尺寸", Value: "L"}}})
		before := buildCatalog(&Export{Products: []*Product{one}}, testConfig(t), at).Products[0].Items
		after := buildCatalog(&Export{Products: []*Product{two}}, testConfig(t), at).Products[0].Items
		if before[0].ID != "5001" || after[0].ID != "5001" || after[1].ID != "5002" {
			t.Errorf("item ids %s before, %s and %s after; want 5001 to stay 5001", before[0].ID, after[0].ID, after[1].ID)
		}
	})

	t.Run("a single-variant product's item is its variant, with no group", func(t *testing.T) {
		p := mappable(Variant{ID: "5001", Row: 2, SKU: "TS-1", Price: "1280"})
		c := buildCatalog(&Export{Products: []*Product{p}}, testConfig(t), at)
		if len(c.Products) != 1 || len(c.Excluded) != 0 {
			t.Fatalf("catalog has %d products, excluded %+v; want 1 and none", len(c.Products), c.Excluded)
		}
		got := c.Products[0].Items
		want := []Item{{ID: "5001", VariantID: "5001", SKU: "TS-1", Title: "T恤", Price: "1280", Availability: InStock}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Items = %+v, want %+v", got, want)
		}
		if c.Items() != 1 {
			t.Errorf("Items() = %d, want 1", c.Items())
		}
	})

	t.Run("a multi-variant product's ids are variant ids grouped by product id, titled with options", func(t *testing.T) {
		p := mappable(
			Variant{ID: "5001", Row: 2, Price: "100", Options: []Option{{"顏色", "紅"}, {"尺寸", "M"}}},
			Variant{ID: "5002", Row: 3, Price: "100", ListPrice: "120", Options: []Option{{"顏色", "藍"}}},
			Variant{ID: "", Row: 4, Price: "90", ManageStock: "是", Stock: "0"},
		)
		c := buildCatalog(&Export{Products: []*Product{p}}, testConfig(t), at)
		got := itemsOf(c.Products[0])
		want := []string{
			"5001|1001|T恤 - 紅 / M|100||in_stock",
			"5002|1001|T恤 - 藍|120|100|in_stock",
			"1001-3|1001|T恤|90||out_of_stock",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("items = %q, want %q", got, want)
		}
		if c.Items() != 3 {
			t.Errorf("Items() = %d, want 3", c.Items())
		}
	})

	t.Run("a variant with a bad price is dropped with a warning, its siblings stay", func(t *testing.T) {
		p := mappable(
			Variant{ID: "5001", Row: 2, Price: "100"},
			Variant{ID: "5002", Row: 3, Price: "洽詢"},
		)
		ex := &Export{Products: []*Product{p}}
		c := buildCatalog(ex, testConfig(t), at)
		if len(c.Products) != 1 {
			t.Fatalf("catalog has %d products, excluded %+v; want 1", len(c.Products), c.Excluded)
		}
		if got, want := itemsOf(c.Products[0]), []string{"5001|1001|T恤|100||in_stock"}; !reflect.DeepEqual(got, want) {
			t.Errorf("items = %q, want %q (the survivor stays grouped)", got, want)
		}
		want := []Warning{{Row: 3, Column: "商品款式售價", Message: "variant 5002 of product 1001 left out: price 「洽詢」 is not a number"}}
		if !reflect.DeepEqual(ex.Warnings, want) || ex.WarningCount != 1 {
			t.Errorf("Warnings = %+v, want %+v", ex.Warnings, want)
		}
		// The preview shows the dropped variant beside its siblings.
		if got, want := c.Products[0].Dropped, []DroppedItem{{ID: "5002", Reason: "price 「洽詢」 is not a number"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("Dropped = %+v, want %+v", got, want)
		}
	})

	t.Run("a product whose variants all have bad prices is excluded as invalid", func(t *testing.T) {
		p := mappable(
			Variant{ID: "5001", Row: 2, Price: "洽詢"},
			Variant{ID: "5002", Row: 3, Price: ""},
		)
		ex := &Export{Products: []*Product{p}}
		c := buildCatalog(ex, testConfig(t), at)
		want := []Exclusion{{ID: "1001", Name: "T恤", Row: 2, Reasons: []Reason{{Code: ReasonInvalid, Column: "商品款式售價", Row: 2, Value: "洽詢",
			Message: "invalid: missing price: no variant has a valid price (price 「洽詢」 is not a number)"}}}}
		if len(c.Products) != 0 || !reflect.DeepEqual(c.Excluded, want) {
			t.Errorf("Products = %d, Excluded = %+v; want 0, %+v", len(c.Products), c.Excluded, want)
		}
		if ex.WarningCount != 0 {
			t.Errorf("Warnings = %+v, want none: the exclusion says it", ex.Warnings)
		}
	})

	t.Run("a product without a usable image is excluded as invalid", func(t *testing.T) {
		p := mappable()
		p.Images = []string{"", "javascript:alert(1)"}
		c := buildCatalog(&Export{Products: []*Product{p}}, testConfig(t), at)
		want := []Reason{{Code: ReasonInvalid, Column: "商品圖片", Row: 2,
			Message: "invalid: missing image_link (no usable URL in the 商品圖片 columns)"}}
		if len(c.Products) != 0 || len(c.Excluded) != 1 || !reflect.DeepEqual(c.Excluded[0].Reasons, want) {
			t.Errorf("Products = %d, Excluded = %+v; want 0 and reasons %s", len(c.Products), c.Excluded, show(want))
		}
	})

	t.Run("a product without a link is excluded as invalid", func(t *testing.T) {
		p := mappable()
		p.Handle = ""
		c := buildCatalog(&Export{Products: []*Product{p}}, testConfig(t), at)
		want := []Reason{{Code: ReasonInvalid, Column: "商品網址", Row: 2, Message: "invalid: missing link: 商品網址 is blank"}}
		if len(c.Products) != 0 || len(c.Excluded) != 1 || !reflect.DeepEqual(c.Excluded[0].Reasons, want) {
			t.Errorf("Products = %d, Excluded = %+v; want 0 and reasons %s", len(c.Products), c.Excluded, show(want))
		}
	})

	t.Run("a handle without a shop URL is excluded as invalid", func(t *testing.T) {
		cfg := DefaultConfig()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c := buildCatalog(&Export{Products: []*Product{mappable()}}, &cfg, at)
		if len(c.Products) != 0 || len(c.Excluded) != 1 || codes(c.Excluded[0].Reasons)[0] != ReasonInvalid || c.Excluded[0].Reasons[0].Column != "商品網址" {
			t.Errorf("Products = %d, Excluded = %+v; want one invalid exclusion on 商品網址", len(c.Products), c.Excluded)
		}
	})

	t.Run("every invalid reason is kept", func(t *testing.T) {
		p := mappable(Variant{ID: "5001", Row: 2, Price: "0"})
		p.Name, p.Handle, p.Images = "", "", nil
		c := buildCatalog(&Export{Products: []*Product{p}}, testConfig(t), at)
		var cols []string
		for _, r := range c.Excluded[0].Reasons {
			cols = append(cols, r.Code+"@"+r.Column)
		}
		want := []string{"invalid@商品名稱", "invalid@商品網址", "invalid@商品圖片", "invalid@商品款式售價"}
		if !reflect.DeepEqual(cols, want) {
			t.Errorf("reasons = %q, want %q", cols, want)
		}
	})

	t.Run("an ineligible product is excluded with its rule reasons and not mapped", func(t *testing.T) {
		p := mappable(Variant{ID: "5001", Row: 2, Price: "洽詢"})
		p.Public = "否"
		ex := &Export{Products: []*Product{p}}
		c := buildCatalog(ex, testConfig(t), at)
		if len(c.Excluded) != 1 || !reflect.DeepEqual(codes(c.Excluded[0].Reasons), []string{ReasonNotPublic}) || ex.WarningCount != 0 {
			t.Errorf("Excluded = %+v, warnings %v; want only not_public and no warnings", c.Excluded, ex.Warnings)
		}
	})

	t.Run("products keep the export's order, excluded ones too", func(t *testing.T) {
		a, b, x, y := mappable(), mappable(), mappable(), mappable()
		a.ID, b.ID, x.ID, y.ID = "3", "1", "4", "2"
		x.Public, y.Tags = "否", "贈品"
		c := buildCatalog(&Export{Products: []*Product{a, x, b, y}}, testConfig(t), at)
		var got []string
		for _, p := range c.Products {
			got = append(got, p.ID)
		}
		for _, e := range c.Excluded {
			got = append(got, "-"+e.ID)
		}
		if want := []string{"3", "1", "-4", "-2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("order = %q, want %q", got, want)
		}
	})

	t.Run("product fields: absolute images, brand fallback, plain-text description", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Brand = "小店"
		p := mappable()
		p.Images = []string{"//cdn.example.com/1.jpg", "/files/2.jpg", "bad", "https://cdn.example.com/3.jpg"}
		p.Description, p.Summary, p.Type = "<p>純棉</p><p>&amp; 透氣</p>", "<b>夏</b>季", "上衣"
		c := buildCatalog(&Export{Products: []*Product{p}}, cfg, at)
		cp := c.Products[0]
		wantImages := []string{"https://cdn.example.com/1.jpg", testShop + "/files/2.jpg", "https://cdn.example.com/3.jpg"}
		if !reflect.DeepEqual(cp.Images, wantImages) {
			t.Errorf("Images = %q, want %q", cp.Images, wantImages)
		}
		if cp.Link != testShop+"/products/t-shirt" || cp.Brand != "小店" || cp.ProductType != "上衣" {
			t.Errorf("Link, Brand, ProductType = %q, %q, %q; want %q, %q, %q", cp.Link, cp.Brand, cp.ProductType, testShop+"/products/t-shirt", "小店", "上衣")
		}
		if cp.Description != "純棉 & 透氣" || cp.Summary != "夏季" || cp.HTML != p.Description {
			t.Errorf("Description, Summary, HTML = %q, %q, %q; want %q, %q, %q", cp.Description, cp.Summary, cp.HTML, "純棉 & 透氣", "夏季", p.Description)
		}
		if c.Title != "小店" || c.Currency != "TWD" || !c.At.Equal(at) {
			t.Errorf("Title, Currency, At = %q, %q, %v; want 小店, TWD, %v", c.Title, c.Currency, c.At, at)
		}
	})

	t.Run("description falls back to the summary, then the name; brand prefers 商品廠商", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Brand = "小店"
		withSummary, bare := mappable(), mappable()
		withSummary.Summary, withSummary.Vendor = "夏季 新品", "廠商A"
		bare.ID = "1002"
		c := buildCatalog(&Export{Products: []*Product{withSummary, bare}}, cfg, at)
		got := []string{c.Products[0].Description, c.Products[0].Brand, c.Products[1].Description, c.Products[1].Brand}
		if want := []string{"夏季 新品", "廠商A", "T恤", "小店"}; !reflect.DeepEqual(got, want) {
			t.Errorf("descriptions and brands = %q, want %q", got, want)
		}
	})

	t.Run("the catalog title is the brand, else the shop's host", func(t *testing.T) {
		cfg := testConfig(t)
		if got := catalogTitle(cfg); got != "shop.example.com" {
			t.Errorf("catalogTitle(no brand) = %q, want %q", got, "shop.example.com")
		}
		cfg.ShopURL = ""
		if got := catalogTitle(cfg); got != "Product catalog" {
			t.Errorf("catalogTitle(no brand, no shop) = %q, want %q", got, "Product catalog")
		}
	})
}

func TestCatalogStockNotANumberWarns(t *testing.T) {
	cp, reasons, warns := mapProduct(mappable(Variant{ID: "5001", Row: 4, Price: "100", ManageStock: "是", Stock: "很多"}), testConfig(t))
	if len(reasons) != 0 || len(cp.Items) != 1 || cp.Items[0].Availability != InStock {
		t.Fatalf("mapProduct = %+v, %v; want one in-stock item", cp.Items, reasons)
	}
	if len(warns) != 1 || warns[0].Row != 4 || !strings.Contains(warns[0].Message, "庫存量 「很多」 is not a number") {
		t.Errorf("warnings = %v, want one for row 4 naming 庫存量 「很多」", warns)
	}
}

func TestLineJSONLinkHasNoQuery(t *testing.T) {
	p := &CatalogProduct{ID: "1001", Name: "T恤", Link: testShop + "/products/t?utm_source=x#top",
		Images: []string{"https://cdn.example.com/1.jpg"}, Items: []Item{{ID: "1001", Price: "100", Availability: InStock}}}
	if got, want := lineObject(p).Link, testShop+"/products/t"; got != want {
		t.Errorf("lineObject(…).Link = %q, want %q", got, want)
	}
}

// TestLongNameIsCappedOnce: a name longer than any channel takes is cut
// to Meta's and LINE's 200 characters before the variants' titles repeat
// it, so that a name of megabytes is not written once per variant.
func TestLongNameIsCappedOnce(t *testing.T) {
	var variants []Variant
	for i := range 300 {
		variants = append(variants, Variant{ID: strconv.Itoa(5000 + i), Row: 2 + i, Price: "100", Options: []Option{{Name: "尺寸", Value: strconv.Itoa(i)}}})
	}
	p := mappable(variants...)
	p.Name = strings.Repeat("長", 1<<20)
	var cp CatalogProduct
	grew := memtest.PeakDuring(func() { cp, _, _ = mapProduct(p, testConfig(t)) })
	if grew > 64<<20 {
		t.Errorf("mapping 300 variants of a 3 MB name took %d MB", grew>>20)
	}
	if got := lineObject(&cp).ProductName; got != strings.Repeat("長", 200) {
		t.Errorf("LINE product_name has %d characters, want the first 200", runeCount(got))
	}
	for _, it := range cp.Items[:3] {
		if want := strings.Repeat("長", 200); it.Title != want {
			t.Errorf("item %s title has %d characters, want the first 200 of the name", it.VariantID, runeCount(it.Title))
		}
	}
}

// TestLongOptionsAreCut: an option name or value longer than any channel
// takes is cut to 200 characters, as is the title it makes, with one
// diagnostic for the product; a product of 3,000 such variants stays small.
func TestLongOptionsAreCut(t *testing.T) {
	long := strings.Repeat("紅", 20000)
	var variants []Variant
	for i := range 3000 {
		variants = append(variants, Variant{ID: strconv.Itoa(5000 + i), Row: 2 + i, Price: "100", Options: []Option{{Name: "顏色", Value: strconv.Itoa(i) + long}}})
	}
	var cp CatalogProduct
	grew := memtest.PeakDuring(func() { cp, _, _ = mapProduct(mappable(variants...), testConfig(t)) })
	if grew > 32<<20 {
		t.Errorf("mapping 3,000 variants of 60 KB options grew the heap by %d MB", grew>>20)
	}
	it := cp.Items[7]
	if runeCount(it.Options[0].Value) != 200 || !strings.HasPrefix(it.Options[0].Value, "7紅") || runeCount(it.Title) != 200 {
		t.Errorf("option value %d characters, title %d; want both cut to 200", runeCount(it.Options[0].Value), runeCount(it.Title))
	}
	n := 0
	for _, d := range cp.Diagnostics {
		if d.Code == DiagValueCut && strings.Contains(d.Message, "an option name or value is over 200 characters") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d diagnostics about long options, want one for the product: %v", n, cp.Diagnostics)
	}
}

// TestLineLongDescriptionIsCapped: a 商品介紹 over the 60,000 characters
// LINE's consumers take is cut before an unfinished tag, with a
// diagnostic that names the row; Google and Meta get the plain text as before.
func TestLineLongDescriptionIsCapped(t *testing.T) {
	p := mappable(Variant{ID: "5001", Row: 4, Price: "100"})
	p.Description = "<p>" + strings.Repeat("好", lineLimits.longDescription-5) + `<img src="https://cdn.example.com/a.jpg"></p>`
	cp, reasons, _ := mapProduct(p, testConfig(t))
	if len(reasons) != 0 {
		t.Fatalf("mapProduct reasons = %v", reasons)
	}
	got := lineObject(&cp).LDescription
	if want := "<p>" + strings.Repeat("好", lineLimits.longDescription-5); got != want {
		t.Errorf("l_description ends %q (%d characters), want it cut before the <img tag", got[max(0, len(got)-20):], runeCount(got))
	}
	if !slices.ContainsFunc(cp.Diagnostics, func(d Diagnostic) bool {
		return d.Code == DiagLongDescriptionCut && d.Row == p.Row && strings.Contains(d.Message, "LINE gets the first 60000")
	}) {
		t.Errorf("diagnostics = %v, want one for the product's row about LINE's 60000", cp.Diagnostics)
	}
	p.Description = "<p>短</p>"
	if cp, _, _ := mapProduct(p, testConfig(t)); lineObject(&cp).LDescription != "<p>短</p>" || hasDiagnostic(&cp, DiagLongDescriptionCut) {
		t.Errorf("a short description became %q, %v", lineObject(&cp).LDescription, cp.Diagnostics)
	}
}

// buildCatalog applies the eligibility rules at time at to the products of
// an export read into memory.
func buildCatalog(ex *Export, cfg *Config, at time.Time) *Catalog {
	b := newCatalogBuilder(cfg, ex, at)
	c := &Catalog{CatalogInfo: b.info()}
	for _, p := range ex.Products {
		cp, excl, warns := b.add(p)
		for _, w := range warns {
			ex.warn(w)
		}
		if cp != nil {
			c.Products = append(c.Products, *cp)
		} else {
			c.Excluded = append(c.Excluded, *excl)
		}
	}
	return c
}

// FuzzMapProductLeavesTextClean: the writers trust a mapped product's
// clean flag and scan its text no more, so whatever the export holds,
// every text field mapProduct returns must already be what cleaned makes
// of it.
func FuzzMapProductLeavesTextClean(f *testing.F) {
	for _, s := range []string{"", "紅", "a\x00b", "\x01\x0b\ufffe\uffff", "\xff\xe7\xb4", "<p>x</p>&#1;"} {
		f.Add(s)
	}
	cfg := testConfig(f)
	f.Fuzz(func(t *testing.T, s string) {
		p := mappable(
			Variant{ID: "5001" + s, Row: 3, SKU: "SKU" + s, Price: "100", Options: []Option{{Name: "色" + s, Value: s}}},
			Variant{ID: "", Row: 4, SKU: s, Price: "120", Options: []Option{{Name: s, Value: "紅" + s}}},
		)
		p.ID += s
		p.Name += s
		p.Summary, p.Description, p.Vendor, p.Type = s, "<p>"+s+"</p>"+s, s, s
		c := *cfg
		c.Brand = s + "\x01牌" // the brand of products whose 商品廠商 is blank
		cp, reasons, _ := mapProduct(p, &c)
		if len(reasons) > 0 {
			return
		}
		if !cp.clean {
			t.Fatalf("mapProduct(%q) left the clean flag unset", s)
		}
		unchecked := cp
		unchecked.clean = false
		if want := unchecked.cleaned(); !reflect.DeepEqual(&cp, want) {
			t.Fatalf("mapProduct(%q) =\n%+v\nwhich cleaning changes to\n%+v", s, cp, *want)
		}
	})
}

// TestBackorderDate: an item on backorder gets Google's availability_date,
// backorder_days after the run at midnight in the shop's zone, the same
// all day; other items get none.
func TestBackorderDate(t *testing.T) {
	tz := taipei(t)
	for _, tt := range []struct {
		at   time.Time
		days int
		want string
	}{
		{time.Date(2026, 11, 23, 5, 0, 0, 0, tz), 14, "2026-12-07T00:00+0800"},
		{time.Date(2026, 11, 23, 23, 59, 0, 0, tz), 14, "2026-12-07T00:00+0800"},
		{time.Date(2026, 12, 31, 16, 45, 0, 0, tz), 1, "2027-01-01T00:00+0800"},
		{time.Date(2026, 12, 31, 16, 45, 0, 0, tz), 0, ""},
	} {
		if got := backorderDate(tt.at, tt.days); got != tt.want {
			t.Errorf("backorderDate(%v, %d) = %q, want %q", tt.at, tt.days, got, tt.want)
		}
	}
	cfg := testConfig(t)
	cfg.BackorderDays = 3
	p := mappable(Variant{ID: "5001", Row: 2, Price: "100", ManageStock: "是", Stock: "0", OutOfStock: "繼續銷售"},
		Variant{ID: "5002", Row: 3, Price: "100"})
	c := buildCatalog(&Export{Products: []*Product{p}}, cfg, time.Date(2026, 11, 23, 5, 0, 0, 0, tz))
	var buf bytes.Buffer
	if err := WriteGoogleXML(&buf, c); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<g:availability_date>2026-11-26T00:00+0800</g:availability_date>"); n != 1 {
		t.Errorf("catalog.xml has %d availability dates 2026-11-26, want the backorder item's alone:\n%s", n, buf.String())
	}
	cfg.BackorderDays = 400
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "backorder_days") {
		t.Errorf("Validate with backorder_days = 400: %v, want an error naming it", err)
	}
}

// TestUnsafeHTMLDiagnostic: LINE gets descriptions without their scripts,
// and a product that lost something unsafe is flagged with what it lost;
// formatting dropped by the policy alone is no news.
func TestUnsafeHTMLDiagnostic(t *testing.T) {
	tests := map[string]string{
		`<p style="color:red">紅</p><img src="//cdn.example.com/a.jpg">`: "",
		`<script>alert(1)</script><p>a</p>`:                             "<script>",
		`<img src="//cdn.example.com/a.jpg" onerror="alert(1)">`:        "onerror",
		`<a href="javascript:alert(1)">a</a>`:                           "javascript: URL",
		`<iframe src="https://evil.example/"></iframe>`:                 "<iframe>",
	}
	for desc, lost := range tests {
		p := mappable()
		p.Description = desc
		cp, _, _ := mapProduct(p, testConfig(t))
		if strings.Contains(cp.HTML, "script") || strings.Contains(cp.HTML, "onerror") || strings.Contains(cp.HTML, `"//`) {
			t.Errorf("%s: HTML %q", desc, cp.HTML)
		}
		i := slices.IndexFunc(cp.Diagnostics, func(d Diagnostic) bool { return d.Code == DiagUnsafeHTML })
		switch {
		case lost == "" && i >= 0:
			t.Errorf("%s: flagged %v", desc, cp.Diagnostics[i])
		case lost != "" && (i < 0 || !strings.Contains(cp.Diagnostics[i].Message, "had "+lost+" ")):
			t.Errorf("%s: diagnostics %v, want %s naming %s", desc, cp.Diagnostics, DiagUnsafeHTML, lost)
		}
	}
}
