// Package proto is the protocol core of RFC 6455 shared by both ways of
// running a connection: the goroutine-per-connection conn.Conn and the
// event loop of package server/event. It takes bytes and returns decisions
// and events, and does no I/O, so its rules are tested on byte strings
// alone and the same code decides, in both modes, which frame may follow
// which, which close code a violation earns and what a control frame
// obliges the receiver to send (the python-websockets protocol.py and
// tungstenite WebSocketContext design).
//
// # Pieces
//
//   - Rules admits or refuses each frame header: masking, reserved bits,
//     message sequencing (§5.4), the read limit and the bound on frames
//     per message. conn.Conn and Receiver both check every header with it.
//   - ParsePeerClose turns a close frame's payload into the peer's status
//     and the status owed in reply (§5.5.1, §7.4).
//   - Receiver is the push-driven receiver: it consumes bytes as they
//     arrive, in pieces of any size, and yields data payload (unmasked, in
//     place), control frames and the peer's close, failing with a
//     *frame.ProtocolError that carries the close code to send. Text is
//     validated as UTF-8 as it arrives (§8.1).
//
// The package is internal: its API follows the needs of the two drivers,
// not the public surface of package conn.
package proto
