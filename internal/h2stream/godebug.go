package h2stream

import (
	"os"
	"strings"
)

// GODEBUGSetting is what the environment's GODEBUG must hold when the
// process starts for net/http's HTTP/2 server (and golang.org/x/net/http2's)
// to advertise SETTINGS_ENABLE_CONNECT_PROTOCOL and pass extended CONNECT
// requests to handlers (RFC 8441 §3). Both read the variable once, in
// their package initialisation, with os.Getenv: a //go:debug directive or
// os.Setenv in main comes too late. The client side needs nothing.
const GODEBUGSetting = "http2xconnect=1"

// serverEnabled is read as net/http reads it, once at start. net/http is
// initialised before this package, so both saw the same environment.
var serverEnabled = strings.Contains(os.Getenv("GODEBUG"), GODEBUGSetting)

// ServerEnabled reports whether this process started with extended
// CONNECT enabled in net/http's HTTP/2 server.
func ServerEnabled() bool { return serverEnabled }

// Reexec replaces the process with a copy of itself whose environment
// has GODEBUGSetting added to GODEBUG, unless it is there already; it
// returns only on failure, or with nil when nothing had to be done. It is
// for commands and test binaries that want HTTP/2 WebSockets without
// asking their user to set the environment; it must run before the
// process starts other goroutines' work (first thing in main or
// TestMain).
func Reexec() error {
	if serverEnabled {
		return nil
	}
	if !canReexec {
		return errNoReexec
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := os.Environ()
	found := false
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if v != "" {
				v += ","
			}
			env[i] = "GODEBUG=" + v + GODEBUGSetting
			found = true
		}
	}
	if !found {
		env = append(env, "GODEBUG="+GODEBUGSetting)
	}
	return execve(exe, os.Args, env)
}
