package client_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
)

// h2Mode is one way of carrying HTTP/2: TLS with ALPN, or cleartext with
// prior knowledge (RFC 9113 §3.3).
type h2Mode struct {
	name string
	tls  bool
}

var h2Modes = []h2Mode{{"h2", true}, {"h2c", false}}

// h2Server is an httptest server that speaks HTTP/2 and HTTP/1.1, with a
// count of the TCP connections it accepted.
type h2Server struct {
	*httptest.Server
	url     string
	accepts atomic.Int64
	pool    *client.HTTP2Pool
	opts    client.DialOptions
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startH2Server serves h over HTTP/2 (TLS, or cleartext prior knowledge)
// and HTTP/1.1 on 127.0.0.1, and returns it with dial options (HTTP2
// required, a pool of their own) that reach it.
func startH2Server(t testing.TB, m h2Mode, h http.Handler) *h2Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	hs := &h2Server{Server: s}
	s.Listener = countingListener{s.Listener, &hs.accepts}
	if m.tls {
		s.EnableHTTP2 = true
		s.StartTLS()
		pool := x509.NewCertPool()
		pool.AddCert(s.Certificate())
		hs.opts.TLSConfig = &tls.Config{RootCAs: pool}
		hs.url = "wss" + strings.TrimPrefix(s.URL, "https")
	} else {
		s.Config.Protocols = new(http.Protocols)
		s.Config.Protocols.SetHTTP1(true)
		s.Config.Protocols.SetUnencryptedHTTP2(true)
		s.Start()
		hs.url = "ws" + strings.TrimPrefix(s.URL, "http")
	}
	t.Cleanup(s.Close)
	hs.opts.Proxy = client.NoProxy
	hs.opts.HTTP2 = client.HTTP2Require
	hs.pool = client.NewHTTP2Pool(&hs.opts)
	hs.opts.HTTP2Pool = hs.pool
	t.Cleanup(hs.pool.CloseIdleConnections)
	return hs
}

func (hs *h2Server) dialOptions() *client.DialOptions {
	o := hs.opts
	return &o
}

// h2Context bounds one HTTP/2 test's waits: a few seconds, so that a
// broken behaviour fails with a message.
func h2Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialH2 dials over HTTP/2 and checks that the answer came over HTTP/2.
func dialH2(t testing.TB, ctx context.Context, hs *h2Server, opts *client.DialOptions) *conn.Conn {
	t.Helper()
	c, resp, err := client.Dial(ctx, hs.url, opts)
	if err != nil {
		t.Fatalf("Dial(%s) over HTTP/2: %v", hs.url, err)
	}
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("Dial: %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// protoRecorder wraps an echo handler and records the protocol of each
// request and the server side's end.
type protoRecorder struct {
	opts   *server.AcceptOptions
	protos chan int
	ends   chan error
}

func newProtoRecorder(opts *server.AcceptOptions) *protoRecorder {
	return &protoRecorder{opts: opts, protos: make(chan int, 100), ends: make(chan error, 100)}
}

func (p *protoRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.protos <- r.ProtoMajor
	c, err := server.Accept(w, r, p.opts)
	if err != nil {
		p.ends <- err
		return
	}
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
		if err == nil {
			err = c.WriteMessage(context.Background(), typ, msg)
		}
		if err != nil {
			p.ends <- err
			return
		}
		buf = msg
	}
}

// TestHTTP2Echo runs WebSockets over HTTP/2 (TLS and cleartext), with and
// without permessage-deflate: text and binary messages of several sizes,
// a prepared message, then the close handshake from each side.
func TestHTTP2Echo(t *testing.T) {
	for _, m := range h2Modes {
		for _, compress := range []bool{false, true} {
			name := m.name + "/plain"
			if compress {
				name = m.name + "/deflate"
			}
			t.Run(name, func(t *testing.T) {
				sopts := &server.AcceptOptions{Subprotocols: []string{"echo"}}
				if compress {
					sopts.Compression = &deflate.ServerOptions{}
				}
				rec := newProtoRecorder(sopts)
				hs := startH2Server(t, m, rec)
				ctx := h2Context(t)
				opts := hs.dialOptions()
				opts.Subprotocols = []string{"other", "echo"}
				if compress {
					opts.Compression = &deflate.ClientOptions{}
				}
				c, resp, err := client.Dial(ctx, hs.url, opts)
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.CloseNow()
				if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
					t.Fatalf("response %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
				}
				if got := testwait.Recv(t, rec.protos, "the request's protocol"); got != 2 {
					t.Fatalf("server saw HTTP/%d, want 2", got)
				}
				if c.Subprotocol() != "echo" {
					t.Errorf("Subprotocol %q, want echo", c.Subprotocol())
				}
				gotExt := resp.Header.Get("Sec-WebSocket-Extensions")
				if compress != strings.HasPrefix(gotExt, "permessage-deflate") {
					t.Errorf("Sec-WebSocket-Extensions %q with compression %t", gotExt, compress)
				}
				for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
					roundTrip(t, ctx, c, conn.Text, payload(conn.Text, n, uint64(n)))
					roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, n, uint64(n)+1))
				}
				pm, err := conn.NewPreparedMessage(conn.Text, []byte("prepared over a stream"))
				if err != nil {
					t.Fatal(err)
				}
				if err := c.WritePrepared(ctx, pm); err != nil {
					t.Fatalf("WritePrepared: %v", err)
				}
				if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "prepared over a stream" {
					t.Fatalf("echo of the prepared message: %q, %v", p, err)
				}
				// Pongs are seen by a reading goroutine.
				readEnd := make(chan error, 1)
				go func() {
					_, _, err := c.ReadMessage(ctx, nil)
					readEnd <- err
				}()
				if _, err := c.Ping(ctx); err != nil {
					t.Errorf("Ping: %v", err)
				}
				if err := c.Close(conn.StatusNormalClosure, "done"); err != nil {
					t.Errorf("Close: %v", err)
				}
				if err := testwait.Recv(t, readEnd, "the reader's end"); err == nil {
					t.Error("a read across Close returned no error")
				}
				checkCloseError(t, testwait.Recv(t, rec.ends, "the server's end"), conn.StatusNormalClosure, "done")
			})
		}
	}
}

// TestHTTP2ServerCloses: the server's close handshake reaches the client
// with its code, and the client's stream ends cleanly.
func TestHTTP2ServerCloses(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			results := make(chan serverResult, 1)
			hs := startH2Server(t, m, handlerFunc(nil, results, func(ctx context.Context, c *conn.Conn) serverResult {
				return serverResult{err: c.Close(conn.StatusGoingAway, "server restarting")}
			}))
			ctx := h2Context(t)
			c := dialH2(t, ctx, hs, hs.dialOptions())
			_, _, err := c.ReadMessage(ctx, nil)
			checkCloseError(t, err, conn.StatusGoingAway, "server restarting")
			if r := testwait.Recv(t, results, "the server's result"); r.err != nil {
				t.Errorf("server Close: %v", r.err)
			}
		})
	}
}

// TestHTTP2SharedConnection: WebSockets dialled with one pool share one
// TCP connection, each on its own stream, at the same time.
func TestHTTP2SharedConnection(t *testing.T) {
	const sockets = 20
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			rec := newProtoRecorder(nil)
			hs := startH2Server(t, m, rec)
			ctx := h2Context(t)
			// One first, so that the others find its connection in the
			// pool rather than racing to open their own.
			first := dialH2(t, ctx, hs, hs.dialOptions())
			conns := []*conn.Conn{first}
			for range sockets - 1 {
				conns = append(conns, dialH2(t, ctx, hs, hs.dialOptions()))
			}
			var wg sync.WaitGroup
			errs := make(chan error, sockets)
			for i, c := range conns {
				wg.Go(func() {
					msg := payload(conn.Binary, 1000+i, uint64(i))
					for range 10 {
						if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
							errs <- err
							return
						}
						_, got, err := c.ReadMessage(ctx, nil)
						if err != nil || !bytes.Equal(got, msg) {
							errs <- errors.Join(errors.New("echo mismatch"), err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := hs.accepts.Load(); n != 1 {
				t.Errorf("%d WebSockets used %d TCP connections, want 1", sockets, n)
			}
			for _, c := range conns {
				if err := c.Close(conn.StatusNormalClosure, ""); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
}

// TestHTTP2Fallback: against a server that speaks HTTP/1.1 only,
// HTTP2Prefer falls back to the Upgrade handshake and HTTP2Require fails
// with ErrHTTP2Unavailable.
func TestHTTP2Fallback(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, newProtoRecorder(nil))
			ctx := h2Context(t)
			opts := ts.dialOptions()
			opts.HTTP2 = client.HTTP2Prefer
			c, resp, err := client.Dial(ctx, ts.url, opts)
			if err != nil {
				t.Fatalf("Dial with HTTP2Prefer: %v", err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("fallback answered %d, want 101", resp.StatusCode)
			}
			roundTrip(t, ctx, c, conn.Text, []byte("over HTTP/1.1"))
			closeClean(t, c)

			opts.HTTP2 = client.HTTP2Require
			_, _, err = client.Dial(ctx, ts.url, opts)
			if !errors.Is(err, client.ErrHTTP2Unavailable) {
				t.Errorf("Dial with HTTP2Require: %v, want ErrHTTP2Unavailable", err)
			}
		})
	}
}

// TestHTTP2ProxyFallsBack: a proxy configured for the URL keeps the
// WebSocket on HTTP/1.1 (through the proxy) rather than bypassing it.
func TestHTTP2ProxyFallsBack(t *testing.T) {
	hs := startH2Server(t, h2Mode{"h2", true}, newProtoRecorder(nil))
	p := startConnectProxy(t, "", "")
	ctx := h2Context(t)
	opts := hs.dialOptions()
	opts.Proxy = http.ProxyURL(p.url("", ""))
	opts.HTTP2 = client.HTTP2Require
	if _, _, err := client.Dial(ctx, hs.url, opts); !errors.Is(err, client.ErrHTTP2Unavailable) {
		t.Fatalf("Require with a proxy: %v, want ErrHTTP2Unavailable", err)
	}
	opts.HTTP2 = client.HTTP2Prefer
	c, resp, err := client.Dial(ctx, hs.url, opts)
	if err != nil {
		t.Fatalf("Prefer with a proxy: %v", err)
	}
	defer c.CloseNow()
	if resp.StatusCode != http.StatusSwitchingProtocols || p.tunnels.Load() != 1 {
		t.Errorf("Prefer with a proxy: status %d, %d tunnels; want 101 through 1 tunnel", resp.StatusCode, p.tunnels.Load())
	}
}

// TestHTTP2Deadlines: a read deadline that passes returns a timeout and
// leaves the Conn usable; a context cancels a blocked read; a write
// blocked by flow control (the server does not read) fails at its
// deadline with a timeout.
func TestHTTP2Deadlines(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			release := make(chan struct{})
			results := make(chan serverResult, 1)
			hs := startH2Server(t, m, handlerFunc(nil, results, func(ctx context.Context, c *conn.Conn) serverResult {
				<-release // first, read nothing
				_, p, err := c.ReadMessage(ctx, nil)
				if err == nil {
					err = c.WriteMessage(ctx, conn.Text, p)
				}
				return serverResult{err: err}
			}))
			defer close(release)
			ctx := h2Context(t)
			c := dialH2(t, ctx, hs, hs.dialOptions())

			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, _, err := c.ReadMessage(ctx, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read past its deadline: %v, want os.ErrDeadlineExceeded", err)
			}
			c.SetReadDeadline(time.Time{})

			rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, _, err = c.ReadMessage(rctx, nil)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read under an expiring context: %v, want context.DeadlineExceeded", err)
			}

			// The Conn still works after both.
			release <- struct{}{}
			if err := c.WriteMessage(ctx, conn.Text, []byte("still here")); err != nil {
				t.Fatalf("WriteMessage after timeouts: %v", err)
			}
			if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "still here" {
				t.Fatalf("echo after timeouts: %q, %v", p, err)
			}
			if r := testwait.Recv(t, results, "the server's result"); r.err != nil {
				t.Fatalf("server: %v", r.err)
			}
		})
	}
}

// TestHTTP2WriteDeadline: a server that stops reading blocks the client's
// writes through HTTP/2 flow control; a write deadline ends the blocked
// write with a timeout.
func TestHTTP2WriteDeadline(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			done := make(chan struct{})
			hs := startH2Server(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer c.CloseNow()
				<-done // never reads
			}))
			defer close(done)
			ctx := h2Context(t)
			c := dialH2(t, ctx, hs, hs.dialOptions())
			big := make([]byte, 1<<20) // more than HTTP/2's windows (64 KiB by default in net/http's stream)
			c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			start := time.Now()
			var err error
			for i := 0; i < 64 && err == nil; i++ {
				err = c.WriteMessage(ctx, conn.Binary, big)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("writes to a server that does not read: %v, want os.ErrDeadlineExceeded", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the blocked write took %v to time out", d)
			}
		})
	}
}

// TestHTTP2ServerWriteDeadline: the server side's write deadline works
// the same way against a client that does not read.
func TestHTTP2ServerWriteDeadline(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			results := make(chan serverResult, 1)
			hs := startH2Server(t, m, handlerFunc(nil, results, func(ctx context.Context, c *conn.Conn) serverResult {
				c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
				big := make([]byte, 1<<20)
				var err error
				for i := 0; i < 64 && err == nil; i++ {
					err = c.WriteMessage(ctx, conn.Binary, big)
				}
				return serverResult{err: err}
			}))
			ctx := h2Context(t)
			dialH2(t, ctx, hs, hs.dialOptions()) // never reads
			r := testwait.Recv(t, results, "the server's result")
			if !errors.Is(r.err, os.ErrDeadlineExceeded) {
				t.Fatalf("server writes to a client that does not read: %v, want os.ErrDeadlineExceeded", r.err)
			}
		})
	}
}

// TestHTTP2ReadLimit: the read limit holds over a stream, with 1009.
func TestHTTP2ReadLimit(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			rec := newProtoRecorder(&server.AcceptOptions{Conn: &conn.Options{ReadLimit: 1024}})
			hs := startH2Server(t, m, rec)
			ctx := h2Context(t)
			c := dialH2(t, ctx, hs, hs.dialOptions())
			roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, 1024, 1))
			if err := c.WriteMessage(ctx, conn.Binary, payload(conn.Binary, 1025, 2)); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			_, _, err := c.ReadMessage(ctx, nil)
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != conn.StatusMessageTooBig {
				t.Errorf("client read after an over-limit message: %v, want a CloseError with 1009", err)
			}
		})
	}
}

// TestHTTP2Reset: a client that drops its stream without a close
// handshake (RST_STREAM, RFC 8441 §6: like a TCP reset) ends the server's
// read with 1006, and the TCP connection's other streams go on.
func TestHTTP2Reset(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			rec := newProtoRecorder(nil)
			hs := startH2Server(t, m, rec)
			ctx := h2Context(t)
			keep := dialH2(t, ctx, hs, hs.dialOptions())
			drop := dialH2(t, ctx, hs, hs.dialOptions())
			roundTrip(t, ctx, drop, conn.Text, []byte("before the reset"))
			drop.CloseNow()
			checkCloseError(t, testwait.Recv(t, rec.ends, "the server's end"), conn.StatusAbnormalClosure, "")
			roundTrip(t, ctx, keep, conn.Text, []byte("the other stream"))
			if n := hs.accepts.Load(); n != 1 {
				t.Errorf("%d TCP connections, want 1", n)
			}
		})
	}
}

// TestHTTP2Refused: the server's refusal (here the origin policy) comes
// back as a ResponseError with the HTTP/2 status, and Prefer does not
// retry over HTTP/1.1.
func TestHTTP2Refused(t *testing.T) {
	rec := newProtoRecorder(nil)
	hs := startH2Server(t, h2Mode{"h2", true}, rec)
	ctx := h2Context(t)
	opts := hs.dialOptions()
	opts.Header = http.Header{"Origin": {"https://elsewhere.example"}}
	opts.HTTP2 = client.HTTP2Prefer
	_, resp, err := client.Dial(ctx, hs.url, opts)
	var re *client.ResponseError
	if !errors.As(err, &re) || resp == nil || resp.StatusCode != http.StatusForbidden || resp.ProtoMajor != 2 {
		t.Fatalf("Dial with a foreign origin: %v (response %v), want a ResponseError with HTTP/2 403", err, resp)
	}
	if n := len(rec.protos); n != 1 {
		t.Errorf("server saw %d requests, want 1 (no fallback after a refusal)", n)
	}
}

// BenchmarkHTTP2Echo is BenchmarkLoopbackEcho over one HTTP/2 stream
// (TLS and cleartext), beside HTTP/1.1 over TCP: the difference in time
// and allocations per round trip is what the HTTP/2 layer (net/http's
// server, golang.org/x/net/http2's transport and the stream adapter)
// costs. Allocations are both sides'.
func BenchmarkHTTP2Echo(b *testing.B) {
	for _, m := range []h2Mode{{"h1", false}, {"h2c", false}, {"h2", true}} {
		for _, size := range []int{16, 1 << 10, 64 << 10} {
			b.Run(m.name+"/size="+strconv.Itoa(size), func(b *testing.B) {
				var c *conn.Conn
				if m.name == "h1" {
					c = loopbackEcho(b)
				} else {
					hs := startH2Server(b, m, echo.Handler(nil))
					c = dialH2(b, context.Background(), hs, hs.dialOptions())
				}
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
}

// TestHTTP2KeepAlive: the server's keepalive works over a stream. A
// client that does not read never answers the server's pings, and the
// server gives up on it within its interval and timeout; one that reads
// stays connected past them.
func TestHTTP2KeepAlive(t *testing.T) {
	for _, m := range h2Modes {
		t.Run(m.name, func(t *testing.T) {
			sopts := &server.AcceptOptions{Conn: &conn.Options{KeepAliveInterval: 100 * time.Millisecond, KeepAliveTimeout: 200 * time.Millisecond}}
			rec := newProtoRecorder(sopts)
			hs := startH2Server(t, m, rec)
			ctx := h2Context(t)

			reader := dialH2(t, ctx, hs, hs.dialOptions())
			readerEnd := make(chan error, 1)
			go func() {
				_, _, err := reader.ReadMessage(ctx, nil)
				readerEnd <- err
			}()
			silent := dialH2(t, ctx, hs, hs.dialOptions()) // never reads
			_ = silent
			start := time.Now()
			end := testwait.RecvWithin(t, rec.ends, "the server's end of the silent client", 5*time.Second)
			if end == nil {
				t.Fatal("the server's read ended without an error")
			}
			t.Logf("silent client dropped after %v: %v", time.Since(start).Round(time.Millisecond), end)
			select {
			case err := <-readerEnd:
				t.Fatalf("the reading client's connection ended too: %v", err)
			case <-time.After(500 * time.Millisecond):
			}
			if err := reader.WriteMessage(ctx, conn.Text, []byte("still alive")); err != nil {
				t.Fatalf("the reading client's write: %v", err)
			}
			if err := testwait.Recv(t, readerEnd, "the reading client's echo"); err != nil {
				t.Fatalf("the reading client's connection: %v", err)
			}
		})
	}
}

// TestHTTP2Shutdown: Connections.Shutdown ends WebSockets over HTTP/2 with
// 1001 Going Away, as over TCP.
func TestHTTP2Shutdown(t *testing.T) {
	conns := &server.Connections{}
	rec := newProtoRecorder(&server.AcceptOptions{Connections: conns})
	hs := startH2Server(t, h2Mode{"h2", true}, rec)
	ctx := h2Context(t)
	c := dialH2(t, ctx, hs, hs.dialOptions())
	readEnd := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(ctx, nil)
		readEnd <- err
	}()
	// The server registers the Conn after it has sent the 200 that ended
	// Dial: wait a bounded time for it.
	for deadline := time.Now().Add(2 * time.Second); conns.Len() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Connections.Len() = %d after 2 s, want 1", conns.Len())
		}
	}
	if err := conns.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	checkCloseError(t, testwait.Recv(t, readEnd, "the client's read"), conn.StatusGoingAway, "server shutting down")
	if n := conns.Len(); n != 0 {
		t.Errorf("Connections.Len() = %d after Shutdown, want 0", n)
	}
}

// TestHTTP2OversizedResponseHeader: an answer whose header fields exceed
// the client's bound (DialOptions.MaxHeaderBytes, 8 KiB by default,
// advertised as SETTINGS_MAX_HEADER_LIST_SIZE) fails Dial, promptly.
func TestHTTP2OversizedResponseHeader(t *testing.T) {
	hs := startH2Server(t, h2Mode{"h2", true}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("x", 16<<10))
		if c, err := server.Accept(w, r, nil); err == nil {
			defer c.CloseNow()
			c.ReadMessage(context.Background(), nil)
		}
	}))
	ctx := h2Context(t)
	if _, _, err := client.Dial(ctx, hs.url, hs.dialOptions()); err == nil || ctx.Err() != nil {
		t.Fatalf("Dial with a 16 KiB response header: %v (context: %v), want a prompt error", err, ctx.Err())
	} else {
		t.Logf("Dial: %v", err)
	}
}
