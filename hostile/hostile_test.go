package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/hostile/wire"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// brokenServer is a WebSocket echo server with none of the protections
// the attacks look for: it answers 101 to any request once its header
// is read, however long or slow, reads a body as frames, echoes data
// frames whatever their bits, ignores close frames and never closes a
// connection itself. It is the proof that the tool's checks can fail.
func brokenServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				brokenConn(nc)
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func brokenConn(nc net.Conn) {
	br := bufio.NewReader(nc)
	key := ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if name, value, _ := strings.Cut(line, ":"); strings.EqualFold(name, "Sec-WebSocket-Key") {
			key = strings.TrimSpace(value)
		}
	}
	nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wire.AcceptKey(key) + "\r\n\r\n"))
	r := &wire.Reader{R: br, MaxPayload: 8 << 20}
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return
		}
		if f.Opcode == wire.OpText || f.Opcode == wire.OpBinary {
			if _, err := nc.Write(wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: f.Opcode}, f.Payload)); err != nil {
				return
			}
		}
	}
}

// goodServer is the project's server (raw path) with its echo handler,
// permessage-deflate, a 1 MiB read limit, at most 1000 frames per
// message and a 300 ms write timeout (so that the tests' short bounds
// apply).
func goodServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	opts := &server.AcceptOptions{
		Compression: &deflate.ServerOptions{},
		Conn:        &conn.Options{ReadLimit: 1 << 20, MaxMessageFrames: 1000, WriteTimeout: 300 * time.Millisecond},
	}
	go func() {
		defer close(done)
		server.Serve(ctx, ln, opts, echo.ServeConn)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("server did not stop within 5 s")
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

// testConfig has bounds short enough for unit tests.
func testConfig(t *testing.T, url string) *Config {
	t.Helper()
	c, err := NewConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	c.Release, c.Stall, c.HandshakeTimeout, c.ProbeTimeout, c.Settle = 2*time.Second, time.Second, time.Second, 3*time.Second, 2*time.Second
	c.Slow, c.Idle, c.IdleTime, c.Churn, c.Resets, c.Fragments = 3, 20, 300*time.Millisecond, 50, 20, 20_000
	c.ReadLimit = 1 << 20
	c.Progress = logWriter{t}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	return c
}

// runNamed runs the attacks with exactly these names and returns their
// results by name.
func runNamed(t *testing.T, c *Config, names ...string) map[string]Result {
	t.Helper()
	byName := map[string]Attack{}
	for _, a := range Attacks(c) {
		byName[a.Name] = a
	}
	var attacks []Attack
	for _, n := range names {
		a, ok := byName[n]
		if !ok {
			t.Fatalf("no attack %q", n)
		}
		attacks = append(attacks, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string]Result{}
	for _, r := range Run(ctx, c, attacks) {
		out[r.Name] = r
	}
	if len(out) != len(names) {
		t.Fatalf("%d results for %d attacks", len(out), len(names))
	}
	return out
}

func wantVerdicts(t *testing.T, results map[string]Result, want Verdict, observed map[string]string) {
	t.Helper()
	for name, r := range results {
		if r.Verdict != want {
			t.Errorf("%s: %s (%s), want %s", name, r.Verdict, r.Observed, want)
		}
		if sub := observed[name]; sub != "" && !strings.Contains(r.Observed, sub) {
			t.Errorf("%s: observed %q, want it to say %q", name, r.Observed, sub)
		}
	}
}

func TestBrokenServerFails(t *testing.T) {
	t.Parallel() // after TestDescriptorChecks, which counts this process's descriptors
	c := testConfig(t, brokenServer(t))
	c.Release = 500 * time.Millisecond // each FAIL waits for it in vain
	results := runNamed(t, c,
		"handshake/oversized", "handshake/body-content-length", "handshake/body-chunked", "handshake/slow",
		"length/huge", "frame/unmasked", "frame/rsv2", "frame/opcode-3", "utf8/single-frame", "utf8/split-code-point",
		"close/1-byte", "close/code-1005", "close/reason-utf8", "flood/fragments", "stall/never-reads",
		"bomb/deflate-zeros")
	skipped := results["bomb/deflate-zeros"]
	delete(results, "bomb/deflate-zeros")
	wantVerdicts(t, results, Fail, map[string]string{
		"handshake/oversized":           "101",
		"handshake/body-content-length": `echoed "smuggled"`,
		"handshake/slow":                "0/3 cut",
		"frame/unmasked":                "no close frame",
		"flood/fragments":               "swallowed all 20000 fragments",
		"stall/never-reads":             "still connected",
	})
	// The broken server does not negotiate permessage-deflate.
	if skipped.Verdict != Skip || !strings.Contains(skipped.Observed, "declined") {
		t.Errorf("bomb/deflate-zeros: %s (%s), want SKIP: declined", skipped.Verdict, skipped.Observed)
	}
}

func TestGoodServerPasses(t *testing.T) {
	t.Parallel() // after TestDescriptorChecks, which counts this process's descriptors
	c := testConfig(t, goodServer(t))
	c.Stall = 2 * time.Second
	var names []string
	for _, a := range Attacks(c) {
		switch {
		case strings.HasPrefix(a.Name, "load/"), a.Name == "memory/read-limit", a.Name == "handshake/slow":
			// Load and memory: TestDescriptorChecks and the CI script;
			// the slow handshake takes the server's 10 s timeout.
		default:
			names = append(names, a.Name)
		}
	}
	names = append(names, "load/idle")
	results := runNamed(t, c, names...)
	wantVerdicts(t, results, Pass, map[string]string{
		"handshake/oversized":      "HTTP 431",
		"length/huge-compressed":   "close 1009",
		"frame/ping-126":           "close 1002",
		"close/reason-utf8":        "close 1007",
		"flood/fragments":          "close 1009",
		"bomb/empty-stored-blocks": "close 1009",
		"stall/never-reads":        "dropped after",
		"load/idle":                "20 connected, 0 dropped",
	})
}

// With the test's own PID the descriptor checks run (the server is in
// this process, and so are the tool's connections, which it closes);
// without a PID they are SKIP, not PASS.
func TestDescriptorChecks(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	c := testConfig(t, goodServer(t))
	results := runNamed(t, c, "load/resets-mid-frame", "load/connect-churn")
	wantVerdicts(t, results, Skip, map[string]string{
		"load/resets-mid-frame": "fresh echo OK",
		"load/connect-churn":    "descriptors not checked",
	})
	c.PID = os.Getpid()
	results = runNamed(t, c, "load/resets-mid-frame", "load/connect-churn")
	wantVerdicts(t, results, Pass, map[string]string{
		"load/connect-churn": "server fds",
	})
	// A server that keeps descriptors fails: hold connections open from
	// this process, so its count stays above the baseline taken before.
	var held []net.Conn
	defer func() {
		for _, nc := range held {
			nc.Close()
		}
	}()
	c.Settle = 300 * time.Millisecond
	st, err := readProc(c.PID)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 * fdSlack {
		nc, err := net.Dial("tcp", c.Addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, nc)
	}
	if _, ok, _ := c.settleFDs(st.fds); ok {
		t.Errorf("settleFDs passed with %d more descriptors held than the baseline", 2*fdSlack)
	}
}

func TestReportOutput(t *testing.T) {
	c := testConfig(t, brokenServer(t))
	c.Release = 500 * time.Millisecond
	attacks, err := Select(Attacks(c), "^frame/unmasked$|^close/code-999$")
	if err != nil || len(attacks) != 2 {
		t.Fatalf("Select: %d attacks, %v", len(attacks), err)
	}
	var progress bytes.Buffer
	c.Progress = &progress
	results := Run(context.Background(), c, attacks)
	if !strings.Contains(progress.String(), "[1/2] frame/unmasked") || !strings.Contains(progress.String(), "FAIL close/code-999") {
		t.Errorf("progress lacks start or end lines:\n%s", progress.String())
	}
	var table bytes.Buffer
	Table(&table, results)
	if lines := strings.Split(strings.TrimSpace(table.String()), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "FAIL") {
		t.Errorf("table:\n%s", table.String())
	}
	if got := Summary(results); got != "0 PASS, 2 FAIL, 0 SKIP (failed: frame/unmasked, close/code-999)" {
		t.Errorf("summary %q", got)
	}
	path := t.TempDir() + "/r.json"
	if err := WriteJSON(path, Report{URL: "ws://x/", Results: results}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != 2 || back.Results[0].Verdict != Fail {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
}

// logWriter sends the progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
