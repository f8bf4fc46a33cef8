// Package feedgen turns a CYBERBIZ product export (.xlsx) into the static
// product catalog that LINE live shopping, LINE購物, Google Merchant Center and
// Meta fetch.
//
// The pipeline has one file per stage: config.go (settings), workbook.go and
// export.go (reading the spreadsheet), eligibility.go (which products may
// appear, and why not), feed*.go (catalog writers), output.go (atomic
// replacement of the published files), and run.go, which ties them together
// for both the one-shot command and the daemon.
package feedgen
