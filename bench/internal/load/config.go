// Package load is the engine of cmd/wsbench: it opens WebSocket
// connections to a server and drives echo traffic through them, built so
// that the load generator is not the bottleneck.
//
// # How it stays out of the way
//
//   - Raw frames: messages are encoded once, at start-up, with package
//     frame, into a buffer shared by every connection: R+W consecutive
//     masked frames, frame i carrying body i mod R, W being the most a
//     connection sends in one go, so any run of up to W frames is one
//     contiguous slice and one write. R is 1 (every message the same)
//     unless compression needs distinct bodies (see below). Each frame has
//     its own masking key (RFC 6455 §5.3), drawn from crypto/rand. Reusing
//     pre-masked frames is what "masked once per buffer" means: a server
//     cannot tell, and on loopback the purpose of masking (keeping
//     intermediaries from mistaking payloads for HTTP) does not arise.
//     Config.FreshMasks re-keys every frame before each send instead, at
//     the cost of one masking pass per message.
//   - Replies are parsed in place in a per-connection read buffer with
//     frame.ParseHeader; payloads are counted and skipped, not copied
//     (compressed ones are collected and inflated, see below).
//   - One goroutine per connection, which both writes and reads; writes
//     that would block are bounded by a deadline so the goroutine never
//     stops reading (otherwise a server blocked writing to us could never
//     drain what we send). Nothing is allocated per message.
//   - Latencies go to lock-free log-linear histograms (package hist).
//
// Messages carry JSON-like chat lines from package payload (valid UTF-8,
// compressible about 4:1 but not trivially), as text or binary messages.
//
// # Compression
//
// With Config.Compress, each connection offers "permessage-deflate;
// client_no_context_takeover; client_max_window_bits" (RFC 7692 §7.1) and
// validates the answer with the deflate package's client-side negotiation
// (deflate.AcceptResponse); a server that declines, or answers with
// parameters §7.1 forbids, fails the connection with a "negotiation"
// error. Because we asked for no context takeover on our side, a
// compressed body is a valid message on every connection at any time: the
// bodies are compressed once each (deflate.AppendCompressed, BestSpeed,
// with the client window the server allowed; once per distinct window)
// and sent as pre-masked frames with RSV1 set, like uncompressed ones.
// Messages cycle through enough distinct bodies (R, up to 4096) that none
// repeats within 64 KiB of a connection's traffic, twice the largest window a server may
// compress with: otherwise a server with context takeover would echo each
// message as a back-reference to its previous copy. Replies may be
// compressed, with or without server context takeover, or not (RSV1
// clear): each connection inflates compressed replies with its own
// deflate.Decompressor, configured from the server's answer, into a reused
// sink, and checks the inflated length ("mismatch" if it differs,
// "inflate" for invalid data). The report gives the offer, the server's
// answer and the bytes each message takes on the wire. Inflating costs
// wsbench CPU per message that an uncompressed run does not have: watch
// its CPU column.
//
// # Closed and open loop
//
// Closed loop (Rate == 0) keeps Depth messages in flight per connection:
// each echo received releases the next message, and echoes that arrive
// together release their successors in one write. Latency is from send to
// echo.
//
// Open loop (Rate > 0) sends on a fixed schedule, Rate messages per second
// spread evenly over the connections, whatever the server does; at most
// Depth messages per connection are in flight, and a message held back by
// that bound is sent late. Latency is measured from the message's intended
// send time, so queueing, in the server or in the generator, is never
// hidden (no coordinated omission).
//
// # Idle mode
//
// Idle mode (Config.Idle) opens the connections, completes their
// handshakes and holds them, for measurements of a server's memory per
// connection. Without a warm-up nothing is sent after the handshake.
//
// With Config.IdleWarm messages (by default one with Compress, none
// without), each connection first exchanges that many messages of Size
// bytes, as a closed loop of depth Depth (default 1), checking every echo
// as in a run (inflated if compressed), and only then goes quiet. A
// library that allocates its compression state lazily, when the first
// message is compressed or inflated, holds that state from then on, so a
// warm-up is what lets idle memory with compression on compare libraries
// fairly. The warm-up of a connection is part of its opening: it counts
// against the handshakes in progress at once, a connection whose warm-up
// fails is not counted as connected and its error is counted by kind
// ("warmup_timeout" if an echo is still missing after 2 minutes), and "ready"
// comes once every connection has finished it. The report's Messages,
// Bytes and CompressedReplies then count the warm-up echoes; the
// connections send nothing afterwards (they do not even answer pings).
package load

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Config describes a run. The zero values of optional fields are the
// defaults noted.
type Config struct {
	URL   string // ws:// or wss://
	Conns int    // connections (default 1)
	Size  int    // payload bytes per message
	Text  bool   // text messages instead of binary (same payload: see package payload)
	Depth int    // messages in flight per connection (default 1; open loop: default 64)
	Rate  float64
	// Duration of the measurement, after Warmup. In idle mode, how long
	// to hold the connections (0: until the context ends).
	Duration time.Duration
	Warmup   time.Duration
	// Ramp spreads the opening of the connections evenly over this time.
	Ramp time.Duration
	// Compress offers permessage-deflate (RFC 7692) and requires the server
	// to accept it: see "Compression" in the package doc.
	Compress bool
	// FreshMasks gives every frame a new masking key before each send.
	FreshMasks bool
	// Sources > 1 binds connections round-robin to the source addresses
	// 127.0.0.1 .. 127.0.0.<Sources>, so that more connections than one
	// address has ephemeral ports can reach a loopback server.
	Sources int
	// Insecure skips TLS certificate verification for wss://.
	Insecure bool
	// Idle opens the connections, completes their handshakes and holds
	// them without traffic: see "Idle mode" in the package doc.
	Idle bool
	// IdleWarm is how many messages each connection exchanges in idle
	// mode before going quiet. Zero means the default: 1 with Compress,
	// none without; a negative value means none.
	IdleWarm int
	// DrainTimeout bounds the wait for outstanding echoes at the end
	// (default 2 s).
	DrainTimeout time.Duration

	// Progress, when set, receives the run's progress every ProgressEvery
	// (default 1 s) from its start to its end: the phase (connecting,
	// warm-up, measuring, draining, holding), how far it is (connections
	// open of those asked for, seconds of the phase done of its length),
	// the time elapsed, an estimate of the time left, the echoes per
	// second and MB/s of the last interval, the p99 latency so far, and the
	// errors. With
	// ProgressLive one line is rewritten in place, for a terminal;
	// otherwise each report is a line of its own, for logs.
	Progress      io.Writer
	ProgressEvery time.Duration
	ProgressLive  bool
	// Event, when set, is called at the milestones of the run: "ready"
	// (all connections open), "measure_start" and "measure_end".
	Event func(name string)
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.Conns <= 0 {
		d.Conns = 1
	}
	if d.Depth <= 0 {
		d.Depth = 1
		if d.Rate > 0 {
			d.Depth = 64
		}
	}
	if d.Sources <= 0 {
		d.Sources = 1
	}
	if d.ProgressEvery <= 0 {
		d.ProgressEvery = time.Second
	}
	if d.DrainTimeout <= 0 {
		d.DrainTimeout = 2 * time.Second
	}
	d.IdleWarm = c.IdleWarmMessages()
	return d
}

// MaxIdleWarm bounds Config.IdleWarm: a warm-up is a few messages, not a
// load.
const MaxIdleWarm = 1000

// IdleWarmMessages returns the number of warm-up messages per connection
// that c asks for, defaults applied.
func (c *Config) IdleWarmMessages() int {
	switch {
	case !c.Idle || c.IdleWarm < 0:
		return 0
	case c.IdleWarm == 0 && c.Compress:
		return 1
	}
	return c.IdleWarm
}

// Validate reports a configuration that cannot run.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("bad URL %q: the scheme must be ws or wss", c.URL)
	}
	if c.Size < 0 || c.Size > 64<<20 {
		return fmt.Errorf("size %d out of range (0 .. 64 MiB)", c.Size)
	}
	if c.Depth > 4096 {
		return fmt.Errorf("depth %d too large (at most 4096)", c.Depth)
	}
	if c.Sources > 1 && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && !isLoopbackHost(u.Hostname()) {
		return errors.New("several source addresses need a loopback target (127.0.0.0/8)")
	}
	if c.Sources > 254 {
		return errors.New("at most 254 source addresses")
	}
	if !c.Idle && c.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	if c.IdleWarm > 0 && !c.Idle {
		return errors.New("warm-up messages are for idle mode only")
	}
	if c.IdleWarm > MaxIdleWarm {
		return fmt.Errorf("%d warm-up messages per connection: at most %d", c.IdleWarm, MaxIdleWarm)
	}
	if c.IdleWarmMessages() > 0 && c.FreshMasks {
		// Re-keying needs a private copy of the frames per connection,
		// which at idle-mode connection counts would cost wsbench more
		// memory than the server under test.
		return errors.New("fresh masks are not supported with idle warm-up messages")
	}
	return nil
}
