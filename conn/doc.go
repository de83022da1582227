// Package conn implements the WebSocket connection of RFC 6455 for both
// roles over a net.Conn that has completed its opening handshake: messages
// and fragmentation, control frames, the closing handshake, limits and
// keepalive. Packages server and client perform the handshake and return a
// *Conn; New is for callers that do their own.
//
// # Messages
//
// ReadMessage appends the next message to a caller's buffer and
// WriteMessage sends one from a slice; reusing the buffer makes an echo
// loop allocate nothing. NextReader and NextWriter stream a message of any
// size through the Conn's fixed buffers. Text is validated as UTF-8 as it
// arrives, so a bad byte fails the connection with 1007 before the rest of
// the message is read (RFC 6455 §8.1).
//
// # Control frames
//
// Pings are answered with a pong carrying the same payload (§5.5.2) by the
// reading goroutine, even while another goroutine writes a long message:
// the pong goes out between two of its frames. Ping measures a round trip.
//
// # Hostile, slow and stalled peers
//
// Nothing a peer sends is trusted, and every default protects a server on
// the internet; each has an option to change it (negative turns a timeout
// or limit off):
//
//   - Options.ReadLimit (32 MiB) bounds a message, after decompression,
//     and a quarter more on the wire for a compressed one; ReadMessage
//     holds at most 1.25 times it for one message. Past it: 1009.
//   - Options.MaxMessageFrames (2^20) bounds the frames of one message,
//     so endless empty continuations end with 1009 too.
//   - Options.WriteTimeout (30 s) fails a write that a peer which stopped
//     reading leaves blocked, and closes the connection.
//   - Options.KeepAliveInterval and KeepAliveTimeout (30 s, 20 s) ping a
//     connection every interval, and close one whose peer stays silent
//     after a ping while the application waits to read: a dead or stalled
//     peer is released within a minute (51 s), and a quiet, live one
//     (which answers pings) stays.
//   - After failing a connection for what the peer sent (1002, 1007,
//     1009), the Conn waits at most a second for the peer's close frame
//     before it closes TCP (RFC 6455 §7.1.7), not the whole CloseTimeout.
//
// # Errors and closing
//
// Protocol violations by the peer fail the connection with the close code
// RFC 6455 §7.4.1 prescribes (1002, 1007, 1009) and are returned as a
// *ProtocolError (frame.ProtocolError). A close from the peer is answered with the same
// code and returned as a *CloseError; a connection that drops without a
// close frame returns a *CloseError with StatusAbnormalClosure (1006).
// Once a close handshake has completed, whichever side began it, every
// later read and write returns the peer's *CloseError; after CloseNow, or a
// Close the peer did not answer, they return ErrClosed. Two goroutines
// reading at once is an error (ErrConcurrentRead), but a read that starts
// while Close is reading the peer's close frame waits for it and returns
// it, so a read loop ends the same way wherever Close finds it.
//
// # Memory
//
// A Conn reads and writes through one read and one write buffer
// (Options.ReadBufferSize, WriteBufferSize; 16 KiB each by default) taken
// from pools while bytes flow and given back when the connection is quiet,
// so an idle Conn holds neither (buffers.go says exactly when) and the
// buffers can be large enough to read and answer a pipelining peer's
// messages 16 KiB at a time. On a TLS connection the read buffer is held
// for the connection's life, and is 4 KiB by default. The Conn
// struct is 1 KiB; a connection's goroutine waiting in ReadMessage parks
// near the top of its stack, so the runtime can shrink it to 2 KiB.
// A message larger than the buffers is not copied into them: the read limit
// (Options.ReadLimit, 32 MiB by default) is checked on each frame's declared
// length before anything is read, so a peer cannot make the Conn allocate
// more than the limit, and ReadMessage grows its buffer so that reading one
// message never allocates more than 1.25 times the limit in all (see
// Options.ReadLimit). The write timeout and the keepalive share one timer
// and about 350 bytes per connection. With permessage-deflate and context
// takeover, the compression window is the largest thing a quiet connection
// holds;
// Options.ReleaseCompressionAfter gives it back after a quiet period.
//
// # Protocol core
//
// The rules a Conn applies to what it receives are those of the protocol
// core, internal/proto, which the event-driven server (package
// server/event) applies too: proto.Rules admits or refuses each frame
// header (masking, reserved bits, sequencing, the read limit, frames per
// message) and proto.ParsePeerClose reads a close frame and the reply it
// is owed, so the two modes fail the same input with the same close code.
// The Conn walks frames by pulling them through frame.Reader, which lets a
// large payload go straight from the socket into ReadMessage's buffer; the
// event loop pushes what each read returned into a proto.Receiver, which
// keeps no payload. Both unmask with frame.Mask and check text with
// frame.UTF8Validator.
//
// # Extensions
//
// An Extension negotiated in the handshake transforms message payloads and
// owns reserved header bits; permessage-deflate (package deflate) plugs in
// through it.
package conn
