//go:build !js

package h2stream

import (
	"errors"
	"syscall"
)

const canReexec = true

var errNoReexec = errors.New("h2stream: cannot re-execute")

// execve replaces the process image (Reexec's last step).
func execve(exe string, args, env []string) error { return syscall.Exec(exe, args, env) }
