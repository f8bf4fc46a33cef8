//go:build !windows

package feedgen

import "testing"

// wine is false off Windows; see wine_windows_test.go.
const wine = false

// skipOnWine does nothing: only Windows binaries run under Wine.
func skipOnWine(*testing.T, string) {}
