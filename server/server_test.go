package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
)

const testTimeout = 10 * time.Second

// validRequest is a complete, valid opening handshake (RFC 6455 §1.2) for
// a server at 127.0.0.1.
func validHeader() http.Header {
	return http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
}

// handshakeCase is a request and the answer it earns.
type handshakeCase struct {
	name       string
	method     string
	edit       func(h http.Header, host string) // changes the valid header
	opts       *server.AcceptOptions
	wantStatus int
	wantHeader http.Header // fields the answer must carry
}

var handshakeCases = []handshakeCase{
	{name: "valid", wantStatus: http.StatusSwitchingProtocols,
		wantHeader: http.Header{"Sec-Websocket-Accept": {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}, "Upgrade": {"websocket"}}},
	{name: "same-origin", edit: func(h http.Header, host string) { h.Set("Origin", "http://"+host) },
		wantStatus: http.StatusSwitchingProtocols},
	{name: "bad origin", edit: func(h http.Header, _ string) { h.Set("Origin", "https://evil.example") },
		wantStatus: http.StatusForbidden},
	{name: "origin allowed by pattern", edit: func(h http.Header, _ string) { h.Set("Origin", "https://app.example.com") },
		opts:       &server.AcceptOptions{Origin: handshake.OriginPolicy{Patterns: []string{"*.example.com"}}},
		wantStatus: http.StatusSwitchingProtocols},
	{name: "bad version", edit: func(h http.Header, _ string) { h.Set("Sec-WebSocket-Version", "8") },
		wantStatus: http.StatusUpgradeRequired, wantHeader: http.Header{"Sec-Websocket-Version": {"13"}}},
	{name: "missing key", edit: func(h http.Header, _ string) { h.Del("Sec-WebSocket-Key") },
		wantStatus: http.StatusBadRequest},
	{name: "short key", edit: func(h http.Header, _ string) { h.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZQ==") },
		wantStatus: http.StatusBadRequest},
	{name: "not GET", method: http.MethodPost,
		wantStatus: http.StatusMethodNotAllowed, wantHeader: http.Header{"Allow": {"GET"}}},
	{name: "no Upgrade", edit: func(h http.Header, _ string) { h.Del("Upgrade") },
		wantStatus: http.StatusBadRequest},
	{name: "Connection without upgrade token", edit: func(h http.Header, _ string) { h.Set("Connection", "keep-alive") },
		wantStatus: http.StatusBadRequest},
	{name: "malformed extensions", edit: func(h http.Header, _ string) { h.Set("Sec-WebSocket-Extensions", "permessage-deflate; =1") },
		wantStatus: http.StatusBadRequest},
}

// TestAcceptHandshakeErrors sends each request through net/http and
// checks the status, the header fields and that a refusal has a short
// body.
func TestAcceptHandshakeErrors(t *testing.T) {
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan error, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(w, r, tc.opts)
				if err == nil {
					c.CloseNow()
				}
				accepted <- err
			}))
			defer s.Close()
			host := strings.TrimPrefix(s.URL, "http://")
			h := validHeader()
			if tc.edit != nil {
				tc.edit(h, host)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp := rawExchange(t, host, method, h)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			for k, want := range tc.wantHeader {
				if diff := cmp.Diff(want, resp.Header.Values(k), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			err := testwait.Recv(t, accepted, "the handler's Accept")
			if tc.wantStatus == http.StatusSwitchingProtocols {
				if err != nil {
					t.Errorf("Accept: %v", err)
				}
				return
			}
			var he *handshake.Error
			if !errors.As(err, &he) || he.Status != tc.wantStatus {
				t.Errorf("Accept error %v, want a *handshake.Error with status %d", err, tc.wantStatus)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			if len(body) == 0 || len(body) > 200 {
				t.Errorf("body of %d bytes %q, want a short message", len(body), body)
			}
		})
	}
}

// TestUpgradeHandshakeErrors sends the same requests to the raw path.
func TestUpgradeHandshakeErrors(t *testing.T) {
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			ln := listen(t)
			accepted := make(chan error, 1)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					accepted <- err
					return
				}
				c, _, err := server.Upgrade(nc, tc.opts)
				if err == nil {
					c.CloseNow()
				}
				accepted <- err
			}()
			host := ln.Addr().String()
			h := validHeader()
			if tc.edit != nil {
				tc.edit(h, host)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp := rawExchange(t, host, method, h)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			for k, want := range tc.wantHeader {
				if diff := cmp.Diff(want, resp.Header.Values(k), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			err := testwait.Recv(t, accepted, "the handler's Accept")
			if tc.wantStatus == http.StatusSwitchingProtocols {
				if err != nil {
					t.Errorf("Upgrade: %v", err)
				}
				return
			}
			var he *handshake.Error
			if !errors.As(err, &he) || he.Status != tc.wantStatus {
				t.Errorf("Upgrade error %v, want a *handshake.Error with status %d", err, tc.wantStatus)
			}
		})
	}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// rawExchange sends a request with exactly the header h on a fresh TCP
// connection and reads the response header.
func rawExchange(t *testing.T, host, method string, h http.Header) *http.Response {
	t.Helper()
	nc, err := net.DialTimeout("tcp", host, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testTimeout))
	var req bytes.Buffer
	req.WriteString(method + " / HTTP/1.1\r\nHost: " + host + "\r\n")
	h.Write(&req)
	req.WriteString("\r\n")
	if _, err := nc.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp
}

// TestUpgradeHeaderTooLarge: the raw path bounds the request header
// (8 KiB by default) and answers 431 (RFC 6585 §5).
func TestUpgradeHeaderTooLarge(t *testing.T) {
	for _, tt := range []struct {
		name  string
		max   int
		extra int // bytes of padding header
		want  int
	}{
		{"default limit, small request", 0, 1000, http.StatusSwitchingProtocols},
		{"default limit exceeded", 0, 9000, http.StatusRequestHeaderFieldsTooLarge},
		{"custom limit exceeded", 512, 600, http.StatusRequestHeaderFieldsTooLarge},
		{"custom limit, fits", 16 << 10, 12000, http.StatusSwitchingProtocols},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln := listen(t)
			errc := make(chan error, 1)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					errc <- err
					return
				}
				c, _, err := server.Upgrade(nc, &server.AcceptOptions{MaxHeaderBytes: tt.max})
				if err == nil {
					c.CloseNow()
				}
				errc <- err
			}()
			h := validHeader()
			h.Set("X-Padding", strings.Repeat("p", tt.extra))
			resp := rawExchange(t, ln.Addr().String(), http.MethodGet, h)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			err := testwait.Recv(t, errc, "the handler's result")
			var he *handshake.Error
			if tt.want != http.StatusSwitchingProtocols && (!errors.As(err, &he) || he.Status != tt.want) {
				t.Errorf("Upgrade: %v, want a %d *handshake.Error", err, tt.want)
			}
		})
	}
}

// TestUpgradeHandshakeTimeout: a client that connects and sends nothing
// is dropped once HandshakeTimeout passes.
func TestUpgradeHandshakeTimeout(t *testing.T) {
	ln := listen(t)
	errc := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		_, _, err = server.Upgrade(nc, &server.AcceptOptions{HandshakeTimeout: 100 * time.Millisecond})
		errc <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and then nothing
	start := time.Now()
	select {
	case err := <-errc:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Upgrade: %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Upgrade took %v to time out", d)
		}
	case <-time.After(testTimeout):
		t.Fatal("Upgrade did not time out")
	}
	// The server closed the connection.
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after the timeout: %v, want EOF", err)
	}
}

// clientFrame returns a masked client frame carrying p.
func clientFrame(op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: true, Opcode: op, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: int64(len(p))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	frame.Mask(h.Key, 0, b[start:])
	return b
}

// TestBufferedAfterRequest sends the handshake request and the first
// frame in one write: the frame lands in the server's HTTP buffer and
// must be taken over by the Conn, on both paths.
func TestBufferedAfterRequest(t *testing.T) {
	first := clientFrame(frame.OpText, []byte("hello in the same packet"))
	check := func(t *testing.T, addr string, got <-chan string) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		var req bytes.Buffer
		req.WriteString("GET / HTTP/1.1\r\nHost: " + addr + "\r\n")
		validHeader().Write(&req)
		req.WriteString("\r\n")
		req.Write(first)
		if _, err := nc.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("response %v, %v", resp, err)
		}
		select {
		case msg := <-got:
			if msg != "hello in the same packet" {
				t.Errorf("server read %q", msg)
			}
		case <-time.After(testTimeout):
			t.Fatal("the server did not read the buffered frame")
		}
	}
	readOne := func(c *conn.Conn, got chan<- string) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(p)
	}
	t.Run("net/http", func(t *testing.T) {
		got := make(chan string, 1)
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Accept(w, r, nil)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			defer c.CloseNow()
			readOne(c, got)
		}))
		defer s.Close()
		check(t, strings.TrimPrefix(s.URL, "http://"), got)
	})
	t.Run("raw", func(t *testing.T) {
		ln := listen(t)
		got := make(chan string, 1)
		go func() {
			nc, err := ln.Accept()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			c, _, err := server.Upgrade(nc, nil)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			defer c.CloseNow()
			readOne(c, got)
		}()
		check(t, ln.Addr().String(), got)
	})
}

// wrappedWriter is middleware's ResponseWriter: it hides Hijack but
// exposes the original through Unwrap, which http.ResponseController
// follows.
type wrappedWriter struct {
	http.ResponseWriter
	unwrap bool
}

func (w *wrappedWriter) Unwrap() http.ResponseWriter {
	if w.unwrap {
		return w.ResponseWriter
	}
	return nil
}

func TestAcceptWrappedResponseWriter(t *testing.T) {
	for _, unwrap := range []bool{true, false} {
		name := "with Unwrap"
		want := http.StatusSwitchingProtocols
		if !unwrap {
			name = "without Unwrap"
			want = http.StatusInternalServerError
		}
		t.Run(name, func(t *testing.T) {
			errc := make(chan error, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(&wrappedWriter{w, unwrap}, r, nil)
				if err == nil {
					c.CloseNow()
				}
				errc <- err
			}))
			defer s.Close()
			resp := rawExchange(t, strings.TrimPrefix(s.URL, "http://"), http.MethodGet, validHeader())
			if resp.StatusCode != want {
				t.Errorf("status %d, want %d", resp.StatusCode, want)
			}
			err := testwait.Recv(t, errc, "the handler's result")
			if unwrap && err != nil {
				t.Errorf("Accept: %v", err)
			}
			if !unwrap && !errors.Is(err, server.ErrHijack) {
				t.Errorf("Accept: %v, want ErrHijack", err)
			}
		})
	}
}

// TestAcceptClearsServerTimeouts: http.Server's read and write timeouts
// apply to the HTTP exchange, not to the WebSocket connection that
// follows it.
func TestAcceptClearsServerTimeouts(t *testing.T) {
	got := make(chan error, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			got <- err
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, _, err = c.ReadMessage(ctx, nil)
		got <- err
	}))
	s.Config.ReadTimeout = 50 * time.Millisecond
	s.Config.WriteTimeout = 50 * time.Millisecond
	s.Start()
	defer s.Close()
	addr := strings.TrimPrefix(s.URL, "http://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var req bytes.Buffer
	req.WriteString("GET / HTTP/1.1\r\nHost: " + addr + "\r\n")
	validHeader().Write(&req)
	req.WriteString("\r\n")
	nc.Write(req.Bytes())
	nc.SetDeadline(time.Now().Add(testTimeout))
	if resp, err := http.ReadResponse(bufio.NewReader(nc), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	time.Sleep(200 * time.Millisecond) // longer than both server timeouts
	nc.Write(clientFrame(frame.OpBinary, []byte("late")))
	if err := testwait.Recv(t, got, "the server's read"); err != nil {
		t.Errorf("server read after the HTTP timeouts: %v", err)
	}
}
