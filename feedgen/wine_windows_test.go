package feedgen

import (
	"testing"

	"golang.org/x/sys/windows"
)

// skipOnWine skips a test that relies on something Windows does and Wine,
// which the Windows tests are also run under, does not.
func skipOnWine(t *testing.T, why string) {
	t.Helper()
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		t.Skip("Wine: " + why)
	}
}
