package client_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
)

// loopbackEcho starts our echo server on 127.0.0.1 and dials it.
func loopbackEcho(tb testing.TB) *conn.Conn {
	tb.Helper()
	s := httptest.NewServer(echo.Handler(nil))
	tb.Cleanup(s.Close)
	c, _, err := client.Dial(context.Background(), "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.CloseNow() })
	return c
}

// BenchmarkLoopbackEcho is a round trip of one binary message between our
// client and our echo server over loopback TCP: the client masks and
// writes, the server reads into its reused buffer and writes back, the
// client reads into its reused buffer. Allocations are both sides'.
func BenchmarkLoopbackEcho(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			c := loopbackEcho(b)
			ctx := context.Background()
			msg := payload(conn.Binary, size, 1)
			var buf []byte
			var err error
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err = c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					b.Fatal(err)
				}
				if _, buf, err = c.ReadMessage(ctx, buf[:0]); err != nil || len(buf) != size {
					b.Fatalf("ReadMessage: %d bytes, %v", len(buf), err)
				}
			}
		})
	}
}

// TestLoopbackEchoAllocs asserts what BenchmarkLoopbackEcho shows: once
// the buffers have grown, a round trip of a binary message up to 64 KiB
// allocates nothing, on the client and on the echo server together.
func TestLoopbackEchoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("network round trips")
	}
	if raceBuild() {
		t.Skip("sync.Pool, which lends the read and write buffers, drops items at random under the race detector")
	}
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		c := loopbackEcho(t)
		// A context without Done: with a cancellable one the Conn
		// registers a context.AfterFunc (two allocations) for each call
		// that has to wait.
		ctx := context.Background()
		c.SetReadDeadline(time.Now().Add(testTimeout))
		msg := payload(conn.Binary, size, 1)
		var buf []byte
		roundTrip := func() {
			var err error
			if err = c.WriteMessage(ctx, conn.Binary, msg); err != nil {
				t.Fatal(err)
			}
			if _, buf, err = c.ReadMessage(ctx, buf[:0]); err != nil || len(buf) != size {
				t.Fatalf("ReadMessage: %d bytes, %v", len(buf), err)
			}
		}
		roundTrip() // grow the buffers on both sides
		if n := testing.AllocsPerRun(100, roundTrip); n != 0 {
			t.Errorf("%d-byte echo over loopback: %v allocations per round trip, want 0", size, n)
		}
	}
}
