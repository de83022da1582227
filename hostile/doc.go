// Package hostile is a hostile-peer test suite for WebSocket servers
// (RFC 6455, RFC 7692): it attacks a server at a ws:// URL the way a
// broken or malicious client would, and judges whether the server
// protects itself. Command wshostile (hostile/cmd/wshostile) runs it; see
// hostile/README.md for each attack and why.
//
// # Attacks
//
// Each Attack is a row of the result table: what it sends, the outcome a
// protected server produces (an HTTP 4xx instead of 101, a close frame
// with the code RFC 6455 §7.4.1 assigns, TCP released within a bound, a
// fresh echo still served, memory and descriptors back to a baseline),
// the observed outcome, the time to release, and PASS, FAIL or SKIP.
//
// # Independence
//
// The tool judges the project's own server, so it shares none of its
// code: handshakes and frames are built and parsed byte by byte by
// package wire, and compressed payloads come from compress/flate.
//
// # Memory and descriptors
//
// With Config.PID set to the server's process, the tool reads
// /proc/PID/status (VmRSS, VmHWM, Threads) and counts /proc/PID/fd to check
// memory and descriptor bounds; without it, those checks are SKIP.
package hostile
