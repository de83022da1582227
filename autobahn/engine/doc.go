// Package engine is the suite's side of a WebSocket connection, written to
// behave as the original Autobahn|Testsuite's endpoint (Autobahn|Python
// 0.10.9 with failByDrop off) does, because the verdicts depend on it.
//
// A [Session] runs one case, or one control request of the fuzzing
// server, on one connection, in either role (RFC 6455 §4: the suite as
// client masks its frames, as server it does not). It is fed bytes with
// Receive and told of the connection's end with ConnectionLost; it writes,
// drops the connection and sets timers through an [Env], and all calls
// come from one goroutine. It imports nothing from net, so it is tested
// with a fake clock and no sockets.
//
// # Sending
//
// [Session.SendFrame] sends any frame, valid or not: reserved bits and
// opcodes, fragmented control frames, payloads repeated to a length,
// octets chopped into separate writes, or a frame in a write of its own.
// [Session.SendMessage] sends a message as the original does, compressed
// when permessage-deflate is in use and fragmented on request.
// BeginMessage, BeginMessageFrame, SendMessageFrameData and EndMessage
// stream one frame's payload in pieces (cases 6.4.3, 6.4.4).
//
// Like the original's reactor, which sends what one callback wrote in one
// go, the session hands what one step wrote (a call into it, a timer, a
// posted function) to Env.Write at once, so the frames of a step share
// TCP segments as they do with the original; chopped and synchronized
// writes are queued and go out one per step, 10 µs apart.
//
// # Receiving
//
// Incoming frames are checked in the original's order (RFC 6455 §5.2,
// §5.4, §5.5, §7.4): a violation fails the connection with a close frame
// (1002, or 1007 for invalid UTF-8 in text and close reasons, checked as
// the bytes arrive) and, as in the original, processing continues so the
// closing handshake can complete; a second violation while closing drops
// TCP. A close from the testee is answered at once with 1000; as a server
// the suite then drops TCP, as a client it waits up to
// ServerConnectionDropTimeout for the server to drop it.
//
// # Timers
//
// Cases wait with ContinueLater, KillAfter (fail the connection with 1001)
// and CloseAfter (send a close without code), with the original's delays.
// The suite's own close waits CloseHandshakeTimeout (1 s) for the reply.
//
// # permessage-deflate (RFC 7692)
//
// Offers, responses and accepts follow the original's parameter handling.
// The suite compresses with compress/flate at window 15 and, when the
// testee asks for a smaller window, with a small encoder of its own
// (greedy LZ77 within the window, fixed Huffman codes). It inflates the
// testee's messages with compress/flate when a message is complete (the
// original inflates as frames arrive) and, where a window below 15 bits
// was negotiated, walks the DEFLATE symbols to fail a match reaching past
// it (RFC 7692 §7.1.2), which compress/flate would allow.
//
// Sections 12 and 13 send the same message sequences case after case
// (about 11 GB each way for the two roles). A [Cache] shared by the
// sessions of a run keeps the compressed form of each [Sequence] to send
// again, and recognizes an echo by the SHA-256 of its octets when the
// same octets were inflated and checked against the same message under
// the same history before; anything else is inflated and checked in full
// (see Cache for why this judges exactly as inflating again would).
//
// # Independence
//
// The suite judges this project's frame, deflate, conn, server and client
// packages, so it imports none of them: frame headers, masking (one byte
// at a time) and the window check are its own code, UTF-8 validation and
// DEFLATE come from the standard library. A bug in the library cannot
// hide by being made on both sides of the wire. autobahn/FIDELITY.md lists
// the deliberate bugs this was checked with.
package engine
