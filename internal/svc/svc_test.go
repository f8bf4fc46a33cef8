package svc

import (
	"context"
	"errors"
	"feedgen/internal/tempdir"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestConfig: the service runs the daemon with -service and the config's
// absolute path, from the config's folder.
func TestConfig(t *testing.T) {
	config, err := filepath.Abs(filepath.Join("商店 A", "feedgen.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c := Config("", config, "")
	if want := []string{"daemon", "-" + ServiceFlag, "-config", config}; !slices.Equal(c.Arguments, want) {
		t.Errorf("arguments %q, want %q", c.Arguments, want)
	}
	c = Config("", config, "zh-TW")
	if want := []string{"daemon", "-" + ServiceFlag, "-config", config, "-lang", "zh-TW"}; !slices.Equal(c.Arguments, want) {
		t.Errorf("arguments with a language %q, want %q", c.Arguments, want)
	}
	if c.Name != Name || c.WorkingDirectory != filepath.Dir(config) {
		t.Errorf("name %q, folder %q", c.Name, c.WorkingDirectory)
	}
	if _, err := New("", "feedgen.toml", "", nil, nil); err == nil {
		t.Error("New with a relative config: no error")
	}
}

// TestProgram: Start returns at once with the daemon running; Stop ends
// it and returns its error; a daemon that stops by itself ends the
// process, so that the manager starts it again.
func TestProgram(t *testing.T) {
	stopped := errors.New("stopped")
	p := &program{run: func(ctx context.Context) error { <-ctx.Done(); return stopped }, exit: func() { t.Error("exit on a requested stop") }}
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(nil); err != stopped {
		t.Errorf("Stop = %v, want the daemon's error", err)
	}
	if err := p.Stop(nil); err != stopped {
		t.Errorf("Stop again = %v", err)
	}

	exited := make(chan struct{})
	p = &program{run: func(context.Context) error { return errors.New("bad config") }, exit: func() { close(exited) }}
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Error("a daemon that stopped by itself did not end the process")
	}
}

// TestEnvFile: the environment file systemd reads keeps every value as
// it was, a deploy key's line breaks and a shell's special characters
// too (systemd unquotes as the shell does), and only root reads it.
func TestEnvFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("systemd's file")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to read the file back with")
	}
	env := map[string]string{
		"FEEDGEN_PUBLISH_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc+/=\n-----END OPENSSH PRIVATE KEY-----\n",
		"FEEDGEN_PUBLISH_TOKEN":   `ghp_a"b\c$HOME` + "`id`",
	}
	path := filepath.Join(tempdir.New(t), "sysconfig", "feedgen")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("OLD=1\n"), 0o644); err != nil {
		t.Fatal(err) // an earlier install's, readable by all
	}
	if err := writeEnvFile(path, env); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want only the owner to read it", info.Mode().Perm())
	}
	for k, want := range env {
		out, err := exec.Command(bash, "-c", `set -a; . "$1"; printf %s "${!2}"`, "bash", path, k).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != want {
			t.Errorf("%s read back as %q, want %q", k, out, want)
		}
	}
}
