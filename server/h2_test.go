package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/h2stream"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
)

func TestMain(m *testing.M) {
	// net/http's HTTP/2 server takes extended CONNECT only when GODEBUG
	// says so at start: run again with it set.
	if err := h2stream.Reexec(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestExtendedConnectEnabled: TestMain's re-run set GODEBUG, and the
// server advertises what RFC 8441 §3 asks for.
func TestExtendedConnectEnabled(t *testing.T) {
	if !server.ExtendedConnectEnabled() {
		t.Fatalf("ExtendedConnectEnabled() false with GODEBUG=%q", os.Getenv("GODEBUG"))
	}
}

// TestHTTP2BadRequests sends malformed and refused WebSocket handshakes
// over HTTP/2 (raw requests through golang.org/x/net/http2) and checks
// each status, the header fields it needs, and Accept's error.
func TestHTTP2BadRequests(t *testing.T) {
	type row struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
		wantHeader http.Header
		wantInErr  string
	}
	ws := func(kv ...string) http.Header {
		h := http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(h, kv[i])
				continue
			}
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	rows := []row{
		{name: "ok", method: "CONNECT", header: ws(), wantStatus: 200},
		{name: "bogus :protocol", method: "CONNECT", header: ws(":protocol", "h2-websocket"), wantStatus: 400, wantInErr: ":protocol"},
		{name: "missing version", method: "CONNECT", header: ws("Sec-Websocket-Version", ""), wantStatus: 426,
			wantHeader: http.Header{"Sec-Websocket-Version": {"13"}}, wantInErr: "Version"},
		{name: "version 8", method: "CONNECT", header: ws("Sec-Websocket-Version", "8"), wantStatus: 426,
			wantHeader: http.Header{"Sec-Websocket-Version": {"13"}}},
		{name: "bad subprotocol list", method: "CONNECT", header: ws("Sec-Websocket-Protocol", "a b"), wantStatus: 400},
		{name: "bad extensions", method: "CONNECT", header: ws("Sec-Websocket-Extensions", ";;"), wantStatus: 400},
		{name: "foreign origin", method: "CONNECT", header: ws("Origin", "https://elsewhere.example"), wantStatus: 403},
		{name: "GET over HTTP/2", method: "GET", header: http.Header{"Sec-Websocket-Version": {"13"}}, wantStatus: 505, wantInErr: "extended CONNECT"},
	}
	errs := make(chan error, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err == nil {
			c.CloseNow()
		}
		errs <- err
	}))
	s.EnableHTTP2 = true
	s.Config.MaxHeaderBytes = 4 << 10
	s.StartTLS()
	defer s.Close()
	tr := &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // loopback test server
	defer tr.CloseIdleConnections()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			u, _ := url.Parse(s.URL + "/ws")
			pr, pw := io.Pipe()
			defer pw.Close()
			req := (&http.Request{Method: tc.method, URL: u, Host: u.Host, Header: tc.header, Body: pr}).WithContext(ctx)
			if tc.method == "GET" {
				req.Body = nil
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header[k]; len(got) != 1 || got[0] != v[0] {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			err = testwait.Recv(t, errs, "Accept's result")
			if tc.wantStatus == 200 {
				if err != nil {
					t.Fatalf("Accept: %v", err)
				}
				return
			}
			var he *server.HandshakeError
			if !errors.As(err, &he) || he.Status != tc.wantStatus || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("Accept: %v, want a HandshakeError with %d mentioning %q", err, tc.wantStatus, tc.wantInErr)
			}
		})
	}
}

// TestHTTP2OversizedHeader: a client that ignores the server's
// SETTINGS_MAX_HEADER_LIST_SIZE (golang.org/x/net/http2's transport
// refuses to, so this one writes frames itself) is answered 431 by
// net/http before the handler runs.
func TestHTTP2OversizedHeader(t *testing.T) {
	ran := make(chan struct{}, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran <- struct{}{}
		server.Accept(w, r, nil)
	}))
	s.EnableHTTP2 = true
	s.Config.MaxHeaderBytes = 4 << 10
	s.StartTLS()
	defer s.Close()
	nc, err := tls.Dial("tcp", s.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(nc, nc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{
		{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"},
		{":path", "/ws"}, {":authority", "127.0.0.1"}, {"sec-websocket-version", "13"},
	} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	// Sixteen fields of 512 bytes: each within the decoder's string
	// limit (one longer than the whole list limit is a COMPRESSION_ERROR
	// for the connection), 8 KiB in all.
	for i := range 16 {
		enc.WriteField(hpack.HeaderField{Name: "x-big-" + string(rune('a'+i)), Value: strings.Repeat("x", 512)})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's answer: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if got := f.PseudoValue("status"); got != "431" {
				t.Fatalf("status %s, want 431", got)
			}
			select {
			case <-ran:
				t.Error("the handler ran for an oversized header")
			default:
			}
			return
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			t.Fatalf("server answered %v, want a 431 response", f)
		}
	}
}

// TestHTTP2ClearsServerTimeouts: http.Server.ReadTimeout and WriteTimeout
// arm timers on every HTTP/2 stream that would reset a WebSocket's stream
// once they fire; Accept clears them with the 200, as the HTTP/1.1 path
// clears them on the connection it takes over.
func TestHTTP2ClearsServerTimeouts(t *testing.T) {
	got := make(chan error, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &server.AcceptOptions{HandshakeTimeout: time.Second})
		if err != nil {
			got <- err
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err == nil {
			err = c.WriteMessage(ctx, typ, msg)
		}
		got <- err
		c.Close(conn.StatusNormalClosure, "")
	}))
	s.EnableHTTP2 = true
	s.Config.ReadTimeout = 50 * time.Millisecond
	s.Config.WriteTimeout = 50 * time.Millisecond
	s.StartTLS()
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := dialTLSH2(t, ctx, s)
	// Longer than both server timeouts, and than HandshakeTimeout's
	// deadline would be if it were left set: 1 s.
	time.Sleep(1200 * time.Millisecond)
	if err := c.WriteMessage(ctx, conn.Binary, []byte("late")); err != nil {
		t.Fatalf("client write after the server's timeouts: %v", err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "late" {
		t.Fatalf("echo after the server's timeouts: %q, %v", msg, err)
	}
	if err := testwait.Recv(t, got, "the server's read and write"); err != nil {
		t.Errorf("server after the HTTP timeouts: %v", err)
	}
}

// TestHTTP2HandshakeTimeout: a handshake whose HandshakeTimeout passes
// before its 200 is sent (here 1 ns, past once the request is checked)
// fails with os.ErrDeadlineExceeded, and the client gets a reset stream,
// not a WebSocket.
func TestHTTP2HandshakeTimeout(t *testing.T) {
	errs := make(chan error, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &server.AcceptOptions{HandshakeTimeout: time.Nanosecond})
		if err == nil {
			c.CloseNow()
		}
		errs <- err
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := client.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), &client.DialOptions{
		TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig,
		Proxy:     client.NoProxy,
		HTTP2:     client.HTTP2Require,
	})
	if err == nil {
		t.Fatalf("Dial succeeded (response %v), want the stream reset", resp)
	}
	if resp != nil && resp.StatusCode == http.StatusOK {
		t.Errorf("client saw 200 and %v", err)
	}
	serr := testwait.Recv(t, errs, "Accept's result")
	if !errors.Is(serr, os.ErrDeadlineExceeded) || !strings.Contains(serr.Error(), "HandshakeTimeout") {
		t.Errorf("Accept: %v, want os.ErrDeadlineExceeded naming HandshakeTimeout", serr)
	}
	t.Logf("client: %v; server: %v", err, serr)
}

// flushOnlyWriter is middleware's ResponseWriter that forwards Flush and
// hides everything else (no Unwrap): http.ResponseController cannot set
// its deadlines.
type flushOnlyWriter struct{ w http.ResponseWriter }

func (f flushOnlyWriter) Header() http.Header         { return f.w.Header() }
func (f flushOnlyWriter) Write(p []byte) (int, error) { return f.w.Write(p) }
func (f flushOnlyWriter) WriteHeader(code int)        { f.w.WriteHeader(code) }
func (f flushOnlyWriter) Flush()                      { f.w.(http.Flusher).Flush() }

// TestHTTP2WrappedWriterWithoutDeadlines: behind a wrapper that hides the
// stream's deadline methods, Accept still serves the WebSocket, without
// HandshakeTimeout's deadline.
func TestHTTP2WrappedWriterWithoutDeadlines(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(flushOnlyWriter{w}, r, nil)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if typ, msg, err := c.ReadMessage(ctx, nil); err == nil {
			c.WriteMessage(ctx, typ, msg)
		}
		c.Close(conn.StatusNormalClosure, "")
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := dialTLSH2(t, ctx, s)
	if err := c.WriteMessage(ctx, conn.Text, []byte("wrapped")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(ctx, nil); err != nil || string(msg) != "wrapped" {
		t.Fatalf("echo: %q, %v", msg, err)
	}
}

// dialTLSH2 opens a WebSocket over HTTP/2 (required) to the TLS test
// server s, closed when the test ends.
func dialTLSH2(t *testing.T, ctx context.Context, s *httptest.Server) *conn.Conn {
	t.Helper()
	c, _, err := client.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), &client.DialOptions{
		TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig,
		Proxy:     client.NoProxy,
		HTTP2:     client.HTTP2Require,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}
