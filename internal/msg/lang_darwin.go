package msg

import (
	"os/exec"
	"strings"
)

// uiLanguages is the user's preferred languages, best first, as System
// Settings keeps them.
func uiLanguages() []string {
	out, err := exec.Command("defaults", "read", "-g", "AppleLanguages").Output()
	if err != nil {
		return nil
	}
	// A property list array: ( "zh-Hant-TW", en ).
	var names []string
	for _, f := range strings.FieldsFunc(string(out), func(r rune) bool { return strings.ContainsRune("(),\"\n\t ", r) }) {
		names = append(names, f)
	}
	return names
}
