//go:build js

package h2stream

import "errors"

// execve: a js/wasm program cannot replace itself, and a browser page has
// no HTTP/2 server to enable.
func execve(string, []string, []string) error {
	return errors.New("h2stream: cannot re-execute a js/wasm program")
}
