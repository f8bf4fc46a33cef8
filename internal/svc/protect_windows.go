package svc

import (
	"feedgen/internal/msg"

	"golang.org/x/sys/windows"
)

// keyDACL lets the system account and the administrators read the
// service's registry key, and nobody else: the key holds the secrets
// the service was given (its Environment value), and a service's key
// is otherwise readable by every user of the computer.
const keyDACL = "D:P(A;CI;KA;;;SY)(A;CI;KA;;;BA)"

// protect closes the service's registry key to other users when it holds
// secrets.
func (s *Service) protect() error {
	if len(s.env) == 0 {
		return nil
	}
	sd, err := windows.SecurityDescriptorFromString(keyDACL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	key := `MACHINE\SYSTEM\CurrentControlSet\Services\` + Name
	if err := windows.SetNamedSecurityInfo(key, windows.SE_REGISTRY_KEY,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return msg.Errorf("keep the service's secrets from other users: %w", err)
	}
	return nil
}
