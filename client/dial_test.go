package client_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"github.com/rfc6455/ws/internal/h2stream"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// TestDialRefused: a server that answers with an error status; Dial's
// error exposes the status, the header fields and a bounded prefix of the
// body.
func TestDialRefused(t *testing.T) {
	body := "authentication required: " + strings.Repeat("x", 5000)
	ts := startServer(t, modes[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ws"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, body)
	}))
	c, resp, err := client.Dial(testContext(t), ts.url, ts.dialOptions())
	if c != nil {
		t.Fatal("Dial returned a connection")
	}
	var re *handshake.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Dial: %v (%T), want a *handshake.ResponseError", err, err)
	}
	if resp == nil || resp != re.Response || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("response %v, error's response %v; want the 401", resp, re.Response)
	}
	if got := re.Response.Header.Get("WWW-Authenticate"); got != `Bearer realm="ws"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if len(re.Body) == 0 || len(re.Body) > 1024 || !strings.HasPrefix(body, string(re.Body)) {
		t.Errorf("body prefix of %d bytes %.40q, want a prefix of at most 1 KiB", len(re.Body), re.Body)
	}
}

// TestDialOriginRefused: Dial to a server whose origin policy refuses
// the Origin we send.
func TestDialOriginRefused(t *testing.T) {
	ts := startServer(t, modes[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err == nil {
			c.CloseNow()
		}
	}))
	opts := ts.dialOptions()
	opts.Header = http.Header{"Origin": {"https://elsewhere.example"}}
	_, resp, err := client.Dial(testContext(t), ts.url, opts)
	var re *handshake.ResponseError
	if !errors.As(err, &re) || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Dial: resp %v, err %v; want a ResponseError with 403", resp, err)
	}
	if !strings.Contains(string(re.Body), "origin") {
		t.Errorf("body %q does not say why", re.Body)
	}
}

// fakeServer accepts one TCP connection, reads a request and answers with
// whatever respond writes.
func fakeServer(t *testing.T, respond func(nc net.Conn, req *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		respond(nc, req)
	}()
	return ln.Addr().String()
}

func switching(req *http.Request) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"
}

// TestDialBadResponses: responses that RFC 6455 §4.1 requires the client
// to refuse.
func TestDialBadResponses(t *testing.T) {
	tests := []struct {
		name    string
		respond func(req *http.Request) string
		want    string // in the error
	}{
		{"wrong accept", func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
		}, "Sec-WebSocket-Accept"},
		{"no Upgrade", func(req *http.Request) string {
			return strings.Replace(switching(req), "Upgrade: websocket\r\n", "", 1) + "\r\n"
		}, "Upgrade"},
		{"subprotocol not offered", func(req *http.Request) string {
			return switching(req) + "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
		}, "mqtt"},
		{"extension not offered", func(req *http.Request) string {
			return switching(req) + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}, "permessage-deflate"},
		{"huge header", func(req *http.Request) string {
			return switching(req) + "X-Big: " + strings.Repeat("b", 9000) + "\r\n\r\n"
		}, "too large"},
		{"not HTTP", func(req *http.Request) string {
			return "SSH-2.0-OpenSSH_9.6\r\n\r\n"
		}, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, func(nc net.Conn, req *http.Request) {
				io.WriteString(nc, tt.respond(req))
				io.Copy(io.Discard, nc)
			})
			c, _, err := client.Dial(testContext(t), "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
			if c != nil || err == nil {
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestDialBufferedAfterResponse: the server's first frame arrives in the
// same packet as its 101 response; the Conn must not lose it.
func TestDialBufferedAfterResponse(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn, req *http.Request) {
		msg := "sent with the response"
		first := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(msg))})
		io.WriteString(nc, switching(req)+"\r\n"+string(first)+msg)
		io.Copy(io.Discard, nc)
	})
	ctx := testContext(t)
	c := dial(t, ctx, "ws://"+addr+"/", &client.DialOptions{Proxy: client.NoProxy})
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != conn.Text || string(p) != "sent with the response" {
		t.Fatalf("ReadMessage: %v %q %v", typ, p, err)
	}
}

// TestDialTimeout: a server that accepts TCP and never answers; Dial
// gives up after HandshakeTimeout, and after ctx is cancelled.
func TestDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close() // silent until the test ends
		}
	}()
	url := "ws://" + ln.Addr().String() + "/"

	start := time.Now()
	_, _, err = client.Dial(context.Background(), url, &client.DialOptions{Proxy: client.NoProxy, HandshakeTimeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial with HandshakeTimeout: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err = client.Dial(ctx, url, &client.DialOptions{Proxy: client.NoProxy})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled ctx: %v, want Canceled", err)
	}
}

func TestDialBadURL(t *testing.T) {
	for _, u := range []string{"ftp://127.0.0.1/", "ws://127.0.0.1/#frag", "ws:///path", "://"} {
		if _, _, err := client.Dial(testContext(t), u, nil); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}

// TestDialHTTPSchemes: http:// and https:// URLs are taken as ws:// and
// wss:// (RFC 6455 §3 maps them the same way onto the handshake).
func TestDialHTTPSchemes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			ctx := testContext(t)
			c := dial(t, ctx, ts.URL, ts.dialOptions())
			roundTrip(t, ctx, c, conn.Text, []byte("over "+ts.URL))
			closeClean(t, c)
		})
	}
}

// connectProxy is an HTTP proxy that supports only CONNECT, with an
// optional Basic credential.
type connectProxy struct {
	ln        net.Listener
	auth      string // expected Proxy-Authorization, "" for none
	testHosts bool   // map host names under .test to 127.0.0.1
	tunnels   atomic.Int32
}

func startConnectProxy(t *testing.T, user, pass string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln}
	if user != "" {
		p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	t.Cleanup(func() { ln.Close() })
	go p.acceptLoop()
	return p
}

func (p *connectProxy) acceptLoop() {
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(nc)
	}
}

func (p *connectProxy) serve(nc net.Conn) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(nc, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if p.auth != "" && req.Header.Get("Proxy-Authorization") != p.auth {
		io.WriteString(nc, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	// Only loopback targets: this proxy never reaches anywhere else.
	host, port, err := net.SplitHostPort(req.Host)
	if p.testHosts && strings.HasSuffix(host, ".test") {
		host = "127.0.0.1"
	}
	if err != nil || host != "127.0.0.1" {
		io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	p.tunnels.Add(1)
	io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
	nc.SetDeadline(time.Time{})
	splice(nc, br, up)
}

// splice copies both ways between a client (with its buffered reader) and
// an upstream connection until either side ends.
func splice(nc net.Conn, br io.Reader, up net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); done <- struct{}{} }()
	go func() { io.Copy(nc, up); done <- struct{}{} }()
	<-done
}

func (p *connectProxy) url(user, pass string) *url.URL {
	u := &url.URL{Scheme: "http", Host: p.ln.Addr().String()}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u
}

func TestDialHTTPProxy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			proxy := startConnectProxy(t, "alice", "s3cret")
			ctx := testContext(t)

			opts := ts.dialOptions()
			var proxyReq *http.Request
			opts.Proxy = func(r *http.Request) (*url.URL, error) {
				proxyReq = r
				return proxy.url("alice", "s3cret"), nil
			}
			c := dial(t, ctx, ts.url, opts)
			roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, 70000, 3))
			closeClean(t, c)
			if n := proxy.tunnels.Load(); n != 1 {
				t.Errorf("proxy opened %d tunnels, want 1", n)
			}
			wantScheme := "http"
			if m.tls {
				wantScheme = "https"
			}
			if proxyReq.URL.Scheme != wantScheme {
				t.Errorf("Proxy saw scheme %q, want %q", proxyReq.URL.Scheme, wantScheme)
			}

			// Wrong credentials: the 407 comes back as a ProxyError.
			opts.Proxy = func(*http.Request) (*url.URL, error) { return proxy.url("alice", "wrong"), nil }
			_, _, err := client.Dial(ctx, ts.url, opts)
			var pe *client.ProxyError
			if !errors.As(err, &pe) || pe.StatusCode != http.StatusProxyAuthRequired || pe.Header.Get("Proxy-Authenticate") == "" {
				t.Errorf("Dial with wrong proxy credentials: %v, want a ProxyError with 407", err)
			}
			if pe != nil && strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

// TestDialHTTPSProxy: the proxy itself is reached over TLS, with the
// TLS configuration of the dial (here: trusting the test certificate,
// which is valid for 127.0.0.1).
func TestDialHTTPSProxy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			// Every httptest TLS server has the same certificate.
			certSrv := startServer(t, modes[1], http.NotFoundHandler())
			proxy := startConnectProxy(t, "", "")
			tlsLn := tls.NewListener(listenLoopback(t), &tls.Config{Certificates: certSrv.TLS.Certificates})
			go func() {
				for {
					nc, err := tlsLn.Accept()
					if err != nil {
						return
					}
					go proxy.serve(nc)
				}
			}()
			ctx := testContext(t)
			opts := ts.dialOptions()
			if !m.tls {
				opts.TLSConfig = certSrv.opts.TLSConfig
			}
			opts.Proxy = func(*http.Request) (*url.URL, error) {
				return &url.URL{Scheme: "https", Host: tlsLn.Addr().String()}, nil
			}
			c := dial(t, ctx, ts.url, opts)
			roundTrip(t, ctx, c, conn.Text, []byte("through an https proxy"))
			closeClean(t, c)
			if n := proxy.tunnels.Load(); n != 1 {
				t.Errorf("proxy opened %d tunnels, want 1", n)
			}
		})
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestDialSOCKS5Proxy goes through a minimal in-test SOCKS5 server
// (RFC 1928, with RFC 1929 username/password).
func TestDialSOCKS5Proxy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			socks := startSOCKS5(t, "bob", "pw")
			ctx := testContext(t)
			opts := ts.dialOptions()
			opts.Proxy = func(*http.Request) (*url.URL, error) {
				return &url.URL{Scheme: "socks5", Host: socks.ln.Addr().String(), User: url.UserPassword("bob", "pw")}, nil
			}
			c := dial(t, ctx, ts.url, opts)
			roundTrip(t, ctx, c, conn.Text, []byte("through SOCKS5"))
			closeClean(t, c)
			if n := socks.tunnels.Load(); n != 1 {
				t.Errorf("SOCKS5 server opened %d tunnels, want 1", n)
			}

			opts.Proxy = func(*http.Request) (*url.URL, error) {
				return &url.URL{Scheme: "socks5", Host: socks.ln.Addr().String(), User: url.UserPassword("bob", "nope")}, nil
			}
			if _, _, err := client.Dial(ctx, ts.url, opts); err == nil {
				t.Error("Dial with wrong SOCKS5 credentials succeeded")
			}
		})
	}
}

// socks5Server is a minimal SOCKS5 server for tests: CONNECT only,
// username/password authentication, loopback targets only.
type socks5Server struct {
	ln         net.Listener
	user, pass string
	tunnels    atomic.Int32
}

func startSOCKS5(t *testing.T, user, pass string) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln, user: user, pass: pass}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc)
		}
	}()
	return s
}

func (s *socks5Server) serve(nc net.Conn) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(nc)
	read := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil
		}
		return b
	}
	// Greeting: VER NMETHODS METHODS; we require method 2 (RFC 1929).
	hdr := read(2)
	if hdr == nil || hdr[0] != 5 {
		return
	}
	methods := read(int(hdr[1]))
	if !bytes.Contains(methods, []byte{2}) {
		nc.Write([]byte{5, 0xff})
		return
	}
	nc.Write([]byte{5, 2})
	// RFC 1929: VER ULEN UNAME PLEN PASSWD.
	v := read(2)
	if v == nil {
		return
	}
	uname := read(int(v[1]))
	plen := read(1)
	if plen == nil {
		return
	}
	passwd := read(int(plen[0]))
	if string(uname) != s.user || string(passwd) != s.pass {
		nc.Write([]byte{1, 1})
		return
	}
	nc.Write([]byte{1, 0})
	// Request: VER CMD RSV ATYP DST.ADDR DST.PORT.
	req := read(4)
	if req == nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		host = net.IP(read(4)).String()
	case 3:
		l := read(1)
		host = string(read(int(l[0])))
	case 4:
		host = net.IP(read(16)).String()
	}
	port := binary.BigEndian.Uint16(read(2))
	reply := []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	if host != "127.0.0.1" {
		reply[1] = 2 // not allowed by ruleset
		nc.Write(reply)
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		reply[1] = 5 // connection refused
		nc.Write(reply)
		return
	}
	defer up.Close()
	s.tunnels.Add(1)
	nc.Write(reply)
	nc.SetDeadline(time.Time{})
	splice(nc, br, up)
}

// envProxy is the proxy TestMain puts in HTTP_PROXY and HTTPS_PROXY
// before anything reads them (net/http reads the environment once).
var envProxy *connectProxy

func TestMain(m *testing.M) {
	// The HTTP/2 tests need net/http's server to take extended CONNECT,
	// which it reads from GODEBUG at start: run again with it set.
	// Under js/wasm (the browser adapter's tests, run by Node) there is
	// no process to restart and no HTTP/2 test runs.
	if runtime.GOOS != "js" {
		if err := h2stream.Reexec(); err != nil {
			panic(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	envProxy = &connectProxy{ln: ln, testHosts: true}
	go envProxy.acceptLoop()
	u := "http://" + ln.Addr().String()
	os.Setenv("HTTP_PROXY", u)
	os.Setenv("HTTPS_PROXY", u)
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	code := m.Run()
	ln.Close()
	os.Exit(code)
}

// TestProxyFromEnvironment: with no Proxy function, HTTP_PROXY and
// HTTPS_PROXY decide, as in net/http. The URL's host is under .test
// (RFC 6761), which the environment proxy maps to 127.0.0.1; loopback
// addresses themselves are never proxied.
func TestProxyFromEnvironment(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, echo.Handler(nil))
			opts := ts.dialOptions()
			opts.Proxy = nil
			if m.tls {
				opts.TLSConfig.ServerName = "example.com" // in the test certificate
			}
			ctx := testContext(t)
			before := envProxy.tunnels.Load()
			_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
			u := strings.Replace(ts.url, ts.Listener.Addr().String(), "proxied.test:"+port, 1)
			c := dial(t, ctx, u, opts)
			roundTrip(t, ctx, c, conn.Text, []byte("via the environment's proxy"))
			closeClean(t, c)
			if n := envProxy.tunnels.Load() - before; n != 1 {
				t.Errorf("environment proxy opened %d tunnels, want 1", n)
			}

			// A loopback address goes direct.
			before = envProxy.tunnels.Load()
			c = dial(t, ctx, ts.url, opts)
			closeClean(t, c)
			if n := envProxy.tunnels.Load() - before; n != 0 {
				t.Errorf("environment proxy used for a loopback address")
			}
		})
	}
}
