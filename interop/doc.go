// Package interop holds tests and benchmarks that run our client and
// server against two independent RFC 6455 implementations,
// gorilla/websocket and coder/websocket, in both directions: every message
// size class of RFC 6455 §5.2 (7-bit, 16-bit and 64-bit lengths), text and
// binary, whole and fragmented (§5.4), and close codes (§7.4).
//
// It is a module of its own, with a replace directive pointing at the
// library, so that github.com/rfc6455/ws depends on neither library.
//
//	cd interop && go test -race ./...
//	cd interop && go test -run '^$' -bench . -benchmem
package interop
