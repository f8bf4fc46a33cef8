package svc

import (
	"golang.org/x/sys/windows/svc"
)

// runManaged speaks to the service control manager itself. The daemon
// runs with -service only as the manager starts it, so there is no need
// to guess, as the library does from the parent process, which Wine (and
// some hosts) answer otherwise: the manager then waits for a word that
// never comes and ends the service.
func (s *Service) runManaged() error {
	return svc.Run(Name, s.prg)
}

// Execute is the service's side of the control manager's protocol: start,
// then stop when asked.
func (p *program) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	if err := p.Start(nil); err != nil {
		return true, 1
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case <-p.done:
			// The daemon stopped by itself; exit has ended the process.
			return true, 1
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				if err := p.Stop(nil); err != nil {
					return true, 2
				}
				return false, 0
			}
		}
	}
}
