// Package ws is the map of a WebSocket implementation for Go, written from
// the RFCs up: RFC 6455 (the protocol) and RFC 7692 (permessage-deflate).
// This package holds no code; the work is done by the packages below it.
//
// # Which package for what
//
// Layered by import direction, lowest first. The first three never touch
// a connection: they work on bytes, readers, writers and HTTP request and
// response values, so they can be tested and reused without sockets.
//
//   - [github.com/rfc6455/ws/frame]: frame headers, masking, close payloads,
//     incremental UTF-8 validation (RFC 6455 §5, §7.4).
//   - [github.com/rfc6455/ws/handshake]: Sec-WebSocket-Accept, request and
//     response validation, Origin policy, subprotocols, the extension
//     header grammar (§4, §9.1).
//   - [github.com/rfc6455/ws/deflate]: permessage-deflate negotiation and
//     its own window-sized DEFLATE encoder and inflater (RFC 7692).
//   - [github.com/rfc6455/ws/conn]: the Conn every endpoint ends up with:
//     messages whole or streamed, control frames, the closing handshake,
//     limits, keepalive, PreparedMessage.
//   - [github.com/rfc6455/ws/server]: Accept inside a net/http handler
//     (HTTP/1.1, and HTTP/2 extended CONNECT per RFC 8441 when the process
//     starts with GODEBUG=http2xconnect=1), Upgrade on a bare net.Conn,
//     Serve for a net.Listener, Connections for a graceful shutdown with
//     1001.
//   - [github.com/rfc6455/ws/server/event]: the event mode for very many
//     connections (Linux epoll): no goroutine and no buffer per idle
//     connection, callbacks on a bounded pool, bounded write queues.
//   - [github.com/rfc6455/ws/client]: Dial ws:// and wss://, through HTTP
//     or SOCKS5 proxies, over HTTP/2 when asked (DialOptions.HTTP2), and
//     in a browser under GOOS=js GOARCH=wasm (the page's WebSocket).
//   - [github.com/rfc6455/ws/broadcast]: a Group that sends each message to
//     many connections, encoded once, with a bounded queue per member and
//     a stated policy for members that cannot keep up.
//
// The module depends on the standard library and golang.org/x/net only.
//
// # A server in ten lines
//
//	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
//		c, err := server.Accept(w, r, nil) // a bad handshake is answered with its 4xx
//		if err != nil {
//			return
//		}
//		defer c.CloseNow()
//		ctx := context.Background()
//		for {
//			typ, msg, err := c.ReadMessage(ctx, nil)
//			if err != nil || c.WriteMessage(ctx, typ, msg) != nil {
//				return // a *conn.CloseError once the peer has closed
//			}
//		}
//	})
//
// By default Accept admits browser pages only from the server's own host
// (AcceptOptions.Origin widens it). Package server's documentation shows
// Serve, which needs no net/http, and what to set on http.Server.
//
// # A client in ten lines
//
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	c, _, err := client.Dial(ctx, "wss://example.com/echo", nil)
//	if err != nil {
//		return err // a *client.ResponseError if the server refused
//	}
//	defer c.CloseNow()
//	if err := c.WriteMessage(ctx, conn.Text, []byte("hello")); err != nil {
//		return err
//	}
//	_, reply, err := c.ReadMessage(ctx, nil)
//	c.Close(conn.StatusNormalClosure, "")
//
// # Compression
//
// permessage-deflate is off unless asked for:
// server.AcceptOptions.Compression and client.DialOptions.Compression take
// a *deflate.ServerOptions or *deflate.ClientOptions; package deflate and
// the README's "Compression" section give the memory each setting costs.
//
// # Limits and timeouts
//
// Every limit has a protective default and an option to change it (zero
// keeps the default, negative turns a limit or timeout off):
//
//   - After the handshake, conn.Options: ReadLimit (32 MiB per message,
//     1009 past it), MaxMessageFrames, WriteTimeout (30 s: a peer that
//     stops reading is dropped), KeepAliveInterval and KeepAliveTimeout
//     (30 s, 20 s: a silent peer is released), CloseTimeout (5 s). Set them
//     through server.AcceptOptions.Conn or client.DialOptions.Conn.
//   - The server's handshake, server.AcceptOptions: HandshakeTimeout,
//     MaxHeaderBytes, and for Serve MaxHandshakes and MaxConnections.
//     Under net/http, the http.Server's ReadHeaderTimeout, MaxHeaderBytes
//     and IdleTimeout, which it leaves unset (package server explains).
//   - The client's handshake, client.DialOptions: HandshakeTimeout (30 s)
//     and MaxHeaderBytes (8 KiB).
//   - A broadcast, broadcast.Options: QueueSize (64 messages per member)
//     and the Policy for a member that falls behind (closed with 1008).
//
// The README's "Running it on the internet" gathers them with the values
// to use for a public server, and "Stopping" the graceful shutdown.
//
// # Tools
//
// In this repository, beside the packages:
//
//   - autobahn, with autobahn/cmd/wstest: the Autobahn|Testsuite
//     conformance cases in Go, run against this server and client (go run
//     ./autobahn/cmd/wstest) or any other; the expected verdicts are
//     checked in under autobahn/testdata.
//   - hostile/cmd/wshostile: a hostile-peer test tool that attacks a
//     server at a ws:// URL as a broken or malicious client would and
//     judges whether it protects itself.
//   - examples/echo: the echo server and client used as the endpoint
//     under test, with flags for the limits above; examples/apps (its own
//     module): a chat and a live dashboard, tested in a browser.
//   - bench (its own module): benchmarks against gorilla/websocket,
//     coder/websocket, gobwas/ws and lxzan/gws, the wsbench load generator
//     and cmd/compare, which writes bench/RESULTS.md.
//   - interop (its own module): tests against gorilla/websocket and
//     coder/websocket; fuzz: the fuzzing harness and its findings.
package ws
