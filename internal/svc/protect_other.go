//go:build !windows

package svc

// protect has nothing to do: systemd's secrets are in a file only root
// reads, and a launchd agent's are in the merchant's own Library.
func (s *Service) protect() error { return nil }
