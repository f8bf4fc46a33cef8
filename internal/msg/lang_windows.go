package msg

import "golang.org/x/sys/windows"

// uiLanguages is the user's preferred display languages, best first.
func uiLanguages() []string {
	names, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err != nil {
		return nil
	}
	return names
}
