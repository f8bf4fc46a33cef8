package feedgen

import "syscall"

// wine is set under Wine, which some tests skip where it departs from
// Windows; Wine's ntdll alone has wine_get_version.
var wine = syscall.NewLazyDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
