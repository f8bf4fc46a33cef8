package msg

// zhTW is every message's Traditional Chinese, by its English text.
// Verbs may be reordered with explicit indexes (%[2]s); each message must
// use the same arguments as its English (the tests check). The sections
// follow the pipeline; keep a message in the section of the file that
// says it.
var zhTW = map[string]string{
	// The language itself (internal/msg).
	"unknown language %q; use \"zh-TW\" (繁體中文) or \"en\" (English)": "不認得的語言 %q；請用 \"zh-TW\"（繁體中文）或 \"en\"（English）",
	"%s: %w": "%s：%w",

	// The command line (main.go): usage, the run's summary, errors and hints.

	// Reading the export, the rules, the items (feedgen: config, export,
	// eligibility, catalog, diagnostics, explain, report).

	// Writing and publishing (feedgen: output, generation, lock, publish,
	// github, watch, serve, recovery, regroup; internal/xlsx).

	// The daemon and its notifications (feedgen: daemon, notify).

	// The preview page (feedgen: preview).
}
