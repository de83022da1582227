// Package server accepts WebSocket connections: it runs the server side of
// the opening handshake of RFC 6455 §4.2 and hands the connection to
// package conn.
//
// # Under net/http
//
// [Accept] upgrades a request inside any http.Handler:
//
//	func handler(w http.ResponseWriter, r *http.Request) {
//		c, err := server.Accept(w, r, &server.AcceptOptions{Subprotocols: []string{"chat.v1"}})
//		if err != nil {
//			return // Accept has answered with 400, 403, 405, 426, 503 or 505
//		}
//		defer c.CloseNow()
//		...
//	}
//
// The request is validated by handshake.ParseRequest (RFC 6455 §4.2.1), the
// Origin by the options' handshake.OriginPolicy (§10.2: by default only
// same-host browser pages may connect), and a failure is answered with its
// status and a short plain-text body. On success Accept takes the TCP
// connection over through http.ResponseController, so middleware that wraps
// the ResponseWriter works as long as it has an Unwrap method, and writes
// the 101 response itself. Bytes the client sent right after its request
// are passed on to the Conn, not lost.
//
// An upgrade request has no body: the bytes after its header are the
// client's first frames. Accept refuses a request that announces one
// (Content-Length other than 0, or any Transfer-Encoding) with 400 and
// closes the connection, as the raw path does; otherwise the body would
// be read as WebSocket frames that nothing in front of the server saw as
// such.
//
// # Limits under net/http
//
// Before Accept runs, net/http reads the request, and the http.Server's
// fields decide what a slow or hostile client can hold. Its zero value
// suits none of them for a server on the internet; set:
//
//   - ReadHeaderTimeout: how long a client has to send its request's
//     header. Zero means no limit, so a client that sends nothing, or a
//     byte a second, holds its connection and goroutine for good; 10 s is
//     ample for a handshake.
//   - MaxHeaderBytes: the request header's size. The default is 1 MiB
//     (net/http allows 4 KiB more); a handshake needs a few KiB, and
//     handshake.DefaultMaxHeaderBytes (8 KiB, what the raw path allows) is a
//     good value. Beyond it, net/http answers 431.
//   - IdleTimeout: how long a keep-alive connection may wait for its next
//     request. Zero falls back on ReadTimeout, and with that zero too there
//     is no limit.
//
// ReadTimeout and WriteTimeout, if set, apply to the HTTP exchange only:
// Accept clears them on the connection it takes over. http.Server has no
// cap on connections; golang.org/x/net/netutil.LimitListener adds one (it
// stops accepting at the cap), at a cost: the net.Conn it wraps is not a
// *net.TCPConn, so an idle Conn on it keeps a read buffer (see package
// conn). Serve has such a cap built in. examples/echo shows these
// settings.
//
// # Without net/http
//
// [Upgrade] runs the handshake on a bare net.Conn, parsing the request
// straight from the connection with a bounded header (8 KiB by default,
// 431 beyond it, RFC 6585 §5) and a handshake deadline, so a slow or
// hostile client costs at most a few KiB for at most HandshakeTimeout.
// [Serve] is the accept loop around it for a net.Listener, with limits on
// by default:
//
//   - HandshakeTimeout (10 s): for the request and the response.
//   - MaxHeaderBytes (8 KiB): 431 beyond it.
//   - MaxHandshakes (1024): handshakes waiting for their request. Past it
//     the oldest is cut short, so that a flood of slow clients holds a
//     bounded number of goroutines and buffers (about 20 MiB at the
//     defaults) without locking out real clients, which need their slot
//     for a round trip only.
//   - MaxConnections (the descriptor limit less an eighth, at most 1024
//     less; see DefaultMaxConnections): open connections, handshakes
//     included. Past it a new connection is answered 503 and closed.
//
// Once a Conn is established, its own limits apply: message size, close
// and keepalive timeouts (conn.Options).
//
// # Shutting down
//
// A server that stops should tell its clients so (RFC 6455 §7.4.1, 1001
// Going Away) rather than drop them. Give every AcceptOptions the same
// [Connections] and call its Shutdown when stopping: it refuses new
// upgrades with 503, stops Serve, sends 1001 to every connection at once,
// waits for the close handshakes until its context is done and then
// closes the rest. Under net/http, call http.Server.Shutdown as well,
// which knows nothing of hijacked connections:
//
//	conns := &server.Connections{}
//	opts := &server.AcceptOptions{Connections: conns}
//	...
//	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//	defer cancel()
//	go srv.Shutdown(ctx) // stop accepting HTTP requests
//	conns.Shutdown(ctx)  // 1001 to every WebSocket connection
//
// # Costs
//
// The handshake allocates the parsed request and, on the raw path, borrows
// a 4 KiB read buffer from a pool for its duration; Serve adds a small
// allocation for the handshake's slot and one for the hook that counts
// the connection, and a Connections set two more per connection. An idle connection
// holds no read or write buffer (package conn lends them from pools while
// bytes flow); what it keeps is the Conn (1 KiB), the socket, the
// negotiated extension's state and the goroutine serving it. Through
// net/http, return from the handler after Accept and serve the Conn on a
// goroutine of your own: until the handler returns, net/http keeps the
// request's buffers (8 KiB) and the handler's deeper stack. Serve starts
// each handler on a fresh goroutine for the same reason.
//
// # Extensions
//
// AcceptOptions.Extensions is the seam for extensions such as
// permessage-deflate (RFC 7692): an [ExtensionNegotiator] sees the client's
// offers and returns the accepted ones with the conn.Extension that
// implements them. Without one, offers are declined, which RFC 6455 §9.1
// always allows.
package server
