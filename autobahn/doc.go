// Package autobahn runs the fuzzing cases of Autobahn|Testsuite natively in
// Go, against any WebSocket server or client, and writes the original's
// reports.
//
// Autobahn|Testsuite (crossbario/autobahn-testsuite) is the reference
// conformance suite for RFC 6455 and RFC 7692 implementations, but it runs
// only on Python 2. This package and its subpackages implement the same
// 517 cases (sections 1-7, 9, 10, 12 and 13, with the same IDs,
// descriptions and expectations), the same verdict logic, the same spec
// files and the same report layout, so its results can be read exactly as
// the original's.
//
// # Modes
//
// [Client] is the original's fuzzingclient mode: the suite connects to
// each testee server listed in a [Spec] and runs each case on a new
// connection. [Server] is the fuzzingserver mode: testee clients connect to
// /runCase?case=N&agent=A and the WebSocket control endpoints
// (/getCaseCount, /getCaseInfo, /getCaseStatus, /updateReports) answer as
// the original's do, so existing testee clients work unchanged.
//
// The original runs one case at a time. Here cases run concurrently
// (Client.Parallel), each on its own connection with its own timers, which
// does not change what a case observes; section 9 (performance) still
// runs one case at a time so its timings mean something. The cases of a
// run share an engine.Cache (Client.Cache, Server.Cache), so that the
// section 12/13 sequences are compressed once and echoes already checked
// are recognized; each result carries the suite's own CPU time for the
// case (SuiteCPU) next to its duration.
//
// # Layers
//
// Package engine holds the suite's endpoint: an RFC 6455 state machine fed
// with bytes and timer events, which can also send malformed octets, and
// which behaves on bad input the way the original's endpoint does, since
// the verdicts depend on it. It does no I/O; this package drives it over
// net.Conn (one goroutine runs the session and its timers, one reads, one
// writes, so a testee that echoes while the suite is still sending cannot
// deadlock it). Package cases defines the cases, package report writes
// index.json, one JSON file per case and the HTML pages, and compares
// results with an expected-results file. Command wstest puts it together.
//
// # Verdicts (from the original's case.py)
//
// Each case records the events it observes (messages, pongs, its own
// timeouts) and compares them with one or more expected sequences; the
// first that matches gives the behavior (OK, NON-STRICT, ...), none gives
// FAILED. The close behavior compares who closed first, whether the
// closing handshake completed cleanly, and the testee's close code with
// the expectation: FAILED for the wrong endpoint, UNCLEAN, WRONG CODE, or
// (the suite being a client that had to drop TCP itself) FAILED BY CLIENT.
// Cases with their own logic (7.1.6, 7.13.x informational; 9.x and 12.x
// timed echoes; 10.1.1 frame counts) adjust the verdict as the original's
// do. FIDELITY.md lists where this port knowingly differs.
package autobahn
