package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"feedgen/internal/tempdir"
)

// TestNotifyCommand: feedgen notify posts a test message to the webhook,
// whose address comes from the environment, and says so without it.
func TestNotifyCommand(t *testing.T) {
	got := make(chan map[string]any, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer srv.Close()
	config := filepath.Join(tempdir.New(t), "feedgen.toml")
	if err := os.WriteFile(config, []byte("shop_url = \"https://shop.example.com\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FEEDGEN_WEBHOOK_URL", srv.URL+"/hook/SECRET")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"notify", "-config", config}, &stdout, &stderr); code != exitOK {
		t.Fatalf("feedgen notify exited %d: %s", code, stderr.String())
	}
	p := <-got
	if p["event"] != "test" || p["shop"] != "https://shop.example.com" || !strings.Contains(p["text"].(string), "test message") {
		t.Errorf("webhook got %v", p)
	}
	if want := "feedgen: test message sent by webhook to " + srv.URL + "/…\n"; stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}
	if strings.Contains(stdout.String()+stderr.String(), "SECRET") {
		t.Errorf("the webhook's secret path was printed: %s%s", stdout.String(), stderr.String())
	}
}
