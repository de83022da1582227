//go:build !(js && wasm)

package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/rfc6455/ws/conn"
)

// inBrowser is true when the program runs as WebAssembly in a page, where
// Dial opens the browser's WebSocket (browser_js.go) instead of TCP.
const inBrowser = false

// dialBrowser is never called outside js/wasm: Dial checks inBrowser, a
// constant, so the compiler drops the call. It exists so that Dial reads
// the same on every platform.
func (o *DialOptions) dialBrowser(context.Context, string) (*conn.Conn, *http.Response, error) {
	return nil, nil, errors.New("client: dialBrowser outside js/wasm")
}
