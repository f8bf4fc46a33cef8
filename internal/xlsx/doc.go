// Package xlsx reads the rows of .xlsx workbooks, streaming, and refuses
// anything it cannot read exactly.
//
// It exists beside excelize, which feedgen still uses to write workbooks
// and which its tests use as the reference, for two reasons. A merchant's
// export of 100k products is a 500 MB sheet: excelize reads it at about
// 15 MB/s and holds much of it in memory, this package at some 300–400 MB/s
// in flat memory, inflating a part on one goroutine while scanning its
// bytes in place on another. And excelize is lenient where a catalog must
// not be: it ends a damaged sheet early without an error, so a truncated
// download would become a shorter catalog. Here every value read is the one
// excelize returns with RawCellValue, and every file on which the two would
// differ is an error instead (see [Rows]).
//
// # What it reads
//
// The workbook part, its relationships and the date system; the sheets'
// names; the shared-string table; and the cells of a worksheet as raw
// values: numbers and dates as written, the text of inline and shared
// strings. Styles, formulas' expressions, merged cells and everything after
// </sheetData> are not interpreted. A shared-string table declaring more
// than [Limits.SpillSize] keeps all but its shortest strings in a temporary
// file, deleted on [Workbook.Close].
//
// # What it refuses, and how callers tell
//
// Errors wrap one of the sentinels, so callers can give advice with
// [errors.Is]: [ErrNotXLSX] for a file that is no workbook at all (empty,
// text, a web page), [ErrOpenDocument] for an OpenDocument file renamed
// .xlsx, [ErrLegacyXLS] for an Excel 97-2003 file, [ErrEncrypted] for a
// password-protected workbook, [ErrTooLarge] past a [Limits] bound,
// [ErrOverLimit] past the fixed bounds of a cell ([MaxCellBytes]), a row
// ([MaxRowBytes]) or the shared strings ([MaxSharedStrings]),
// [ErrCorrupt] for damaged compressed data and malformed or inconsistent
// XML, and [ErrNoSheet]. When the file itself could not be read (a failing
// disk or network share), the error is a [*ReadError] instead, which says
// nothing about the workbook: read it again later.
//
// Declared part sizes are checked before anything is inflated, one row or
// string is bounded in bytes, nesting in depth, and the XML must be
// well-formed UTF-8 or UTF-16; document type declarations are refused.
package xlsx
