//go:build !windows

package feedgen

import "testing"

// skipOnWine does nothing: only Windows binaries run under Wine.
func skipOnWine(*testing.T, string) {}
