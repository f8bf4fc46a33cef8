//go:build !windows

package feedgen

// wine is false off Windows; see wine_windows_test.go.
const wine = false
