package svc

import (
	"context"
	"errors"
	"path/filepath"
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
	c := Config("", config)
	if want := []string{"daemon", "-" + ServiceFlag, "-config", config}; !slices.Equal(c.Arguments, want) {
		t.Errorf("arguments %q, want %q", c.Arguments, want)
	}
	if c.Name != Name || c.WorkingDirectory != filepath.Dir(config) {
		t.Errorf("name %q, folder %q", c.Name, c.WorkingDirectory)
	}
	if _, err := New("", "feedgen.toml", nil); err == nil {
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
