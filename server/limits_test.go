package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// slowClient opens a connection to addr and sends the start of an
// upgrade request, prefix, and then nothing: one of a flood of clients
// that send their request a byte at a time. The channel receives the time
// the server closed the connection.
func slowClient(t *testing.T, addr, prefix string) (net.Conn, <-chan time.Time) {
	t.Helper()
	nc := dialRaw(t, addr)
	if _, err := nc.Write([]byte(prefix)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Time, 1)
	go func() {
		// Whatever ends the read (EOF, reset, the test's deadline or its
		// cleanup) ends the goroutine; a slow client gets no answer.
		var b [1]byte
		nc.Read(b[:])
		closed <- time.Now()
	}()
	return nc, closed
}

// memInUse returns the bytes of heap and goroutine stacks in use after a
// collection.
func memInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// TestServeHandshakeFlood: 300 clients that send 6 KiB of a request
// header and stall, against MaxHandshakes 50. Serve holds at most 50 of
// them (it cuts the oldest short as new ones come, at once rather than
// after the 30 s HandshakeTimeout), its goroutines and memory stay
// bounded, and a real client that comes after the flood still gets
// through.
func TestServeHandshakeFlood(t *testing.T) {
	const maxHandshakes, flood = 50, 300
	// Each held handshake holds a goroutine on each side, the server's
	// 4 KiB read buffer and the 6 KiB of header read so far (in a buffer
	// grown by doubling): well under 32 KiB. Whatever the count, the
	// server and the test hold some more (pools, timers, the race
	// detector's books): 1 MiB. Without the cap, the 300 handshakes hold
	// about twice the bound (5.4 MiB measured).
	const perHandshake, slack = 32 << 10, 1 << 20
	prefix := "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 6<<10)
	before, memBefore := runtime.NumGoroutine(), memInUse()
	addr, _ := startServe(t, &server.AcceptOptions{
		MaxHandshakes:    maxHandshakes,
		HandshakeTimeout: 30 * time.Second, // longer than the test: nothing ends by timeout
	})
	start := time.Now()
	closed := make([]<-chan time.Time, flood)
	for i := range closed {
		_, closed[i] = slowClient(t, addr, prefix)
	}
	sent := time.Since(start)

	// Count the clients the server dropped, waiting until flood-maxHandshakes are.
	deadline := time.After(releaseDeadline + sent)
	dropped, last := 0, time.Time{}
	for dropped < flood-maxHandshakes {
		select {
		case <-deadline:
			t.Fatalf("%d of %d slow handshakes dropped, want %d: the cap of %d does not hold", dropped, flood, flood-maxHandshakes, maxHandshakes)
		default:
		}
		progress := false
		for i, ch := range closed {
			select {
			case at := <-ch:
				closed[i] = nil
				dropped++
				last = at
				progress = true
			default:
			}
		}
		if !progress {
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("%d clients sent their first byte in %v; %d were dropped %v after the first connected", flood, sent, dropped, last.Sub(start))

	// Goroutines: the test's own readers of the clients still held, the
	// server's handshakes (one each), and a few for the servers and the
	// runtime. Without the cap both would be 300.
	if g := runtime.NumGoroutine() - before; g > 2*maxHandshakes+20 {
		t.Errorf("%d goroutines more than before the flood, want at most %d: one per held handshake on each side", g, 2*maxHandshakes+20)
	}
	grown := memInUse() - memBefore
	t.Logf("memory in use grew by %d KiB for %d held handshakes (%d B each)", grown>>10, maxHandshakes, grown/maxHandshakes)
	if limit := int64(slack + maxHandshakes*perHandshake); grown > limit {
		t.Errorf("memory in use grew by %d KiB, want at most %d KiB for %d held handshakes", grown>>10, limit>>10, maxHandshakes)
	}

	// A real client gets through at once, and its messages are echoed.
	ctx, cancel := context.WithTimeout(context.Background(), releaseDeadline)
	defer cancel()
	c, _, err := client.Dial(ctx, "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		t.Fatalf("a real client after the flood: %v", err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, conn.Text, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "hello" {
		t.Fatalf("echo %q %v", p, err)
	}

	// Its handshake took one slot, so one more slow client went: the
	// oldest. No more than that.
	time.Sleep(50 * time.Millisecond)
	for _, ch := range closed {
		if ch == nil {
			continue
		}
		select {
		case <-ch:
			dropped++
		default:
		}
	}
	if dropped != flood-maxHandshakes+1 {
		t.Errorf("%d slow handshakes dropped after the real client's, want %d", dropped, flood-maxHandshakes+1)
	}
}

// TestServeMaxConnections: at MaxConnections, a new connection is answered
// 503 and closed at once; when one closes, the next gets its place.
func TestServeMaxConnections(t *testing.T) {
	const max = 20
	addr, _ := startServe(t, &server.AcceptOptions{MaxConnections: max})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dopts := &client.DialOptions{Proxy: client.NoProxy}
	open := make([]*conn.Conn, 0, max)
	defer func() {
		for _, c := range open {
			c.CloseNow()
		}
	}()
	// Half the places to established connections, half to handshakes in
	// progress: both count.
	for range max / 2 {
		c, _, err := client.Dial(ctx, "ws://"+addr+"/", dopts)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	var stalled []net.Conn
	for range max / 2 {
		nc, _ := slowClient(t, addr, "G")
		stalled = append(stalled, nc)
	}

	nc := dialRaw(t, addr)
	start := time.Now()
	br := bufio.NewReader(nc)
	resp := readStatus(t, br)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connection %d: status %d, want 503", max+1, resp.StatusCode)
	}
	io.Copy(io.Discard, resp.Body)
	t.Logf("connection %d answered 503 and closed %v after it connected", max+1, time.Since(start)+awaitEOF(t, nc, br))

	// One place comes back when an established connection closes, and
	// one when a stalled handshake's client goes.
	for _, free := range []func(){
		func() { open[0].Close(conn.StatusNormalClosure, "") },
		func() { stalled[0].Close() },
	} {
		free()
		var err error
		for range 100 { // the server's side closes a moment after ours
			var c *conn.Conn
			if c, _, err = client.Dial(ctx, "ws://"+addr+"/", dopts); err == nil {
				open = append(open, c)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("no place after one connection closed: %v", err)
		}
	}
}
