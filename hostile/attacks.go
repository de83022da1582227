package hostile

import "fmt"

// Attacks returns every attack, in the order they run, with the expected
// outcomes worded from c's bounds. The cheap single-connection checks
// come first; then the load attacks and the memory measurement, before
// the floods and bombs, so that memory those leave behind (and a
// server's later return of it) does not blur the figures; the long
// holds come last.
func Attacks(c *Config) []Attack {
	handshake := []Attack{
		{Name: "handshake/oversized", run: oversizedHandshake,
			Sends:  "upgrade request with 1 MiB of extra header fields",
			Expect: "HTTP 4xx (431 or 400), never 101"},
		{Name: "handshake/body-content-length", run: bodyContentLength,
			Sends:  "upgrade request with Content-Length: 14 and a masked text frame \"smuggled\" as body",
			Expect: "HTTP 4xx (400), never 101 (a GET upgrade has no body, RFC 6455 §4.1)"},
		{Name: "handshake/body-chunked", run: bodyChunked,
			Sends:  "upgrade request with Transfer-Encoding: chunked and the same frame as a chunk",
			Expect: "HTTP 4xx (400), never 101"},
		{Name: "handshake/slow", run: slowHandshake,
			Sends:  fmt.Sprintf("%d connections each writing an upgrade request 1 byte per second", c.Slow),
			Expect: fmt.Sprintf("each cut within -handshake-timeout %s (+ -release), and a fresh echo served while they are held", ms(c.HandshakeTimeout))},
	}
	out := append(handshake, frameAttacks()...)
	return append(out,
		Attack{Name: "load/resets-mid-frame", run: resetsMidFrame,
			Sends:  fmt.Sprintf("%d connections: handshake, half of a 1000-byte frame, then RST", c.Resets),
			Expect: fmt.Sprintf("fresh echo served; server fds back to baseline within -settle %s (needs -pid)", ms(c.Settle))},
		Attack{Name: "load/connect-churn", run: connectChurn,
			Sends:  fmt.Sprintf("%d cycles: connect, handshake, leave by FIN or RST without a close frame (1 in 10 leaves mid-request)", c.Churn),
			Expect: fmt.Sprintf("fresh echo served; server fds back to baseline within -settle %s (needs -pid)", ms(c.Settle))},
		Attack{Name: "load/idle", run: idleConnections,
			Sends:  fmt.Sprintf("%d connections that answer pings and are otherwise quiet for -idle-time %s", c.Idle, ms(c.IdleTime)),
			Expect: "none dropped, each echoes a message at the end; RSS per connection reported with -pid"},
		Attack{Name: "memory/read-limit", run: readLimitFlood,
			Sends:  fmt.Sprintf("%d connections at once, each one binary message of -read-limit %s less 1 KiB, echoes read", c.FloodConns, mib(c.ReadLimit)),
			Expect: fmt.Sprintf("all echoed; peak server RSS growth per connection <= %.1f x the limit (needs -pid)", c.LimitFactor)},
		Attack{Name: "flood/fragments", run: fragmentFlood,
			Sends:  fmt.Sprintf("a text frame with FIN clear, then up to %d empty continuation frames", c.Fragments),
			Expect: "close 1009 or 1008 before the last fragment, TCP closed within -release"},
		Attack{Name: "bomb/deflate-zeros", run: bombAttack(c),
			Sends:  fmt.Sprintf("with permessage-deflate: one message of %s of zeros compressed to a few KiB", mib(c.ReadLimit+1<<20)),
			Expect: "close 1009 (inflated size over -read-limit), TCP closed within -release"},
		Attack{Name: "bomb/empty-stored-blocks", run: storedBlocksBomb,
			Sends:  fmt.Sprintf("with permessage-deflate: one frame of %s of empty stored blocks (00 00 00 ff ff), streamed", mib(max(64<<20, 2*c.ReadLimit))),
			Expect: "close 1009 before the end of the frame, TCP closed within -release"},
		Attack{Name: "flood/ping-no-read", run: pingFlood,
			Sends:  "pings with 125-byte payloads as fast as they go, pongs never read",
			Expect: fmt.Sprintf("dropped, or RSS growth under -rss-bound %s and not rising (needs -pid unless dropped); at most -stall + -release", mib(c.RSSBound))},
		Attack{Name: "stall/never-reads", run: neverReads,
			Sends:  "32 binary messages of 1 MiB to echo, nothing read",
			Expect: fmt.Sprintf("TCP closed or reset by the server within -stall %s", ms(c.Stall))},
	)
}
