// Command wsbench is a load generator for WebSocket echo servers: point it
// at any ws:// or wss:// URL whose endpoint sends every message back.
//
//	wsbench -url ws://127.0.0.1:9001/ -c 100 -size 1024 -depth 16 -d 10s
//
// runs a closed loop: 100 connections, each keeping 16 binary messages of
// 1 KiB in flight, for 10 s after a 1 s warm-up, and reports messages/s,
// MB/s, latency percentiles (p50 to p99.9 and max, from a log-linear
// histogram accurate to 1%) and errors by kind.
//
//	wsbench -url ws://127.0.0.1:9001/ -c 100 -size 1024 -rate 20000 -d 10s
//
// runs an open loop instead: 20,000 messages/s spread over the
// connections, sent on schedule whatever the server does, with latency
// measured from each message's intended send time, so a server that falls
// behind shows it in the percentiles rather than in a lower send rate.
//
//	wsbench -url ws://127.0.0.1:9001/ -idle -c 10000 -sources 4 -d 60s
//
// opens 10,000 connections from 127.0.0.1-4 and holds them without
// traffic, for memory measurements; it prints "ready" when all are open.
//
//	wsbench -url ws://127.0.0.1:9001/ -idle -compress -c 10000 -sources 4 -d 60s
//
// does the same with permessage-deflate negotiated on every connection,
// and each connection first exchanges one message (-idle-warm 1, the
// default with -compress; -size defaults to 1024 in idle mode with a
// warm-up): sent compressed, its echo received, inflated and checked, and
// only then does it go quiet, so that a server which allocates its
// compression state on the first message is measured holding it.
// -idle-warm N exchanges N messages instead (with or without -compress),
// -idle-warm 0 none. A connection whose warm-up fails is not counted as
// open, and its error is counted by kind like any other.
//
// On a terminal, a progress line is updated every second. -json prints the
// final report as one JSON object on stdout, preceded by {"event":...}
// lines at the milestones (ready, measure_start, measure_end), which is
// what cmd/compare reads.
//
// wsbench stays out of the server's way: frames are pre-encoded and
// pre-masked once (-fresh-masks re-keys each frame before each send), one
// goroutine per connection both writes and reads, replies are parsed in
// place and nothing is allocated per message.
//
//	wsbench -url ws://127.0.0.1:9001/ -compress -text -c 100 -size 1024 -depth 16 -d 10s
//
// offers permessage-deflate (RFC 7692) with client_no_context_takeover,
// sends distinct bodies, each compressed once at start-up, inflates every
// compressed reply and checks its length, and reports what the server
// accepted and the bytes each message took on the wire. A server that declines
// compression fails the run's connections ("negotiation" errors).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rfc6455/ws/bench/internal/load"
)

func main() {
	c, asJSON, err := parseArgs(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errCommandLine):
		os.Exit(2) // the flag package has printed the error and the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(2)
	}
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && !c.Idle {
		c.Progress = os.Stderr
	}
	enc := json.NewEncoder(os.Stdout)
	c.Event = func(name string) {
		if asJSON {
			enc.Encode(map[string]string{"event": name})
		} else if name == "ready" {
			fmt.Fprintln(os.Stderr, "wsbench: ready")
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bound the whole run: connections, warm-up, measurement, drain.
	if !c.Idle || c.Duration > 0 {
		limit := c.Ramp + c.Warmup + c.Duration + 2*time.Minute
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}

	rep, err := load.Run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
	if asJSON {
		enc.Encode(rep)
	} else {
		rep.WriteText(os.Stdout)
	}
	if rep.Connected < c.Conns {
		os.Exit(1)
	}
}

// errCommandLine marks the errors of parseArgs that the flag package has
// already reported, with the usage.
var errCommandLine = errors.New("bad command line")

// parseArgs turns the command line into a validated configuration, and
// tells whether -json was given. Usage and parse errors are written to
// stderr; -help returns flag.ErrHelp.
func parseArgs(args []string, stderr io.Writer) (load.Config, bool, error) {
	var c load.Config
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "ws://127.0.0.1:9001/", "ws:// or wss:// URL of an echo endpoint")
	fs.IntVar(&c.Conns, "c", 1, "connections")
	fs.IntVar(&c.Size, "size", 16, "message payload size in bytes (idle mode with warm-up messages: 1024 unless given)")
	fs.BoolVar(&c.Text, "text", false, "send text messages instead of binary (the same JSON-like payload either way)")
	fs.IntVar(&c.Depth, "depth", 0, "messages in flight per connection (default 1; with -rate, the most in flight, default 64)")
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: total messages per second (0: closed loop)")
	fs.DurationVar(&c.Duration, "d", 10*time.Second, "measurement duration (idle mode: how long to hold, 0 = until interrupted)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "warm-up before measuring")
	fs.DurationVar(&c.Ramp, "ramp", 0, "open the connections evenly over this time")
	fs.BoolVar(&c.Compress, "compress", false, "offer permessage-deflate (client_no_context_takeover) and require the server to accept it; replies are inflated and checked")
	fs.BoolVar(&c.FreshMasks, "fresh-masks", false, "re-key every frame before each send instead of reusing pre-masked frames")
	fs.IntVar(&c.Sources, "sources", 1, "bind connections round-robin to 127.0.0.1..127.0.0.N (loopback targets only)")
	fs.BoolVar(&c.Insecure, "insecure", false, "skip TLS certificate verification (wss://)")
	fs.BoolVar(&c.Idle, "idle", false, "open the connections and hold them without traffic (after any -idle-warm messages)")
	warm := -1 // not given
	fs.Func("idle-warm", "idle mode: `N` messages each connection sends, and whose echoes it receives and checks, before going quiet (default 1 with -compress, 0 without)", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a number of messages, 0 or more")
		}
		warm = n
		return nil
	})
	asJSON := fs.Bool("json", false, "print milestone events and the report as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, false, err
		}
		return c, false, fmt.Errorf("%w: %w", errCommandLine, err)
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch warm {
	case -1: // load.Config's default
	case 0:
		c.IdleWarm = -1 // none, even with -compress
	default:
		c.IdleWarm = warm
	}
	sizeGiven := false
	fs.Visit(func(f *flag.Flag) { sizeGiven = sizeGiven || f.Name == "size" })
	if !sizeGiven && c.IdleWarmMessages() > 0 {
		c.Size = 1024
	}
	return c, *asJSON, c.Validate()
}
