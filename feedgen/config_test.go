package feedgen

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

func parse(t *testing.T, toml string) (Config, error) {
	t.Helper()
	return ParseConfig(strings.NewReader(toml), DefaultConfig())
}

func TestConfigDefault(t *testing.T) {
	t.Run("DefaultConfig validates", func(t *testing.T) {
		cfg := DefaultConfig()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
		}
		if got := cfg.Location().String(); got != "Asia/Taipei" {
			t.Errorf("Location() = %q, want %q", got, "Asia/Taipei")
		}
	})

	t.Run("Location is UTC before Validate", func(t *testing.T) {
		cfg := DefaultConfig()
		if got := cfg.Location().String(); got != "UTC" {
			t.Errorf("Location() = %q, want %q", got, "UTC")
		}
	})

	t.Run("an empty file is the defaults", func(t *testing.T) {
		got, err := parse(t, "")
		if err != nil {
			t.Fatalf("ParseConfig(\"\") = %v", err)
		}
		want := DefaultConfig()
		if err := want.Validate(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseConfig(\"\") = %+v, want %+v", got, want)
		}
	})
}

func TestParseConfig(t *testing.T) {
	t.Run("values decode over the defaults", func(t *testing.T) {
		cfg, err := parse(t, `
shop_url = "https://shop.example.com"
brand = "小店"
max_drop = "25%"
[columns]
name = "品名"
option_names = ["顏色"]
option_values = ["顏色內容"]
[rules]
exclude_tags = ["清倉"]
`)
		if err != nil {
			t.Fatalf("ParseConfig = %v", err)
		}
		if cfg.ShopURL != "https://shop.example.com" || cfg.Brand != "小店" || cfg.MaxDrop != 0.25 || cfg.Columns.Name != "品名" {
			t.Errorf("cfg = %+v, want the file's values", cfg)
		}
		if cfg.Columns.Price != "商品款式售價" || cfg.Timezone != "Asia/Taipei" {
			t.Errorf("Price, Timezone = %q, %q; want the defaults kept", cfg.Columns.Price, cfg.Timezone)
		}
		if !reflect.DeepEqual(cfg.Rules.ExcludeTags, []string{"清倉"}) || !reflect.DeepEqual(cfg.Columns.OptionNames, []string{"顏色"}) {
			t.Errorf("ExcludeTags, OptionNames = %q, %q; want the file's lists, not merged with the defaults", cfg.Rules.ExcludeTags, cfg.Columns.OptionNames)
		}
	})

	t.Run("the base config is not changed", func(t *testing.T) {
		base := DefaultConfig()
		if _, err := ParseConfig(strings.NewReader("[rules]\nexclude_tags = [\"清倉\"]\npublic_values = [\"Y\"]\n[columns]\noption_names = [\"a\", \"b\", \"c\"]\n"), base); err != nil {
			t.Fatalf("ParseConfig = %v", err)
		}
		if want := DefaultConfig(); !reflect.DeepEqual(base, want) {
			t.Errorf("base after ParseConfig = %+v, want it unchanged: %+v", base.Rules, want.Rules)
		}
	})

	t.Run("a Windows path in a literal string decodes as written", func(t *testing.T) {
		cfg, err := parse(t, `export = 'D:\exports\商品匯出.xlsx'`)
		if want := `D:\exports\商品匯出.xlsx`; err != nil || cfg.Export != want {
			t.Errorf("Export = %q, %v; want %q", cfg.Export, err, want)
		}
	})

	fractions := []struct {
		in   string
		want Fraction
	}{
		{`"50%"`, 0.5},
		{`0.25`, 0.25},
		{`"0%"`, 0},
		{`"100%"`, 1},
		{`1`, 1},
		{`0`, 0},
		{`"0.3"`, 0.3},
	}
	for _, tt := range fractions {
		t.Run("max_drop = "+tt.in+" decodes", func(t *testing.T) {
			cfg, err := parse(t, "max_drop = "+tt.in)
			if err != nil || cfg.MaxDrop != tt.want {
				t.Errorf("max_drop = %s: %v, %v; want %v", tt.in, cfg.MaxDrop, err, tt.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		key        string // the ConfigError's key; "" when the error is no ConfigError
		contains   string // text the message must hold
	}{
		{"an unknown top-level key names it", "out = \"x\"\nshopurl = \"https://a\"", "shopurl", "unknown key"},
		{"an unknown key in [columns] names it", "[columns]\nprice = \"售價\"\nprise = \"售價\"", "columns.prise", "unknown key"},
		{"an unknown table names it", "[column]\nprice = \"x\"", "column", "unknown key"},
		{"a type error gives the key and line: max_drop = true", "out = \"x\"\n\nmax_drop = true", "max_drop", "line 3"},
		{"a type error gives the line: exclude_tags = \"x\"", "[rules]\n\nexclude_tags = \"x\"", "", "line 3"},
		{"a type error gives the line: max_unzip_mb = \"x\"", "max_unzip_mb = \"x\"", "", "line 1"},
		{"a syntax error gives the key and line", "out = \"x\"\nbrand = = 1", "brand", "line 2"},
		{"an unclosed string gives the key and line", "\n\nbrand = \"x", "brand", "line 3"},
		{"a bad time zone is a timezone error", `timezone = "Asia/Taipie"`, "timezone", `"Asia/Taipie"`},
		{"a blank time zone is a timezone error", `timezone = ""`, "timezone", "IANA"},
		{"max_drop over 100% is an error", `max_drop = "150%"`, "max_drop", "outside 0%–100%"},
		{"max_drop over 1 is a max_drop error", `max_drop = 1.5`, "max_drop", "outside 0%–100%"},
		{"negative max_drop is a max_drop error", `max_drop = -0.1`, "max_drop", "outside 0%–100%"},
		{"max_drop that is no number is an error", `max_drop = "half"`, "max_drop", "not a fraction"},
		{"a shop URL without a scheme is a shop_url error", `shop_url = "shop.example.com"`, "shop_url", "not an absolute http(s) URL"},
		{"a shop URL with another scheme is a shop_url error", `shop_url = "ftp://shop.example.com"`, "shop_url", "not an absolute http(s) URL"},
		{"a lower-case currency is a currency error", `currency = "twd"`, "currency", "ISO 4217"},
		{"a currency with other characters is a currency error", `currency = "T D"`, "currency", "ISO 4217"},
		{"a zero unzip limit is an error", `max_unzip_mb = 0`, "max_unzip_mb", "must be positive"},
		{"a blank output folder is an error", `out = ""`, "out", "must name a folder"},
		{"a blank report folder is an error", `report = ""`, "report", "must name a folder"},
		{"the report folder inside out is an error", "out = \"site\"\nreport = \"site/report\"", "report", "what is in out is public"},
		{"the report folder as out is an error", "out = \"site\"\nreport = \"./site\"", "report", "what is in out is public"},
		{"out inside the report folder is an error", "out = \"private/site\"\nreport = \"private\"", "report", "apart from out"},
		{"out holding the export is an error", "export = \"drop/商品匯出.xlsx\"\nout = \"drop\"", "out", "holds the export"},
		{"out as the drop folder is an error", "export = \"drop\"\nout = \"drop/\"", "out", "holds the export"},
		{"out inside the drop folder is an error", "export = \"drop\"\nout = \"drop/public\"", "out", "apart from the export"},
		{"option lists of different lengths are an error", "[columns]\noption_names = [\"顏色\"]", "columns.option_values",
			"has 3 entries but columns.option_names has 1"},
		{"an empty required column header is an error", "[columns]\nname = \"\"", "columns.name", "required"},
		{"a blank required column header is an error", "[columns]\nprice = \"  \"", "columns.price", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.toml)
			if err == nil {
				t.Fatalf("ParseConfig(%q) = nil error, want one", tt.toml)
			}
			var ce *ConfigError
			isCE := errors.As(err, &ce)
			switch {
			case tt.key != "" && (!isCE || ce.Key != tt.key):
				t.Errorf("ParseConfig(%q) = %v (%T), want a *ConfigError for key %q", tt.toml, err, err, tt.key)
			case tt.key == "" && isCE:
				t.Errorf("ParseConfig(%q) = ConfigError %q, want a decoding error", tt.toml, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("ParseConfig(%q) error = %q, want it to contain %q", tt.toml, err, tt.contains)
			}
		})
	}
}

// A merchant's config as Notepad saves it: Chinese tags, a Windows path.
const notepadConfig = "out = 'public'\n# 排除的標籤\nexport = 'D:\\匯出\\商品匯出.xlsx'\n[rules]\nexclude_tags = [\"贈品\", \"清倉\"]\n"

func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConfigEncoding(t *testing.T) {
	t.Run("UTF-8 with the byte order mark Notepad writes decodes", func(t *testing.T) {
		cfg, err := parse(t, "\ufeff"+notepadConfig)
		if err != nil {
			t.Fatalf("ParseConfig = %v", err)
		}
		if want := []string{"贈品", "清倉"}; !reflect.DeepEqual(cfg.Rules.ExcludeTags, want) || cfg.Export != `D:\匯出\商品匯出.xlsx` {
			t.Errorf("exclude_tags, export = %q, %q; want %q, D:\\匯出\\商品匯出.xlsx", cfg.Rules.ExcludeTags, cfg.Export, want)
		}
	})

	tests := []struct {
		name, file string
		line       int
		contains   string
	}{
		{"ANSI (Big5) names the line and the byte", encode(t, traditionalchinese.Big5, notepadConfig), 2, "line 2: byte 0xb1 is not UTF-8: the file is saved in another encoding, such as ANSI (Big5); save it as UTF-8"},
		{"Notepad's Unicode (UTF-16 little-endian)", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), notepadConfig), 0, "the file is saved as UTF-16 (Notepad's \"Unicode\"), not UTF-8: save it as UTF-8"},
		{"UTF-16 big-endian", encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), notepadConfig), 0, "saved as UTF-16"},
		{"UTF-16 without a byte order mark", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), notepadConfig), 0, "saved as UTF-16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.file)
			var ce *ConfigError
			if !errors.Is(err, ErrNotUTF8) || !errors.As(err, &ce) || ce.Line != tt.line {
				t.Fatalf("ParseConfig = %v, want ErrNotUTF8 in a ConfigError for line %d", err, tt.line)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("ParseConfig error = %q, want it to contain %q", err, tt.contains)
			}
			if h := Hint(msg.English, err); !strings.Contains(h, "另存新檔") || !strings.Contains(h, "UTF-8") {
				t.Errorf("Hint = %q, want Notepad's Save As with encoding UTF-8", h)
			}
		})
	}

	t.Run("the error names the file", func(t *testing.T) {
		path := filepath.Join(tempdir.New(t), "feedgen.toml")
		if err := os.WriteFile(path, []byte(encode(t, traditionalchinese.Big5, notepadConfig)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path, DefaultConfig())
		if want := "config 「" + path + "」: line 2: byte 0xb1 is not UTF-8"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LoadConfig = %v, want it to start %s", err, want)
		}
	})
}

func TestConfigParseFraction(t *testing.T) {
	tests := []struct {
		in   string
		want Fraction
		err  bool
	}{
		{"0.5", 0.5, false},
		{"50%", 0.5, false},
		{" 50% ", 0.5, false},
		{"12.5%", 0.125, false},
		{"0", 0, false},
		{"1", 1, false},
		{"100%", 1, false},
		{"150%", 0, true},
		{"-1%", 0, true},
		{"1.01", 0, true},
		{"%", 0, true},
		{"", 0, true},
		{"half", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseFraction(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseFraction(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	for _, tt := range []struct {
		in   Fraction
		want string
	}{{0.5, "50%"}, {0.125, "12.5%"}, {1, "100%"}, {0, "0%"}} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Fraction(%v).String() = %q, want %q", float64(tt.in), got, tt.want)
		}
	}
}

// within keeps the export and the private report out of the public folder;
// on Windows it must see through drive letters, case and either slash.
func TestWithin(t *testing.T) {
	foldsCase := runtime.GOOS == "windows" || runtime.GOOS == "darwin"
	tests := []struct {
		name, path, dir string
		want, windows   bool // windows: a case for Windows paths only
	}{
		{"the folder itself", "public", "public", true, false},
		{"a file inside", filepath.Join("public", "feeds", "catalog.xml"), "public", true, false},
		{"the same folder written another way", filepath.Join(".", "public", "feeds", ".."), "public", true, false},
		{"a sibling whose name starts the same", "public-old", "public", false, false},
		{"the folder around it", ".", "public", false, false},
		{"another case, where the file system ignores case", filepath.Join("Public", "商品匯出.xlsx"), "public", foldsCase, false},
		{"a drive letter and case", `C:\Shop\Public\商品匯出.xlsx`, `c:\shop\public`, true, true},
		{"forward slashes", `C:/商店/public/商品匯出.xlsx`, `C:\商店\public`, true, true},
		{"another drive", `D:\商店\public`, `C:\商店\public`, false, true},
		{"a network share", `\NAS\共用\Public\商品匯出.xlsx`, `\nas\共用\public`, true, true},
		{"a relative path inside an absolute one", `public\商品匯出.xlsx`, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.windows && runtime.GOOS != "windows" {
				t.Skip("a Windows path")
			}
			dir := tt.dir
			if dir == "" { // the current folder, absolute
				wd, err := os.Getwd()
				if err != nil {
					t.Fatal(err)
				}
				dir = wd
			}
			if got := within(tt.path, dir); got != tt.want {
				t.Errorf("within(%s, %s) = %v, want %v", tt.path, dir, got, tt.want)
			}
		})
	}
}

// TestExampleConfigIsDefaults keeps config.example.toml, which documents
// every key with its default, in step with DefaultConfig.
func TestExampleConfigIsDefaults(t *testing.T) {
	f, err := os.Open("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseConfig(f, DefaultConfig())
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	want := DefaultConfig()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	// The example names a sample export and shop, which have no defaults.
	want.Export, want.ShopURL = got.Export, got.ShopURL
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config.example.toml decodes to\n%+v\nwant the defaults\n%+v", got, want)
	}
}
