//go:build !js

package h2stream

import "syscall"

// execve replaces the process image (Reexec's last step).
func execve(exe string, args, env []string) error { return syscall.Exec(exe, args, env) }
