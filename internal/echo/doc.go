// Package echo is the echo endpoint shared by examples/echo, the tests,
// the benchmarks and the Autobahn runner: a server handler and a client
// that send every message they receive back with the same type (opcode,
// RFC 6455 §5.6) until the peer closes the connection (§7).
//
// [Loop] reads each message into one reused buffer and writes it back
// whole, so once the buffer has grown to the largest message an echo
// allocates nothing.
//
// It is a test endpoint: [Handler] accepts any Origin (RFC 6455 §10.2),
// which a server reachable from browsers must never do.
package echo
