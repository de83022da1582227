package load

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/peers"
)

// serve starts a library's echo server on loopback for the test.
func serve(t *testing.T, lib string) string { return serveWith(t, lib, peers.Options{}) }

func serveWith(t *testing.T, lib string, o peers.Options) string {
	t.Helper()
	l, err := peers.Get(lib)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go l.Serve(ln, o)
	t.Cleanup(func() { ln.Close() })
	return "ws://" + ln.Addr().String() + "/echo"
}

func TestRunModes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := serve(t, "ours")
	gobwas := serve(t, "gobwas")
	cases := []struct {
		name string
		cfg  Config
	}{
		{"closed", Config{Conns: 3, Size: 16, Depth: 1}},
		{"pipelined-text", Config{Conns: 2, Size: 1000, Depth: 16, Text: true}},
		{"large-pending-writes", Config{Conns: 2, Size: 256 << 10, Depth: 8}},
		{"fresh-masks", Config{Conns: 2, Size: 300, Depth: 4, FreshMasks: true}},
		{"open-loop", Config{Conns: 4, Size: 64, Rate: 2000}},
		{"frame-echo-peer", Config{URL: gobwas, Conns: 2, Size: 70000, Depth: 4}},
		{"sources", Config{Conns: 4, Size: 16, Sources: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			if c.URL == "" {
				c.URL = url
			}
			c.Duration, c.Warmup = 300*time.Millisecond, 100*time.Millisecond
			var events []string
			c.Event = func(e string) { events = append(events, e) }
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors) != 0 {
				t.Fatalf("errors: %v %v", rep.Errors, rep.ErrorExamples)
			}
			if rep.Connected != c.Conns || rep.Messages == 0 || rep.Latency.Count != rep.Messages {
				t.Fatalf("connected %d, messages %d, latency count %d", rep.Connected, rep.Messages, rep.Latency.Count)
			}
			if rep.Bytes != rep.Messages*uint64(c.Size) {
				t.Fatalf("bytes %d for %d messages of %d", rep.Bytes, rep.Messages, c.Size)
			}
			if !(rep.Latency.P50 <= rep.Latency.P99 && rep.Latency.P99 <= rep.Latency.Max && rep.Latency.P50 > 0) {
				t.Fatalf("percentiles out of order: %+v", rep.Latency)
			}
			if got := strings.Join(events, ","); got != "ready,measure_start,measure_end" {
				t.Fatalf("events %s", got)
			}
			if c.Rate > 0 {
				// 2000/s for 0.3 s: about 600, give or take scheduling.
				if rep.MsgsPerSec < 1000 || rep.MsgsPerSec > 3000 {
					t.Fatalf("open loop at 2000/s delivered %.0f/s", rep.MsgsPerSec)
				}
			}
		})
	}
}

func TestIdle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ready := false
	rep, err := Run(ctx, Config{URL: serve(t, "ours"), Conns: 50, Idle: true, Duration: 50 * time.Millisecond, Sources: 2,
		Event: func(e string) { ready = ready || e == "ready" }})
	if err != nil {
		t.Fatal(err)
	}
	if !ready || rep.Connected != 50 || len(rep.Errors) != 0 {
		t.Fatalf("ready %v, connected %d, errors %v", ready, rep.Connected, rep.Errors)
	}
	if rep.Messages != 0 || rep.Config.IdleWarm != 0 || rep.Compression != nil {
		t.Fatalf("idle without compression: %d messages, warm-up %d, compression %+v", rep.Messages, rep.Config.IdleWarm, rep.Compression)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{URL: "http://x/", Duration: time.Second},
		{URL: "ws://example.com/", Duration: time.Second, Sources: 2},
		{URL: "ws://127.0.0.1:1/"},
		{URL: "ws://127.0.0.1:1/", Duration: time.Second, IdleWarm: 1},
		{URL: "ws://127.0.0.1:1/", Idle: true, IdleWarm: MaxIdleWarm + 1},
		{URL: "ws://127.0.0.1:1/", Idle: true, Compress: true, FreshMasks: true},
		{URL: "ws://127.0.0.1:1/", Idle: true, IdleWarm: 2, FreshMasks: true},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	for _, c := range []Config{
		{URL: "ws://127.0.0.1:1/", Idle: true},
		{URL: "ws://127.0.0.1:1/", Idle: true, FreshMasks: true},
		{URL: "ws://127.0.0.1:1/", Idle: true, Compress: true, IdleWarm: -1, FreshMasks: true},
		{URL: "ws://127.0.0.1:1/", Idle: true, Compress: true, IdleWarm: MaxIdleWarm},
		{URL: "ws://127.0.0.1:1/", Duration: time.Second, Compress: true, IdleWarm: -1},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestIdleWarmMessages(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want int
	}{
		{Config{Idle: true}, 0},
		{Config{Idle: true, Compress: true}, 1},
		{Config{Idle: true, Compress: true, IdleWarm: -1}, 0},
		{Config{Idle: true, Compress: true, IdleWarm: 3}, 3},
		{Config{Idle: true, IdleWarm: 2}, 2},
		{Config{Compress: true}, 0},
	} {
		if got := tc.c.IdleWarmMessages(); got != tc.want {
			t.Errorf("%+v: %d warm-up messages, want %d", tc.c, got, tc.want)
		}
		if got := tc.c.withDefaults().IdleWarm; got != tc.want {
			t.Errorf("%+v: defaults give %d warm-up messages, want %d", tc.c, got, tc.want)
		}
	}
}

func TestHandshakeFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A plain HTTP server that does not upgrade.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
			nc.Close()
		}
	}()
	rep, err := Run(ctx, Config{URL: "ws://" + ln.Addr().String() + "/", Conns: 2, Duration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors["handshake"] != 2 || rep.Connected != 0 {
		t.Fatalf("errors %v, connected %d", rep.Errors, rep.Connected)
	}
}

func TestCheckResponse(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if _, err := checkResponse(ok, key, false); err != nil {
		t.Fatalf("RFC 6455 §1.3 example rejected: %v", err)
	}
	for _, bad := range []string{
		"HTTP/1.1 200 OK",
		"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: wrong",
		"HTTP/1.1 101 Switching Protocols",
		"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate",
	} {
		if _, err := checkResponse(bad, key, false); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestNoAllocationsPerMessage counts the heap allocations of the whole
// process during the measurement window, against a frame-level echo
// server (gobwas's, which allocates nothing per message once its buffer
// has grown): wsbench must not allocate per message.
func TestNoAllocationsPerMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := Config{URL: serve(t, "gobwas"), Conns: 2, Size: 1024, Depth: 8, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond}
	allocs, rep := allocationsDuringMeasurement(ctx, t, c)
	// A few allocations come from timers and the runtime; per-message
	// allocation would show as thousands.
	if rep.Messages < 1000 || allocs > rep.Messages/100 {
		t.Fatalf("%d allocations for %d messages", allocs, rep.Messages)
	}
}

// allocationsDuringMeasurement runs c and returns the heap allocations
// the process made between the "measure_start" and "measure_end" events,
// with the run's report.
func allocationsDuringMeasurement(ctx context.Context, t *testing.T, c Config) (uint64, *Report) {
	t.Helper()
	var m0, m1 runtime.MemStats
	c.Event = func(e string) {
		switch e {
		case "measure_start":
			runtime.ReadMemStats(&m0)
		case "measure_end":
			runtime.ReadMemStats(&m1)
		}
	}
	rep, err := Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	allocs := m1.Mallocs - m0.Mallocs
	t.Logf("%d allocations for %d messages", allocs, rep.Messages)
	return allocs, rep
}

// TestWriteTextIdleWarmUp checks the text report of an idle run with a
// compressed warm-up.
func TestWriteTextIdleWarmUp(t *testing.T) {
	rep := &Report{Config: ReportConfig{URL: "ws://127.0.0.1:1/", Mode: "idle", Conns: 3, Size: 1024, Text: true, Compress: true, IdleWarm: 1},
		Connected: 3, ConnectSeconds: 0.5, Messages: 3, Bytes: 3072,
		Compression: &CompressionReport{Offer: "permessage-deflate; client_no_context_takeover; client_max_window_bits",
			Extension: "permessage-deflate; client_no_context_takeover", FrameBytes: 300, Bodies: 65, CompressedReplies: 3}}
	var b strings.Builder
	rep.WriteText(&b)
	for _, want := range []string{
		"mode        idle: 3/3 connections opened in 0.50s\n",
		"warm-up     each connection exchanged 1 1024 B text message(s) before going quiet: 3 echoes\n",
		"3 of 3 echoes of the warm-up came back compressed\n",
		"errors      none\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "throughput") {
		t.Errorf("idle report with throughput:\n%s", b.String())
	}
}
