package feedgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/jonboulle/clockwork"
	"github.com/wneessen/go-mail"

	"feedgen/internal/msg"
	"feedgen/internal/redact"
)

// NoticeKind is what a notification is about; the webhook's JSON gives it
// as "event".
type NoticeKind string

const (
	NoticeRunFailed     NoticeKind = "run_failed"     // a run failed for a reason of the system's
	NoticeGuardRefused  NoticeKind = "guard_refused"  // the safety guard refused the new catalog
	NoticePublishFailed NoticeKind = "publish_failed" // written, but not published to the branch
	NoticeBadExport     NoticeKind = "bad_export"     // the export itself was refused
	NoticeDeadline      NoticeKind = "deadline"       // no successful run by the deadline
	NoticeRecovered     NoticeKind = "recovered"      // a run succeeded after one of the above
	NoticeTest          NoticeKind = "test"           // feedgen notify
)

// Notice is one thing the merchant should hear of. The Notifier adds the
// shop and the computer, so that a merchant with two computers knows
// which one is speaking.
type Notice struct {
	Kind NoticeKind
	At   time.Time // when it happened, in the daemon's zone
	Err  error     // the failure, for the failure kinds
	// Export is the export the run read; "" when the drop folder held
	// none, which Folder then names.
	Export string
	Folder string
	// InFolder is set when Export was picked from a drop folder: deleting
	// it makes the one before it count.
	InFolder bool
	// Next is when feedgen tries again; zero when it waits for a new
	// export.
	Next time.Time
	// LastSuccess is the last successful run feedgen knows of, for
	// NoticeDeadline; zero when it knows of none.
	LastSuccess time.Time
	// Deadline and Slot are, for NoticeDeadline, the deadline that passed
	// and the scheduled run a success was awaited from.
	Deadline TimeOfDay
	Slot     time.Time
	Items    int // for NoticeRecovered: the items the catalog now has
}

// noticeTexts and the phrases after it are every word a notification says;
// the message table has them in Chinese. A {name} is filled in by render;
// a translation may put them in any order.
var noticeTexts = map[NoticeKind]struct{ title, body string }{
	NoticeRunFailed: {
		msg.N("The catalog update failed"),
		msg.N("The catalog update failed: {err}\nThe catalog published before stays published. {next}"),
	},
	NoticeGuardRefused: {
		msg.N("The safety check refused to publish the new catalog"),
		msg.N("The safety check refused to publish the new catalog: {err}\nThe catalog published before stays published. {next}"),
	},
	NoticePublishFailed: {
		msg.N("Publishing the catalog failed"),
		msg.N("The catalog was written but could not be published: {err}\nThe channels still fetch the catalog published before. {next}"),
	},
	NoticeBadExport: {
		msg.N("The export was refused"),
		msg.N("The export {export} was refused: {err}\n{todo}\nThe catalog published before stays published, and the scheduled runs wait until the export changes."),
	},
	NoticeDeadline: {
		msg.N("No successful catalog update by {deadline}"),
		msg.N("It is past {deadline}, and no catalog update has succeeded since the {slot} run. {last}\nThe channels fetch the catalog published before. feedgen's log (feedgen.log) says why the runs failed."),
	},
	NoticeRecovered: {
		msg.N("Catalog updates work again"),
		msg.N("The catalog update at {time} succeeded, with {items} items: runs work again."),
	},
	NoticeTest: {
		msg.N("Test message"),
		msg.N("This is a test message from feedgen notify. If you read it, feedgen's notifications reach you here."),
	},
}

var (
	textTryAgain       = msg.N("feedgen tries again at {next}.")
	textWhatToDo       = msg.N("What to do: {hint}")
	textReplaceDropped = msg.N("Replace {export} with a new export from CYBERBIZ, or delete it to use the one before it.")
	textReplaceFile    = msg.N("Replace {export} with a new export from CYBERBIZ.")
	textSaveExport     = msg.N("Save a product export (.xlsx) from CYBERBIZ in {folder}.")
	textLastSuccess    = msg.N("The last successful update was at {last}.")
	textNoSuccess      = msg.N("feedgen knows of no successful update since it started.")
	textFooter         = msg.N("Shop: {shop}\nComputer: {host}\nTime: {time}")
	textSubject        = msg.N("feedgen on {host}: {title}")
	textNoShop         = msg.N("(shop_url is not set)")
	textUnknownHost    = msg.N("(unknown computer)")
	textTruncated      = "…"
)

// timeLayout is how a notification writes a time: it is read on a phone,
// so without seconds, but with the zone, since the merchant may be abroad.
const timeLayout = "2006-01-02 15:04 -07:00"

// message is a notice in words, as every channel sends it.
type message struct {
	notice  Notice
	shop    string
	host    string
	subject string // an email's subject
	text    string // title, body and footer
	err     string // the failure, redacted; "" for none
}

// render puts n into words, in l.
func render(l msg.Lang, n Notice, shop, host string) *message {
	t := noticeTexts[n.Kind]
	t.title, t.body = l.T(t.title), l.T(t.body)
	m := &message{notice: n, shop: shop, host: host}
	if n.Err != nil {
		m.err = redact.String(msg.Text(l, n.Err))
	}
	fill := func(s string) string {
		return strings.NewReplacer(
			"{err}", m.err,
			"{export}", DisplayPath(n.Export),
			"{folder}", DisplayPath(n.Folder),
			"{next}", n.Next.Format(timeLayout),
			"{last}", n.LastSuccess.Format(timeLayout),
			"{deadline}", n.Deadline.String(),
			"{slot}", n.Slot.Format(timeLayout),
			"{items}", strconv.Itoa(n.Items),
			"{time}", n.At.Format(timeLayout),
			"{shop}", shop,
			"{host}", host,
		).Replace(s)
	}
	next, todo, last := "", "", l.T(textNoSuccess)
	if !n.Next.IsZero() {
		next = l.T(textTryAgain)
	}
	switch {
	case n.Export == "":
		todo = l.T(textSaveExport)
	case n.InFolder:
		todo = l.T(textReplaceDropped)
	default:
		todo = l.T(textReplaceFile)
	}
	if !n.LastSuccess.IsZero() {
		last = l.T(textLastSuccess)
	}
	body := strings.NewReplacer("{next}", next, "{todo}", todo, "{last}", last).Replace(t.body)
	body = strings.TrimRight(body, " ")
	if h := Hint(l, n.Err); n.Err != nil && h != "" {
		body += "\n" + strings.ReplaceAll(l.T(textWhatToDo), "{hint}", redact.String(h))
	}
	title := fill(t.title)
	m.subject = fill(strings.ReplaceAll(l.T(textSubject), "{title}", title))
	m.text = title + "\n\n" + fill(body) + "\n\n" + fill(l.T(textFooter))
	return m
}

// Timeouts of one notification on each channel. They are sent at once,
// so a daemon's worker waits for the longest.
const (
	httpNotifyTimeout = 15 * time.Second
	smtpNotifyTimeout = 30 * time.Second
)

// Notifier sends each notice to every configured channel. A channel that
// fails is logged, without its secret, and does not keep the others from
// getting it.
type Notifier struct {
	shop     string
	host     string
	lang     msg.Lang
	log      *slog.Logger
	channels []notifyChannel
}

// notifyChannel is one way a notice reaches the merchant.
type notifyChannel interface {
	name() string   // webhook, email, LINE
	target() string // where it goes, without secrets, for feedgen notify
	send(ctx context.Context, m *message) error
}

// NewNotifier returns the notifier of cfg, whose secrets were taken from
// the environment (NotifyConfig.ApplyEnv). shop names the shop in every
// message, which is in l; log receives the failures, and nil discards
// them.
func NewNotifier(cfg NotifyConfig, shop string, l msg.Lang, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = l.T(textUnknownHost)
	}
	if shop == "" {
		shop = l.T(textNoShop)
	}
	n := &Notifier{shop: shop, host: host, lang: l, log: log}
	client := &http.Client{Timeout: httpNotifyTimeout}
	if cfg.Webhook != "" {
		n.channels = append(n.channels, &webhookChannel{url: cfg.Webhook, client: client})
	}
	if cfg.SMTP.Host != "" {
		n.channels = append(n.channels, &emailChannel{cfg: cfg.SMTP})
	}
	if cfg.LINE.To != "" {
		n.channels = append(n.channels, &lineChannel{token: cfg.LINE.ChannelAccessToken, to: cfg.LINE.To, base: lineAPI, client: client})
	}
	return n
}

// Delivery is how sending a notice on one channel went.
type Delivery struct {
	Channel string // webhook, email or LINE
	Target  string // where it went, without secrets
	Err     error  // nil when it was sent; its text holds no secret, nor the channel
}

// Send sends n on every channel at once and says how each went, in the
// order the channels are configured.
func (nr *Notifier) Send(ctx context.Context, n Notice) []Delivery {
	m := render(nr.lang, n, nr.shop, nr.host)
	out := make([]Delivery, len(nr.channels))
	var wg sync.WaitGroup
	for i, c := range nr.channels {
		out[i] = Delivery{Channel: c.name(), Target: c.target()}
		wg.Go(func() {
			out[i].Err = c.send(ctx, m)
		})
	}
	wg.Wait()
	return out
}

// Notify sends n and logs how each channel went; it is what the daemon
// calls.
func (nr *Notifier) Notify(ctx context.Context, n Notice) {
	for _, d := range nr.Send(ctx, n) {
		if d.Err != nil {
			nr.log.Error(nr.lang.T("notification failed: %s: %v", d.Channel, d.Err), "channel", d.Channel, "kind", string(n.Kind), "err", d.Err)
			continue
		}
		nr.log.Info(nr.lang.T("notification sent by %s to %s", d.Channel, d.Target), "channel", d.Channel, "to", d.Target, "kind", string(n.Kind))
	}
}

// webhookChannel posts a JSON object that Slack and Discord take as it is:
// Slack shows text, Discord content; other services get the fields.
type webhookChannel struct {
	url    string // a secret: never logged nor in an error
	client *http.Client
}

// webhookPayload is the JSON a webhook receives.
type webhookPayload struct {
	Text    string     `json:"text"`    // Slack
	Content string     `json:"content"` // Discord, at most 2000 characters
	Event   NoticeKind `json:"event"`
	Title   string     `json:"title"`
	Shop    string     `json:"shop"`
	Host    string     `json:"host"`
	Time    time.Time  `json:"time"`
	Error   string     `json:"error,omitempty"`
	Export  string     `json:"export,omitempty"`
}

// Limits of the message text: Discord refuses content over 2000
// characters; Slack advises 4000 for text and cuts longer ones.
const (
	discordMaxChars = 2000
	slackMaxChars   = 4000
)

func (w *webhookChannel) name() string   { return "webhook" }
func (w *webhookChannel) target() string { return redact.URL(w.url) }

func (w *webhookChannel) send(ctx context.Context, m *message) error {
	title, _, _ := strings.Cut(m.text, "\n")
	body, err := json.Marshal(webhookPayload{
		Text:    shorten(m.text, slackMaxChars, perRune),
		Content: shorten(m.text, discordMaxChars, perRune),
		Event:   m.notice.Kind,
		Title:   title,
		Shop:    m.shop,
		Host:    m.host,
		Time:    m.notice.At,
		Error:   m.err,
		Export:  m.notice.Export,
	})
	if err != nil {
		return msg.Errorf("encode the message: %w", err)
	}
	return postJSON(ctx, w.client, w.url, "", body, w.target())
}

// lineAPI is the Messaging API's host; tests point lineChannel.base at
// their own server instead.
const lineAPI = "https://api.line.me"

// lineMaxText is the most a LINE text message holds, in UTF-16 code units.
const lineMaxText = 5000

// lineChannel pushes a text message into a LINE chat with the Messaging
// API.
type lineChannel struct {
	token  string // a secret: only in the Authorization header
	to     string
	base   string
	client *http.Client
}

func (l *lineChannel) name() string   { return "LINE" }
func (l *lineChannel) target() string { return l.to }

func (l *lineChannel) send(ctx context.Context, m *message) error {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	body, err := json.Marshal(struct {
		To       string `json:"to"`
		Messages []text `json:"messages"`
	}{l.to, []text{{"text", shorten(m.text, lineMaxText, utf16Units)}}})
	if err != nil {
		return msg.Errorf("encode the message: %w", err)
	}
	return postJSON(ctx, l.client, l.base+"/v2/bot/message/push", l.token, body, "LINE")
}

// postJSON posts body to url, with a bearer token when one is given, and
// takes any 2xx answer as success. Its errors name the server as who, and
// never the URL, whose path and query may be a secret, nor the token.
func postJSON(ctx context.Context, client *http.Client, url, token string, body []byte, who string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		// url.Parse's error would repeat the URL.
		return msg.Errorf("post to %s: the address cannot be used", who)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "feedgen")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return msg.Errorf("post to %s: %w", who, withoutURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	// LINE says what is wrong in "message", which repeats no secret; a
	// webhook's error page might repeat its address, so it is not shown.
	var lineErr struct{ Message string }
	if who == "LINE" && json.Unmarshal(answer, &lineErr) == nil && lineErr.Message != "" {
		return msg.Errorf("%s answered %s: %s", who, resp.Status, shorten(lineErr.Message, 300, perRune))
	}
	return msg.Errorf("%s answered %s", who, resp.Status)
}

// withoutURL returns the cause of an *url.Error, whose text repeats the
// URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// emailChannel sends an email through the merchant's mail server.
type emailChannel struct{ cfg NotifySMTP }

func (e *emailChannel) name() string { return "email" }
func (e *emailChannel) target() string {
	return strings.Join(e.cfg.To, ", ") + " (" + net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port)) + ")"
}

func (e *emailChannel) send(ctx context.Context, m *message) error {
	mm := mail.NewMsg()
	if err := mm.From(e.cfg.From); err != nil {
		return msg.Errorf("sender %s: %w", e.cfg.From, err)
	}
	if err := mm.To(e.cfg.To...); err != nil {
		return msg.Errorf("recipients: %w", err)
	}
	mm.Subject(m.subject)
	mm.SetDate()
	mm.SetMessageID()
	mm.SetBodyString(mail.TypeTextPlain, m.text)
	client, err := e.client()
	if err != nil {
		return msg.Errorf("set up the mail client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, smtpNotifyTimeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, mm); err != nil {
		return msg.Errorf("send through %s: %w", net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port)), err)
	}
	return nil
}

// client makes the mail client. It chooses TLS by port, as mail providers
// document it: 465 is TLS from the first byte; any other port must offer
// STARTTLS, so that the password and the message never cross a network
// in the clear; only a server on this computer (a relay, a test sink)
// may go without.
func (e *emailChannel) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(e.cfg.Port), mail.WithTimeout(smtpNotifyTimeout)}
	switch {
	case e.cfg.Port == 465:
		opts = append(opts, mail.WithSSL())
	case isLoopback(e.cfg.Host):
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if e.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(e.cfg.Username), mail.WithPassword(e.cfg.Password))
	}
	return mail.NewClient(e.cfg.Host, opts...)
}

// Ways to count a text's length: in characters, and in UTF-16 code units
// as LINE does (an emoji is two).
func perRune(rune) int      { return 1 }
func utf16Units(r rune) int { return utf16.RuneLen(r) }

// shorten cuts s to at most limit characters, as size counts them, with
// textTruncated at the end when it cut.
func shorten(s string, limit int, size func(rune) int) string {
	total := 0
	for _, r := range s {
		total += size(r)
	}
	if total <= limit {
		return s
	}
	room := limit
	for _, r := range textTruncated {
		room -= size(r)
	}
	n := 0
	for i, r := range s {
		if n+size(r) > room {
			return s[:i] + textTruncated
		}
		n += size(r)
	}
	return s
}

// Daemon side: which notices a run's outcome and the deadline call for.
//
// A notice goes out once per distinct failure: the first failed run
// notifies, and the retries and scheduled runs that fail alike (the same
// kind, export and error text) do not, however many there are. A
// different failure notifies again. The first success after a notice says
// runs work again. The deadline alarm goes out at most once a day, at
// the deadline, when no run has succeeded since the scheduled run before
// it; it repeats the next day if the trouble lasts, as a reminder.

// notices is what the worker keeps to send each notice once.
type notices struct {
	failure     string          // what the failure notified last was; "" after a success
	told        bool            // a failure or deadline notice went out since the last success
	lastSuccess time.Time       // the last run that succeeded, or the catalog's age at start
	deadline    clockwork.Timer // fires at the deadline; nil without one
	alarmed     time.Time       // the deadline last alarmed for
}

// noticeKind tells which notice a failed run's error calls for.
func noticeKind(err error) NoticeKind {
	if errors.As(err, new(*PublishError)) {
		return NoticePublishFailed
	}
	switch classify(err) {
	case badExport:
		return NoticeBadExport
	case guarded:
		return NoticeGuardRefused
	}
	return NoticeRunFailed
}

// notifyFailure tells of a run that failed at now, unless the last
// failure told of was the same. next is when it is tried again, zero
// when a new export is awaited.
func (s *daemon) notifyFailure(ctx context.Context, w *worker, export exportVersion, now time.Time, err error, next time.Time) {
	if s.Notify == nil {
		return
	}
	kind := noticeKind(err)
	key := string(kind) + "\x00" + export.path + "\x00" + err.Error()
	if key == w.notices.failure {
		s.log.Debug("notification not sent again", "kind", string(kind))
		return
	}
	w.notices.failure, w.notices.told = key, true
	s.Notify(ctx, Notice{Kind: kind, At: now, Err: err, Export: export.path, Folder: s.exportDir,
		InFolder: s.file == "", Next: next})
}

// notifySuccess records a run that succeeded at now, and says runs work
// again if trouble was told of.
func (s *daemon) notifySuccess(ctx context.Context, w *worker, now time.Time, rep RunReport) {
	told := w.notices.told
	w.notices.failure, w.notices.told, w.notices.lastSuccess = "", false, now
	if told && s.Notify != nil {
		s.Notify(ctx, Notice{Kind: NoticeRecovered, At: now, Items: rep.Items})
	}
}

// armDeadline starts the deadline's timer, when the daemon notifies and
// has one, and returns its channel; nil, which never fires, otherwise.
// Until a run succeeds, the catalog files' age stands for the last
// success, so that a restart does not pass for a missed run.
func (s *daemon) armDeadline(w *worker) <-chan time.Time {
	if _, at, missing := s.oldestCatalog(); !missing {
		w.notices.lastSuccess = at
	}
	if s.Notify == nil || s.Deadline == nil {
		return nil
	}
	now := s.Clock.Now()
	w.notices.deadline = s.Clock.NewTimer(nextSlot(now, s.Location, []TimeOfDay{*s.Deadline}).Sub(now))
	return w.notices.deadline.Chan()
}

// checkDeadline runs when the deadline's timer fires: it alarms once for
// the deadline that just passed if no run succeeded since the scheduled
// run before it, and arms the timer for the next day's.
func (s *daemon) checkDeadline(ctx context.Context, w *worker) {
	now := s.Clock.Now()
	// A computer that slept past the deadline fires late; the deadline
	// meant is still the one that passed last.
	dl := latestSlot(now, s.Location, []TimeOfDay{*s.Deadline})
	slot := latestSlot(dl, s.Location, s.Schedule)
	defer w.notices.deadline.Reset(nextSlot(now, s.Location, []TimeOfDay{*s.Deadline}).Sub(now))
	if !w.notices.lastSuccess.Before(slot) || w.notices.alarmed.Equal(dl) {
		s.log.Debug("deadline met", "deadline", s.Deadline.String(), "last_success", w.notices.lastSuccess)
		return
	}
	w.notices.alarmed, w.notices.told = dl, true
	last := w.notices.lastSuccess
	if !last.IsZero() {
		last = last.In(s.Location)
	}
	s.log.Warn(s.Lang.T("no successful run by the deadline %s, none since the %s run: the merchant is notified", s.Deadline.String(), slot.Format("15:04")), "deadline", s.Deadline.String(), "since", slot, "last_success", last)
	s.Notify(ctx, Notice{Kind: NoticeDeadline, At: now, Deadline: *s.Deadline, Slot: slot, LastSuccess: last})
}
