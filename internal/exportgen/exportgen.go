// Package exportgen writes product exports in the CYBERBIZ layout, for
// feedgen's sample, its tests and its benchmarks.
package exportgen

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Headers are the export's columns in today's order (A…BF): hidden 商品 id
// and 商品款式 id first, as documented by CYBERBIZ.
var Headers = []string{
	"商品 id", "商品款式 id", "商品名稱", "商品隸屬商店", "商品上架時間", "商品下架時間",
	"商品是否公開", "商品標語", "商品簡述類型", "商品簡述", "商品網址", "商品稅別",
	"商品自訂群組", "商品任選折扣群組", "商品類型", "商品廠商", "商品標籤", "商品介紹",
	"商品通路", "商品溫層", "是否排除搜尋", "商品運送名稱",
	"選項一", "選項一內容", "選項二", "選項二內容", "選項三", "選項三內容",
	"商品款式售價", "商品款式定價(選填)", "商品款式成本", "商品款式紅利最高折抵", "商品款式重量",
	"商品款式SKU碼(選填，為POS商品時必填)", "商品款式收貨地址是否需要填寫", "商品款式管理庫存", "商品款式庫存量",
	"商品款式安全庫存水位", "商品款式廠商編號", "商品款式庫存不足時", "商品款式排序", "商品款式材積",
	"SEO標題", "SEO描述", "SEO關鍵字",
	"商品圖片1", "商品圖片2", "商品圖片3", "商品圖片4", "商品圖片5", "商品圖片6",
	"商品圖片7", "商品圖片8", "商品圖片9", "商品圖片10", "商品圖片11",
	"規格說明", "運送方式",
}

// Col returns the 0-based index of a header in Headers.
func Col(header string) int {
	for i, h := range Headers {
		if h == header {
			return i
		}
	}
	panic("exportgen: no column " + header)
}

// Cell is one value of a row: a string, an int or float (a number cell), or
// a Date (a date-formatted number cell, as Excel stores dates).
type Cell = any

// Date is a date-time cell, written as an Excel serial with a date format.
type Date struct{ Serial float64 }

// Row maps header to value; missing headers are blank cells.
type Row map[string]Cell

// WriteSample writes rows as an .xlsx through excelize, the way a
// spreadsheet program would: a shared-string table, hidden columns A and B,
// and date cells with a date format.
func WriteSample(w io.Writer, sheet string, rows []Row) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	header := make([]any, len(Headers))
	for i, h := range Headers {
		header[i] = h
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy/mm/dd hh:mm")})
	if err != nil {
		return err
	}
	for r, row := range rows {
		for c, h := range Headers {
			v, ok := row[h]
			if !ok {
				continue
			}
			ref, err := excelize.CoordinatesToCellName(c+1, r+2)
			if err != nil {
				return err
			}
			if d, isDate := v.(Date); isDate {
				if err := f.SetCellFloat(sheet, ref, d.Serial, -1, 64); err != nil {
					return err
				}
				if err := f.SetCellStyle(sheet, ref, ref, dateStyle); err != nil {
					return err
				}
				continue
			}
			if err := f.SetCellValue(sheet, ref, v); err != nil {
				return fmt.Errorf("cell %s: %w", ref, err)
			}
		}
	}
	if err := f.SetColVisible(sheet, "A:B", false); err != nil {
		return err
	}
	return f.Write(w)
}

func ptr[T any](v T) *T { return &v }
