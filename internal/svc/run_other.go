//go:build !windows

package svc

// runManaged runs the daemon until the manager's SIGTERM.
func (s *Service) runManaged() error {
	return s.s.Run()
}
