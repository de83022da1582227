package client_test

// End-to-end tests: our client against our server over loopback TCP and
// TLS (net/http and the raw listener path), through proxies, with the
// sizes, fragmentation, control frames, close codes and limits of
// RFC 6455.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
)

// testTimeout bounds every test's network activity.
const testTimeout = 3 * time.Minute

// mode is a transport the end-to-end tests run over.
type mode struct {
	name string
	tls  bool
}

var modes = []mode{{"tcp", false}, {"tls", true}}

// testServer is an httptest server speaking WebSocket.
type testServer struct {
	*httptest.Server
	url  string              // ws:// or wss:// URL of the root
	opts *client.DialOptions // dial options that trust the server
}

// startServer serves h on 127.0.0.1, with TLS when m.tls.
func startServer(t testing.TB, m mode, h http.Handler) *testServer {
	t.Helper()
	var s *httptest.Server
	if m.tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	ts := &testServer{Server: s, opts: &client.DialOptions{Proxy: client.NoProxy}}
	if m.tls {
		pool := x509.NewCertPool()
		pool.AddCert(s.Certificate())
		ts.opts.TLSConfig = &tls.Config{RootCAs: pool}
		ts.url = "wss" + strings.TrimPrefix(s.URL, "https")
	} else {
		ts.url = "ws" + strings.TrimPrefix(s.URL, "http")
	}
	return ts
}

// dialOptions returns a copy of the server's dial options.
func (ts *testServer) dialOptions() *client.DialOptions {
	o := *ts.opts
	return &o
}

// dial connects to the server and closes the connection at the end of
// the test.
func dial(t testing.TB, ctx context.Context, url string, opts *client.DialOptions) *conn.Conn {
	t.Helper()
	c, resp, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("Dial: status %d, want 101", resp.StatusCode)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// payload returns n bytes for a message of type typ: valid UTF-8 for
// text, pseudo-random bytes from a fixed seed for binary.
func payload(typ conn.MessageType, n int, seed uint64) []byte {
	p := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	if typ == conn.Text {
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
		for i := range p {
			p[i] = alphabet[r.IntN(len(alphabet))]
		}
		return p
	}
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// roundTrip sends p and checks that the echo is the same message.
func roundTrip(t testing.TB, ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte) {
	t.Helper()
	if err := c.WriteMessage(ctx, typ, p); err != nil {
		t.Fatalf("WriteMessage(%v, %d bytes): %v", typ, len(p), err)
	}
	gotTyp, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		t.Fatalf("ReadMessage after %v message of %d bytes: %v", typ, len(p), err)
	}
	if gotTyp != typ || !bytes.Equal(got, p) {
		t.Fatalf("echo of %v message of %d bytes: got %v message of %d bytes (equal payload: %t)",
			typ, len(p), gotTyp, len(got), bytes.Equal(got, p))
	}
}

// closeClean runs the closing handshake from the client and checks it
// completes.
func closeClean(t testing.TB, c *conn.Conn) {
	t.Helper()
	if err := c.Close(conn.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close: %v", err)
	}
}

var sizes = []int{0, 1, 125, 126, 65535, 65536, 16 << 20}

func TestEchoSizes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			ctx := testContext(t)
			c := dial(t, ctx, ts.url, ts.dialOptions())
			for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
				for i, n := range sizes {
					roundTrip(t, ctx, c, typ, payload(typ, n, uint64(i)))
				}
			}
			closeClean(t, c)
		})
	}
}

// TestEchoRawListener runs the same exchange against server.Serve, the
// path without net/http.
func TestEchoRawListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- server.Serve(srvCtx, ln, nil, func(ctx context.Context, c *conn.Conn, r *http.Request) {
			defer c.CloseNow()
			if r.URL.Path != "/echo" {
				c.Close(conn.StatusPolicyViolation, "wrong path")
				return
			}
			echo.Loop(ctx, c)
		})
	}()
	c := dial(t, ctx, "ws://"+ln.Addr().String()+"/echo", &client.DialOptions{Proxy: client.NoProxy})
	for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
		for i, n := range sizes[:len(sizes)-1] {
			roundTrip(t, ctx, c, typ, payload(typ, n, uint64(i)))
		}
	}
	closeClean(t, c)
	stop()
	if err := testwait.Recv(t, done, "Serve's return"); !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v, want context.Canceled", err)
	}
}

// frameLog records the frame headers a client writes, by parsing the
// bytes that go onto the wire after the handshake.
type frameLog struct {
	net.Conn
	mu      sync.Mutex
	started bool   // the handshake request has been written
	buf     []byte // unparsed bytes
	skip    int64  // payload bytes of the current frame still to skip
	headers []frame.Header
}

func (l *frameLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	if !l.started {
		// The first write is the handshake request.
		l.started = true
	} else {
		l.buf = append(l.buf, p...)
		l.parse()
	}
	l.mu.Unlock()
	return l.Conn.Write(p)
}

func (l *frameLog) parse() {
	for {
		if l.skip > 0 {
			n := min(l.skip, int64(len(l.buf)))
			l.buf, l.skip = l.buf[n:], l.skip-n
			if l.skip > 0 {
				return
			}
		}
		h, n, err := frame.ParseHeader(l.buf)
		if err != nil || n == 0 {
			return
		}
		l.headers = append(l.headers, h)
		l.buf, l.skip = l.buf[n:], h.Length
	}
}

func (l *frameLog) frames() []frame.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]frame.Header(nil), l.headers...)
}

// TestFragmentedWithPings streams a message in small frames with pings
// between the frames, over both transports; the server echoes it in
// fragments of its own. The frames on the wire are checked.
func TestFragmentedWithPings(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var serverPings sync.WaitGroup
			serverPings.Add(3)
			sopts := &server.AcceptOptions{Conn: &conn.Options{
				MaxFrameSize: 100,
				OnPing:       func([]byte) { serverPings.Done() },
			}}
			ts := startServer(t, m, echo.Handler(sopts))
			ctx := testContext(t)

			var log *frameLog
			opts := ts.dialOptions()
			opts.Conn = &conn.Options{MaxFrameSize: 256}
			opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				if !m.tls { // with TLS the wire bytes are encrypted
					log = &frameLog{Conn: nc}
					return log, nil
				}
				return nc, nil
			}
			c := dial(t, ctx, ts.url, opts)

			// The reader goroutine receives the echo and the pongs.
			type result struct {
				typ conn.MessageType
				p   []byte
				err error
			}
			echoed := make(chan result, 1)
			go func() {
				typ, p, err := c.ReadMessage(ctx, nil)
				echoed <- result{typ, p, err}
			}()

			msg := payload(conn.Text, 3000, 7)
			w, err := c.NextWriter(ctx, conn.Text)
			if err != nil {
				t.Fatal(err)
			}
			for i, chunk := range [][]byte{msg[:1000], msg[1000:2000], msg[2000:]} {
				if _, err := w.Write(chunk); err != nil {
					t.Fatalf("Write of chunk %d: %v", i, err)
				}
				if i < 2 {
					if err := ping(ctx, c); err != nil {
						t.Fatalf("Ping between fragments: %v", err)
					}
				}
			}
			if err := ping(ctx, c); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r := testwait.Recv(t, echoed, "the echo")
			if r.err != nil || r.typ != conn.Text || !bytes.Equal(r.p, msg) {
				t.Fatalf("echo: %v message of %d bytes, err %v", r.typ, len(r.p), r.err)
			}
			waitGroup(t, &serverPings, "the server seeing the pings")

			if log != nil {
				checkFragmentedWire(t, log.frames())
			}
			closeClean(t, c)
		})
	}
}

// checkFragmentedWire checks the client's frames of TestFragmentedWithPings:
// a text frame without FIN, continuation frames of at most 256 bytes, the
// last with FIN, and pings among them.
func checkFragmentedWire(t *testing.T, hs []frame.Header) {
	t.Helper()
	var data, pingsInside int
	inMessage := false
	total := int64(0)
	for _, h := range hs {
		if !h.Masked {
			t.Errorf("client frame %v not masked", h.Opcode)
		}
		switch h.Opcode {
		case frame.OpText:
			if inMessage || h.Fin {
				t.Errorf("text frame: inMessage %t, FIN %t; want a first fragment", inMessage, h.Fin)
			}
			inMessage = true
		case frame.OpContinuation:
			if !inMessage {
				t.Error("continuation outside a message")
			}
			if h.Fin {
				inMessage = false
			}
		case frame.OpPing:
			if inMessage {
				pingsInside++
			}
			continue
		default:
			continue
		}
		data++
		total += h.Length
		if h.Length > 256 {
			t.Errorf("data frame of %d bytes, want at most MaxFrameSize 256", h.Length)
		}
	}
	if total != 3000 || data < 12 || pingsInside < 2 {
		t.Errorf("wire: %d data frames carrying %d bytes with %d pings inside the message; want >= 12 frames, 3000 bytes, >= 2 pings", data, total, pingsInside)
	}
}

// TestPingsDuringLargeWrite has many goroutines pinging while one writes a
// large fragmented message: control frames go between data frames, never
// inside one, and every ping gets its pong.
func TestPingsDuringLargeWrite(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(&server.AcceptOptions{Conn: &conn.Options{MaxFrameSize: 4096}}))
			ctx := testContext(t)
			opts := ts.dialOptions()
			opts.Conn = &conn.Options{MaxFrameSize: 1000}
			c := dial(t, ctx, ts.url, opts)

			const pingers, pingsEach = 16, 20
			msg := payload(conn.Binary, 4<<20, 11)
			// The reader goroutine takes the echo, then keeps reading so
			// that pongs are processed until the close handshake ends.
			echoed := make(chan error, 1)
			readerDone := make(chan error, 1)
			go func() {
				typ, p, err := c.ReadMessage(ctx, nil)
				if err == nil && (typ != conn.Binary || !bytes.Equal(p, msg)) {
					err = fmt.Errorf("echo: %v message of %d bytes differs", typ, len(p))
				}
				echoed <- err
				for err == nil {
					_, _, err = c.ReadMessage(ctx, nil)
				}
				readerDone <- err
			}()
			var wg sync.WaitGroup
			errs := make(chan error, pingers*pingsEach+1)
			for range pingers {
				wg.Go(func() {
					for range pingsEach {
						if err := ping(ctx, c); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Go(func() {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					errs <- err
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if err := testwait.RecvWithin(t, echoed, "the echo of the 4 MiB message", bigTransferWait); err != nil {
				t.Fatal(err)
			}
			closeClean(t, c)
			checkCloseError(t, testwait.Recv(t, readerDone, "the reader's end"), conn.StatusNormalClosure, "")
		})
	}
}

// serverResult carries what a test handler saw.
type serverResult struct {
	err error
	typ conn.MessageType
	p   []byte
}

// handlerFunc accepts with opts and runs fn, reporting its result.
func handlerFunc(opts *server.AcceptOptions, results chan<- serverResult, fn func(ctx context.Context, c *conn.Conn) serverResult) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, opts)
		if err != nil {
			results <- serverResult{err: err}
			return
		}
		defer c.CloseNow()
		results <- fn(r.Context(), c)
	})
}

func TestCloseCodes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name+"/client closes", func(t *testing.T) {
			results := make(chan serverResult, 1)
			ts := startServer(t, m, handlerFunc(nil, results, func(ctx context.Context, c *conn.Conn) serverResult {
				_, _, err := c.ReadMessage(ctx, nil)
				return serverResult{err: err}
			}))
			ctx := testContext(t)
			c := dial(t, ctx, ts.url, ts.dialOptions())
			if err := c.Close(4001, "client says bye"); err != nil {
				t.Errorf("Close: %v", err)
			}
			checkCloseError(t, (testwait.Recv(t, results, "the server's result")).err, 4001, "client says bye")
		})
		t.Run(m.name+"/server closes", func(t *testing.T) {
			results := make(chan serverResult, 1)
			ts := startServer(t, m, handlerFunc(nil, results, func(ctx context.Context, c *conn.Conn) serverResult {
				return serverResult{err: c.Close(conn.StatusGoingAway, "server restarting")}
			}))
			ctx := testContext(t)
			c := dial(t, ctx, ts.url, ts.dialOptions())
			_, _, err := c.ReadMessage(ctx, nil)
			checkCloseError(t, err, conn.StatusGoingAway, "server restarting")
			if r := testwait.Recv(t, results, "the server's result"); r.err != nil {
				t.Errorf("server Close: %v", r.err)
			}
			// The connection is over: later reads and writes fail.
			if err := c.WriteMessage(ctx, conn.Text, []byte("late")); err == nil {
				t.Error("WriteMessage after the close handshake succeeded")
			}
		})
	}
}

func checkCloseError(t *testing.T, err error, code conn.StatusCode, reason string) {
	t.Helper()
	var ce *conn.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *conn.CloseError", err, err)
	}
	if ce.Code != code || ce.Reason != reason {
		t.Errorf("CloseError{%d, %q}, want {%d, %q}", ce.Code, ce.Reason, code, reason)
	}
}

// TestReadLimit sends a message over the server's read limit: the server
// fails the connection with 1009 (RFC 6455 §7.4.1) and the client sees
// that code.
func TestReadLimit(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			results := make(chan serverResult, 1)
			opts := &server.AcceptOptions{Conn: &conn.Options{ReadLimit: 1024}}
			ts := startServer(t, m, handlerFunc(opts, results, func(ctx context.Context, c *conn.Conn) serverResult {
				var r serverResult
				for r.err == nil {
					r.typ, r.p, r.err = c.ReadMessage(ctx, nil)
					if r.err == nil {
						r.err = c.WriteMessage(ctx, r.typ, r.p)
					}
				}
				return r
			}))
			ctx := testContext(t)
			c := dial(t, ctx, ts.url, ts.dialOptions())
			roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, 1024, 1)) // at the limit: fine
			if err := c.WriteMessage(ctx, conn.Binary, payload(conn.Binary, 1025, 2)); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			_, _, err := c.ReadMessage(ctx, nil)
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != conn.StatusMessageTooBig {
				t.Errorf("client read after an over-limit message: %v, want a CloseError with 1009", err)
			}
			var pe *frame.ProtocolError
			if r := testwait.Recv(t, results, "the server's result"); !errors.As(r.err, &pe) || pe.Code != conn.StatusMessageTooBig {
				t.Errorf("server read: %v, want a ProtocolError with 1009", r.err)
			}
		})
	}
}

func TestSubprotocols(t *testing.T) {
	tests := []struct {
		name           string
		server, client []string
		want           string
	}{
		{"server preference wins", []string{"v2.chat", "v1.chat"}, []string{"v1.chat", "v2.chat"}, "v2.chat"},
		{"only common one", []string{"mqtt", "v1.chat"}, []string{"v1.chat"}, "v1.chat"},
		{"no overlap", []string{"mqtt"}, []string{"v1.chat"}, ""},
		{"client offers none", []string{"mqtt"}, nil, ""},
		{"server speaks none", nil, []string{"v1.chat"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := make(chan serverResult, 1)
			opts := &server.AcceptOptions{Subprotocols: tt.server}
			ts := startServer(t, modes[0], handlerFunc(opts, results, func(ctx context.Context, c *conn.Conn) serverResult {
				return serverResult{p: []byte(c.Subprotocol())}
			}))
			ctx := testContext(t)
			dopts := ts.dialOptions()
			dopts.Subprotocols = tt.client
			c, resp, err := client.Dial(ctx, ts.url, dopts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if got := c.Subprotocol(); got != tt.want {
				t.Errorf("client Subprotocol() = %q, want %q", got, tt.want)
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tt.want {
				t.Errorf("response Sec-WebSocket-Protocol %q, want %q", got, tt.want)
			}
			if r := testwait.Recv(t, results, "the server's result"); string(r.p) != tt.want {
				t.Errorf("server Subprotocol() = %q, want %q", r.p, tt.want)
			}
		})
	}
}
