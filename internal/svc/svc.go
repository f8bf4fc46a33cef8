// Package svc installs feedgen's daemon with the computer's service
// manager, so that it starts with the computer: a Windows service, a
// systemd unit, a launchd agent (github.com/kardianos/service, the
// library that speaks to all three), and runs it under that manager.
package svc

import (
	"context"
	"errors"
	"feedgen/internal/msg"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kardianos/service"
)

// Name is the service's name in the manager (sc query feedgen,
// systemctl status feedgen, launchctl list | grep feedgen).
const Name = "feedgen"

// ServiceFlag is the daemon's flag that the installed service runs it
// with: paths in the config are then taken from the config's folder, as a
// Windows service starts in the system folder.
const ServiceFlag = "service"

// stopTimeout bounds how long a stop waits for the daemon to finish a
// run; the manager itself gives up after some 20 s on Windows.
const stopTimeout = 15 * time.Second

// Service is feedgen's daemon as the manager knows it.
type Service struct {
	s       service.Service
	prg     *program
	env     map[string]string
	envFile string // where the environment goes, when not in the manager's record
}

// New returns the service that runs exe (empty: this program) as
// "daemon -service -config config [-lang lang]", config an absolute path;
// "" will do to control or ask about the service installed. lang, when
// set, is the language the daemon speaks (a service has no locale of the
// merchant's: Windows runs it as the system account). env is the environment
// the service is installed with (its secrets: a service does not see
// the environment of the terminal it was installed from). run is the
// daemon itself, for Run: it must return once ctx is done.
func New(exe, config, lang string, env map[string]string, run func(ctx context.Context) error) (*Service, error) {
	if config != "" && !filepath.IsAbs(config) {
		return nil, msg.Errorf("the config's path %q is not absolute", config)
	}
	prg := &program{run: run, exit: func() { os.Exit(1) }}
	c := Config(exe, config, lang)
	s := &Service{prg: prg, env: env}
	if service.Platform() == "linux-systemd" {
		// A unit file is readable by every user, and so is what
		// systemctl show prints of it: the secrets go to the file the
		// unit reads its environment from, which only root reads.
		s.envFile = systemdEnvFile
	} else {
		// The registry key of a Windows service is closed to all but
		// the system and the administrators once installed (protect);
		// a launchd agent's file is in the merchant's own Library.
		c.EnvVars = env
	}
	var err error
	if s.s, err = service.New(prg, c); err != nil {
		return nil, err
	}
	return s, nil
}

// systemdEnvFile is the file kardianos/service's systemd unit names as
// its EnvironmentFile.
const systemdEnvFile = "/etc/sysconfig/" + Name

// Config is the manager's record of the service.
func Config(exe, config, lang string) *service.Config {
	c := &service.Config{
		Name:             Name,
		DisplayName:      "feedgen product catalog",
		Description:      "Keeps the LINE, Google and Meta product catalog up to date from the shop's export (" + config + ").",
		Executable:       exe,
		Arguments:        []string{"daemon", "-" + ServiceFlag, "-config", config},
		WorkingDirectory: filepath.Dir(config),
		Option: service.KeyValue{
			// Windows: after the desktop is up, and again when it fails.
			"DelayedAutoStart": true,
			"OnFailure":        "restart",
			// systemd: after the network, which a push needs.
			"Restart": "on-failure",
		},
	}
	if lang != "" {
		c.Arguments = append(c.Arguments, "-lang", lang)
	}
	if runtime.GOOS == "darwin" {
		// A launchd agent runs as the merchant, who owns the export
		// and the folders, and starts at login.
		c.Option["UserService"] = true
		c.Option["RunAtLoad"] = true
	}
	if runtime.GOOS == "linux" {
		c.Dependencies = []string{"After=network-online.target", "Wants=network-online.target"}
	}
	return c
}

// Control installs, uninstalls, starts, stops or restarts the service.
func (s *Service) Control(action string) error {
	if s.envFile != "" && action == "install" {
		if err := writeEnvFile(s.envFile, s.env); err != nil {
			return msg.Errorf("service install (%s): %w", service.Platform(), err)
		}
	}
	if err := service.Control(s.s, action); err != nil {
		return msg.Errorf("service %s (%s): %w", action, service.Platform(), err)
	}
	if action == "install" {
		if err := s.protect(); err != nil {
			// Installed, with its secrets open to the computer's users:
			// better not installed.
			if uerr := service.Control(s.s, "uninstall"); uerr != nil {
				err = errors.Join(err, uerr)
			}
			return msg.Errorf("service install (%s): %w", service.Platform(), err)
		}
	}
	if s.envFile != "" && action == "uninstall" {
		if err := os.Remove(s.envFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return msg.Errorf("service uninstall (%s): %w", service.Platform(), err)
		}
	}
	return nil
}

// writeEnvFile writes env as a systemd EnvironmentFile that only its
// owner reads, replacing the one an earlier install left. Values are
// double-quoted, in which systemd keeps line breaks (a deploy key has
// them) and undoes backslash escapes.
func writeEnvFile(path string, env map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by feedgen service install: the secrets feedgen daemon reads.\n")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`").Replace(env[k])
		fmt.Fprintf(&b, "%s=\"%s\"\n", k, v)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Written afresh with its mode, not over an older file that may
	// have another.
	tmp := path + ".new"
	os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Status says whether the service is installed, and running, as a
// message (msg.N) to print in the merchant's language.
func (s *Service) Status() (string, error) {
	st, err := s.s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return msg.N("not installed"), nil
	case err != nil:
		return "", msg.Errorf("service status (%s): %w", service.Platform(), err)
	case st == service.StatusRunning:
		return msg.N("running"), nil
	case st == service.StatusStopped:
		return msg.N("installed, stopped"), nil
	}
	return msg.N("unknown"), nil
}

// Run runs the daemon under the manager until the manager stops it.
func (s *Service) Run() error {
	if err := s.runManaged(); err != nil {
		return err
	}
	return s.prg.err
}

// Actions are what Control takes.
var Actions = service.ControlAction

// program starts the daemon on Start and stops it on Stop, as the
// manager asks; Start must return at once.
type program struct {
	run func(ctx context.Context) error
	// exit ends the process when the daemon stops by itself, with an
	// error it has logged: the manager then starts it again, where
	// waiting for a stop that never comes would leave it dead but
	// "running".
	exit   func()
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	err    error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		p.err = p.run(ctx)
		if ctx.Err() == nil {
			p.exit()
		}
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.once.Do(p.cancel)
	select {
	case <-p.done:
		return p.err
	case <-time.After(stopTimeout):
		return errors.New("the daemon did not stop in time")
	}
}
