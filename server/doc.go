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
// Accept clears them on the connection it takes over, and over HTTP/2 on
// the stream once its 200 is sent (net/http arms them on every stream). http.Server has no
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
// # WebSockets over HTTP/2
//
// Accept also takes a WebSocket carried by an HTTP/2 stream (RFC 8441): an
// extended CONNECT request with ":protocol: websocket". Version,
// subprotocol, origin and extension negotiation (permessage-deflate
// included) are those of HTTP/1.1; there is no Sec-WebSocket-Key, the
// answer is 200, and the Conn runs over the stream (with deadlines of its
// own: net/http's HTTP/2 deadlines would end the stream when they fire).
// Browsers do this by themselves: Chromium opens a page's wss://
// WebSockets as streams of the page's HTTP/2 connection when the server
// allows it, one TCP and TLS connection instead of one per socket.
//
// net/http allows it only when the process starts with
//
//	GODEBUG=http2xconnect=1
//
// in its environment: its HTTP/2 server reads the variable once, at
// initialisation, to advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441
// §3) and let :protocol through. A //go:debug line does not work (the
// compiler does not know the setting), nor does os.Setenv in main (too
// late). Without it nothing breaks: clients see no setting and use
// HTTP/1.1. ExtendedConnectEnabled reports whether it is on;
// examples/echo -h2 restarts itself with it. An HTTP/2 request that is not
// an extended CONNECT is answered 505 with a message that says so.
//
// Over HTTP/2 the handler's return ends the stream (END_STREAM), so the
// handler must serve the Conn itself and return when it is done, not
// hand it to a goroutine and return at once as the HTTP/1.1 advice below
// says: Accept cannot take the stream away from net/http as it takes a
// TCP connection. A Conn used after its handler returned fails with
// ErrHandlerReturned. The close handshake, then the handler's return, is
// RFC 8441 §6's orderly close; a peer's RST_STREAM reads as a dropped
// connection (1006). Limits are net/http's: http.Server.MaxHeaderBytes
// (431 beyond it), and the HTTP/2 server's stream and flow-control
// settings (http.Server.HTTP2). Each stream costs a goroutine that reads
// it into an 8 KiB buffer (smaller with conn.Options.ReadBufferSize), and
// the handler's goroutine stays for the WebSocket's life.
//
// # Extensions
//
// AcceptOptions.Extensions is the seam for extensions such as
// permessage-deflate (RFC 7692): an [ExtensionNegotiator] sees the client's
// offers and returns the accepted ones with the conn.Extension that
// implements them. Without one, offers are declined, which RFC 6455 §9.1
// always allows.
package server
