package client

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
)

// closeFirst is the client's end of a net.Pipe. When a read returns the
// last bytes the server sends (they end with tail), it waits until the
// server has closed its end before handing them on, so the server is gone
// before Dial has finished with the response.
type closeFirst struct {
	net.Conn
	tail   []byte
	seen   []byte
	closed <-chan struct{}
}

func (c *closeFirst) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.seen = append(c.seen, p[:n]...)
	if n > 0 && bytes.HasSuffix(c.seen, c.tail) {
		<-c.closed
	}
	return n, err
}

// TestDialPeerClosedAfterResponse is the regression test for what FuzzDial
// found (crasher "HTTP/1.1 101 s\r\n...\r\n\r\n\x81\x05H"): a server sends
// its 101, a message and a close frame, and closes the connection before
// Dial has finished. Everything the server said is in the client's
// buffer, so Dial must succeed and the Conn deliver the message and the
// close. Over net.Pipe, SetDeadline fails once the peer has closed
// (io.ErrClosedPipe), and Dial gives up on that error ("client: io:
// read/write on closed pipe"), losing the server's frames.
func TestDialPeerClosedAfterResponse(t *testing.T) {
	const frames = "\x81\x05Hello\x88\x02\x03\xe8"
	closed := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	opts := &DialOptions{
		Proxy:            NoProxy,
		HandshakeTimeout: 5 * time.Second,
		Conn:             &conn.Options{CloseTimeout: 100 * time.Millisecond},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			a, b := net.Pipe()
			wg.Go(func() {
				defer close(closed)
				defer b.Close()
				req, err := http.ReadRequest(bufio.NewReader(b))
				if err != nil {
					return
				}
				b.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n" + frames))
			})
			return &closeFirst{Conn: a, tail: []byte(frames), closed: closed}, nil
		},
	}
	c, _, err := Dial(context.Background(), "ws://example.com/", opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	typ, msg, err := c.ReadMessage(context.Background(), nil)
	if err != nil || typ != conn.Text || string(msg) != "Hello" {
		t.Fatalf("ReadMessage = %v %q %v, want the server's Hello", typ, msg, err)
	}
	_, _, err = c.ReadMessage(context.Background(), nil)
	if ce, ok := err.(*conn.CloseError); !ok || ce.Code != 1000 {
		t.Fatalf("after the close frame: %v, want a CloseError with 1000", err)
	}
}
