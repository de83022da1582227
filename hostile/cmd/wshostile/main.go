// Command wshostile attacks a WebSocket server the way a broken or
// malicious client would, and prints a table with PASS, FAIL or SKIP per
// attack (package hostile; hostile/README.md describes each attack).
//
//	wshostile -url ws://127.0.0.1:9001/                   all attacks
//	wshostile -url ws://127.0.0.1:9001/ -pid 1234         with memory and descriptor checks
//	wshostile -url ws://127.0.0.1:9001/ -run 'frame|utf8' some attacks
//	wshostile -list                                       the attacks, what they send and expect
//
// The bounds default to what a protected server should meet; a test run
// against a server started with short timeouts passes short bounds
// (-release, -stall, -handshake-timeout, -idle-time).
//
// An interrupt stops the run after the current attack, and prints the
// results so far; a second one quits at once.
//
// The exit status is 1 when an attack FAILed, 2 on other errors or an
// interruption.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/rfc6455/ws/hostile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The first interrupt ends the run after the current attack (which
	// may hold connections for -stall); a second one kills the process.
	context.AfterFunc(ctx, func() {
		stop()
		fmt.Fprintln(os.Stderr, "wshostile: interrupted: stopping after this attack; interrupt again to quit now")
	})
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command with its arguments; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wshostile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "ws://127.0.0.1:9001/", "ws:// URL of the server under test")
	pattern := fs.String("run", "", "run only the attacks whose names match this regular expression")
	list := fs.Bool("list", false, "list the attacks and exit")
	jsonPath := fs.String("json", "", "write the results as JSON to this file")
	// The defaults of the bounds come from NewConfig.
	def, _ := hostile.NewConfig("ws://127.0.0.1/")
	pid := fs.Int("pid", 0, "server process ID: check its memory and descriptors in /proc (else those checks are SKIP)")
	release := fs.Duration("release", def.Release, "after a protocol violation the server must close TCP within this")
	stall := fs.Duration("stall", def.Stall, "a peer that never reads must be dropped within this")
	hsTimeout := fs.Duration("handshake-timeout", def.HandshakeTimeout, "a slow handshake must be cut within this")
	probe := fs.Duration("probe-timeout", def.ProbeTimeout, "bound on each fresh handshake and echo, and on each HTTP answer")
	settle := fs.Duration("settle", def.Settle, "after load, the server's descriptors must be back to baseline within this")
	slow := fs.Int("slow", def.Slow, "slow-handshake connections held at once")
	idle := fs.Int("idle", def.Idle, "idle connections")
	idleTime := fs.Duration("idle-time", def.IdleTime, "how long the idle connections are held")
	churn := fs.Int("churn", def.Churn, "connect/close cycles")
	resets := fs.Int("resets", def.Resets, "connections reset in the middle of a frame")
	fragments := fs.Int("fragments", def.Fragments, "most empty continuation frames the fragment flood sends")
	readLimit := fs.Int64("read-limit", def.ReadLimit, "the server's read limit (largest message), in bytes")
	floodConns := fs.Int("flood-conns", def.FloodConns, "connections of the read-limit flood")
	limitFactor := fs.Float64("limit-factor", def.LimitFactor, "most peak RSS growth per read-limit flood connection, in multiples of -read-limit")
	rssBound := fs.Int64("rss-bound", def.RSSBound, "most RSS growth the ping flood may cause, in bytes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "wshostile: unexpected arguments:", fs.Args())
		return 2
	}
	c, err := hostile.NewConfig(*url)
	if err != nil {
		fmt.Fprintln(stderr, "wshostile:", err)
		return 2
	}
	c.PID, c.Release, c.Stall, c.HandshakeTimeout, c.ProbeTimeout, c.Settle = *pid, *release, *stall, *hsTimeout, *probe, *settle
	c.Slow, c.Idle, c.IdleTime, c.Churn, c.Resets, c.Fragments = *slow, *idle, *idleTime, *churn, *resets, *fragments
	c.ReadLimit, c.FloodConns, c.LimitFactor, c.RSSBound = *readLimit, *floodConns, *limitFactor, *rssBound
	c.Progress = stderr
	if err := c.Check(); err != nil {
		fmt.Fprintln(stderr, "wshostile:", err)
		return 2
	}
	attacks, err := hostile.Select(hostile.Attacks(c), *pattern)
	if err != nil {
		fmt.Fprintln(stderr, "wshostile: -run:", err)
		return 2
	}
	if *list {
		hostile.List(stdout, attacks)
		return 0
	}
	if len(attacks) == 0 {
		fmt.Fprintf(stderr, "wshostile: no attack matches %q (see -list)\n", *pattern)
		return 2
	}

	started := time.Now()
	fmt.Fprintf(stderr, "wshostile: %d attacks against %s", len(attacks), *url)
	if c.PID > 0 {
		fmt.Fprintf(stderr, " (server PID %d)", c.PID)
	}
	fmt.Fprintln(stderr)
	results := hostile.Run(ctx, c, attacks)
	fmt.Fprintln(stdout)
	hostile.Table(stdout, results)
	fmt.Fprintf(stdout, "\n%s: %s in %s\n", *url, hostile.Summary(results), time.Since(started).Round(100*time.Millisecond))
	if *jsonPath != "" {
		rep := hostile.Report{URL: *url, PID: c.PID, Started: started.UTC().Format(time.RFC3339), Results: results}
		if err := hostile.WriteJSON(*jsonPath, rep); err != nil {
			fmt.Fprintln(stderr, "wshostile:", err)
			return 2
		}
		fmt.Fprintln(stdout, "results written to", *jsonPath)
	}
	switch {
	case hostile.Counts(results)[hostile.Fail] > 0:
		return 1
	case len(results) < len(attacks):
		fmt.Fprintln(stderr, "wshostile: interrupted")
		return 2
	}
	return 0
}
