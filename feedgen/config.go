package feedgen

import (
	"bufio"
	"bytes"
	"errors"
	"feedgen/internal/msg"
	"io"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // merchants run feedgen on Windows and in minimal containers, which lack a zone database
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Config is everything a run needs besides the export itself. Start from
// DefaultConfig, which fits an unmodified CYBERBIZ export, and decode a
// merchant's TOML file over it with ParseConfig.
type Config struct {
	// Export is the product export .xlsx to read.
	Export string `toml:"export"`
	// Out is the folder the catalog files are written to: its content is
	// public, as it is what a host, the daemon or a branch publishes.
	Out string `toml:"out"`
	// Report is the merchant's private folder for the run's full report
	// (report.json) and the preview with what was left out and why
	// (index.html); it is never published nor served.
	Report string `toml:"report"`
	// Sheet names the worksheet to read; empty means the first sheet.
	Sheet string `toml:"sheet"`
	// ShopURL is the shop's base URL; product links are built from it.
	ShopURL string `toml:"shop_url"`
	// Timezone is the shop's IANA time zone, in which 上架時間 and 下架時間
	// are read.
	Timezone string `toml:"timezone"`
	// Lang is the language of what feedgen says: "zh-TW" or "en"; empty
	// is the system's. Language is the one decided, -lang first (main's
	// loadConfig), which the pipeline's messages are written in.
	Lang     string   `toml:"lang"`
	Language msg.Lang `toml:"-"`
	// Currency is the ISO 4217 code appended to prices in Google feeds.
	Currency string `toml:"currency"`
	// Brand is used for products whose 商品廠商 is blank.
	Brand string `toml:"brand"`
	// BackorderDays is how many days after the run a variant on backorder
	// (stock 0, 庫存不足時 = 繼續銷售) is said to be available again: Google
	// requires an availability_date with backorder (answer/6324470).
	BackorderDays int `toml:"backorder_days"`
	// VariantLink, when set, is the landing page of each variant of a
	// product that has several, as a template of the product's page:
	// "{link}?sku={sku}" or "{link}?variant={variant_id}". Empty, every
	// variant links to the product page, which shows the default variant.
	VariantLink string `toml:"variant_link"`
	// MaxDrop is the largest share of the published items a new catalog may
	// lose before the run refuses to replace it.
	MaxDrop Fraction `toml:"max_drop"`
	// MaxUnzipMB bounds how far the export may inflate (zip-bomb guard).
	MaxUnzipMB int64 `toml:"max_unzip_mb"`

	// SummaryExcludedProducts lists the excluded products by name in the
	// GitHub Actions job summary, which whoever can see the repository's
	// runs can read; off, the summary gives only their counts.
	SummaryExcludedProducts bool `toml:"summary_excluded_products"`

	// Feeds are the catalog files to write; see DefaultFeeds.
	Feeds []Feed `toml:"feed"`
	// Preview writes the preview pages: feedgen-preview.html beside the
	// catalog, showing what the channels will see, and index.html in the
	// report folder, which also lists what was left out and why.
	Preview bool `toml:"preview"`

	// Schedule, Debounce, Listen and RefreshInterval are the daemon's; see
	// Daemon for what each does.
	Schedule        []TimeOfDay   `toml:"schedule"`
	Debounce        time.Duration `toml:"debounce"`
	Listen          string        `toml:"listen"`
	RefreshInterval time.Duration `toml:"refresh_interval"`
	// RefreshToken is the bearer token POST /refresh must carry; the
	// environment variable FEEDGEN_REFRESH_TOKEN sets it too, and is the
	// better place for a secret.
	RefreshToken string `toml:"refresh_token"`
	// LogFile is where the daemon logs besides stderr, rotated; empty is
	// feedgen.log in the report folder. A service has no terminal: this
	// file is where its log is found.
	LogFile string `toml:"log_file"`

	Publish PublishConfig `toml:"publish"`
	Notify  NotifyConfig  `toml:"notify"`
	Columns Columns       `toml:"columns"`
	Rules   Rules         `toml:"rules"`
	// Options maps the names of variant options onto the attributes the
	// channels tell variants apart by.
	Options OptionAttributes `toml:"options"`

	location *time.Location
	// attributeOf maps a normalised option name to its attribute (see
	// OptionAttributes.index); set by Validate, or by newCatalogBuilder on
	// its copy of a Config that was not validated.
	attributeOf map[string]attribute
}

// Columns maps each field feedgen reads to the header text of its column.
// Headers are matched after normalisation (see normalizeHeader), so the
// values need not repeat numbering like "[29]" or notes in parentheses.
type Columns struct {
	ProductID   string `toml:"product_id"`
	VariantID   string `toml:"variant_id"`
	Name        string `toml:"name"`
	Start       string `toml:"start"`
	End         string `toml:"end"`
	Public      string `toml:"public"`
	Status      string `toml:"status"`
	Summary     string `toml:"summary"`
	Handle      string `toml:"handle"`
	Groups      string `toml:"groups"`
	Type        string `toml:"type"`
	Vendor      string `toml:"vendor"`
	Tags        string `toml:"tags"`
	Description string `toml:"description"`
	Price       string `toml:"price"`
	ListPrice   string `toml:"list_price"`
	SKU         string `toml:"sku"`
	// GTIN and MPN are the columns of a variant's barcode (EAN, UPC) and
	// its manufacturer's part number, for Google's and Meta's identifiers.
	// None by default: a CYBERBIZ export has neither, and its SKU is the
	// shop's own number, which Google says is not an MPN.
	GTIN        string `toml:"gtin"`
	MPN         string `toml:"mpn"`
	ManageStock string `toml:"manage_stock"`
	Stock       string `toml:"stock"`
	OutOfStock  string `toml:"when_out_of_stock"`
	// Images is the header of the image columns; every column whose header
	// is this text, optionally followed by a number, holds one image URL.
	Images string `toml:"images"`
	// OptionNames and OptionValues are the variant option columns, in pairs
	// (選項一 = 顏色, 選項一內容 = 紅).
	OptionNames  []string `toml:"option_names"`
	OptionValues []string `toml:"option_values"`
}

// PublishConfig commits the catalog onto a git branch after each run.
type PublishConfig struct {
	// Branch is the branch to commit to, e.g. gh-pages; empty publishes
	// nothing.
	Branch string `toml:"branch"`
	// Dir is the folder inside the branch; empty is its root.
	Dir string `toml:"dir"`
	// Repo is a folder inside the git repository; default the current one.
	Repo string `toml:"repo"`
	// Remote is pushed to when Push is set.
	Remote string `toml:"remote"`
	// Repository, when set, is another repository (a URL or a path) that
	// the branch is pushed to instead of Remote, so that the export stays
	// in this, private, repository and only the catalog goes to the public
	// one that GitHub Pages serves.
	Repository string `toml:"repository"`
	// Token authenticates the push to an https Repository. It is a secret,
	// so it comes only from the environment (FEEDGEN_PUBLISH_TOKEN), never
	// from the config file.
	Token string `toml:"-"`
	// SSHKey, a deploy key's private text, authenticates the push to an
	// ssh Repository; from the environment (FEEDGEN_PUBLISH_SSH_KEY) only.
	SSHKey string `toml:"-"`
	// Message starts each commit message; what changed is appended.
	Message string `toml:"message"`
	Push    bool   `toml:"push"`
	// AuthorName and AuthorEmail sign the commits; in GitHub Actions they
	// default to the actor who started the workflow.
	AuthorName  string `toml:"author_name"`
	AuthorEmail string `toml:"author_email"`
	// MaxFileMB is the largest file the branch's host takes: GitHub
	// refuses a push with a file over 100 MB.
	MaxFileMB int `toml:"max_file_mb"`
}

// NotifyConfig is where the daemon sends word when something goes wrong:
// a webhook, email, a LINE chat, or any of them (see Notifier). With none
// configured it sends nothing.
type NotifyConfig struct {
	// Webhook is a URL that gets a JSON POST, which Slack and Discord
	// incoming webhooks take as it is. Such an address is its own
	// password, so FEEDGEN_WEBHOOK_URL may hold it instead.
	Webhook string `toml:"webhook"`
	// Deadline is the time of day by which a run must have succeeded
	// since the scheduled run before it; default 04:55, ahead of LINE's
	// fetch at 05:00.
	Deadline TimeOfDay  `toml:"deadline"`
	SMTP     NotifySMTP `toml:"smtp"`
	LINE     NotifyLINE `toml:"line"`
}

// NotifySMTP sends the notifications as email.
type NotifySMTP struct {
	Host string `toml:"host"`
	// Port is 587 by default, with STARTTLS required; 465 is TLS from
	// the start. A server on this computer may go without TLS.
	Port     int    `toml:"port"`
	Username string `toml:"username"`
	// Password is better left out of the file, in FEEDGEN_SMTP_PASSWORD.
	Password string   `toml:"password"`
	From     string   `toml:"from"`
	To       []string `toml:"to"`
}

// NotifyLINE pushes the notifications into a LINE chat through the
// Messaging API of the shop's LINE Official Account (LINE Notify closed
// in 2025).
type NotifyLINE struct {
	// ChannelAccessToken is the channel's long-lived token; better in
	// FEEDGEN_LINE_TOKEN than in the file.
	ChannelAccessToken string `toml:"channel_access_token"`
	// To is the user, group or room id the messages go to: U, C or R
	// and 32 hex digits, not the @ LINE ID a person shares.
	To string `toml:"to"`
}

// Environment variables that set the secrets of NotifyConfig; they take
// precedence over the file (see NotifyConfig.ApplyEnv).
const (
	EnvWebhookURL   = "FEEDGEN_WEBHOOK_URL"
	EnvSMTPPassword = "FEEDGEN_SMTP_PASSWORD"
	EnvLINEToken    = "FEEDGEN_LINE_TOKEN"
)

// Enabled reports whether any channel is configured.
func (n *NotifyConfig) Enabled() bool {
	return n.Webhook != "" || n.SMTP.Host != "" || n.LINE.To != ""
}

// lineID is a LINE user, group or room id as the Messaging API takes it.
var lineID = regexp.MustCompile(`^[UCR][0-9a-f]{32}$`)

// validate checks the values as written. A secret that is missing is
// only an error once the environment was consulted, in ApplyEnv: the
// config file need not hold it. Errors never repeat a secret.
func (n *NotifyConfig) validate() error {
	if n.Webhook != "" {
		if !isAbsoluteHTTP(n.Webhook) {
			// The address itself is a secret: it is not repeated.
			return &ConfigError{Key: "notify.webhook", Err: msg.New("is not an absolute http(s) URL, such as the https://hooks.slack.com/services/… or https://discord.com/api/webhooks/… address the chat app gave")}
		}
	}
	if !n.Deadline.valid() {
		return &ConfigError{Key: "notify.deadline", Err: msg.Errorf("%s is not a time of day", n.Deadline)}
	}
	m := &n.SMTP
	if m.Host == "" {
		if m.From != "" || len(m.To) > 0 || m.Username != "" || m.Password != "" {
			return &ConfigError{Key: "notify.smtp.host", Err: msg.New("is required to send email: the mail server's name, such as \"smtp.gmail.com\"")}
		}
	} else {
		if m.Port < 1 || m.Port > 65535 {
			return &ConfigError{Key: "notify.smtp.port", Err: msg.Errorf("must be 1 to 65535, usually 587 or 465, got %d", m.Port)}
		}
		if _, err := mail.ParseAddress(m.From); err != nil {
			return &ConfigError{Key: "notify.smtp.from", Err: msg.Errorf("%q is not an email address", m.From)}
		}
		if len(m.To) == 0 {
			return &ConfigError{Key: "notify.smtp.to", Err: msg.New("needs at least one address, such as [\"owner@example.com\"]")}
		}
		for _, to := range m.To {
			if _, err := mail.ParseAddress(to); err != nil {
				return &ConfigError{Key: "notify.smtp.to", Err: msg.Errorf("%q is not an email address", to)}
			}
		}
	}
	l := &n.LINE
	if l.To != "" && !lineID.MatchString(l.To) {
		return &ConfigError{Key: "notify.line.to", Err: msg.Errorf("%q is not a LINE user, group or room id (U, C or R and 32 hex digits, as LINE Developers shows under Basic settings > Your user ID); an @ LINE ID does not work", l.To)}
	}
	if l.To == "" && l.ChannelAccessToken != "" {
		return &ConfigError{Key: "notify.line.to", Err: msg.New("is required with notify.line.channel_access_token: the user or group id to send to")}
	}
	return nil
}

// ApplyEnv takes the secrets from the environment variables that are set
// (EnvWebhookURL, EnvSMTPPassword, EnvLINEToken), then checks that every
// configured channel has what it needs. The daemon and feedgen notify call
// it; feedgen run does not notify, so it needs none of them.
func (n *NotifyConfig) ApplyEnv(getenv func(string) string) error {
	for _, e := range []struct {
		name string
		dst  *string
	}{{EnvWebhookURL, &n.Webhook}, {EnvSMTPPassword, &n.SMTP.Password}, {EnvLINEToken, &n.LINE.ChannelAccessToken}} {
		if v := getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	if err := n.validate(); err != nil {
		if ce := (*ConfigError)(nil); errors.As(err, &ce) && ce.Key == "notify.webhook" && getenv(EnvWebhookURL) != "" {
			ce.Key = EnvWebhookURL
		}
		return err
	}
	if n.SMTP.Host != "" && n.SMTP.Username != "" && n.SMTP.Password == "" {
		return &ConfigError{Key: "notify.smtp.password", Err: msg.Errorf("is not set, and notify.smtp.username is: set the environment variable %s (or password in the config)", EnvSMTPPassword)}
	}
	if n.LINE.To != "" && n.LINE.ChannelAccessToken == "" {
		return &ConfigError{Key: "notify.line.channel_access_token", Err: msg.Errorf("is not set: set the environment variable %s to the channel access token (LINE Developers > your channel > Messaging API), or channel_access_token in the config", EnvLINEToken)}
	}
	return nil
}

// OptionAttributes lists, for each variant attribute of Google and Meta
// (answer/6324507), the option names that are it, compared as tags are
// (width and case folded).
type OptionAttributes struct {
	Size     []string `toml:"size"`
	Color    []string `toml:"color"`
	Material []string `toml:"material"`
	Pattern  []string `toml:"pattern"`
	// AgeGroup and Gender take only Google's values; an option's value
	// in a merchant's words is read by ageGroups and genders.
	AgeGroup []string `toml:"age_group"`
	Gender   []string `toml:"gender"`
}

// attribute is one of the variant attributes of OptionAttributes.
type attribute int

const (
	attrSize attribute = iota
	attrColor
	attrMaterial
	attrPattern
	attrAgeGroup
	attrGender
)

// index maps each option name, normalised as normalizeText does, to its
// attribute; a name listed twice is the first attribute's.
func (o *OptionAttributes) index() map[string]attribute {
	m := map[string]attribute{}
	for a, names := range [][]string{attrSize: o.Size, attrColor: o.Color, attrMaterial: o.Material, attrPattern: o.Pattern, attrAgeGroup: o.AgeGroup, attrGender: o.Gender} {
		for _, n := range names {
			if _, dup := m[normalizeText(n)]; !dup {
				m[normalizeText(n)] = attribute(a)
			}
		}
	}
	return m
}

// Rules are the merchant's eligibility settings.
type Rules struct {
	// ExcludeTags are tags that keep a product out of every catalog, besides
	// the platform's own two (platformExcludeTags), which always do.
	ExcludeTags []string `toml:"exclude_tags"`
	// PublicValues are the values of 商品是否公開 that mean public.
	PublicValues []string `toml:"public_values"`
	// OnSaleValues and OffSaleValues are the values of a 上架狀態 column,
	// when the export has one.
	OnSaleValues  []string `toml:"on_sale_values"`
	OffSaleValues []string `toml:"off_sale_values"`
}

// DefaultConfig returns the settings for an unmodified CYBERBIZ export.
func DefaultConfig() Config {
	return Config{
		Out:             "public",
		Report:          "report",
		Timezone:        "Asia/Taipei",
		Currency:        "TWD",
		BackorderDays:   14,
		MaxDrop:         0.5,
		MaxUnzipMB:      2048,
		Feeds:           DefaultFeeds(),
		Preview:         true,
		Schedule:        []TimeOfDay{{Hour: 4, Minute: 45}, {Hour: 16, Minute: 45}},
		Debounce:        time.Second,
		RefreshInterval: time.Hour,
		Publish:         PublishConfig{Remote: "origin", Message: "Update catalog", Push: true, MaxFileMB: 100},
		Notify:          NotifyConfig{Deadline: TimeOfDay{Hour: 4, Minute: 55}, SMTP: NotifySMTP{Port: 587}},
		Columns: Columns{
			ProductID:    "商品 id",
			VariantID:    "商品款式 id",
			Name:         "商品名稱",
			Start:        "商品上架時間",
			End:          "商品下架時間",
			Public:       "商品是否公開",
			Status:       "上架狀態",
			Summary:      "商品簡述",
			Handle:       "商品網址",
			Groups:       "商品自訂群組",
			Type:         "商品類型",
			Vendor:       "商品廠商",
			Tags:         "商品標籤",
			Description:  "商品介紹",
			Price:        "商品款式售價",
			ListPrice:    "商品款式定價",
			SKU:          "商品款式SKU碼",
			ManageStock:  "商品款式管理庫存",
			Stock:        "商品款式庫存量",
			OutOfStock:   "商品款式庫存不足時",
			Images:       "商品圖片",
			OptionNames:  []string{"選項一", "選項二", "選項三"},
			OptionValues: []string{"選項一內容", "選項二內容", "選項三內容"},
		},
		Options: OptionAttributes{
			Size:     []string{"尺寸", "尺碼", "大小", "規格尺寸", "size"},
			Color:    []string{"顏色", "颜色", "色", "色彩", "顏色分類", "color", "colour"},
			Material: []string{"材質", "材料", "material"},
			Pattern:  []string{"圖案", "花色", "花紋", "pattern"},
			AgeGroup: []string{"年齡", "年齡層", "適用年齡", "age group", "age"},
			Gender:   []string{"性別", "適用性別", "gender"},
		},
		Rules: Rules{
			ExcludeTags:   []string{},
			PublicValues:  []string{"是", "公開"},
			OnSaleValues:  []string{"已上架"},
			OffSaleValues: []string{"未上架", "已下架"},
		},
	}
}

// ConfigError is a problem with one key of the configuration, or, with no
// Key, with the file as a whole (its encoding).
type ConfigError struct {
	Key  string
	Line int // in the config file, when known
	Err  error
}

func (e *ConfigError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *ConfigError) Text(l msg.Lang) string {
	if e.Key == "" {
		return msg.Text(l, e.Err)
	}
	return l.T("key %q: %v", e.Key, e.Err)
}
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig decodes the TOML file at path over base; see ParseConfig.
// Its errors name the file.
func LoadConfig(path string, base Config) (Config, error) {
	f, err := openNamed(path)
	if err != nil {
		return base, msg.Errorf("read config %s: %w", DisplayPath(path), err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f, base)
	if err != nil {
		return cfg, msg.Errorf("config %s: %w", DisplayPath(path), err)
	}
	return cfg, nil
}

// ParseConfig decodes TOML from r over base. Unknown keys are errors: a
// misspelt key would otherwise silently fall back to a default.
func ParseConfig(r io.Reader, base Config) (Config, error) {
	cfg := base
	// The decoder writes arrays into a slice's backing array when it is
	// large enough, which would change base's lists too; and arrays of
	// tables decode into the elements already there, which would leave a
	// default feed's file name under a configured format.
	cfg.Schedule = slices.Clone(cfg.Schedule)
	for _, s := range []*[]string{
		&cfg.Columns.OptionNames, &cfg.Columns.OptionValues,
		&cfg.Rules.ExcludeTags, &cfg.Rules.PublicValues, &cfg.Rules.OnSaleValues, &cfg.Rules.OffSaleValues,
	} {
		*s = slices.Clone(*s)
	}
	cfg.Feeds = nil
	b, err := io.ReadAll(r)
	if err != nil {
		return Config{}, err
	}
	if err := checkUTF8(b); err != nil {
		return Config{}, err
	}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			err := msg.Errorf("line %d: %s", pe.Position.Line, pe.Message)
			if strings.Contains(pe.Message, "invalid escape") {
				// The usual cause: a Windows path in double quotes.
				err = msg.Errorf(`line %d: %s; write Windows paths in single quotes, like 'D:\exports\商品匯出.xlsx', or with forward slashes`, pe.Position.Line, pe.Message)
			}
			if pe.LastKey != "" {
				return Config{}, &ConfigError{Key: pe.LastKey, Line: pe.Position.Line, Err: err}
			}
			return Config{}, err
		}
		return Config{}, errors.New(strings.TrimPrefix(err.Error(), "toml: ")) // the decoder's words
	}
	if !md.IsDefined("feed") {
		cfg.Feeds = base.Feeds
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, &ConfigError{Key: keys[0], Err: msg.Errorf("unknown key (all unknown: %s); see config.example.toml for the keys", strings.Join(keys, ", "))}
	}
	return cfg, cfg.Validate()
}

// ErrNotUTF8 is a config file saved in an encoding other than UTF-8, the
// only one TOML allows. An older Notepad saves as ANSI, which is Big5 on
// a Traditional Chinese Windows, and its "Unicode" is UTF-16; the byte
// order mark it puts before UTF-8 is fine.
var ErrNotUTF8 = msg.New("not UTF-8")

// checkUTF8 says which encoding problem b has, before the TOML decoder
// reports it as a broken byte or a NUL.
func checkUTF8(b []byte) error {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) || bytes.IndexByte(b, 0) >= 0 {
		return &ConfigError{Err: msg.Errorf("the file is saved as UTF-16 (Notepad's \"Unicode\"), %w: save it as UTF-8", ErrNotUTF8)}
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			line := bytes.Count(b[:i], []byte("\n")) + 1
			return &ConfigError{Line: line, Err: msg.Errorf("line %d: byte 0x%02x is %w: the file is saved in another encoding, such as ANSI (Big5); save it as UTF-8", line, b[i], ErrNotUTF8)}
		}
		i += n
	}
	return nil
}

// DaemonLog is the daemon's log file, as LogFile says.
func (c *Config) DaemonLog() string {
	if c.LogFile != "" {
		return c.LogFile
	}
	return filepath.Join(c.Report, "feedgen.log")
}

// Validate checks values that TOML types cannot, and resolves the time zone.
func (c *Config) Validate() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return &ConfigError{Key: "timezone", Err: msg.Errorf("unknown time zone %q; use an IANA name such as \"Asia/Taipei\"", c.Timezone)}
	}
	c.location = loc
	c.attributeOf = c.Options.index()
	if c.ShopURL != "" {
		if u, err := url.Parse(c.ShopURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &ConfigError{Key: "shop_url", Err: msg.Errorf("%q is not an absolute http(s) URL, such as \"https://your-shop.cyberbiz.co\"", c.ShopURL)}
		}
	}
	if len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return &ConfigError{Key: "currency", Err: msg.Errorf("%q is not an ISO 4217 code such as \"TWD\"", c.Currency)}
	}
	if c.MaxDrop < 0 || c.MaxDrop > 1 {
		return &ConfigError{Key: "max_drop", Err: msg.Errorf("%v is outside 0%%–100%%", c.MaxDrop)}
	}
	if c.BackorderDays < 1 || c.BackorderDays > 365 {
		return &ConfigError{Key: "backorder_days", Err: msg.Errorf("must be 1 to 365 days (Google takes an availability date up to a year ahead), got %d", c.BackorderDays)}
	}
	if err := checkVariantLink(c.VariantLink); err != nil {
		return &ConfigError{Key: "variant_link", Err: err}
	}
	if c.MaxUnzipMB <= 0 {
		return &ConfigError{Key: "max_unzip_mb", Err: msg.Errorf("must be positive, got %d", c.MaxUnzipMB)}
	}
	if err := validateFeeds(c.Feeds); err != nil {
		return err
	}
	if c.Debounce < 100*time.Millisecond {
		return &ConfigError{Key: "debounce", Err: msg.Errorf("%v is too short; write a duration such as \"1s\" (a bare number is nanoseconds)", c.Debounce)}
	}
	if c.RefreshInterval < time.Second {
		return &ConfigError{Key: "refresh_interval", Err: msg.Errorf("%v is too short; write a duration such as \"1h\"", c.RefreshInterval)}
	}
	if len(c.Schedule) == 0 {
		return &ConfigError{Key: "schedule", Err: msg.New("needs at least one time, such as [\"04:45\", \"16:45\"]")}
	}
	if c.Publish.MaxFileMB <= 0 {
		return &ConfigError{Key: "publish.max_file_mb", Err: msg.Errorf("must be positive, got %d", c.Publish.MaxFileMB)}
	}
	if c.Publish.Push && c.Publish.Branch != "" && c.Publish.Remote == "" && c.Publish.Repository == "" {
		return &ConfigError{Key: "publish.remote", Err: msg.New("is required when publish.push is true")}
	}
	if err := c.Notify.validate(); err != nil {
		return err
	}
	if c.Out == "" {
		return &ConfigError{Key: "out", Err: msg.New("must name a folder")}
	}
	if c.Report == "" {
		return &ConfigError{Key: "report", Err: msg.New("must name a folder")}
	}
	if c.Export != "" && (within(c.Export, c.Out) || within(c.Out, c.Export)) {
		return &ConfigError{Key: "out", Err: msg.Errorf("%s holds the export %s, and what is in out is public: choose a folder apart from the export", DisplayPath(c.Out), DisplayPath(c.Export))}
	}
	if within(c.Report, c.Out) || within(c.Out, c.Report) {
		return &ConfigError{Key: "report", Err: msg.Errorf("%s must be a folder apart from out (%s): what is in out is public", DisplayPath(c.Report), DisplayPath(c.Out))}
	}
	if len(c.Columns.OptionNames) != len(c.Columns.OptionValues) {
		return &ConfigError{Key: "columns.option_values", Err: msg.Errorf("has %d entries but columns.option_names has %d; they go in pairs", len(c.Columns.OptionValues), len(c.Columns.OptionNames))}
	}
	for _, f := range c.Columns.required() {
		if strings.TrimSpace(f.header) == "" {
			return &ConfigError{Key: "columns." + f.key, Err: msg.New("is required and cannot be empty")}
		}
	}
	return nil
}

// Location is the shop's time zone; valid after Validate.
func (c *Config) Location() *time.Location {
	if c.location == nil {
		return time.UTC
	}
	return c.location
}

// Fraction is a share between 0 and 1. It decodes from a number (0.5) or a
// percentage string ("50%"), the form merchants tend to write.
type Fraction float64

// ParseFraction reads "0.5" or "50%".
func ParseFraction(s string) (Fraction, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, msg.Errorf("%q is not a fraction like 0.5 or a percentage like 50%%", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, msg.Errorf("%q is outside 0%%–100%%", s)
	}
	return Fraction(v), nil
}

// UnmarshalTOML implements toml.Unmarshaler.
func (f *Fraction) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case float64:
		*f = Fraction(v)
	case int64:
		*f = Fraction(v)
	case string:
		p, err := ParseFraction(v)
		if err != nil {
			return err
		}
		*f = p
	default:
		return msg.Errorf("want a number like 0.5 or a string like \"50%%\", got %T", v)
	}
	return nil
}

func (f Fraction) String() string { return strconv.FormatFloat(float64(f)*100, 'f', -1, 64) + "%" }

// within reports whether path is dir or inside it, comparing absolute
// paths; case is ignored where the file system usually ignores it.
func within(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		p, d = strings.ToLower(p), strings.ToLower(d)
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// ConfigLang is the lang a config file sets, or "": read line by line, so
// that it is found in a file TOML cannot parse (a Windows path in double
// quotes), whose errors are then said in the merchant's language.
func ConfigLang(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if strings.HasPrefix(line, "[") {
			return "" // lang is a top-level key
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "lang" {
			continue
		}
		value, _, _ = strings.Cut(strings.TrimSpace(value), "#")
		return strings.Trim(strings.TrimSpace(value), `"'`)
	}
	return ""
}
