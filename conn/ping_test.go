package conn

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// pingRefusingConn is a net.Conn that cannot carry pings, as package
// client's adapter over a browser's WebSocket (js/wasm).
type pingRefusingConn struct{ net.Conn }

var errNoPings = errors.New("this transport cannot send pings")

func (pingRefusingConn) RefusePing() error { return errNoPings }

// TestPingRefusedByTransport: Ping returns the net.Conn's RefusePing error
// at once, writes nothing, and leaves the Conn usable.
func TestPingRefusedByTransport(t *testing.T) {
	pinged := make(chan struct{}, 1)
	a, b := net.Pipe()
	srv := New(a, Setup{Role: Server, Options: &Options{OnPing: func([]byte) { pinged <- struct{}{} }}})
	// A short write timeout, so that a Ping that writes fails quickly.
	cli := New(pingRefusingConn{b}, Setup{Role: Client, Options: &Options{WriteTimeout: 2 * time.Second}})
	t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); !errors.Is(err, errNoPings) {
		t.Fatalf("Ping: %v, want %v", err, errNoPings)
	}
	// Had Ping written a frame, the pipe would deliver it first and the
	// server would see a ping before the message.
	go cli.WriteMessage(ctx, Text, []byte("after the refused ping"))
	typ, p, err := srv.ReadMessage(ctx, nil)
	if err != nil || typ != Text || string(p) != "after the refused ping" {
		t.Fatalf("ReadMessage = %v %q %v, want the text message", typ, p, err)
	}
	select {
	case <-pinged:
		t.Error("the server received a ping")
	default:
	}
}
