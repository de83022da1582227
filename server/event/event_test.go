//go:build linux

package event_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

// start serves h on a loopback listener with opts and returns its ws://
// URL; the server stops, and Serve's result is checked, when the test ends.
func start(t *testing.T, opts *event.Options, h event.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- event.Serve(ctx, ln, opts, h) }()
	t.Cleanup(func() {
		cancel()
		if err := testwait.RecvWithin(t, done, "Serve to return", 15*time.Second); !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v, want context.Canceled", err)
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

func eventOptions(readLimit int64) *event.Options {
	return &event.Options{Accept: &server.AcceptOptions{Conn: &conn.Options{ReadLimit: readLimit}}}
}

func echoHandler() event.Handler {
	return event.Handler{OnMessage: func(c *event.Conn, typ conn.MessageType, data []byte) {
		c.WriteMessage(typ, data)
	}}
}

func dial(t *testing.T, url string, opts *client.DialOptions) *conn.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	c, _, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func roundTrip(t *testing.T, c *conn.Conn, typ conn.MessageType, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	if err := c.WriteMessage(ctx, typ, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotTyp, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		t.Fatalf("echo of %v %d bytes: %v %d bytes", typ, len(msg), gotTyp, len(got))
	}
}

func TestEcho(t *testing.T) {
	serverOpts := &event.Options{Accept: &server.AcceptOptions{Compression: &deflate.ServerOptions{}}}
	url := start(t, serverOpts, echoHandler())
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1 << 20}
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			var dopts client.DialOptions
			if compress {
				dopts.Compression = &deflate.ClientOptions{}
			}
			c := dial(t, url, &dopts)
			for _, n := range sizes {
				msg := bytes.Repeat([]byte("abcdefgh"), n/8+1)[:n]
				roundTrip(t, c, conn.Binary, msg)
				roundTrip(t, c, conn.Text, msg)
			}
			if err := c.Close(conn.StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// A message split in fragments, with a ping between them, is assembled
// whole and the ping answered (RFC 6455 §5.4, §5.5.2).
func TestFragmentsAndCallbackOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	closed := make(chan struct{})
	h := event.Handler{
		OnOpen: func(c *event.Conn) { mu.Lock(); events = append(events, "open"); mu.Unlock() },
		OnMessage: func(c *event.Conn, typ conn.MessageType, data []byte) {
			mu.Lock()
			events = append(events, string(data))
			mu.Unlock()
		},
		OnClose: func(c *event.Conn, err error) {
			mu.Lock()
			events = append(events, fmt.Sprintf("close %v", err))
			mu.Unlock()
			close(closed)
		},
	}
	url := start(t, nil, h)
	c := dial(t, url, &client.DialOptions{Conn: &conn.Options{MaxFrameSize: 3}})
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	for i := range 50 {
		if err := c.WriteMessage(ctx, conn.Text, []byte(fmt.Sprintf("message %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(conn.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	testwait.Recv(t, closed, "OnClose")
	mu.Lock()
	defer mu.Unlock()
	want := []string{"open"}
	for i := range 50 {
		want = append(want, fmt.Sprintf("message %d", i))
	}
	want = append(want, fmt.Sprintf("close %v", &conn.CloseError{Code: conn.StatusNormalClosure, Reason: "done"}))
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Fatalf("callbacks:\n%q\nwant\n%q", events, want)
	}
}

// Frames that break the protocol fail the connection with the close code
// the protocol core assigns, as conn.Conn does (RFC 6455 §7.4.1).
func TestProtocolViolations(t *testing.T) {
	url := start(t, nil, echoHandler())
	tests := []struct {
		name string
		raw  []byte
		code frame.StatusCode
	}{
		{"unmasked frame", []byte{0x81, 0x01, 'x'}, frame.StatusProtocolError},
		{"reserved opcode", masked(0x83, nil), frame.StatusProtocolError},
		{"bad UTF-8", masked(0x81, []byte{0xff}), frame.StatusInvalidPayloadData},
		{"continuation first", masked(0x80, nil), frame.StatusProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := rawDial(t, url)
			nc.Write(tt.raw)
			h, p := readFrame(t, nc)
			if h.Opcode != frame.OpClose {
				t.Fatalf("got %v, want a close frame", h.Opcode)
			}
			code, _, err := frame.ParseClosePayload(p)
			if err != nil || code != tt.code {
				t.Fatalf("close code %d (%v), want %d", code, err, tt.code)
			}
		})
	}
}

func masked(b0 byte, payload []byte) []byte {
	key := [4]byte{9, 8, 7, 6}
	out := []byte{b0, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	start := len(out)
	out = append(out, payload...)
	frame.Mask(key, 0, out[start:])
	return out
}

// rawDial opens a TCP connection and performs the handshake by hand.
func rawDial(t *testing.T, url string) net.Conn {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	nc, err := net.DialTimeout("tcp", addr, testwait.Limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testwait.Limit))
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	var resp []byte
	var b [1]byte
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if _, err := nc.Read(b[:]); err != nil {
			t.Fatalf("reading the response: %v (%q)", err, resp)
		}
		resp = append(resp, b[0])
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101 ")) || !bytes.Contains(resp, []byte("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
		t.Fatalf("response %q", resp)
	}
	return nc
}

func readFrame(t *testing.T, nc net.Conn) (frame.Header, []byte) {
	t.Helper()
	r, err := frame.NewReader(nc, make([]byte, 256))
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.NextHeader()
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := r.Read(p); err != nil && h.Length > 0 {
		t.Fatalf("reading a payload: %v", err)
	}
	return h, p
}

// A ping is answered with a pong carrying its payload (RFC 6455 §5.5.2),
// and a close with a close echoing the code, after which the server
// closes TCP (§5.5.1, §7.1.1).
func TestPingAndClose(t *testing.T) {
	url := start(t, nil, echoHandler())
	nc := rawDial(t, url)
	nc.Write(masked(0x89, []byte("are you there")))
	h, p := readFrame(t, nc)
	if h.Opcode != frame.OpPong || string(p) != "are you there" {
		t.Fatalf("got %v %q, want the pong", h.Opcode, p)
	}
	nc.Write(masked(0x88, []byte{0x0f, 0xa0, 'b'})) // 4000 "b"
	h, p = readFrame(t, nc)
	code, _, _ := frame.ParseClosePayload(p)
	if h.Opcode != frame.OpClose || code != 4000 {
		t.Fatalf("got %v %d, want close 4000", h.Opcode, code)
	}
	if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("after the close: %d bytes, %v; want EOF", n, err)
	}
}

// A peer that does not read: the queue fills, and each policy does what
// it says, with BufferedAmount reporting the queue.
func TestWriteQueuePolicies(t *testing.T) {
	for _, policy := range []event.QueuePolicy{event.Drop, event.Close, event.Block} {
		t.Run(policy.String(), func(t *testing.T) {
			results := make(chan error, 1)
			var buffered int
			h := event.Handler{OnOpen: func(c *event.Conn) {
				msg := make([]byte, 64<<10)
				for range 1000 {
					if err := c.WriteMessage(conn.Binary, msg); err != nil {
						buffered = c.BufferedAmount()
						results <- err
						return
					}
				}
				results <- nil
			}}
			opts := &event.Options{WriteQueueLimit: 256 << 10, QueueFull: policy,
				Accept: &server.AcceptOptions{Conn: &conn.Options{WriteTimeout: 500 * time.Millisecond}}}
			url := start(t, opts, h)
			nc := rawDial(t, url) // reads nothing more
			err := testwait.Recv(t, results, "the writer to hit the bound")
			switch policy {
			case event.Drop:
				if !errors.Is(err, event.ErrQueueFull) || buffered == 0 || buffered > 256<<10 {
					t.Fatalf("err %v, BufferedAmount %d; want ErrQueueFull and 0 < queued <= 256 KiB", err, buffered)
				}
			case event.Close:
				if !errors.Is(err, event.ErrQueueFull) {
					t.Fatalf("err %v, want ErrQueueFull", err)
				}
			case event.Block:
				if !errors.Is(err, event.ErrQueueFull) && !errors.Is(err, event.ErrClosed) {
					t.Fatalf("err %v, want ErrQueueFull after the write timeout", err)
				}
			}
			_ = nc
		})
	}
}

func TestNotTCP(t *testing.T) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	if err := event.Serve(context.Background(), ln, nil, event.Handler{}); !errors.Is(err, event.ErrNotTCP) {
		t.Fatalf("Serve on a unix listener: %v, want ErrNotTCP", err)
	}
}

// A connection that never completes its handshake is closed after
// HandshakeTimeout, and one whose peer answers nothing after
// KeepAliveTimeout.
func TestTimeouts(t *testing.T) {
	opts := &event.Options{Accept: &server.AcceptOptions{
		HandshakeTimeout: 200 * time.Millisecond,
		Conn:             &conn.Options{KeepAliveInterval: 200 * time.Millisecond, KeepAliveTimeout: 200 * time.Millisecond},
	}}
	url := start(t, opts, echoHandler())
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	t.Run("handshake", func(t *testing.T) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testwait.Limit))
		_, err = nc.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read: %v, want the server to close the connection", err)
		}
	})
	t.Run("keepalive", func(t *testing.T) {
		nc := rawDial(t, url)
		h, _ := readFrame(t, nc)
		if h.Opcode != frame.OpPing {
			t.Fatalf("first frame %v, want a keepalive ping", h.Opcode)
		}
		h, p := readFrame(t, nc)
		code, _, _ := frame.ParseClosePayload(p)
		if h.Opcode != frame.OpClose || code != frame.StatusInternalError {
			t.Fatalf("then %v %d, want close 1011", h.Opcode, code)
		}
	})
}

// A peer that pings without reading cannot grow the write queue past its
// bound with pongs (RFC 6455 §5.5.3 lets a ping go unanswered when a
// later one is).
func TestPingFloodBounded(t *testing.T) {
	const limit = 64 << 10
	got := make(chan int, 1)
	var srv *event.Conn
	var mu sync.Mutex
	h := event.Handler{
		OnOpen: func(c *event.Conn) { mu.Lock(); srv = c; mu.Unlock() },
		OnMessage: func(c *event.Conn, typ conn.MessageType, data []byte) {
			got <- c.BufferedAmount()
		},
	}
	url := start(t, &event.Options{WriteQueueLimit: limit}, h)
	nc := rawDial(t, url)
	ping := masked(0x89, bytes.Repeat([]byte("p"), 125))
	batch := bytes.Repeat(ping, 1000)
	for range 100 { // 13 MB of pongs owed: more than the socket buffers hold
		if _, err := nc.Write(batch); err != nil {
			t.Fatal(err)
		}
	}
	nc.Write(masked(0x81, []byte("done")))
	queued := testwait.Recv(t, got, "the message after the pings")
	if queued == 0 || queued > limit+131 {
		t.Fatalf("BufferedAmount %d after the flood, want 0 < queued <= %d", queued, limit+131)
	}
	mu.Lock()
	defer mu.Unlock()
	if srv == nil {
		t.Fatal("OnOpen did not run")
	}
}
