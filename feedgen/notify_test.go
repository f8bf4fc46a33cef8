package feedgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/jonboulle/clockwork"

	"feedgen/internal/msg"
	"feedgen/internal/tempdir"
)

const (
	testLineTo    = "U0123456789abcdef0123456789abcdef"
	testLineToken = "LINE-TOKEN-SECRET-1234"
	testPassword  = "SMTP-PASSWORD-SECRET-5678"
	testHookPath  = "/services/T000/B000/HOOK-SECRET-9012"
)

func TestNotifyConfigErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		key        string // the ConfigError's key
		contains   string
	}{
		{"a webhook that is no URL", `[notify]` + "\n" + `webhook = "hooks.slack.com/services/x"`, "notify.webhook", "absolute http(s) URL"},
		{"a webhook of another scheme", "[notify]\nwebhook = \"ftp://example.com/SECRET\"", "notify.webhook", "absolute http(s) URL"},
		{"a deadline with seconds", "[notify]\ndeadline = \"04:55:30\"", "notify.deadline", "seconds"},
		{"a deadline out of range", "[notify]\ndeadline = \"25:00\"", "notify.deadline", "hours and minutes"},
		{"SMTP settings without a host", "[notify.smtp]\nfrom = \"shop@example.com\"\nto = [\"me@example.com\"]", "notify.smtp.host", "required"},
		{"an SMTP port out of range", "[notify.smtp]\nhost = \"smtp.example.com\"\nport = 70000\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]", "notify.smtp.port", "1 to 65535"},
		{"an SMTP port of zero", "[notify.smtp]\nhost = \"smtp.example.com\"\nport = 0\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]", "notify.smtp.port", "1 to 65535"},
		{"no sender", "[notify.smtp]\nhost = \"smtp.example.com\"\nto = [\"b@example.com\"]", "notify.smtp.from", "not an email address"},
		{"no recipient", "[notify.smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"", "notify.smtp.to", "at least one"},
		{"a bad recipient", "[notify.smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\", \"me at home\"]", "notify.smtp.to", `"me at home"`},
		{"an @ LINE ID", "[notify.line]\nto = \"@myshop\"", "notify.line.to", "not a LINE user, group or room id"},
		{"a token without a recipient", "[notify.line]\nchannel_access_token = \"x\"", "notify.line.to", "required"},
		{"an unknown key", "[notify.line]\ntoken = \"x\"", "notify.line.token", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.toml)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("ParseConfig = %v (%T), want a *ConfigError for key %q", err, err, tt.key)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error = %q, want it to contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error = %q repeats the webhook's address", err)
			}
		})
	}
}

func TestNotifyConfig(t *testing.T) {
	cfg, err := parse(t, `
[notify]
webhook = "https://hooks.slack.com/services/T/B/x"

[notify.smtp]
host = "smtp.gmail.com"
username = "shop@gmail.com"
from = "Shop <shop@gmail.com>"
to = ["owner@example.com", "staff@example.com"]

[notify.line]
to = "`+testLineTo+`"
`)
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Notify
	if !n.Enabled() || n.Deadline != (TimeOfDay{4, 55}) || n.SMTP.Port != 587 {
		t.Errorf("Notify = %+v, want it enabled, with the default deadline 04:55 and port 587", n)
	}
	if d := DefaultConfig(); d.Notify.Enabled() {
		t.Error("the defaults notify; want no channel")
	}

	// The secrets are only missing once the environment had its say.
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	var ce *ConfigError
	if err := n.ApplyEnv(getenv); !errors.As(err, &ce) || ce.Key != "notify.smtp.password" || !strings.Contains(err.Error(), EnvSMTPPassword) {
		t.Errorf("ApplyEnv without a password = %v, want an error for notify.smtp.password naming %s", err, EnvSMTPPassword)
	}
	env[EnvSMTPPassword] = testPassword
	if err := n.ApplyEnv(getenv); !errors.As(err, &ce) || ce.Key != "notify.line.channel_access_token" || !strings.Contains(err.Error(), EnvLINEToken) {
		t.Errorf("ApplyEnv without a LINE token = %v, want an error for notify.line.channel_access_token naming %s", err, EnvLINEToken)
	}
	env[EnvLINEToken] = testLineToken
	env[EnvWebhookURL] = "https://discord.com/api/webhooks/1/SECRET"
	if err := n.ApplyEnv(getenv); err != nil {
		t.Fatalf("ApplyEnv with every secret = %v", err)
	}
	if n.SMTP.Password != testPassword || n.LINE.ChannelAccessToken != testLineToken || n.Webhook != env[EnvWebhookURL] {
		t.Errorf("ApplyEnv did not take the environment's secrets: %+v", n)
	}
	env[EnvWebhookURL] = "discord.com/api/webhooks/1/SECRET"
	if err := n.ApplyEnv(getenv); !errors.As(err, &ce) || ce.Key != EnvWebhookURL || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("ApplyEnv with a bad %s = %v, want an error naming it and not its value", EnvWebhookURL, err)
	}
}

// received is one request a test server got.
type received struct {
	path, auth string
	body       []byte
}

// recordingServer answers every request with status (and body), and
// hands each request to the test.
func recordingServer(t *testing.T, status int, answer string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{path: r.URL.RequestURI(), auth: r.Header.Get("Authorization"), body: b}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func testNotice() Notice {
	return Notice{
		Kind: NoticeBadExport, At: time.Date(2026, 11, 23, 4, 45, 0, 0, time.FixedZone("CST", 8*3600)),
		Err: fmt.Errorf("read export: %w", ErrNoProducts), Export: filepath.Join("drop", "商品匯出.xlsx"), InFolder: true,
	}
}

func TestNotifyWebhook(t *testing.T) {
	srv, got := recordingServer(t, http.StatusNoContent, "")
	n := NewNotifier(NotifyConfig{Webhook: srv.URL + testHookPath}, "https://shop.example.com", msg.English, nil)
	ds := n.Send(context.Background(), testNotice())
	if len(ds) != 1 || ds[0].Err != nil || ds[0].Channel != "webhook" {
		t.Fatalf("Send = %+v, want one delivery by webhook without error", ds)
	}
	if strings.Contains(ds[0].Target, "SECRET") {
		t.Errorf("target %q shows the webhook's secret path", ds[0].Target)
	}
	r := receive(t, got, "the webhook's request")
	if r.path != testHookPath {
		t.Errorf("posted to %q, want %q", r.path, testHookPath)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	host, _ := os.Hostname()
	for _, want := range []string{"The export was refused", "商品匯出.xlsx", "delete it", "https://shop.example.com", host} {
		for _, field := range []string{"text", "content"} {
			if s, _ := p[field].(string); !strings.Contains(s, want) {
				t.Errorf("%s = %q, want it to contain %q", field, s, want)
			}
		}
	}
	if p["event"] != "bad_export" || p["shop"] != "https://shop.example.com" || p["host"] != host ||
		p["time"] != "2026-11-23T04:45:00+08:00" || p["error"] != testNotice().Err.Error() ||
		p["export"] != filepath.Join("drop", "商品匯出.xlsx") || p["title"] != "The export was refused" {
		t.Errorf("structured fields = %v", p)
	}
}

func TestNotifyWebhookLimits(t *testing.T) {
	srv, got := recordingServer(t, http.StatusOK, "ok")
	n := NewNotifier(NotifyConfig{Webhook: srv.URL}, "https://shop.example.com", msg.English, nil)
	nt := testNotice()
	nt.Kind, nt.Err = NoticeRunFailed, errors.New(strings.Repeat("很長的錯誤", 1000))
	if ds := n.Send(context.Background(), nt); ds[0].Err != nil {
		t.Fatal(ds[0].Err)
	}
	var p struct{ Text, Content string }
	if err := json.Unmarshal(receive(t, got, "request").body, &p); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(p.Content)); n != discordMaxChars || !strings.HasSuffix(p.Content, "…") {
		t.Errorf("content has %d characters, want Discord's %d, ending in …", n, discordMaxChars)
	}
	if n := len([]rune(p.Text)); n != slackMaxChars {
		t.Errorf("text has %d characters, want %d", n, slackMaxChars)
	}
}

func TestNotifyWebhookFails(t *testing.T) {
	srv, _ := recordingServer(t, http.StatusNotFound, "no_service "+testHookPath)
	var logs bytes.Buffer
	n := NewNotifier(NotifyConfig{Webhook: srv.URL + testHookPath + "?token=QUERY-SECRET"}, "", msg.English, slog.New(slog.NewTextHandler(&logs, nil)))
	n.Notify(context.Background(), testNotice())
	if !strings.Contains(logs.String(), "404 Not Found") || !strings.Contains(logs.String(), "notification failed") {
		t.Errorf("log = %q, want the failure with the status", logs.String())
	}
	assertNoSecrets(t, logs.String(), "HOOK-SECRET", "QUERY-SECRET")

	// A server that is not there: the transport's error repeats the URL.
	srv.Close()
	logs.Reset()
	n.Notify(context.Background(), testNotice())
	if !strings.Contains(logs.String(), "notification failed") {
		t.Errorf("log = %q, want the failure", logs.String())
	}
	assertNoSecrets(t, logs.String(), "HOOK-SECRET", "QUERY-SECRET")
}

func TestNotifyLINE(t *testing.T) {
	srv, got := recordingServer(t, http.StatusOK, "{}")
	n := NewNotifier(NotifyConfig{LINE: NotifyLINE{ChannelAccessToken: testLineToken, To: testLineTo}}, "https://shop.example.com", msg.English, nil)
	n.channels[0].(*lineChannel).base = srv.URL
	nt := testNotice()
	nt.Kind, nt.Err = NoticeRunFailed, errors.New(strings.Repeat("😀", 3000)) // two UTF-16 units each
	if ds := n.Send(context.Background(), nt); ds[0].Err != nil || ds[0].Channel != "LINE" || ds[0].Target != testLineTo {
		t.Fatalf("Send = %+v", ds)
	}
	r := receive(t, got, "the push")
	if r.path != "/v2/bot/message/push" || r.auth != "Bearer "+testLineToken {
		t.Errorf("request to %q with Authorization %q", r.path, r.auth)
	}
	var body struct {
		To       string
		Messages []struct{ Type, Text string }
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.To != testLineTo || len(body.Messages) != 1 || body.Messages[0].Type != "text" {
		t.Fatalf("body = %s", r.body)
	}
	text := body.Messages[0].Text
	if n := len(utf16.Encode([]rune(text))); n > lineMaxText || n < lineMaxText-1 {
		t.Errorf("text is %d UTF-16 units, want it cut to LINE's %d", n, lineMaxText)
	}
	if !strings.HasPrefix(text, "The catalog update failed\n") || !strings.HasSuffix(text, "…") {
		t.Errorf("text = %.80q…, want the title first and … at the cut", text)
	}
}

func TestNotifyLINEFails(t *testing.T) {
	srv, _ := recordingServer(t, http.StatusUnauthorized, `{"message":"Authentication failed. Confirm that the access token in the authorization header is valid."}`)
	var logs bytes.Buffer
	n := NewNotifier(NotifyConfig{LINE: NotifyLINE{ChannelAccessToken: testLineToken, To: testLineTo}}, "", msg.English, slog.New(slog.NewTextHandler(&logs, nil)))
	n.channels[0].(*lineChannel).base = srv.URL
	ds := n.Send(context.Background(), testNotice())
	if err := ds[0].Err; err == nil || !strings.Contains(err.Error(), "LINE answered 401 Unauthorized: Authentication failed") {
		t.Errorf("Send's error = %v, want LINE's status and message", err)
	}
	n.Notify(context.Background(), testNotice())
	assertNoSecrets(t, logs.String()+ds[0].Err.Error(), testLineToken)
}

// TestNotifyEveryChannel: a channel that fails does not keep the others
// from getting the message, and no secret reaches the log.
func TestNotifyEveryChannel(t *testing.T) {
	hook, _ := recordingServer(t, http.StatusInternalServerError, "")
	line, pushed := recordingServer(t, http.StatusOK, "{}")
	sink := startSMTPSink(t)
	cfg := NotifyConfig{
		Webhook: hook.URL + testHookPath,
		SMTP:    NotifySMTP{Host: "127.0.0.1", Port: sink.port, From: "shop@example.com", To: []string{"owner@example.com"}},
		LINE:    NotifyLINE{ChannelAccessToken: testLineToken, To: testLineTo},
	}
	var logs bytes.Buffer
	n := NewNotifier(cfg, "https://shop.example.com", msg.English, slog.New(slog.NewTextHandler(&logs, nil)))
	n.channels[2].(*lineChannel).base = line.URL
	n.Notify(context.Background(), testNotice())
	receive(t, pushed, "the LINE push")
	receive(t, sink.mail, "the email")
	out := logs.String()
	if strings.Count(out, "notification sent") != 2 || !strings.Contains(out, "channel=webhook") || !strings.Contains(out, "500 Internal Server Error") {
		t.Errorf("log = %s\nwant the webhook's failure and two channels sent", out)
	}
	assertNoSecrets(t, out, "HOOK-SECRET", testLineToken)
}

func TestNotifyEmail(t *testing.T) {
	sink := startSMTPSink(t)
	n := NewNotifier(NotifyConfig{SMTP: NotifySMTP{
		Host: "127.0.0.1", Port: sink.port, From: "Shop <shop@example.com>", To: []string{"owner@example.com", "staff@example.com"},
	}}, "https://shop.example.com", msg.English, nil)
	if ds := n.Send(context.Background(), testNotice()); ds[0].Err != nil || ds[0].Channel != "email" {
		t.Fatalf("Send = %+v", ds)
	}
	m := receive(t, sink.mail, "the email")
	if m.from != "shop@example.com" || strings.Join(m.to, ",") != "owner@example.com,staff@example.com" {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.data))
	if err != nil {
		t.Fatalf("message %q: %v", m.data, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	host, _ := os.Hostname()
	if err != nil || subject != "feedgen on "+host+": The export was refused" {
		t.Errorf("Subject = %q (%v)", subject, err)
	}
	body, _ := io.ReadAll(msg.Body)
	if msg.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	}
	for _, want := range []string{"商品匯出.xlsx", "delete it to use the one before it", "Shop: https://shop.example.com", "Computer: " + host} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body = %q, want it to contain %q", body, want)
		}
	}
}

// TestNotifyEmailSecrets: a password is never logged, and a mail server
// on another computer must offer STARTTLS, so that it is never sent in
// the clear.
func TestNotifyEmailSecrets(t *testing.T) {
	sink := startSMTPSink(t)
	var logs bytes.Buffer
	n := NewNotifier(NotifyConfig{SMTP: NotifySMTP{
		Host: "127.0.0.1", Port: sink.port, Username: "shop", Password: testPassword,
		From: "shop@example.com", To: []string{"owner@example.com"},
	}}, "", msg.English, slog.New(slog.NewTextHandler(&logs, nil)))
	n.Notify(context.Background(), testNotice())
	if !strings.Contains(logs.String(), "notification failed") {
		t.Errorf("log = %q, want a failure: the sink offers no AUTH", logs.String())
	}
	assertNoSecrets(t, logs.String(), testPassword)

	remote := &emailChannel{cfg: NotifySMTP{Host: "smtp.example.com", Port: 587}}
	c, err := remote.client()
	if err != nil || c.TLSPolicy() != "TLSMandatory" {
		t.Errorf("port 587 of another computer: TLS policy %s (%v), want TLSMandatory", c.TLSPolicy(), err)
	}
}

func TestNotifyTexts(t *testing.T) {
	at := time.Date(2026, 11, 23, 4, 45, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		n    Notice
		want []string
	}{
		{Notice{Kind: NoticeRunFailed, At: at, Err: errors.New("disk full"), Next: at.Add(time.Minute)},
			[]string{"The catalog update failed: disk full", "stays published", "tries again at 2026-11-23 04:46 +08:00"}},
		{Notice{Kind: NoticeGuardRefused, At: at, Err: &GuardError{File: "products.json", Old: 100, New: 10, MaxDrop: 0.5}, Next: at.Add(12 * time.Hour)},
			[]string{"refused to publish", "from 100 items to 10", "stays published", "What to do:", "16:45"}},
		{Notice{Kind: NoticePublishFailed, At: at, Err: &PublishError{Err: errors.New("push rejected")}, Next: at.Add(time.Minute)},
			[]string{"could not be published: push rejected", "still fetch the catalog published before"}},
		{Notice{Kind: NoticeBadExport, At: at, Err: ErrNoProducts, Export: "商品.xlsx"},
			[]string{"The export 「商品.xlsx」 was refused", "Replace 「商品.xlsx」 with a new export from CYBERBIZ.", "wait until the export changes"}},
		{Notice{Kind: NoticeBadExport, At: at, Err: errNoExport, Folder: "drop", InFolder: true},
			[]string{"Save a product export (.xlsx) from CYBERBIZ in 「drop」."}},
		{Notice{Kind: NoticeDeadline, At: at.Add(10 * time.Minute), Deadline: TimeOfDay{4, 55}, Slot: at, LastSuccess: at.Add(-12 * time.Hour)},
			[]string{"No successful catalog update by 04:55", "since the 2026-11-23 04:45 +08:00 run", "last successful update was at 2026-11-22 16:45"}},
		{Notice{Kind: NoticeDeadline, At: at.Add(10 * time.Minute), Deadline: TimeOfDay{4, 55}, Slot: at},
			[]string{"knows of no successful update"}},
		{Notice{Kind: NoticeRecovered, At: at, Items: 42}, []string{"runs work again", "42 items"}},
		{Notice{Kind: NoticeTest, At: at}, []string{"test message"}},
	}
	for _, tt := range tests {
		m := render(msg.English, tt.n, "https://shop.example.com", "SHOP-PC")
		for _, want := range append(tt.want, "Shop: https://shop.example.com", "Computer: SHOP-PC", "Time: 2026-11-23") {
			if !strings.Contains(m.text, want) {
				t.Errorf("%s: text = %q, want it to contain %q", tt.n.Kind, m.text, want)
			}
		}
		if strings.Contains(m.text, "{") || strings.Contains(m.subject, "{") {
			t.Errorf("%s: a placeholder is left in %q / %q", tt.n.Kind, m.subject, m.text)
		}
		if !strings.HasPrefix(m.subject, "feedgen on SHOP-PC: ") {
			t.Errorf("%s: subject = %q", tt.n.Kind, m.subject)
		}
	}
}

func assertNoSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the secret %q was printed: %s", s, out)
		}
	}
}

// smtpSink is a mail server on 127.0.0.1 that keeps what it is sent: the
// least of SMTP that go-mail speaks, without TLS or AUTH.
type smtpSink struct {
	port int
	mail chan sunkMail
}

type sunkMail struct {
	from string
	to   []string
	data string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{port: ln.Addr().(*net.TCPAddr).Port, mail: make(chan sunkMail, 10)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // a client that gave up without QUIT
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { s.serve(conn) })
		}
	})
	return s
}

func (s *smtpSink) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	r := bufio.NewReader(conn)
	say := func(lines ...string) { io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n") }
	say("220 sink ESMTP")
	var m sunkMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-sink", "250-8BITMIME", "250 SIZE 1000000")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = sunkMail{from: address(line)}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = append(m.to, address(line))
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = data.String()
			s.mail <- m
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		default:
			say("502 not implemented")
		}
	}
}

// address returns the address in <…> of a MAIL or RCPT command.
func address(line string) string {
	_, rest, _ := strings.Cut(line, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// startNotifyingDaemon starts a daemon writing catalog.xml into out, with
// the deadline 04:55, whose runs end as results says, each with 7 items;
// notices has what it notifies.
func startNotifyingDaemon(t *testing.T, out string, clock *clockwork.FakeClock, results <-chan error) (*harness, <-chan Notice) {
	notify, notices := noticeRecorder()
	deadline := TimeOfDay{4, 55}
	h := startDaemon(t, &Daemon{
		Export: filepath.Join(tempdir.New(t), "export.xlsx"), OutDir: out, Catalog: []string{"catalog.xml"},
		Clock: clock, Notify: notify, Deadline: &deadline,
		Run: func(context.Context, string) (RunReport, error) {
			return RunReport{Items: 7}, <-results
		},
	})
	return h, notices
}

// notices collects what a daemon under test notifies.
func noticeRecorder() (func(context.Context, Notice), <-chan Notice) {
	ch := make(chan Notice, 20)
	return func(_ context.Context, n Notice) { ch <- n }, ch
}

func expectNotice(t *testing.T, ch <-chan Notice, kind NoticeKind) Notice {
	t.Helper()
	n := receive(t, ch, string(kind)+" notice")
	if n.Kind != kind {
		t.Fatalf("notice %s (%v), want %s", n.Kind, n.Err, kind)
	}
	return n
}

func expectNoNotice(t *testing.T, ch <-chan Notice) {
	t.Helper()
	select {
	case n := <-ch:
		t.Fatalf("unexpected %s notice (%v)", n.Kind, n.Err)
	default:
	}
}

// TestDaemonNotifiesOncePerFailure: a failure notifies once however often
// it repeats, a different one notifies again, and the success after
// them says runs work again.
func TestDaemonNotifiesOncePerFailure(t *testing.T) {
	taipei := taipei(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 1, 0, 0, 0, taipei))
	out := tempdir.New(t)
	touch(t, filepath.Join(out, "catalog.xml"), time.Date(2026, 11, 22, 17, 0, 0, 0, taipei))
	held := errors.New("catalog.xml is open in another program")
	guard := &GuardError{File: "catalog.xml", Old: 100, New: 3, MaxDrop: 0.5}
	results := make(chan error, 10)
	for _, err := range []error{held, held, nil, guard, guard, &PublishError{Err: errors.New("push rejected")}} {
		results <- err
	}
	h, notices := startNotifyingDaemon(t, out, clock, results)

	h.hangup <- syscall.SIGHUP
	n := expectNotice(t, notices, NoticeRunFailed)
	if !errors.Is(n.Err, held) || !n.Next.Equal(clock.Now().Add(time.Minute)) {
		t.Errorf("notice = %+v, want the error and the retry a minute later", n)
	}
	blockUntilTimers(t, clock, 3) // the schedule's, the deadline's and the retry's
	clock.Advance(time.Minute)
	h.logs.waitFor(t, "run failed")
	h.logs.waitFor(t, "run failed")
	h.logs.waitFor(t, "notification not sent again")
	expectNoNotice(t, notices)
	blockUntilTimers(t, clock, 3)
	clock.Advance(5 * time.Minute)
	if n := expectNotice(t, notices, NoticeRecovered); n.Items != 7 {
		t.Errorf("recovered with %d items, want 7", n.Items)
	}

	h.hangup <- syscall.SIGHUP
	expectNotice(t, notices, NoticeGuardRefused)
	h.hangup <- syscall.SIGHUP
	h.logs.waitFor(t, "notification not sent again")
	expectNoNotice(t, notices)
	h.hangup <- syscall.SIGHUP
	expectNotice(t, notices, NoticePublishFailed)
}

// TestDaemonDeadline: with no successful run since the 04:45 slot, the
// 04:55 deadline alarms, once a day; after a success it does not.
func TestDaemonDeadline(t *testing.T) {
	taipei := taipei(t)
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, taipei)
	clock := clockwork.NewFakeClockAt(day.Add(4 * time.Hour))
	out := tempdir.New(t)
	written := day.Add(-7 * time.Hour) // 17:00 the day before: after its 16:45 slot
	touch(t, filepath.Join(out, "catalog.xml"), written)
	results := make(chan error, 10)
	h, notices := startNotifyingDaemon(t, out, clock, results)

	results <- fmt.Errorf("read export: %w", ErrNoProducts)
	blockUntilTimers(t, clock, 2)
	clock.Advance(45 * time.Minute) // 04:45: the scheduled run is refused
	if n := expectNotice(t, notices, NoticeBadExport); n.InFolder || n.Export == "" || !n.Next.IsZero() {
		t.Errorf("notice = %+v, want the export file, no drop folder, no retry", n)
	}
	blockUntilTimers(t, clock, 2)
	clock.Advance(10 * time.Minute) // 04:55
	n := expectNotice(t, notices, NoticeDeadline)
	if !n.LastSuccess.Equal(written) || !n.Slot.Equal(day.Add(4*time.Hour+45*time.Minute)) || n.Deadline != (TimeOfDay{4, 55}) {
		t.Errorf("deadline notice = %+v, want the catalog's time as the last success and the 04:45 slot", n)
	}

	// The next day the scheduled runs skip the refused export, and the
	// deadline reminds once more.
	for _, step := range []time.Duration{11*time.Hour + 50*time.Minute, 12 * time.Hour} {
		blockUntilTimers(t, clock, 2)
		clock.Advance(step)
		h.logs.waitFor(t, "skipping the scheduled run: the export was refused at 04:45 and has not changed")
	}
	blockUntilTimers(t, clock, 2)
	clock.Advance(10 * time.Minute)
	expectNotice(t, notices, NoticeDeadline)

	// A success before the deadline keeps it quiet, and says runs work
	// again.
	results <- nil
	h.hangup <- syscall.SIGHUP
	expectNotice(t, notices, NoticeRecovered)
	for _, step := range []time.Duration{11*time.Hour + 50*time.Minute, 12 * time.Hour} {
		results <- nil
		blockUntilTimers(t, clock, 2)
		clock.Advance(step)
		h.logs.waitFor(t, "run finished")
	}
	blockUntilTimers(t, clock, 2)
	clock.Advance(10 * time.Minute)
	h.logs.waitFor(t, "deadline met")
	expectNoNotice(t, notices)
}
