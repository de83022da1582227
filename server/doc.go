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
//			return // Accept has answered with 400, 403, 405 or 426
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
// # Without net/http
//
// [Upgrade] runs the handshake on a bare net.Conn, parsing the request
// straight from the connection with a bounded header (8 KiB by default,
// 431 beyond it, RFC 6585 §5) and a handshake deadline, so a slow or
// hostile client costs at most a few KiB for at most HandshakeTimeout.
// [Serve] is the accept loop around it for a net.Listener.
//
// # Costs
//
// The handshake allocates the parsed request and, on the raw path, borrows
// a 4 KiB read buffer from a pool for its duration. An idle connection
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
