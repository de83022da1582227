// Package client opens WebSocket connections: it runs the client side of
// the opening handshake of RFC 6455 §4.1 and hands the connection to
// package conn.
//
//	c, resp, err := client.Dial(ctx, "wss://example.com/chat", &client.DialOptions{
//		Subprotocols: []string{"chat.v1"},
//	})
//
// # What Dial does
//
// [Dial] accepts ws:// and wss:// URLs (RFC 6455 §3) and, for convenience,
// http:// and https://. It opens TCP with DialOptions.NetDialContext,
// through a proxy when DialOptions.Proxy names one, starts TLS for wss://,
// sends the handshake request with a fresh Sec-WebSocket-Key from
// crypto/rand, and reads the response with a bounded header (8 KiB by
// default) so a hostile server cannot make the client buffer without
// limit. The response is checked as RFC 6455 §4.1 requires: status 101,
// the Upgrade and Connection tokens, the Sec-WebSocket-Accept value, and a
// subprotocol and extensions that were offered. Bytes the server sent
// right after its response are passed on to the Conn, not lost.
//
// When the server answers with anything but a valid 101, the error is a
// *ResponseError (handshake.ResponseError) holding the *http.Response (status, header
// fields such as WWW-Authenticate or Location) and at most the first KiB of
// its body. Dial does not follow redirects.
//
// # Proxies
//
// By default the proxy comes from the environment, as in net/http
// (HTTP_PROXY for ws://, HTTPS_PROXY for wss://, NO_PROXY, loopback never
// proxied). HTTP and HTTPS proxies are asked for a tunnel with CONNECT
// (RFC 9110 §9.3.6) for ws:// and wss:// alike, so the proxy never sees
// the WebSocket traffic as HTTP; credentials in the proxy URL are sent as
// Basic Proxy-Authorization. socks5:// and socks5h:// proxies (RFC 1928,
// RFC 1929 credentials) go through golang.org/x/net/proxy.
//
// # Time
//
// ctx and DialOptions.HandshakeTimeout (30 s by default) bound the whole of
// Dial, from the first TCP connection to the end of the response; they do
// not bound the Conn afterwards.
//
// # WebSockets over HTTP/2
//
// With DialOptions.HTTP2 set to HTTP2Prefer or HTTP2Require, Dial opens the
// WebSocket as an extended CONNECT stream (RFC 8441) on an HTTP/2
// connection: TLS with ALPN "h2" for wss://, cleartext with prior
// knowledge (RFC 9113 §3.3) for ws://. It waits for the server's first
// SETTINGS and uses the stream only when SETTINGS_ENABLE_CONNECT_PROTOCOL
// allows it; otherwise Prefer falls back to HTTP/1.1 and Require fails
// with ErrHTTP2Unavailable. A refusal by the server (4xx over HTTP/2) is
// not retried. The answer is a 200 whose Body is the stream.
//
// The default is HTTP2Never, for three reasons: Dial behaves as it always
// did (a 101, proxies honoured, one TCP connection per WebSocket), a Go
// server needs GODEBUG=http2xconnect=1 to accept it (see package server),
// so most servers would only cost Prefer a failed attempt, and HTTP/2 pays
// off only when WebSockets share connections, which takes an HTTP2Pool
// given to every Dial (DialOptions.HTTP2Pool): without one, each Dial
// opens a connection of its own. Proxies are not used over HTTP/2: when
// DialOptions.Proxy names one, Prefer uses HTTP/1.1 through it and
// Require fails.
//
// The Conn has the same deadlines, contexts, keepalive and limits as over
// TCP; the stream adapter implements deadlines itself (a read past its
// deadline returns a timeout and leaves the Conn usable; a write blocked
// by flow control past its deadline fails). Close sends the close frame,
// then END_STREAM, and waits up to a second, in the background, for the
// server's END_STREAM before it resets the stream (RFC 8441 §6). The
// HTTP/2 layer costs time and allocations per message that HTTP/1.1 does
// not (see BenchmarkHTTP2Echo and bench/cmd/h2cost).
//
// # Extensions
//
// DialOptions.Extensions is the seam for extensions such as
// permessage-deflate (RFC 7692): an [ExtensionOffer] lists the offers and
// turns the server's choice into the conn.Extension that implements it.
// Without one nothing is offered.
//
// # In a browser (js/wasm)
//
// Built with GOOS=js GOARCH=wasm and run in a page, Dial opens the
// browser's WebSocket (WHATWG WebSockets Standard) and returns the same
// *conn.Conn as on any other platform, so message code is shared: its
// reads, writes, streaming writers, read limit and close handshake work
// as they do over TCP. The Conn runs over a net.Conn that turns the
// browser's messages into frames and the Conn's frames back into
// messages (browser_js.go); a message written in fragments is
// reassembled and sent whole.
//
// The browser owns the wire, so what a page cannot ask for fails with an
// *UnsupportedError, matching [ErrNotSupported], rather than being
// ignored: DialOptions.Header, TLSConfig, Proxy, NetDialContext,
// MaxHeaderBytes, Extensions and Compression (the browser negotiates
// permessage-deflate itself), a keepalive or OnPing/OnPong in
// DialOptions.Conn (keepalive is off: the browser answers the server's
// pings and sends none of its own), and Conn.Ping, which leaves the
// connection usable. Subprotocols are offered as usual. WebSocket.close
// accepts only the codes 1000 and 3000-4999: a Conn closing with another
// code (such as 1009 for a message over the read limit) closes without a
// status, which the server reads as 1005. A failed Dial says only that
// the browser could not connect: a page is not told the status of a
// refused handshake. Input the application has not read yet is held up to
// twice Options.ReadLimit plus 1 MiB (65 MiB by default), since the
// browser cannot slow the server; past it the connection fails. Writes
// wait while the browser holds more than 4 MiB unsent, up to the write
// timeout. The returned *http.Response holds only what the browser
// reports: status 101, and the selected subprotocol and extensions.
package client
