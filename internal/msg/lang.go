package msg

import (
	"os"
	"strings"

	"golang.org/x/text/language"
)

// matcher picks feedgen's language for a tag: any Chinese is Traditional
// Chinese (a reader of Simplified reads it better than English), the rest
// English.
var matcher = language.NewMatcher([]language.Tag{language.English, language.TraditionalChinese})

// Parse reads a language as the config's lang and -lang give it: "zh-TW"
// or "en", or any tag or locale name of either (zh_TW.UTF-8, zh-Hant,
// en-US). Another language is refused, not read as English: "tw" is a
// slip for zh-TW as often as it is Twi.
func Parse(s string) (Lang, error) {
	tag, ok := localeTag(s)
	if base, _ := tag.Base(); !ok || base.String() != "zh" && base.String() != "en" {
		return English, Errorf("unknown language %q; use \"zh-TW\" (繁體中文) or \"en\" (English)", s)
	}
	return pick(tag), nil
}

// pick is feedgen's language for tag.
func pick(tag language.Tag) Lang {
	if base, _ := tag.Base(); base.String() == "zh" {
		return Chinese
	}
	_, i, _ := matcher.Match(tag)
	if i == 1 {
		return Chinese
	}
	return English
}

// localeTag reads a POSIX locale name (zh_TW.UTF-8@euro) or a BCP 47 tag.
// C and POSIX name no language.
func localeTag(s string) (language.Tag, bool) {
	s, _, _ = strings.Cut(s, ".")
	s, _, _ = strings.Cut(s, "@")
	s = strings.TrimSpace(s)
	if s == "" || s == "C" || s == "POSIX" {
		return language.Und, false
	}
	tag, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return language.Und, false
	}
	return tag, true
}

// FromEnv is the language the POSIX locale variables ask for, in their
// order of precedence (LC_ALL, LC_MESSAGES, LANG); false if none names a
// language.
func FromEnv(getenv func(string) string) (Lang, bool) {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			tag, ok := localeTag(v)
			if !ok {
				return English, false // LC_ALL=C: the user asked for no language
			}
			return pick(tag), true
		}
	}
	return English, false
}

// System is the language of this computer's user: the locale variables
// where they are set, else the user's display language on Windows and
// macOS (where a program started from the Start menu, a service or a
// launchd agent has no locale variables), else English.
func System() Lang {
	if l, ok := FromEnv(os.Getenv); ok {
		return l
	}
	for _, name := range uiLanguages() {
		if tag, ok := localeTag(name); ok {
			return pick(tag)
		}
	}
	return English
}

// Resolve is the language -lang asks for, else the system's; an unknown
// name is an error naming -lang. A config's lang, read later, comes
// between the two.
func Resolve(flag string) (Lang, error) {
	if flag == "" {
		return System(), nil
	}
	l, err := Parse(flag)
	if err != nil {
		return English, Errorf("%s: %w", "-lang", err)
	}
	return l, nil
}
