// Package handshake implements the WebSocket opening handshake of
// RFC 6455 §4 as pure functions over net/http values and bytes: it
// validates and builds requests and responses, and never dials, listens
// or touches a net.Conn. The server and client packages do the I/O.
//
// # Server
//
// A server validates the client's request with [ParseRequest]
// (RFC 6455 §4.2.1), checks its origin with an [OriginPolicy]
// (RFC 6455 §4.2.2, §10.2), picks a subprotocol with [SelectSubprotocol]
// and answers with the bytes of [AppendResponse] (or [WriteResponse], or
// [SetResponseHeader] through net/http). Each failure is an [*Error]
// carrying the HTTP status to answer with (400, 403, 405, 426, 431, 505) and
// any header fields the answer needs; [AppendErrorResponse] renders it
// for a raw connection and [Error.ServeHTTP] through net/http.
//
// The Sec-WebSocket-Accept value (RFC 6455 §1.3, §4.2.2) comes from
// [AcceptKey] or, without allocating, [AppendAcceptKey]; AppendResponse
// does not allocate either, so a server's answer costs nothing per
// connection beyond its buffer.
//
// # Raw path
//
// Servers that accept on a listener without net/http read the request
// with [ReadRequest]. It bounds the header (8 KiB by default, 431 beyond
// it) and consumes the connection's bufio.Reader only up to the end of
// the header, so frames the client sent early stay buffered for the
// WebSocket connection. Deadlines remain the caller's job.
//
// # Client
//
// A client builds its request with [NewKey] and [NewClientRequest]
// (RFC 6455 §4.1), reads the answer with [ReadResponse] (also bounded,
// so a hostile server cannot make it buffer without limit) and validates
// it with [CheckResponse]. A refused handshake is a [*ResponseError]
// holding the response's status, header fields and a bounded prefix of
// its body.
//
// # Extensions
//
// [ParseExtensions] and [AppendExtensions] implement the
// Sec-WebSocket-Extensions grammar of RFC 6455 §9.1; negotiating any
// particular extension, such as permessage-deflate (RFC 7692), is left
// to the package that implements it. [VerifyExtensions] applies the
// client's rule that a server may accept only what was offered.
//
// # Header fields
//
// Token lists (Upgrade, Connection, Sec-WebSocket-Protocol) are matched
// as RFC 7230 §7 lists: ASCII case-insensitive tokens, commas, optional
// whitespace, empty elements and repeated fields; see [ContainsToken].
package handshake
