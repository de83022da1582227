//go:build js && wasm

package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
)

// TestBrowserOptions: every DialOptions field a page cannot honour fails
// with an *UnsupportedError naming it, and the Conn's keepalive is off.
// (client/wasmtest runs Dial itself in headless Chromium.)
func TestBrowserOptions(t *testing.T) {
	for _, tc := range []struct {
		what string // "" when the options are accepted
		opts DialOptions
	}{
		{"", DialOptions{}},
		{"", DialOptions{Subprotocols: []string{"chat.v1"}, HandshakeTimeout: time.Second, Conn: &conn.Options{ReadLimit: 1 << 10, MaxFrameSize: 100}}},
		{"DialOptions.TLSConfig", DialOptions{TLSConfig: &tls.Config{}}},
		{"DialOptions.Header", DialOptions{Header: http.Header{}}},
		{"DialOptions.Extensions", DialOptions{Extensions: deflateOffer{}}},
		{"DialOptions.Compression", DialOptions{Compression: &deflate.ClientOptions{}}},
		{"DialOptions.NetDialContext", DialOptions{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}},
		{"DialOptions.Proxy", DialOptions{Proxy: NoProxy}},
		{"DialOptions.MaxHeaderBytes", DialOptions{MaxHeaderBytes: 1}},
		{"Options.KeepAliveInterval", DialOptions{Conn: &conn.Options{KeepAliveInterval: time.Second}}},
		{"Options.KeepAliveInterval", DialOptions{Conn: &conn.Options{KeepAliveTimeout: time.Second}}},
		{"Options.OnPing and OnPong", DialOptions{Conn: &conn.Options{OnPong: func([]byte) {}}}},
	} {
		got, err := tc.opts.browserOptions()
		if tc.what == "" {
			if err != nil || got.KeepAliveInterval >= 0 {
				t.Errorf("%+v: options %+v, error %v; want keepalive off and no error", tc.opts, got, err)
			}
			continue
		}
		var ue *UnsupportedError
		if !errors.Is(err, ErrNotSupported) || !errors.As(err, &ue) || ue.What != tc.what {
			t.Errorf("%s: error %v, want an *UnsupportedError for it", tc.what, err)
		}
	}
}

func TestBrowserURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://h/p?q", "ws://h/p?q"},
		{"wss://h:8443/", "wss://h:8443/"},
		{"http://h/x", "ws://h/x"},
		{"https://h/x", "wss://h/x"},
		{"ftp://h/", ""},
		{"ws://h/#frag", ""},
	} {
		got, err := browserURL(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("browserURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestInputBound(t *testing.T) {
	for _, tc := range []struct{ limit, want int64 }{
		{0, 2*conn.DefaultReadLimit + browserInputSlack},
		{1000, 2000 + browserInputSlack},
		{-1, -1},
	} {
		if got := inputBound(tc.limit); got != tc.want {
			t.Errorf("inputBound(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}
