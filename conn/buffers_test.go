package conn

import (
	"bytes"
	"context"
	"github.com/rfc6455/ws/internal/testwait"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// unixPair returns the two ends of a Unix-domain stream connection.
func unixPair(t testing.TB) (a, b net.Conn) {
	return socketPair(t, "unix", filepath.Join(t.TempDir(), "s"))
}

// TestQuietConnHoldsNoBuffers drives both ends of a connection from the
// test goroutine, so that it can look at the buffers each holds whenever
// neither is inside a call: a quiet Conn holds no write buffer, and no read
// buffer where it can wait for input without one (TCP, Unix sockets). On
// net.Pipe the read buffer is held for life. It also checks the release
// that happens while a read waits (ended here by a deadline) and that the
// Conn keeps working after each.
func TestQuietConnHoldsNoBuffers(t *testing.T) {
	transports := []struct {
		name     string
		pair     func(testing.TB) (net.Conn, net.Conn)
		keepsBuf bool // the read buffer is held for the connection's life
	}{
		{"tcp", tcpPair, false},
		{"unix", unixPair, false},
		{"pipe", func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }, true},
	}
	ctx := context.Background()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			a, b := tr.pair(t)
			srv := New(a, Setup{Role: Server})
			cli := New(b, Setup{Role: Client})
			defer srv.CloseNow()
			defer cli.CloseNow()
			quiet := func(when string) {
				t.Helper()
				for _, c := range []*Conn{srv, cli} {
					if c.wbuf != nil || c.fw.Attached() {
						t.Errorf("%s: %v holds a write buffer", when, c.role)
					}
					if held := c.rbuf != nil; held != tr.keepsBuf {
						t.Errorf("%s: %v holds a read buffer: %v, want %v", when, c.role, held, tr.keepsBuf)
					}
				}
			}
			quiet("after New")

			// send writes msgs from one end; the other reads them all.
			// net.Pipe has no buffer, so there the writes run in a
			// goroutine; the test looks at the buffers only after both
			// sides are done.
			send := func(from, to *Conn, msgs ...[]byte) {
				t.Helper()
				done := make(chan error, 1)
				go func() {
					for _, m := range msgs {
						if err := from.WriteMessage(ctx, Binary, m); err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				var buf []byte
				for i, m := range msgs {
					_, p, err := to.ReadMessage(ctx, buf[:0])
					if err != nil || !bytes.Equal(p, m) {
						t.Fatalf("message %d: %d bytes, %v", i, len(p), err)
					}
					buf = p
				}
				if err := testwait.Recv(t, done, "writes"); err != nil {
					t.Fatal(err)
				}
			}
			for _, n := range []int{0, 16, 1 << 10, 4 << 10, 64 << 10} {
				send(cli, srv, payload(n, false))
				send(srv, cli, payload(n, false))
				quiet("after an exchange")
			}
			// Four messages in flight: the reader holds input beyond the
			// first message, so it keeps its buffer until the last one.
			send(cli, srv, payload(100, false), payload(3000, false), payload(16, false), payload(70000, false))
			quiet("after a pipelined burst")

			// A read that waits gives its buffer back before it parks; a
			// deadline ends it here, and the Conn stays usable.
			srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, _, err := srv.ReadMessage(ctx, nil); !isTimeout(err) {
				t.Fatalf("read with nothing to read: %v, want a timeout", err)
			}
			srv.SetReadDeadline(time.Time{})
			quiet("after a read that waited")
			send(cli, srv, payload(5, false))
			quiet("after the wait and another message")

			// Control frames: the server's reader answers a ping, the
			// client's reader takes the pong to Ping; both reads then
			// wait until their deadline.
			pinged := make(chan error, 1)
			go func() {
				pctx, cancel := context.WithTimeout(ctx, testwait.Limit)
				defer cancel()
				_, err := cli.Ping(pctx)
				pinged <- err
			}()
			cliRead := make(chan struct{})
			go func() {
				cli.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				cli.ReadMessage(ctx, nil)
				close(cliRead)
			}()
			srv.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, _, err := srv.ReadMessage(ctx, nil); !isTimeout(err) {
				t.Fatalf("server read after a ping: %v, want a timeout", err)
			}
			testwait.Recv(t, cliRead, "client read with a deadline")
			if err := testwait.Recv(t, pinged, "Ping"); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			srv.SetReadDeadline(time.Time{})
			cli.SetReadDeadline(time.Time{})
			quiet("after a ping and its pong")
			send(srv, cli, payload(300, false))
			quiet("after the ping and another message")
		})
	}
}
