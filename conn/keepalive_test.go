package conn

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// A peer that answers pings keeps the connection open for good.
func TestKeepAliveAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		opts := &Options{KeepAliveInterval: 10 * time.Second, KeepAliveTimeout: 5 * time.Second}
		srv := New(a, Setup{Role: Server, Options: opts})
		cli := New(b, Setup{Role: Client})
		defer cli.CloseNow()
		srvErr := make(chan error, 1)
		go func() { _, _, err := srv.ReadMessage(context.Background(), nil); srvErr <- err }()
		// The client reads, so it answers pings automatically.
		go cli.ReadMessage(context.Background(), nil)

		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case err := <-srvErr:
			t.Fatalf("connection dropped although the peer answers: %v", err)
		default:
		}

		// Pings went out and were answered: the keepalive is still armed.
		if cli.live == nil || srv.live == nil || srv.live.stopped {
			t.Fatal("keepalive not running on the server")
		}
	})
}

// A peer whose TCP stays up but that never answers pings is dropped with
// ErrKeepAliveTimeout.
func TestKeepAliveSilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		start := time.Now()
		srv := New(a, Setup{Role: Server, Options: &Options{KeepAliveInterval: time.Second}})
		// The peer reads raw bytes (so writes don't block) but never answers.
		go func() {
			buf := make([]byte, 256)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		_, _, err := srv.ReadMessage(context.Background(), nil)
		if !errors.Is(err, ErrKeepAliveTimeout) {
			t.Fatalf("err = %v, want ErrKeepAliveTimeout", err)
		}
		// Interval 1 s, timeout defaults to the interval, then a second
		// look a quarter of it later: dropped at 2.25 s.
		if elapsed := time.Since(start); elapsed != 2250*time.Millisecond {
			t.Fatalf("dropped after %v, want 2.25s", elapsed)
		}
	})
}
