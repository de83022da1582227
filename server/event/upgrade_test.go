//go:build linux

package event_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
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

// startUpgrade serves a page at / and WebSockets at /ws on one loopback
// port through net/http, the WebSockets handed to an event.Server. It
// returns the server and host:port; both stop when the test ends. upgraded
// receives Upgrade's result for each request to /ws.
func startUpgrade(t *testing.T, opts *event.Options, h event.Handler) (*event.Server, string, <-chan error) {
	t.Helper()
	sv, err := event.NewServer(opts, h)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upgraded := make(chan error, 1000)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		upgraded <- sv.Upgrade(w, r)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the page") })
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: testwait.Limit}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		if err := testwait.Recv(t, served, "http.Server.Serve to return"); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("http.Server.Serve: %v", err)
		}
		closed := make(chan error, 1)
		go func() { closed <- sv.Close() }()
		if err := testwait.RecvWithin(t, closed, "Close to return", 15*time.Second); err != nil && !errors.Is(err, event.ErrServerClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return sv, ln.Addr().String(), upgraded
}

// The page and the WebSocket share the port: net/http routes, and the
// upgraded connection echoes on the event loops, with and without
// permessage-deflate.
func TestUpgradeBesidePage(t *testing.T) {
	opts := &event.Options{Accept: &server.AcceptOptions{Compression: &deflate.ServerOptions{}}}
	_, addr, upgraded := startUpgrade(t, opts, echoHandler())

	resp, err := (&http.Client{Timeout: testwait.Limit}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(page) != "the page" {
		t.Fatalf("GET /: %q", page)
	}
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			dopts := &client.DialOptions{}
			if compress {
				dopts.Compression = &deflate.ClientOptions{}
			}
			c := dial(t, "ws://"+addr+"/ws", dopts)
			if err := testwait.Recv(t, upgraded, "Upgrade to return"); err != nil {
				t.Fatalf("Upgrade: %v", err)
			}
			roundTrip(t, c, conn.Text, []byte("hello"))
			roundTrip(t, c, conn.Binary, bytes.Repeat([]byte("0123456789"), 10_000))
		})
	}
}

// Frames the client sends right behind its request, in the same write,
// are read by net/http along with the request: Upgrade gives them to the
// protocol before anything read later, so they are answered, in order.
func TestUpgradeBufferedBytes(t *testing.T) {
	_, addr, upgraded := startUpgrade(t, nil, echoHandler())
	nc, err := net.DialTimeout("tcp", addr, testwait.Limit)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testwait.Limit))
	req := fmt.Appendf(nil, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	req = append(req, masked(0x81, []byte("first"))...)
	req = append(req, masked(0x89, []byte("ping"))...)
	req = append(req, masked(0x82, []byte("second"))...)
	req = append(req, masked(0x88, []byte{0x03, 0xe8, 'b', 'y', 'e'})...)
	if _, err := nc.Write(req); err != nil { // one write: net/http reads it all
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("response %v %v", resp.Status, resp.Header)
	}
	if err := testwait.Recv(t, upgraded, "Upgrade to return"); err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	fr, err := frame.NewReader(br, make([]byte, 256))
	if err != nil {
		t.Fatal(err)
	}
	// The pong is answered by the loop as the ping is parsed, before the
	// echoes, which the workers send; the close reply waits for them.
	want := map[frame.Opcode]string{frame.OpText: "first", frame.OpBinary: "second", frame.OpPong: "ping"}
	var order []frame.Opcode
	for len(order) < 4 {
		h, err := fr.NextHeader()
		if err != nil {
			t.Fatalf("after %v: reading a frame: %v", order, err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(fr, p); err != nil {
			t.Fatalf("reading a payload: %v", err)
		}
		order = append(order, h.Opcode)
		if h.Opcode == frame.OpClose {
			if code, _, _ := frame.ParseClosePayload(p); code != frame.StatusNormalClosure || len(order) != 4 {
				t.Fatalf("close %d after %v, want 1000 after the other three", code, order)
			}
			continue
		}
		if w, ok := want[h.Opcode]; !ok || string(p) != w {
			t.Fatalf("got %v %q, want one of %v", h.Opcode, p, want)
		}
		delete(want, h.Opcode)
	}
	if i, j := bytes.IndexByte(opcodes(order), byte(frame.OpText)), bytes.IndexByte(opcodes(order), byte(frame.OpBinary)); i > j {
		t.Fatalf("echoes out of order: %v", order)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("after the close: %d bytes, %v; want EOF", n, err)
	}
}

func opcodes(ops []frame.Opcode) []byte {
	b := make([]byte, len(ops))
	for i, op := range ops {
		b[i] = byte(op)
	}
	return b
}

// The closing handshake both ways: the client's close reaches OnClose as
// its *conn.CloseError; Close sends 1001 to the connections left, runs
// their OnClose, and Upgrade refuses with 503 afterwards.
func TestUpgradeClose(t *testing.T) {
	closed := make(chan error, 2)
	h := echoHandler()
	h.OnClose = func(c *event.Conn, err error) { closed <- err }
	sv, addr, upgraded := startUpgrade(t, nil, h)

	a := dial(t, "ws://"+addr+"/ws", nil)
	b := dial(t, "ws://"+addr+"/ws", nil)
	for range 2 {
		if err := testwait.Recv(t, upgraded, "Upgrade to return"); err != nil {
			t.Fatalf("Upgrade: %v", err)
		}
	}
	roundTrip(t, a, conn.Text, []byte("a"))
	roundTrip(t, b, conn.Text, []byte("b"))
	if err := a.Close(conn.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("client Close: %v", err)
	}
	var ce *conn.CloseError
	if err := testwait.Recv(t, closed, "OnClose of the client's close"); !errors.As(err, &ce) || ce.Code != conn.StatusNormalClosure || ce.Reason != "done" {
		t.Fatalf("OnClose: %v, want the client's 1000 done", err)
	}

	readErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
		defer cancel()
		_, _, err := b.ReadMessage(ctx, nil)
		readErr <- err
	}()
	if err := sv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := testwait.Recv(t, readErr, "the client to see the close"); !errors.As(err, &ce) || ce.Code != conn.StatusGoingAway {
		t.Fatalf("client read: %v, want close 1001", err)
	}
	if err := testwait.Recv(t, closed, "OnClose at Close"); err == nil {
		t.Fatal("OnClose at Close: nil error")
	}

	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	_, resp, err := client.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Dial after Close: %v (response %v), want a 503", err, resp)
	}
	if err := testwait.Recv(t, upgraded, "Upgrade to return"); !errors.Is(err, event.ErrServerClosed) {
		t.Fatalf("Upgrade after Close: %v, want ErrServerClosed", err)
	}
	if err := sv.Close(); !errors.Is(err, event.ErrServerClosed) {
		t.Fatalf("second Close: %v, want ErrServerClosed", err)
	}
}

// A refused handshake is answered by net/http's ResponseWriter with the
// status it earns, and no connection is handed over.
func TestUpgradeRefused(t *testing.T) {
	var opened atomic.Int32
	_, addr, upgraded := startUpgrade(t, nil, event.Handler{OnOpen: func(*event.Conn) { opened.Add(1) }})
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"foreign origin", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"wrong version", http.Header{"Sec-WebSocket-Version": {"8"}}, http.StatusUpgradeRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/ws", nil)
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			req.Header.Set("Sec-WebSocket-Version", "13")
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := (&http.Client{Timeout: testwait.Limit}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if err := testwait.Recv(t, upgraded, "Upgrade to return"); err == nil {
				t.Fatal("Upgrade returned nil for a refused handshake")
			}
		})
	}
	if n := opened.Load(); n != 0 {
		t.Fatalf("OnOpen ran %d times for refused handshakes", n)
	}
}

// Many connections handed over: each echoes, and once they are idle the
// process holds no goroutine per connection (net/http's serving goroutine
// ends with the handler, and Go's net.Conn is closed).
func TestUpgradeManyConnections(t *testing.T) {
	const n = 200
	var opened, closedCount atomic.Int32
	h := echoHandler()
	h.OnOpen = func(*event.Conn) { opened.Add(1) }
	h.OnClose = func(*event.Conn, error) { closedCount.Add(1) }
	_, addr, upgraded := startUpgrade(t, nil, h)
	before := runtime.NumGoroutine()

	conns := make([]*conn.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
			defer cancel()
			c, _, err := client.Dial(ctx, "ws://"+addr+"/ws", nil)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			msg := fmt.Appendf(nil, "message %d", i)
			if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
				errs <- err
				return
			}
			if _, got, err := c.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("connection %d: echo %q, %v", i, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for range n {
		if err := testwait.Recv(t, upgraded, "Upgrade to return"); err != nil {
			t.Fatalf("Upgrade: %v", err)
		}
	}
	// The client's Conns hold no goroutine while idle either; allow a few
	// for the runtime and net/http's idle machinery.
	var now int
	for end := time.Now().Add(testwait.Limit); ; time.Sleep(20 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now-before < n/10 || time.Now().After(end) {
			break
		}
	}
	if now-before >= n/10 {
		t.Errorf("%d goroutines before %d idle connections, %d with them", before, n, now)
	}
	t.Logf("goroutines: %d before %d idle connections, %d with them", before, n, now)
	for _, c := range conns {
		c.CloseNow()
	}
	for end := time.Now().Add(testwait.Limit); closedCount.Load() < n && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
	}
	if o, c := opened.Load(), closedCount.Load(); o != n || c != n {
		t.Fatalf("OnOpen ran %d times and OnClose %d times, want %d each", o, c, n)
	}
}

// Upgrade refuses what the event mode cannot serve: a request that came
// over TLS (500, ErrNotTCP) and one past MaxConnections (503).
func TestUpgradeRefusesTLSAndOverLimit(t *testing.T) {
	opts := &event.Options{Accept: &server.AcceptOptions{MaxConnections: 1}}
	sv, addr, upgraded := startUpgrade(t, opts, echoHandler())

	first := dial(t, "ws://"+addr+"/ws", nil)
	if err := testwait.Recv(t, upgraded, "Upgrade to return"); err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	roundTrip(t, first, conn.Text, []byte("one"))
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	_, resp, err := client.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second connection with MaxConnections 1: %v (response %v), want a 503", err, resp)
	}
	if err := testwait.Recv(t, upgraded, "Upgrade to return"); err == nil {
		t.Fatal("Upgrade returned nil past MaxConnections")
	}

	overTLS := make(chan error, 1)
	tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		overTLS <- sv.Upgrade(w, r)
	}))
	defer tlsServer.Close()
	req, _ := http.NewRequest("GET", tlsServer.URL+"/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	hc := tlsServer.Client()
	hc.Timeout = testwait.Limit
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("over TLS: status %d, want 500", resp.StatusCode)
	}
	if err := testwait.Recv(t, overTLS, "Upgrade to return"); !errors.Is(err, event.ErrNotTCP) {
		t.Fatalf("Upgrade over TLS: %v, want ErrNotTCP", err)
	}
}
