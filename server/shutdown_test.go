package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/server"
)

// readUntilClosed reads messages on c until it fails, and delivers the
// error: after a close handshake started by the server, its *CloseError.
func readUntilClosed(c *conn.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// awaitLen waits until set holds n connections: Accept and Serve add a
// Conn just after writing its 101, so a client can see the 101 first.
func awaitLen(t *testing.T, set *server.Connections, n int) {
	t.Helper()
	deadline := time.Now().Add(releaseDeadline)
	for set.Len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in the set, want %d", set.Len(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestShutdown: 200 open connections whose clients answer the close
// frame, in both server modes. Shutdown sends each 1001 Going Away,
// returns nil as soon as every close handshake is done, and leaves the
// set empty; afterwards the server takes no new connection.
func TestShutdown(t *testing.T) {
	const n = 200
	for _, mode := range serverModes {
		t.Run(mode.name, func(t *testing.T) {
			set := &server.Connections{}
			var addr string
			var served func() error
			if mode.name == "Serve" {
				addr, served = startServe(t, &server.AcceptOptions{Connections: set})
			} else {
				addr = mode.start(t, &server.AcceptOptions{Connections: set})
			}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			ended := make([]<-chan error, n)
			for i := range ended {
				c, _, err := client.Dial(ctx, "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				ended[i] = readUntilClosed(c)
			}
			awaitLen(t, set, n)

			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			start := time.Now()
			if err := set.Shutdown(sctx); err != nil {
				t.Fatalf("Shutdown: %v after %v, want nil", err, time.Since(start))
			}
			t.Logf("Shutdown closed %d connections in %v", n, time.Since(start))
			if set.Len() != 0 {
				t.Errorf("%d connections left in the set", set.Len())
			}
			for i, ch := range ended {
				select {
				case err := <-ch:
					var ce *conn.CloseError
					if !errors.As(err, &ce) || ce.Code != conn.StatusGoingAway {
						t.Fatalf("client %d ended with %v, want a close with 1001", i, err)
					}
				case <-time.After(releaseDeadline):
					t.Fatalf("client %d still open after Shutdown", i)
				}
			}

			// No new connection: 503 through net/http, whose listener is
			// the http.Server's to close; Serve has closed its own.
			if served != nil {
				if err := served(); !errors.Is(err, server.ErrShuttingDown) {
					t.Errorf("Serve returned %v, want ErrShuttingDown", err)
				}
				if nc, err := net.Dial("tcp", addr); err == nil {
					nc.Close()
					t.Error("Serve's listener still accepts connections")
				}
				return
			}
			_, resp, err := client.Dial(ctx, "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
			if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("a dial after Shutdown: %v (response %v), want a 503", err, resp)
			}
		})
	}
}

// TestShutdownUnresponsivePeer: a client that never answers the close
// frame holds Shutdown until its context expires, not until the Conn's
// CloseTimeout (5 s); then Shutdown closes it and returns ctx's error. A
// client that answers, beside it, still gets its clean close.
func TestShutdownUnresponsivePeer(t *testing.T) {
	const grace = 300 * time.Millisecond
	for _, mode := range serverModes {
		t.Run(mode.name, func(t *testing.T) {
			set := &server.Connections{}
			addr := mode.start(t, &server.AcceptOptions{Connections: set})
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			good, _, err := client.Dial(ctx, "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
			if err != nil {
				t.Fatal(err)
			}
			defer good.CloseNow()
			goodEnded := readUntilClosed(good)

			// The mute client: a valid handshake in bytes, then silence.
			mute := dialRaw(t, addr)
			req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
			if _, err := mute.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(mute)
			if resp := readStatus(t, br); resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d", resp.StatusCode)
			}
			awaitLen(t, set, 2)

			sctx, scancel := context.WithTimeout(context.Background(), grace)
			defer scancel()
			start := time.Now()
			err = set.Shutdown(sctx)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v, want context.DeadlineExceeded", err)
			}
			if took < grace || took > grace+releaseDeadline {
				t.Errorf("Shutdown took %v with a grace period of %v", took, grace)
			}
			t.Logf("Shutdown returned %v after %v", err, took)
			if set.Len() != 0 {
				t.Errorf("%d connections left in the set", set.Len())
			}

			// The mute client got the 1001 close frame, and then the end of
			// the connection.
			mute.SetReadDeadline(time.Now().Add(releaseDeadline))
			var hdr [2]byte // a server's close frame: unmasked, at most 125 bytes
			if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[0] != 0x88 || hdr[1] > 125 {
				t.Fatalf("the mute client read % x (%v), want a close frame", hdr, err)
			}
			p := make([]byte, hdr[1])
			if _, err := io.ReadFull(br, p); err != nil {
				t.Fatal(err)
			}
			if code, _, err := frame.ParseClosePayload(p); err != nil || code != conn.StatusGoingAway {
				t.Errorf("close frame with %v %v, want 1001", code, err)
			}
			awaitEOF(t, mute, br)

			select {
			case err := <-goodEnded:
				var ce *conn.CloseError
				if !errors.As(err, &ce) || ce.Code != conn.StatusGoingAway {
					t.Errorf("the answering client ended with %v, want a close with 1001", err)
				}
			case <-time.After(releaseDeadline):
				t.Error("the answering client is still open")
			}
		})
	}
}
