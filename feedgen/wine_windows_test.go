package feedgen

import (
	"testing"

	"golang.org/x/sys/windows"
)

// wine is set under Wine, which some tests skip where it departs from
// Windows; Wine's ntdll alone has wine_get_version.
var wine = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil

// skipOnWine skips a test that relies on something Windows does and Wine,
// which the Windows tests are also run under, does not.
func skipOnWine(t *testing.T, why string) {
	t.Helper()
	if wine {
		t.Skip("Wine: " + why)
	}
}
