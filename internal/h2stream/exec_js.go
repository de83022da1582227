//go:build js

package h2stream

import "errors"

// A js/wasm program cannot replace itself (os.Executable is not
// implemented there), and a browser page has no HTTP/2 server to enable.
const canReexec = false

var errNoReexec = errors.New("h2stream: a js/wasm program cannot re-execute itself")

func execve(string, []string, []string) error { return errNoReexec }
