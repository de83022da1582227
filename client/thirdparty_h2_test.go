package client_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/server"
)

// freePort returns a loopback port nobody listens on (a moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits up to 5 s for a listener on addr.
func waitListening(t *testing.T, addr string, what string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 5 s: %s", what, addr, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHTTP2ThroughNghttpx dials through nghttpx (nghttp2's reverse proxy,
// Debian package nghttp2-proxy), an independent implementation of RFC
// 8441: our client speaks HTTP/2 extended CONNECT to nghttpx, which
// opens the WebSocket to our server with an HTTP/1.1 Upgrade and relays
// the frames. Several WebSockets, with permessage-deflate, share the
// client's one connection to the proxy.
func TestHTTP2ThroughNghttpx(t *testing.T) {
	nghttpx, err := exec.LookPath("nghttpx")
	if err != nil {
		if os.Getenv("WS_REQUIRE_PEERS") != "" {
			t.Fatalf("WS_REQUIRE_PEERS is set and %s is not installed: %v", "nghttpx", err)
		}
		t.Skip("nghttpx is not installed (Debian: apt-get install nghttp2-proxy): the third-party HTTP/2 peer test is skipped")
	}
	rec := newProtoRecorder(&server.AcceptOptions{Compression: &deflate.ServerOptions{}})
	backend := httptest.NewServer(rec)
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(backend.Listener.Addr().String())

	dir := t.TempDir()
	port := freePort(t)
	front := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(nghttpx,
		"--conf=/dev/null",
		"--frontend=127.0.0.1,"+fmt.Sprint(port)+";no-tls",
		"--backend=127.0.0.1,"+bport,
		"--workers=1", "--no-ocsp",
		"--errorlog-file="+filepath.Join(dir, "error.log"),
		"--accesslog-file="+filepath.Join(dir, "access.log"),
	)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := func() string {
		e, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		a, _ := os.ReadFile(filepath.Join(dir, "access.log"))
		return "error log:\n" + string(e) + "access log:\n" + string(a)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Log(logs())
		}
	}()
	waitListening(t, front, "nghttpx", logs)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool := client.NewHTTP2Pool(nil)
	defer pool.CloseIdleConnections()
	opts := &client.DialOptions{
		Proxy: client.NoProxy, HTTP2: client.HTTP2Require, HTTP2Pool: pool,
		Compression: &deflate.ClientOptions{},
	}
	var conns []*conn.Conn
	for i := range 3 {
		c, resp, err := client.Dial(ctx, "ws://"+front+"/echo", opts)
		if err != nil {
			t.Fatalf("Dial %d through nghttpx: %v", i, err)
		}
		defer c.CloseNow()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Fatalf("nghttpx answered %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
			t.Errorf("Sec-WebSocket-Extensions %q through nghttpx, want permessage-deflate", ext)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		roundTrip(t, ctx, c, conn.Text, payload(conn.Text, 1000+i, uint64(i)))
		roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, 70000, uint64(i)))
	}
	for _, c := range conns {
		if err := c.Close(conn.StatusNormalClosure, "through the proxy"); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	for range conns {
		checkCloseError(t, <-rec.ends, conn.StatusNormalClosure, "through the proxy")
	}
	for range conns {
		if p := <-rec.protos; p != 1 {
			t.Errorf("nghttpx reached our server over HTTP/%d, want 1.1", p)
		}
	}
}
