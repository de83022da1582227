//go:build unix

package hostile

import "syscall"

// fdsAvailable reports whether this process may open n descriptors (Go
// raises the soft RLIMIT_NOFILE to the hard one at start-up).
func fdsAvailable(n int) bool {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return true // unknown: let the attacks find out
	}
	return rl.Cur >= uint64(n)
}
