package feedgen

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"feedgen/internal/exportgen"
	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/cases"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// sliceRows is an in-memory worksheet for readExport: rows[i] is sheet row
// i+1. A nil row is one missing from the sheet, which a streaming reader
// skips; an empty, non-nil row is present but blank.
type sliceRows struct {
	rows  [][]string
	err   error         // what Err reports once the rows are used up
	onRow func(num int) // called as Next reaches each row, if set
	next  int           // index of the next row to look at
	cur   int           // index of the current row
	done  bool          // Next returned false
}

func (s *sliceRows) Next() bool {
	for s.next < len(s.rows) {
		i := s.next
		s.next++
		if s.rows[i] == nil {
			continue
		}
		s.cur = i
		if s.onRow != nil {
			s.onRow(i + 1)
		}
		return true
	}
	s.done = true
	return false
}

func (s *sliceRows) Row() (int, []string) { return s.cur + 1, s.rows[s.cur] }

func (s *sliceRows) Err() error {
	if s.done {
		return s.err
	}
	return nil
}

func (s *sliceRows) Close() error { return nil }

// testHeaders is a header row in the documented order, with the default
// column names.
var testHeaders = []string{
	"商品 id", "商品款式 id", "商品名稱", "商品上架時間", "商品下架時間", "商品是否公開",
	"商品簡述", "商品網址", "商品自訂群組", "商品類型", "商品廠商", "商品標籤", "商品介紹",
	"選項一", "選項一內容", "選項二", "選項二內容", "選項三", "選項三內容",
	"商品款式售價", "商品款式定價", "商品款式SKU碼", "商品款式管理庫存", "商品款式庫存量", "商品款式庫存不足時",
	"商品圖片", "商品圖片2",
}

// cells lays out one row under header: kv gives the cells by header text;
// every other cell is blank. A header not in the row is a mistake in the
// test and panics.
func cells(header []string, kv map[string]string) []string {
	row := make([]string, len(header))
	for k, v := range kv {
		i := indexOf(header, k)
		if i < 0 {
			panic(fmt.Sprintf("test row names column %q, which the header lacks", k))
		}
		row[i] = v
	}
	return row
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

// sheet is a header row followed by data rows.
func sheet(header []string, rows ...map[string]string) [][]string {
	out := [][]string{header}
	for _, kv := range rows {
		out = append(out, cells(header, kv))
	}
	return out
}

// product is the cells of a product's first row.
func product(id, variant, name string) map[string]string {
	return map[string]string{
		"商品 id": id, "商品款式 id": variant, "商品名稱": name, "商品是否公開": "是",
		"商品標籤": "新品", "商品款式售價": "100",
	}
}

// variant is the cells of a later variant row that leaves product cells blank.
func variant(id, variant, price string) map[string]string {
	return map[string]string{"商品 id": id, "商品款式 id": variant, "商品款式售價": price}
}

// readExport reads the products of sheet rows into memory, from rows
// that can be read only once: in their usual order.
func readExport(ctx context.Context, rows rowReader, cols Columns) (*Export, error) {
	opened := false
	return readRows(ctx, func() (rowReader, error) {
		if opened {
			return nil, errors.New("test: the rows were read twice")
		}
		opened = true
		return rows, nil
	}, cols)
}

// readRows reads the products of the rows open opens into memory.
func readRows(ctx context.Context, open func() (rowReader, error), cols Columns) (*Export, error) {
	return collectProducts(func(begin func(*Export) error, emit func(*Product) error) (*Export, error) {
		return scanExport(ctx, open, cols, msg.English, false, begin, emit)
	})
}

func read(t *testing.T, rows [][]string) (*Export, error) {
	t.Helper()
	return readRows(context.Background(), func() (rowReader, error) { return &sliceRows{rows: rows}, nil }, DefaultConfig().Columns)
}

func mustRead(t *testing.T, rows [][]string) *Export {
	t.Helper()
	ex, err := read(t, rows)
	if err != nil {
		t.Fatalf("readExport: %v", err)
	}
	return ex
}

func TestNormalizeHeader(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain header is kept", "商品名稱", "商品名稱"},
		{"leading [n] numbering is stripped", "[29]商品款式SKU碼", "商品款式sku碼"},
		{"full-width ［n］ numbering is stripped", "［29］商品款式SKU碼", "商品款式sku碼"},
		{"trailing note in parentheses is stripped", "商品款式SKU碼(選填，為POS商品時必填)", "商品款式sku碼"},
		{"trailing note in full-width parentheses is stripped", "商品款式SKU碼（選填，為POS商品時必填）", "商品款式sku碼"},
		{"note after a space is stripped", "商品是否公開 (是/否)", "商品是否公開"},
		{"several trailing notes are stripped", "商品名稱(必填)(文字)", "商品名稱"},
		{"numbering and note together", "[3]商品名稱 (必填)", "商品名稱"},
		{"parentheses inside the header are kept", "商品(新)名稱", "商品(新)名稱"},
		{"space inside is removed: 商品 id", "商品 id", "商品id"},
		{"no space: 商品id", "商品id", "商品id"},
		{"case is folded", "商品款式 sku碼", "商品款式sku碼"},
		{"upper case is folded", "商品 ID", "商品id"},
		{"full-width letters are folded", "商品款式ＳＫＵ碼", "商品款式sku碼"},
		{"NBSP is white space", "商品\u00a0id", "商品id"},
		{"ideographic space is white space", "商品\u3000id", "商品id"},
		{"surrounding white space and tab", " \t商品名稱\n", "商品名稱"},
		{"blank stays blank", "  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeHeader(tt.in); got != tt.want {
				t.Errorf("normalizeHeader(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeID(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"number stored as float loses .0", "1000123.0", "1000123"},
		{"number stored as float loses .00", "1000123.00", "1000123"},
		{"integer text is kept", "1000123", "1000123"},
		{"white space is trimmed", " 1000123 ", "1000123"},
		{"text id is kept", "abc", "abc"},
		{"a real fraction is kept", "1.5", "1.5"},
		{"text before .0 is kept", "abc.0", "abc.0"},
		{"negative is kept", "-1.0", "-1.0"},
		{"nothing before the dot is kept", ".0", ".0"},
		{"blank", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeID(tt.in); got != tt.want {
				t.Errorf("normalizeID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadExportHeader(t *testing.T) {
	t.Run("header row is found below a title row", func(t *testing.T) {
		rows := append([][]string{{"商品匯出 2026-11-25"}, {}}, sheet(testHeaders, product("1001", "5001", "T恤"))...)
		ex := mustRead(t, rows)
		if ex.HeaderRow != 3 {
			t.Errorf("HeaderRow = %d, want 3", ex.HeaderRow)
		}
		if len(ex.Products) != 1 || ex.Products[0].ID != "1001" || ex.Products[0].Row != 4 {
			t.Fatalf("Products = %+v, want product 1001 on row 4", ex.Products)
		}
	})

	t.Run("headers are matched after normalisation, in any order", func(t *testing.T) {
		h := []string{"[3]商品名稱", "商品款式售價(必填)", "商品ID", "商品款式 ID", "商品是否公開 (是/否)", "商品標籤", "商品上架時間", "商品下架時間"}
		rows := [][]string{h, {"T恤", "100", "1001", "5001", "是", "", "", ""}}
		ex := mustRead(t, rows)
		p := ex.Products[0]
		if p.Name != "T恤" || p.ID != "1001" || p.Public != "是" || p.Variants[0].Price != "100" || p.Variants[0].ID != "5001" {
			t.Errorf("product = %+v, want T恤 1001 是 with variant 5001 at 100", p)
		}
		if ex.HasStatus {
			t.Errorf("HasStatus = true for an export without 上架狀態")
		}
	})

	t.Run("a 上架狀態 column is noticed", func(t *testing.T) {
		h := append(append([]string(nil), testHeaders...), "上架狀態")
		ex := mustRead(t, sheet(h, map[string]string{"商品 id": "1", "上架狀態": "未上架"}))
		if !ex.HasStatus || ex.Products[0].Status != "未上架" {
			t.Errorf("HasStatus = %v, Status = %q, want true, %q", ex.HasStatus, ex.Products[0].Status, "未上架")
		}
	})

	t.Run("header not within the first 20 rows is a ColumnError naming what is missing", func(t *testing.T) {
		var rows [][]string
		for i := 1; i <= 21; i++ {
			rows = append(rows, []string{fmt.Sprintf("note %d", i)})
		}
		rows[4] = []string{"商品 id", "", "商品名稱", "備註"} // the best-looking row
		rows = append(rows, sheet(testHeaders, product("1", "2", "x"))...)
		_, err := read(t, rows)
		var ce *ColumnError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v (%T), want *ColumnError", err, err)
		}
		wantMissing := []string{"商品款式 id", "商品是否公開", "商品標籤", "商品上架時間", "商品下架時間", "商品款式售價"}
		if !reflect.DeepEqual(ce.Missing, wantMissing) {
			t.Errorf("Missing = %q, want %q", ce.Missing, wantMissing)
		}
		if want := []string{"商品 id", "商品名稱", "備註"}; !reflect.DeepEqual(ce.Found, want) || ce.Row != 5 {
			t.Errorf("Found = %q on row %d, want %q on row 5", ce.Found, ce.Row, want)
		}
		want := "missing column 「商品款式 id」, 「商品是否公開」, 「商品標籤」, 「商品上架時間」, 「商品下架時間」, 「商品款式售價」 (headers found on row 5: 商品 id, 商品名稱, 備註)"
		if err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
	})

	defaults := DefaultConfig().Columns
	for _, col := range defaults.required() {
		t.Run("missing required column "+col.key+" is a ColumnError naming it", func(t *testing.T) {
			h := append([]string(nil), testHeaders...)
			i := indexOf(h, col.header)
			if i < 0 {
				t.Fatalf("test header lacks %q", col.header)
			}
			h[i] = "備註"
			_, err := read(t, [][]string{h, make([]string, len(h))})
			var ce *ColumnError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *ColumnError", err, err)
			}
			if want := []string{col.header}; !reflect.DeepEqual(ce.Missing, want) || ce.Row != 1 {
				t.Errorf("Missing = %q on row %d, want %q on row 1", ce.Missing, ce.Row, want)
			}
			if indexOf(ce.Found, "備註") < 0 || indexOf(ce.Found, col.header) >= 0 {
				t.Errorf("Found = %q, want the row's headers, with 備註 and without %q", ce.Found, col.header)
			}
		})
	}

	t.Run("header row and nothing else is ErrNoProducts", func(t *testing.T) {
		_, err := read(t, [][]string{testHeaders})
		if !errors.Is(err, ErrNoProducts) {
			t.Errorf("err = %v, want ErrNoProducts", err)
		}
	})

	t.Run("header row and blank rows is ErrNoProducts", func(t *testing.T) {
		_, err := read(t, [][]string{testHeaders, {}, {"", " "}})
		if !errors.Is(err, ErrNoProducts) {
			t.Errorf("err = %v, want ErrNoProducts", err)
		}
	})

	t.Run("an empty sheet is an error, not a ColumnError", func(t *testing.T) {
		_, err := read(t, nil)
		var ce *ColumnError
		if err == nil || errors.As(err, &ce) || err.Error() != "the sheet is empty" {
			t.Errorf("err = %v, want %q", err, "the sheet is empty")
		}
	})

	t.Run("a reader error is returned", func(t *testing.T) {
		boom := errors.New("zip: checksum error")
		rows := sheet(testHeaders, product("1", "2", "x"))
		_, err := readExport(context.Background(), &sliceRows{rows: rows, err: boom}, DefaultConfig().Columns)
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
}

func TestReadExportRows(t *testing.T) {
	t.Run("product cells blank on later rows are carried forward", func(t *testing.T) {
		first := product("1001", "5001", "T恤")
		first["商品標籤"] = "新品,夏季"
		first["商品上架時間"] = "2026/11/01 10:00"
		ex := mustRead(t, sheet(testHeaders, first, variant("1001", "5002", "120"), variant("1001", "5003", "130")))
		if len(ex.Products) != 1 {
			t.Fatalf("got %d products, want 1", len(ex.Products))
		}
		p := ex.Products[0]
		if p.Name != "T恤" || p.Public != "是" || p.Tags != "新品,夏季" || p.Start != "2026/11/01 10:00" {
			t.Errorf("product = %+v, want the first row's cells", p)
		}
		var ids []string
		for _, v := range p.Variants {
			ids = append(ids, v.ID+"@"+v.Price)
		}
		if want := []string{"5001@100", "5002@120", "5003@130"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("variants = %q, want %q", ids, want)
		}
		if ex.WarningCount != 0 {
			t.Errorf("warnings = %v, want none", ex.Warnings)
		}
	})

	t.Run("a value first given on a later row is taken, and its row remembered", func(t *testing.T) {
		first := product("1001", "5001", "T恤")
		delete(first, "商品標籤")
		later := variant("1001", "5002", "100")
		later["商品標籤"] = "贈品"
		ex := mustRead(t, sheet(testHeaders, first, later))
		p := ex.Products[0]
		if p.Tags != "贈品" || p.rowOf(fTags) != 3 || p.rowOf(fName) != 2 || p.rowOf(fVendor) != 2 {
			t.Errorf("Tags = %q from row %d (name row %d, blank vendor row %d), want 贈品 from row 3, 2, 2",
				p.Tags, p.rowOf(fTags), p.rowOf(fName), p.rowOf(fVendor))
		}
	})

	t.Run("a conflicting value warns naming both rows and keeps the first", func(t *testing.T) {
		later := variant("1001", "5002", "100")
		later["商品名稱"] = "T恤（新）"
		ex := mustRead(t, sheet(testHeaders, product("1001", "5001", "T恤"), later))
		if got := ex.Products[0].Name; got != "T恤" {
			t.Errorf("Name = %q, want %q", got, "T恤")
		}
		want := []Warning{{Row: 3, Column: "商品名稱", Message: `product 1001 has "T恤（新）" here but "T恤" on row 2; using row 2`}}
		if !reflect.DeepEqual(ex.Warnings, want) || ex.WarningCount != 1 {
			t.Errorf("Warnings = %+v (count %d), want %+v", ex.Warnings, ex.WarningCount, want)
		}
		if got, want := ex.Warnings[0].String(), `row 3: 商品名稱: product 1001 has "T恤（新）" here but "T恤" on row 2; using row 2`; got != want {
			t.Errorf("Warning.String() = %q, want %q", got, want)
		}
	})

	t.Run("the same value repeated on later rows is no conflict", func(t *testing.T) {
		later := product("1001", "5002", " T恤 ")
		ex := mustRead(t, sheet(testHeaders, product("1001", "5001", "T恤"), later))
		if ex.WarningCount != 0 || len(ex.Products[0].Variants) != 2 {
			t.Errorf("Warnings = %v, variants = %d; want none and 2", ex.Warnings, len(ex.Products[0].Variants))
		}
	})

	t.Run("a row with a blank id continues the previous product", func(t *testing.T) {
		ex := mustRead(t, sheet(testHeaders,
			product("1001", "5001", "T恤"), variant("", "5002", "120"),
			product("1002", "6001", "帽子"), variant("", "6002", "80")))
		if len(ex.Products) != 2 {
			t.Fatalf("got %d products, want 2", len(ex.Products))
		}
		for i, want := range [][]string{{"5001", "5002"}, {"6001", "6002"}} {
			var got []string
			for _, v := range ex.Products[i].Variants {
				got = append(got, v.ID)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("product %s variants = %q, want %q", ex.Products[i].ID, got, want)
			}
		}
		if ex.Rows != 4 {
			t.Errorf("Rows = %d, want 4", ex.Rows)
		}
	})

	t.Run("a blank id before any product warns and is skipped", func(t *testing.T) {
		ex := mustRead(t, sheet(testHeaders, variant("", "5000", "90"), product("1001", "5001", "T恤")))
		want := []Warning{{Row: 2, Column: "商品 id", Message: "row has no product id and follows no product; skipped"}}
		if !reflect.DeepEqual(ex.Warnings, want) {
			t.Errorf("Warnings = %+v, want %+v", ex.Warnings, want)
		}
		if len(ex.Products) != 1 || len(ex.Products[0].Variants) != 1 || ex.Products[0].Variants[0].ID != "5001" {
			t.Errorf("Products = %+v, want only 1001 with variant 5001", ex.Products)
		}
	})

	t.Run("a duplicate variant id warns and the row is ignored", func(t *testing.T) {
		ex := mustRead(t, sheet(testHeaders, product("1001", "5001", "T恤"), variant("1001", "5001.0", "999")))
		p := ex.Products[0]
		if len(p.Variants) != 1 || p.Variants[0].Price != "100" || p.Variants[0].Row != 2 {
			t.Errorf("Variants = %+v, want only row 2 at 100", p.Variants)
		}
		want := []Warning{{Row: 3, Column: "商品款式 id", Message: "variant 5001 of product 1001 already appeared on row 2; this row is ignored"}}
		if !reflect.DeepEqual(ex.Warnings, want) {
			t.Errorf("Warnings = %+v, want %+v", ex.Warnings, want)
		}
	})

	t.Run("the same variant id under two products is no duplicate", func(t *testing.T) {
		ex := mustRead(t, sheet(testHeaders, product("1001", "1", "a"), product("1002", "1", "b")))
		if ex.WarningCount != 0 || len(ex.Products) != 2 {
			t.Errorf("Warnings = %v, products = %d; want none and 2", ex.Warnings, len(ex.Products))
		}
	})

	t.Run("rows of a product apart from its others join it", func(t *testing.T) {
		// Products come in the order of their first rows, each with its
		// variants in the order of theirs.
		ex := mustRead(t, sheet(testHeaders,
			product("1002", "6001", "帽子"), product("1001", "5001", "T恤"),
			variant("1002", "6002", "80"), variant("1001.0", "5002", "120")))
		var got []string
		for _, p := range ex.Products {
			s := p.ID + ":"
			for _, v := range p.Variants {
				s += fmt.Sprintf(" %s@row%d", v.ID, v.Row)
			}
			got = append(got, s)
		}
		want := []string{"1002: 6001@row2 6002@row4", "1001: 5001@row3 5002@row5"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("products = %q, want %q", got, want)
		}
		if ex.WarningCount != 0 || !ex.RowsApart || ex.Rows != 4 || ex.ProductCount != 2 {
			t.Errorf("warnings %v, RowsApart %v, Rows %d, ProductCount %d; want none, true, 4, 2",
				ex.Warnings, ex.RowsApart, ex.Rows, ex.ProductCount)
		}
		if p := ex.Product("1001.0"); p == nil || p.Row != 3 {
			t.Errorf("Product(%q) = %+v, want product 1001 first seen on row 3", "1001.0", p)
		}
		if p := ex.Product("9999"); p != nil {
			t.Errorf("Product(%q) = %+v, want nil", "9999", p)
		}
	})

	t.Run("image columns are collected in order, and 商品圖片說明 is not one", func(t *testing.T) {
		h := []string{"商品 id", "商品款式 id", "商品名稱", "商品是否公開", "商品標籤", "商品上架時間", "商品下架時間", "商品款式售價",
			"商品圖片", "商品圖片說明", "商品圖片2", "商品圖片 3", "[60]商品圖片4(選填)", "商品圖片A"}
		first := []string{"1001", "5001", "T恤", "是", "", "", "", "100",
			"//cdn/1.jpg", "正面照", " //cdn/2.jpg ", "//cdn/3.jpg", "//cdn/4.jpg", "//cdn/not.jpg"}
		later := []string{"1001", "5002", "", "", "", "", "", "100",
			"//cdn/other.jpg", "", "", "", "", ""}
		ex := mustRead(t, [][]string{h, first, later})
		want := []string{"//cdn/1.jpg", "//cdn/2.jpg", "//cdn/3.jpg", "//cdn/4.jpg"}
		if got := ex.Products[0].Images; !reflect.DeepEqual(got, want) {
			t.Errorf("Images = %q, want %q", got, want)
		}
	})

	t.Run("images come from the first row that has any", func(t *testing.T) {
		first := product("1001", "5001", "T恤")
		later := variant("1001", "5002", "100")
		later["商品圖片2"] = "//cdn/b.jpg"
		later["商品圖片"] = "//cdn/a.jpg"
		ex := mustRead(t, sheet(testHeaders, first, later))
		if want := []string{"//cdn/a.jpg", "//cdn/b.jpg"}; !reflect.DeepEqual(ex.Products[0].Images, want) {
			t.Errorf("Images = %q, want %q", ex.Products[0].Images, want)
		}
	})

	t.Run("option columns pair up name and value", func(t *testing.T) {
		a := product("1001", "5001", "T恤")
		a["選項一"], a["選項一內容"], a["選項二"], a["選項二內容"] = "顏色", " 紅 ", "尺寸", "M"
		b := variant("1001", "5002", "100")
		b["選項一"], b["選項一內容"], b["選項二"] = "顏色", "藍", "尺寸" // 尺寸 has no value
		c := variant("1001", "5003", "100")
		c["選項一內容"] = "綠" // no name: the column's header names it
		ex := mustRead(t, sheet(testHeaders, a, b, c))
		var got [][]Option
		for _, v := range ex.Products[0].Variants {
			got = append(got, v.Options)
		}
		want := [][]Option{
			{{"顏色", "紅"}, {"尺寸", "M"}},
			{{"顏色", "藍"}},
			{{"選項一", "綠"}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("options = %q, want %q", got, want)
		}
	})

	t.Run("an option value whose name column is absent is named after its own pair", func(t *testing.T) {
		// The export has no 選項一 pair at all, only 選項二 and 選項三內容.
		h := []string{"商品 id", "商品款式 id", "商品名稱", "商品是否公開", "商品標籤", "商品上架時間", "商品下架時間", "商品款式售價",
			"選項二", "選項二內容", "選項三內容"}
		ex := mustRead(t, [][]string{h, {"1001", "5001", "T恤", "是", "", "", "", "100", "", "M", "棉"}})
		want := []Option{{"選項二", "M"}, {"選項三", "棉"}}
		if got := ex.Products[0].Variants[0].Options; !reflect.DeepEqual(got, want) {
			t.Errorf("Options = %q, want %q", got, want)
		}
	})

	t.Run("variant cells are trimmed and read per row", func(t *testing.T) {
		a := product("1001", "5001", "T恤")
		a["商品款式SKU碼"], a["商品款式定價"], a["商品款式管理庫存"], a["商品款式庫存量"], a["商品款式庫存不足時"] = " SKU-1 ", "150", "是", "0", "繼續銷售"
		ex := mustRead(t, sheet(testHeaders, a))
		want := Variant{ID: "5001", Row: 2, SKU: "SKU-1", Price: "100", ListPrice: "150", ManageStock: "是", Stock: "0", OutOfStock: "繼續銷售"}
		if got := ex.Products[0].Variants[0]; !reflect.DeepEqual(got, want) {
			t.Errorf("Variant = %+v, want %+v", got, want)
		}
	})

	t.Run("blank and missing rows are skipped and not counted", func(t *testing.T) {
		rows := sheet(testHeaders, product("1001", "5001", "T恤"))
		rows = append(rows, []string{}, []string{" ", "\t", ""}, nil, cells(testHeaders, variant("1001", "5002", "100")))
		ex := mustRead(t, rows)
		if ex.Rows != 2 {
			t.Errorf("Rows = %d, want 2", ex.Rows)
		}
		if v := ex.Products[0].Variants; len(v) != 2 || v[1].Row != 6 {
			t.Errorf("Variants = %+v, want 2 with the second on row 6", v)
		}
		if ex.WarningCount != 0 {
			t.Errorf("Warnings = %v, want none", ex.Warnings)
		}
	})

	t.Run("a cancelled context stops the read with ctx.Err()", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := readExport(ctx, &sliceRows{rows: sheet(testHeaders, product("1", "2", "x"))}, DefaultConfig().Columns)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("a context cancelled partway through a long sheet stops the read", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rows := [][]string{testHeaders}
		for i := 0; i < 5000; i++ {
			rows = append(rows, cells(testHeaders, product(fmt.Sprint(1000+i), "1", "x")))
		}
		var last int
		src := &sliceRows{rows: rows, onRow: func(num int) {
			last = num
			if num == 1500 {
				cancel()
			}
		}}
		_, err := readExport(ctx, src, DefaultConfig().Columns)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if last >= len(rows) {
			t.Errorf("read all %d rows after cancellation at row 1500", last)
		}
	})

	t.Run("warnings are capped but WarningCount stays exact", func(t *testing.T) {
		rows := sheet(testHeaders, product("1001", "5001", "T恤"))
		const dups = maxWarnings + 25
		for i := 0; i < dups; i++ {
			rows = append(rows, cells(testHeaders, variant("1001", "5001", "100")))
		}
		ex := mustRead(t, rows)
		if ex.WarningCount != dups || len(ex.Warnings) != maxWarnings {
			t.Errorf("WarningCount = %d, len(Warnings) = %d; want %d, %d", ex.WarningCount, len(ex.Warnings), dups, maxWarnings)
		}
		if w := ex.Warnings[maxWarnings-1]; w.Row != maxWarnings+2 {
			t.Errorf("last kept warning is for row %d, want the first %d warnings (last on row %d)", w.Row, maxWarnings, maxWarnings+2)
		}
		if !strings.Contains(ex.Warnings[0].Message, "already appeared on row 2") {
			t.Errorf("Warnings[0] = %q, want a duplicate-variant warning", ex.Warnings[0].Message)
		}
	})
}

func TestReadExportDuplicateVariantRowIgnoredWhole(t *testing.T) {
	// Product 1001's name is blank on its first row; the duplicate row of
	// variant 5001 must not fill it, nor add its image.
	first := product("1001", "5001", "")
	dup := product("1001", "5001", "別的名字")
	ex := mustRead(t, sheet(testHeaders, first, dup, variant("1001", "5002", "90")))
	p := ex.Products[0]
	if p.Name != "" || len(p.Variants) != 2 {
		t.Errorf("product = name %q, %d variants; want a blank name and 2 variants", p.Name, len(p.Variants))
	}
	if ex.WarningCount != 1 || ex.Warnings[0].Row != 3 {
		t.Errorf("warnings = %v, want one for row 3", ex.Warnings)
	}
}

// TestPrefetchRows: rows read ahead on another goroutine arrive as the
// sheet has them, across many batches, and the sheet's error after them.
func TestPrefetchRows(t *testing.T) {
	errSheet := errors.New("sheet broken at the end")
	sheet := func() *sliceRows {
		rows := make([][]string, 1000)
		for i := range rows {
			switch {
			case i%7 == 3: // missing from the sheet
			case i%11 == 5:
				rows[i] = []string{} // present and blank
			default:
				rows[i] = strings.Split(strings.Repeat("x,", i%9)+strconv.Itoa(i), ",")
			}
		}
		return &sliceRows{rows: rows, err: errSheet}
	}
	type row struct {
		num   int
		cells []string
	}
	read := func(r rowReader) []row {
		var got []row
		for r.Next() {
			num, cells := r.Row()
			got = append(got, row{num, slices.Clone(cells)})
		}
		return got
	}
	want := read(sheet())
	p := prefetchRows(sheet())
	got := read(p)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prefetched rows differ from the sheet's: got %d rows, want %d", len(got), len(want))
	}
	if err := p.Err(); err != errSheet {
		t.Errorf("Err = %v, want %v", err, errSheet)
	}
	if p.Next() {
		t.Error("Next after the end = true")
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestPrefetchRowsCloseEarly: a scan that stops early (an error, a
// cancelled run) stops the reading goroutine too.
func TestPrefetchRowsCloseEarly(t *testing.T) {
	for _, read := range []int{0, 1, 300} {
		rows := make([][]string, 100_000)
		for i := range rows {
			rows[i] = []string{strconv.Itoa(i)}
		}
		p := prefetchRows(&sliceRows{rows: rows})
		for range read {
			if !p.Next() {
				t.Fatal("Next = false")
			}
		}
		if err := p.Close(); err != nil {
			t.Errorf("Close after %d rows = %v", read, err)
		}
		select {
		case <-p.done:
		default:
			t.Errorf("Close after %d rows returned with the reading goroutine still running", read)
		}
	}
}

// FuzzNormalizeText: the shortcut for text that folding leaves alone
// gives what the folding gives.
func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{"是", " 否 ", "排除Product Feed", "ＡＢＣ", "新品,熱銷", "ß", "\u4e00\u9fff\u3400", "\xff", "é", "a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normalizeText(s), cases.Fold().String(strings.TrimSpace(norm.NFKC.String(s))); got != want {
			t.Errorf("normalizeText(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestIDSet: the compact id set answers as a map of the ids would,
// across its growth.
func TestIDSet(t *testing.T) {
	s := newIDSet()
	want := map[string]bool{}
	for i := range 5000 {
		id := strconv.Itoa(1_000_000 + i*7)
		s.add(id)
		want[id] = true
		if i%3 == 0 {
			s.add(id) // added twice, kept once
		}
	}
	for i := range 40_000 {
		id := strconv.Itoa(1_000_000 + i)
		if got := s.has(id); got != want[id] {
			t.Fatalf("has(%s) = %v, want %v", id, got, want[id])
		}
	}
	if s.n != len(want) {
		t.Errorf("%d ids kept, want %d", s.n, len(want))
	}
	if newIDSet().has("1") {
		t.Error("an empty set has an id")
	}
}

// panickingRows stands for a bug in the sheet reader at row at.
type panickingRows struct {
	sliceRows
	at int
}

func (p *panickingRows) Next() bool {
	if p.next+1 == p.at {
		panic("reader bug")
	}
	return p.sliceRows.Next()
}

// TestPrefetchRowsPanic: the sheet is read on a goroutine of its own; a
// panic there ends the rows with an error instead of the process (the rows
// of the batch it interrupted are dropped: the run fails anyway).
func TestPrefetchRowsPanic(t *testing.T) {
	rows := make([][]string, 1000)
	for i := range rows {
		rows[i] = []string{strconv.Itoa(i)}
	}
	p := prefetchRows(&panickingRows{sliceRows: sliceRows{rows: rows}, at: 500})
	n := 0
	for p.Next() {
		n++
	}
	if n > 499 {
		t.Errorf("read %d rows, past the panic at row 500", n)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "reader bug") {
		t.Errorf("Err = %v, want the panic", err)
	}
	p.Close()
}

// TestPrefetchRowsNoHeader: a scan that gives up early (no header in the
// first rows) reports the missing columns, not an error of the sheet the
// reader, rows ahead, may already have met, and reads no state the
// reader's goroutine is still writing (go test -race).
func TestPrefetchRowsNoHeader(t *testing.T) {
	rows := make([][]string, 300)
	for i := range rows {
		rows[i] = []string{fmt.Sprint("junk", i)}
	}
	for range 5 {
		src := prefetchRows(&sliceRows{rows: rows, err: errors.New("sheet damaged at row 301")})
		for !src.ended && len(src.full) < prefetchBatches-1 {
			runtime.Gosched() // let the reader get ahead, to its end if it can
		}
		_, err := readExport(context.Background(), src, DefaultConfig().Columns)
		src.Close()
		var ce *ColumnError
		if !errors.As(err, &ce) {
			t.Fatalf("readExport without a header = %v, want a *ColumnError", err)
		}
	}
}

// spillEveryTable makes the reader keep the shared strings of every table
// in a temporary file, and points os.TempDir at a fresh folder, which it
// returns (TMPDIR on Unix, TMP and TEMP on Windows).
func spillEveryTable(t *testing.T) string {
	t.Helper()
	testOnlySpillSize = 1
	t.Cleanup(func() { testOnlySpillSize = 0 })
	return tempdir.Use(t)
}

// tempFilesIn lists the files in dir, named or held open.
func tempFilesIn(t *testing.T, dir string) []string {
	t.Helper()
	return tempdir.Files(dir, "")
}

// TestStreamExportSpillRelease reads a generated export through
// streamExport, as Run does, and stops it at every turn: the products read
// are those read from memory, and no temporary file is left.
func TestStreamExportSpillRelease(t *testing.T) {
	var buf bytes.Buffer
	if err := exportgen.WriteBulk(&buf, exportgen.BulkOptions{Products: 600, SharedStrings: true, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	cfg := DefaultConfig()
	want, err := ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := spillEveryTable(t)
	got, err := ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the export read spilled differs from the one read in memory")
	}
	if left := tempFilesIn(t, dir); len(left) > 0 {
		t.Errorf("after reading the export: temporary files left: %q", left)
	}

	stop := errors.New("stop")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		emit func(n int) error
		want error
	}{
		{"emit fails", t.Context(), func(n int) error {
			if n == 10 {
				return stop
			}
			return nil
		}, stop},
		{"context cancelled", ctx, func(n int) error {
			if n == 10 {
				cancel()
			}
			return nil
		}, context.Canceled},
	} {
		n := 0
		seen := 0
		_, err := streamExport(c.ctx, bytes.NewReader(data), int64(len(data)), cfg, nil, func(*Product) error {
			n++
			seen = max(seen, len(tempFilesIn(t, dir)))
			return c.emit(n)
		})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if seen == 0 && runtime.GOOS == "linux" {
			t.Errorf("%s: no temporary file seen while reading", c.name)
		}
		if left := tempFilesIn(t, dir); len(left) > 0 {
			t.Errorf("%s: temporary files left: %q", c.name, left)
		}
	}
}

// TestReadExportUTF16 reads the sample with every XML part re-encoded as
// UTF-16LE with a byte-order mark, as Excel Mobile saved workbooks: the
// export read is the same.
func TestReadExportUTF16(t *testing.T) {
	sample, err := os.ReadFile(sampleExport)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(sample), int64(len(sample)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	toUTF16 := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, ".xml") || strings.HasSuffix(f.Name, ".rels") {
			body = bytes.Replace(body, []byte(`encoding="UTF-8"`), []byte(`encoding="UTF-16"`), 1)
			if body, err = toUTF16.Bytes(body); err != nil {
				t.Fatal(err)
			}
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	want, err := ReadExport(t.Context(), bytes.NewReader(sample), int64(len(sample)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadExport(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Products) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("the UTF-16 export read differently: %d products, want %d", len(got.Products), len(want.Products))
	}
}

// TestReadExportProductBounds: a product is held in memory until its last
// row, so one with absurdly many variants or bytes is refused, naming it.
func TestReadExportProductBounds(t *testing.T) {
	many := []map[string]string{product("1", "v0", "衣服")}
	for i := range maxVariants {
		many = append(many, variant("1", "v"+strconv.Itoa(i+1), "100"))
	}
	sku := strings.Repeat("S", 1<<20)
	heavy := []map[string]string{product("2", "w0", "衣服")}
	for i := range maxProductBytes>>20 + 1 {
		v := variant("2", "w"+strconv.Itoa(i+1), "100")
		v["商品款式SKU碼"] = sku
		heavy = append(heavy, v)
	}
	for _, c := range []struct {
		name string
		rows []map[string]string
		msg  string
	}{
		{"too many variants", many, "product 1 has more than 10000 variant rows"},
		{"too many bytes", heavy, "the variant rows of product 2 hold more than 64 MiB"},
	} {
		_, err := read(t, sheet(testHeaders, c.rows...))
		if !errors.Is(err, ErrProductTooLarge) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want ErrProductTooLarge mentioning %q", c.name, err, c.msg)
		}
	}
}

func TestOptionHeader(t *testing.T) {
	for _, tt := range []struct {
		header     string
		kind, slot int
	}{
		{"選項一", optionName, 1}, {"選項一內容", optionValue, 1}, {"選項三內容", optionValue, 3},
		{"商品款式選項一", optionName, 1}, {"商品款式內容一", optionValue, 1},
		{"[23]商品款式選項2", optionName, 2}, {"[24]商品款式內容2", optionValue, 2},
		{"選項1名稱", optionName, 1}, {"選項內容1", optionValue, 1}, {"選項1值", optionValue, 1},
		{"Option1", optionName, 1}, {"Option 1 Value", optionValue, 1},
		{"商品款式選項一(選填)", optionName, 1},
		{"商品介紹", notOption, 0}, {"內容", notOption, 0}, {"選項", notOption, 0}, {"選項一內容二", notOption, 0},
		{"商品內容1", notOption, 0},
	} {
		kind, slot := optionHeader(normalizeHeader(tt.header))
		if kind != tt.kind || slot != tt.slot {
			t.Errorf("optionHeader(%q) = %d, %d; want %d, %d", tt.header, kind, slot, tt.kind, tt.slot)
		}
	}
}

// TestReadExportFindsOptionColumns: exports that head their option pairs
// otherwise than the config (as CYBERBIZ documents them only as
// 「商品款式選項/內容」) keep every variant's options; option-like columns
// that are still not read get a warning saying how to map them.
func TestReadExportFindsOptionColumns(t *testing.T) {
	base := []string{"商品 id", "商品款式 id", "商品名稱", "商品是否公開", "商品標籤", "商品上架時間", "商品下架時間", "商品款式售價"}
	for _, pair := range [][4]string{
		{"商品款式選項一", "商品款式內容一", "商品款式選項二", "商品款式內容二"},
		{"[23]選項1", "[24]內容1", "[25]選項2", "[26]內容2"},
		{"Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value"},
	} {
		h := append(slices.Clone(base), pair[:]...)
		ex := mustRead(t, [][]string{h, {"1001", "5001", "T恤", "是", "", "", "", "100", "顏色", "紅", "尺寸", "M"}})
		want := []Option{{"顏色", "紅"}, {"尺寸", "M"}}
		if got := ex.Products[0].Variants[0].Options; !reflect.DeepEqual(got, want) {
			t.Errorf("headers %q: options = %q, want %q", pair, got, want)
		}
		if ex.WarningCount != 0 {
			t.Errorf("headers %q: warnings %v", pair, ex.Warnings)
		}
	}
	h := append(slices.Clone(base), "選項A", "選項A內容")
	ex := mustRead(t, [][]string{h, {"1001", "5001", "T恤", "是", "", "", "", "100", "顏色", "紅"}})
	if len(ex.Warnings) != 1 || !strings.Contains(ex.Warnings[0].Message, "「選項A」, 「選項A內容」 look like variant options but are not read") ||
		!strings.Contains(ex.Warnings[0].Message, "option_names") {
		t.Errorf("warnings = %v, want one naming 選項A and 選項A內容 and how to map them", ex.Warnings)
	}
}

// notesFirst is the sample export with a sheet of the merchant's notes
// added in front of the products, and another after them.
func notesFirst(t *testing.T) []byte {
	t.Helper()
	return sampleWithSheets(t, func(f *excelize.File) {
		for _, name := range []string{"12月直播", "備註"} {
			if _, err := f.NewSheet(name); err != nil {
				t.Fatal(err)
			}
			f.SetCellValue(name, "A1", "12/5 直播用，記得改價")
		}
		if err := f.MoveSheet("12月直播", "商品"); err != nil {
			t.Fatal(err)
		}
	})
}

// sampleWithSheets is the sample export, on its sheet 商品, after edit
// has added sheets to it.
func sampleWithSheets(t *testing.T, edit func(*excelize.File)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := exportgen.WriteSample(&buf, "商品", exportgen.SampleRows()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	edit(f)
	buf.Reset()
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestProductSheetAfterEmptySheet: a blank sheet in front (Excel's
// 工作表1, left empty) is passed over, not taken for a damaged export.
func TestProductSheetAfterEmptySheet(t *testing.T) {
	data := sampleWithSheets(t, func(f *excelize.File) {
		if _, err := f.NewSheet("工作表1"); err != nil {
			t.Fatal(err)
		}
		if err := f.MoveSheet("工作表1", "商品"); err != nil {
			t.Fatal(err)
		}
	})
	cfg := DefaultConfig()
	cfg.ShopURL = testShop
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg)
	if err != nil || ex.Sheet != "商品" || ex.ProductCount != 12 {
		t.Fatalf("read %v, %v; want sheet 商品 and its 12 products", ex, err)
	}
}

// TestProductSheetIsFound: with no sheet configured, the products are
// read from the first sheet whose headers match, wherever it is, and the
// summary names it; a configured sheet is read as it is; with no sheet of
// products, the error is that of the sheet nearest to one (the products'
// sheet with a column renamed, not the notes in front), naming the others.
func TestProductSheetIsFound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ShopURL = testShop
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	data := notesFirst(t)
	ex, err := ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Sheet != "商品" || ex.ProductCount != 12 {
		t.Errorf("read sheet %q, %d products; want 商品, 12", ex.Sheet, ex.ProductCount)
	}
	cfg.Sheet = "12月直播"
	if _, err := ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg); !errors.As(err, new(*ColumnError)) {
		t.Errorf("the notes sheet configured: %v, want its missing columns", err)
	}
	cfg.Sheet = ""
	cfg.Columns.ProductID = "商品編號"
	_, err = ReadExport(t.Context(), bytes.NewReader(data), int64(len(data)), cfg)
	if !errors.As(err, new(*ColumnError)) || !strings.HasPrefix(err.Error(), "sheet 「商品」: missing column 「商品編號」 (") ||
		!strings.Contains(err.Error(), "no other sheet (「12月直播」, 「備註」) has them either") {
		t.Errorf("no sheet of products: %v", err)
	}
}
