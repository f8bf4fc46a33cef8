//go:build !windows && !darwin

package msg

// uiLanguages: elsewhere the locale variables are the user's choice.
func uiLanguages() []string { return nil }
