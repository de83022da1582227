// Package bench measures the ws library against the other Go WebSocket
// libraries and gives anyone a load generator to point at their own
// server. It is its own Go module, so that gorilla/websocket,
// coder/websocket, gobwas/ws and lxzan/gws never enter the root module's
// dependencies.
//
// # What is here
//
//   - go test -bench . in this directory: micro benchmarks of the pieces
//     each library exposes (frame header encoding and decoding, masking
//     beside copy(), UTF-8 validation beside unicode/utf8.Valid) and Conn
//     echo benchmarks per library over net.Pipe and loopback TCP, with
//     compression off and on.
//     `make bench` runs them with -count and prints benchstat tables with
//     every library's ratio to ours.
//   - cmd/wsbench: a load generator for any ws:// or wss:// URL (closed
//     loop with pipelining, open loop at a fixed rate with latency measured
//     from the intended send time, idle connections for memory;
//     -compress for permessage-deflate).
//   - cmd/compare: starts one echo server per library (servers/<lib>, ours
//     being examples/echo) pinned to one CPU, drives each with wsbench
//     pinned to another, with compression off and then on, and writes
//     RESULTS.md with SVG charts.
//
// Benchmark names use key=value elements (lib=ours, size=1KiB) so that
// benchstat can put libraries side by side: see the Makefile.
package bench
