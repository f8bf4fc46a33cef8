package msg

import "testing"

// TestSystemDisplayLanguage: without locale variables, as a program started
// from the Start menu or a service has, the language is the user's display
// language. (Under Wine, LC_ALL=zh_TW.UTF-8 wine … makes that zh-TW.)
func TestSystemDisplayLanguage(t *testing.T) {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(k, "")
	}
	names := uiLanguages()
	if len(names) == 0 {
		t.Fatal("Windows gave no display language")
	}
	tag, ok := localeTag(names[0])
	if !ok {
		t.Fatalf("display language %q is no language tag", names[0])
	}
	if got, want := System(), pick(tag); got != want {
		t.Errorf("System() = %v with display languages %v, want %v", got, names, want)
	}
	t.Logf("display languages %v: %v", names, System())
}
