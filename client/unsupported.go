package client

import "errors"

// ErrNotSupported is matched (errors.Is) by every *UnsupportedError: what a
// browser's WebSocket cannot do when the program runs as WebAssembly in a
// page (GOOS=js GOARCH=wasm).
var ErrNotSupported = errors.New("client: not supported by the browser's WebSocket")

// UnsupportedError reports an option or an operation that a browser's
// WebSocket cannot carry out under js/wasm, such as a handshake header
// (DialOptions.Header) or a ping (Conn.Ping): the page's WebSocket API
// (WHATWG WebSockets Standard) has no way to ask for it. Dial returns it
// for each DialOptions field that is set and cannot be honoured, rather
// than ignoring the field; Conn.Ping returns it and leaves the connection
// usable. Check it with errors.Is(err, ErrNotSupported), or errors.As for
// the details.
type UnsupportedError struct {
	What string // the option or operation, e.g. "DialOptions.Header" or "Ping"
	Why  string // what the browser does instead, or why it cannot
}

func (e *UnsupportedError) Error() string {
	return "client: " + e.What + " is not supported by the browser's WebSocket (js/wasm): " + e.Why
}

// Is reports whether target is ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }
