// Package h2stream makes one HTTP/2 stream look like a net.Conn, so that a
// WebSocket carried by an extended CONNECT (RFC 8441) runs on package
// conn exactly as it does over TCP.
//
// # Why an adapter
//
// The stream's two halves are what net/http hands out: on the server the
// request body (the client's DATA frames) and the ResponseWriter (ours);
// on the client the response body and the request body, which the
// transport reads from. Neither half has deadlines that package conn can
// use: the server's http.ResponseController deadlines end the stream for
// good when they fire (a read deadline closes the request body, a write
// deadline resets the stream), and the client's halves have none. Package
// conn needs read deadlines that leave the connection usable (a keepalive
// read, a read that waits for a message under a context) and write
// deadlines that fail a blocked write. Conn implements them itself:
//
//   - Reads: a goroutine per stream moves the peer's data from the body
//     into a buffer of ReadBufferSize bytes, and Read copies from there,
//     so a Read can give up at its deadline without leaving anyone
//     writing into the caller's slice. Nothing is lost: the bytes stay
//     for the next Read.
//   - Writes: Write hands the bytes to the stream in the caller's
//     goroutine; when its deadline passes while it is blocked (HTTP/2 flow
//     control: the peer stopped reading), the stream's writer is aborted,
//     which on the server resets the stream and on the client withdraws
//     the bytes the transport has not taken. package conn closes the
//     connection after a write timeout anyway.
//
// Errors of timed-out calls are os.ErrDeadlineExceeded, whose Timeout
// method reports true, as a net.Conn's are.
//
// # Closing (RFC 8441 §6)
//
// An orderly close is the WebSocket close handshake followed by
// END_STREAM in both directions; RST_STREAM plays the part of a TCP
// reset. Close on the client ends the request body (END_STREAM), waits up
// to CloseWait for the server's END_STREAM and then releases the
// response, which resets the stream only if the server has not ended it.
// On the server END_STREAM is sent when the handler returns, which is why
// a handler that accepted a WebSocket over HTTP/2 must not return until
// it is done with it; Close stops the reading goroutine and makes every
// later call fail.
package h2stream
