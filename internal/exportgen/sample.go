package exportgen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SampleAt is the evaluation time the sample's golden catalog is made at.
var SampleAt = time.Date(2026, 11, 23, 5, 0, 0, 0, taipei)

var taipei = time.FixedZone("Asia/Taipei", 8*3600)

func at(y int, m time.Month, d, h, min int) Date {
	return Date{Serial: Serial(time.Date(y, m, d, h, min, 0, 0, taipei))}
}

// SampleRows is the sample export: a small shop whose products show every
// case feedgen handles — variants with product-level cells left blank on
// later rows, each exclusion reason, scheduled and ended sales as date
// cells and as text, protocol-relative images, stock rules, a conflicting
// cell, a variant without a price, and hostile description HTML.
func SampleRows() []Row {
	return []Row{
		// Three variants; later rows leave product-level cells blank. A
		// type of two levels and two custom groups: three categories.
		{"商品 id": "1000101", "商品款式 id": "5000101", "商品名稱": "經典白T", "商品是否公開": "是",
			"商品簡述": "百搭純棉短袖", "商品網址": "classic-white-tee", "商品類型": "服飾 > 上衣", "商品廠商": "木標",
			"商品自訂群組": "新品上市;夏季特賣",
			"商品標籤":   "新品,夏季", "商品介紹": "<p>100% 純棉&nbsp;<b>舒適</b>好穿</p><ul><li>S–L</li></ul>",
			"選項一": "尺寸", "選項一內容": "S", "商品款式售價": 490, "商品款式定價(選填)": 590,
			"商品款式SKU碼(選填，為POS商品時必填)": "TEE-W-S", "商品款式管理庫存": "是", "商品款式庫存量": 12,
			"商品款式庫存不足時": "停止銷售",
			"商品圖片1":     "//cdn.example.com/tee-white-1.jpg", "商品圖片2": "//cdn.example.com/tee-white-2.jpg"},
		{"商品 id": "1000101", "商品款式 id": "5000102", "選項一": "尺寸", "選項一內容": "M",
			"商品款式售價": 490, "商品款式定價(選填)": 590, "商品款式SKU碼(選填，為POS商品時必填)": "TEE-W-M",
			"商品款式管理庫存": "是", "商品款式庫存量": 0, "商品款式庫存不足時": "繼續銷售"},
		{"商品 id": "1000101", "商品款式 id": "5000103", "選項一": "尺寸", "選項一內容": "L",
			"商品款式售價": 490, "商品款式定價(選填)": 590, "商品款式SKU碼(選填，為POS商品時必填)": "TEE-W-L",
			"商品款式管理庫存": "是", "商品款式庫存量": 0, "商品款式庫存不足時": "停止銷售"},
		// One variant, sold out; 公開 is the other spelling of public; the
		// description carries a script that must never reach a feed as code.
		{"商品 id": "1000102", "商品款式 id": "5000201", "商品名稱": "手工皂禮盒 & 提袋", "商品是否公開": "公開",
			"商品網址": "soap-gift-box", "商品類型": "美妝", "商品標籤": "禮盒",
			"商品介紹":   "<script>alert('x')</script><p>手工皂 3 入 &lt;禮盒&gt;</p>",
			"商品款式售價": 880, "商品款式管理庫存": "是", "商品款式庫存量": 0, "商品款式庫存不足時": "停止銷售",
			"商品圖片1": "https://cdn.example.com/soap.jpg"},
		// Excluded: a gift.
		{"商品 id": "1000103", "商品款式 id": "5000301", "商品名稱": "帆布袋（贈品）", "商品是否公開": "是",
			"商品網址": "canvas-bag", "商品標籤": "贈品", "商品款式售價": 1, "商品圖片1": "//cdn.example.com/bag.jpg"},
		// Excluded: not public.
		{"商品 id": "1000104", "商品款式 id": "5000401", "商品名稱": "員工內部商品", "商品是否公開": "否",
			"商品網址": "staff-only", "商品款式售價": 100, "商品圖片1": "//cdn.example.com/staff.jpg"},
		// Excluded: on sale from next month (text date).
		{"商品 id": "1000105", "商品款式 id": "5000501", "商品名稱": "聖誕限定禮盒", "商品是否公開": "是",
			"商品上架時間": "2026/12/01 10:00", "商品網址": "xmas-box", "商品款式售價": 1280,
			"商品圖片1": "//cdn.example.com/xmas.jpg"},
		// Excluded: sale ended (date cell).
		{"商品 id": "1000106", "商品款式 id": "5000601", "商品名稱": "去年福袋", "商品是否公開": "是",
			"商品上架時間": at(2025, 12, 20, 0, 0), "商品下架時間": at(2026, 1, 5, 23, 59),
			"商品網址": "lucky-bag-2025", "商品款式售價": 999, "商品圖片1": "//cdn.example.com/lucky.jpg"},
		// Excluded: the feed-exclusion tag, written with other spacing and case.
		{"商品 id": "1000107", "商品款式 id": "5000701", "商品名稱": "加購小物", "商品是否公開": "是",
			"商品網址": "add-on", "商品標籤": "加購， 排除Product Feed ", "商品款式售價": 50,
			"商品圖片1": "//cdn.example.com/addon.jpg"},
		// Excluded twice over: not public and a gift.
		{"商品 id": "1000108", "商品款式 id": "5000801", "商品名稱": "試用包", "商品是否公開": "否",
			"商品網址": "trial", "商品標籤": "贈品,試用", "商品款式售價": 1, "商品圖片1": "//cdn.example.com/trial.jpg"},
		// On sale within its window (date cells); a Chinese handle; no stock
		// management; an http image and a relative one; groups written with
		// a full-width ； and a path without spaces.
		{"商品 id": "1000109", "商品款式 id": "5000901", "商品名稱": "冬季保暖毛帽", "商品是否公開": "是",
			"商品上架時間": at(2026, 11, 1, 0, 0), "商品下架時間": at(2027, 2, 28, 23, 59),
			"商品網址": "毛帽-冬季", "商品類型": "配件", "商品廠商": "暖暖", "商品簡述": "羊毛混紡",
			"商品自訂群組": "夏季特賣；服飾>配件",
			"商品款式售價": 650, "商品款式管理庫存": "否",
			"商品圖片1": "http://img.example.com/hat.jpg", "商品圖片2": "/uploads/hat-2.jpg"},
		// Invalid: no image.
		{"商品 id": "1000110", "商品款式 id": "5001001", "商品名稱": "無圖商品", "商品是否公開": "是",
			"商品網址": "no-image", "商品款式售價": 300},
		// Two variants: the second repeats the name differently (a
		// warning) and the third has no usable price (left out, warned).
		{"商品 id": "1000111", "商品款式 id": "5001101", "商品名稱": "陶瓷馬克杯", "商品是否公開": "是",
			"商品網址": "mug", "商品標籤": "廚房", "選項一": "顏色", "選項一內容": "白",
			"商品款式售價": 350, "商品圖片1": "//cdn.example.com/mug.jpg"},
		{"商品 id": "1000111", "商品款式 id": "5001102", "商品名稱": "陶瓷馬克杯 新版", "選項一": "顏色", "選項一內容": "黑",
			"商品款式售價": 380},
		{"商品 id": "1000111", "商品款式 id": "5001103", "選項一": "顏色", "選項一內容": "藍",
			"商品款式售價": "洽詢"},
		// The product id stored as a number cell, as Excel does when typed.
		{"商品 id": 1000112, "商品款式 id": 5001201, "商品名稱": "環保吸管組", "商品是否公開": "是",
			"商品網址": "https://shop.example.com/products/straw-set", "商品標籤": "環保",
			"商品款式售價": 120, "商品款式定價(選填)": 120, "商品圖片1": "//cdn.example.com/straw.jpg"},
	}
}

// SortRows returns rows sorted on the column header as a spreadsheet sorts
// them: stably, numbers before text when ascending and text before numbers
// when descending, blank cells last either way. It is how a merchant who
// sorts the export by price saves it.
func SortRows(rows []Row, header string, descending bool) []Row {
	// rank orders the kinds of cell: numbers, text, blanks; text first
	// when descending.
	rank := func(c Cell) int {
		switch c.(type) {
		case nil:
			return 2
		case string:
			if descending {
				return 0
			}
			return 1
		}
		if descending {
			return 1
		}
		return 0
	}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b Row) int {
		x, y := a[header], b[header]
		if d := cmp.Compare(rank(x), rank(y)); d != 0 || x == nil {
			return d
		}
		var d int
		if sx, ok := x.(string); ok {
			d = strings.Compare(sx, y.(string))
		} else {
			d = cmp.Compare(number(x), number(y))
		}
		if descending {
			d = -d
		}
		return d
	})
	return sorted
}

// number is the value of a number or date cell.
func number(c Cell) float64 {
	switch v := c.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	case Date:
		return v.Serial
	}
	panic(fmt.Sprintf("exportgen: %T is not a number cell", c))
}
