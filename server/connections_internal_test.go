package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
)

// pipeConn returns the server side of a handshake finished over net.Pipe,
// for open, and a client Conn on the other end whose reads end with the
// error delivered on the channel (answering a close frame on the way).
func pipeConn(t *testing.T) (net.Conn, <-chan error) {
	t.Helper()
	srv, cli := net.Pipe()
	peer := conn.New(cli, conn.Setup{Role: conn.Client})
	t.Cleanup(func() { peer.CloseNow(); srv.Close() })
	ended := make(chan error, 1)
	go func() {
		for {
			if _, _, err := peer.ReadMessage(context.Background(), nil); err != nil {
				ended <- err
				return
			}
		}
	}()
	return srv, ended
}

func isGoingAway(err error) bool {
	var ce *conn.CloseError
	return errors.As(err, &ce) && ce.Code == conn.StatusGoingAway
}

// TestShutdownWaitsForAdmittedHandshake: a handshake admitted before
// Shutdown began (its 101 on the way) is waited for; its Conn is closed
// with 1001 like the others and is not handed out.
func TestShutdownWaitsForAdmittedHandshake(t *testing.T) {
	set := &Connections{}
	o := AcceptOptions{Connections: set}
	if !set.begin() {
		t.Fatal("begin refused before Shutdown")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- set.Shutdown(ctx)
	}()
	// Shutdown has begun once a new handshake is refused.
	deadline := time.Now().Add(2 * time.Second)
	for set.admitsForTest() {
		if time.Now().After(deadline) {
			t.Fatal("Shutdown did not begin")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a handshake still admitted", err)
	case <-time.After(20 * time.Millisecond):
	}

	nc, ended := pipeConn(t)
	c, err := o.open(nc, &agreement{}, nil, nil)
	if c != nil || !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("open during Shutdown: %v, %v; want ErrShuttingDown", c, err)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Shutdown did not return once the late Conn closed")
	}
	if err := <-ended; !isGoingAway(err) {
		t.Errorf("the late Conn's peer ended with %v, want 1001", err)
	}
}

// TestShutdownAbortedHandshake: a handshake admitted before Shutdown that
// then fails releases Shutdown.
func TestShutdownAbortedHandshake(t *testing.T) {
	set := &Connections{}
	set.begin()
	shut := make(chan error, 1)
	go func() { shut <- set.Shutdown(context.Background()) }()
	for set.admitsForTest() {
		time.Sleep(time.Millisecond)
	}
	set.abort()
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Shutdown did not return after the handshake failed")
	}
}

// TestShutdownAfterExpiry: a Conn that arrives after Shutdown's context
// expired is closed at once, not given a close handshake.
func TestShutdownAfterExpiry(t *testing.T) {
	set := &Connections{}
	o := AcceptOptions{Connections: set}
	set.begin()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := set.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v, want context.Canceled", err)
	}
	nc, ended := pipeConn(t)
	if _, err := o.open(nc, &agreement{}, nil, nil); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("open: %v, want ErrShuttingDown", err)
	}
	select {
	case err := <-ended:
		if isGoingAway(err) {
			t.Error("the peer got a close handshake; want the connection dropped")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the late Conn is still open")
	}
	if n := set.Len(); n != 0 {
		t.Errorf("%d connections in the set", n)
	}
}

// admitsForTest reports whether Shutdown has not begun.
func (s *Connections) admitsForTest() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stopping
}
