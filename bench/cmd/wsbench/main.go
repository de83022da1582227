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
// Progress goes to stderr from the first connection to the end: the phase
// (connecting, warm-up, measuring, draining, holding), connections open of
// those asked for, seconds done of the phase, time elapsed, an estimate of
// what is left, throughput, p99 and errors. On a terminal one line is
// rewritten every second; otherwise a plain line comes every 4 s
// (-progress to change, 0 for none), so a log never goes quiet for more
// than 5 s. The run ends with a verdict line on stderr ("wsbench: done" or
// "wsbench: FAILED", connections opened, errors); wsbench writes no files.
// -json prints the final report as one JSON object on stdout, preceded by
// {"event":...} lines at the milestones (ready, measure_start,
// measure_end), which is what cmd/compare reads; with -json, progress
// lines off a terminal are off unless -progress is given.
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr)))
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run is the command, writing its report to stdout and its progress and
// verdict to stderr, a terminal or not; it returns the exit status.
func run(args []string, stdout, stderr io.Writer, terminal bool) int {
	c, cli, err := parseArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errCommandLine):
		return 2 // the flag package has printed the error and the usage
	case err != nil:
		fmt.Fprintln(stderr, "wsbench:", err)
		return 2
	}
	switch {
	case terminal:
		c.Progress, c.ProgressLive, c.ProgressEvery = stderr, true, time.Second
	case cli.progressEvery > 0:
		c.Progress, c.ProgressEvery = stderr, cli.progressEvery
	}
	enc := json.NewEncoder(stdout)
	c.Event = func(name string) {
		if cli.json {
			enc.Encode(map[string]string{"event": name})
		} else if name == "ready" && !c.ProgressLive {
			fmt.Fprintln(stderr, "wsbench: ready")
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

	start := time.Now()
	rep, err := load.Run(ctx, c)
	if err != nil {
		fmt.Fprintln(stderr, "wsbench: FAILED:", err)
		return 1
	}
	if cli.json {
		enc.Encode(rep)
	} else {
		rep.WriteText(stdout)
	}
	var errs uint64
	for _, n := range rep.Errors {
		errs += n
	}
	verdict, status := "done", 0
	if rep.Connected < c.Conns {
		verdict, status = "FAILED", 1
	}
	where := "report above"
	if cli.json {
		where = "report on stdout (JSON)"
	}
	fmt.Fprintf(stderr, "wsbench: %s in %s: %d/%d connections opened, %d errors; %s; no files written\n",
		verdict, time.Since(start).Round(time.Second), rep.Connected, c.Conns, errs, where)
	return status
}

// cliOptions are the flags that shape the command's output rather than
// the load.
type cliOptions struct {
	json          bool
	progressEvery time.Duration // off a terminal; 0: no progress lines
}

// defaultProgressEvery is the interval of progress lines off a terminal:
// under 5 s, so that a log never goes quiet longer than that.
const defaultProgressEvery = 4 * time.Second

// errCommandLine marks the errors of parseArgs that the flag package has
// already reported, with the usage.
var errCommandLine = errors.New("bad command line")

// parseArgs turns the command line into a validated configuration, and
// tells whether -json was given. Usage and parse errors are written to
// stderr; -help returns flag.ErrHelp.
func parseArgs(args []string, stderr io.Writer) (load.Config, cliOptions, error) {
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
	var cli cliOptions
	fs.BoolVar(&cli.json, "json", false, "print milestone events and the report as JSON on stdout")
	fs.DurationVar(&cli.progressEvery, "progress", defaultProgressEvery, "when stderr is not a terminal, a progress line every `interval` (0: none; with -json, none unless given); a terminal gets one line rewritten every second")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, cli, err
		}
		return c, cli, fmt.Errorf("%w: %w", errCommandLine, err)
	}
	if fs.NArg() > 0 {
		return c, cli, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch warm {
	case -1: // load.Config's default
	case 0:
		c.IdleWarm = -1 // none, even with -compress
	default:
		c.IdleWarm = warm
	}
	sizeGiven, progressGiven := false, false
	fs.Visit(func(f *flag.Flag) {
		sizeGiven = sizeGiven || f.Name == "size"
		progressGiven = progressGiven || f.Name == "progress"
	})
	if cli.json && !progressGiven {
		cli.progressEvery = 0 // a program reads the output (cmd/compare)
	}
	if !sizeGiven && c.IdleWarmMessages() > 0 {
		c.Size = 1024
	}
	return c, cli, c.Validate()
}
