package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/h2stream"
	"github.com/rfc6455/ws/server"
)

// countingListener counts the TCP connections it accepts.
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

// chromiumPath returns the browser to test with ($CHROMIUM, else chromium
// on $PATH), or skips the test.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM): the browser test of WebSockets over HTTP/2 is skipped")
	}
	return p
}

// pageScript runs in the page: three WebSockets to the page's own
// address, each echoing a text and a binary message, then closed with
// 1000. It returns what it saw.
const pageScript = `(async () => {
  const url = location.href.replace(/^http/, "ws");
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket error"));
  });
  const next = ws => new Promise(resolve => { ws.onmessage = e => resolve(e.data); });
  const socks = await Promise.all([open(), open(), open()]);
  const out = {extensions: socks.map(s => s.extensions), echoes: [], closes: []};
  for (const [i, ws] of socks.entries()) {
    const text = "héllo " + i + " " + "x".repeat(1000);
    let p = next(ws); ws.send(text); const gotText = await p;
    const bin = new Uint8Array(2000).map((_, j) => (j * 7 + i) & 255);
    p = next(ws); ws.send(bin); const gotBin = new Uint8Array(await p);
    out.echoes.push(gotText === text && gotBin.length === bin.length && gotBin.every((v, j) => v === bin[j]));
  }
  await Promise.all(socks.map(ws => new Promise(resolve => {
    ws.onclose = e => { out.closes.push({code: e.code, clean: e.wasClean}); resolve(); };
    ws.close(1000, "bye");
  })));
  return out;
})()`

// TestChromiumHTTP2 is the proof with an independent peer: headless
// Chromium loads a page from the echo server over HTTPS with HTTP/2 and
// opens three WebSockets from it, with permessage-deflate. The server
// checks that each handshake was an HTTP/2 extended CONNECT and that the
// page and its sockets came over one TCP connection (every request from
// the same client address); the page checks the
// echoes and that each socket closed cleanly with 1000.
func TestChromiumHTTP2(t *testing.T) {
	browser := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tc, err := tlsConfig("", "")
	if err != nil {
		t.Fatal(err)
	}
	var accepts atomic.Int64
	var mu sync.Mutex
	var wsProtos []int
	var requests []string // method, path and client address of each request
	clients := map[string]bool{}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig{
		opts:  &server.AcceptOptions{Compression: &deflate.ServerOptions{}},
		tls:   tc,
		h2:    true,
		grace: time.Second,
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests = append(requests, r.Method+" "+r.URL.Path+" from "+r.RemoteAddr+" "+r.Proto)
				clients[r.RemoteAddr] = true
				mu.Unlock()
				if handshake.IsExtendedConnect(r) || handshake.ContainsToken(r.Header["Upgrade"], "websocket") {
					mu.Lock()
					wsProtos = append(wsProtos, r.ProtoMajor)
					mu.Unlock()
				}
				h.ServeHTTP(w, r)
			})
		},
	}
	srvCtx, stopServer := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve(srvCtx, countingListener{raw, &accepts}, cfg, io.Discard) }()
	defer func() {
		stopServer()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	pageURL := "https://" + raw.Addr().String() + "/"

	cdp := startChromium(t, ctx, browser)
	if _, err := cdp.call(ctx, "Page.navigate", map[string]any{"url": pageURL}); err != nil {
		t.Fatal(err)
	}
	for {
		var state string
		if err := cdp.evaluate(ctx, "document.readyState + ' ' + document.title", &state); err == nil && state == "complete ws echo" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the page did not load: last state %q", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got struct {
		Extensions []string
		Echoes     []bool
		Closes     []struct {
			Code  int
			Clean bool
		}
	}
	if err := cdp.evaluate(ctx, pageScript, &got); err != nil {
		t.Fatalf("the page's script: %v", err)
	}
	t.Logf("page: %+v; server saw WebSocket handshakes over HTTP/%v; TCP connections accepted: %d", got, wsProtos, accepts.Load())

	if len(got.Echoes) != 3 || strings.Contains(fmt.Sprint(got.Echoes), "false") {
		t.Errorf("echoes %v, want three true", got.Echoes)
	}
	for _, e := range got.Extensions {
		if !strings.HasPrefix(e, "permessage-deflate") {
			t.Errorf("socket extensions %q, want permessage-deflate", e)
		}
	}
	if len(got.Closes) != 3 {
		t.Errorf("closes %+v, want three", got.Closes)
	}
	for _, c := range got.Closes {
		if c.Code != 1000 || !c.Clean {
			t.Errorf("close %+v, want a clean 1000", c)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests: %q", requests)
	if len(wsProtos) != 3 {
		t.Errorf("server saw %d WebSocket handshakes, want 3", len(wsProtos))
	}
	for _, p := range wsProtos {
		if p != 2 {
			t.Errorf("a WebSocket handshake came over HTTP/%d, want 2 (RFC 8441)", p)
		}
	}
	// Chromium may open a spare connection that carries no request (it
	// did here: 2 accepts, one of them idle); what counts is that the
	// page and every WebSocket came over the same one.
	if len(clients) != 1 {
		t.Errorf("the page and its WebSockets came over %d TCP connections, want 1: %q", len(clients), requests)
	}
	if n := accepts.Load(); n > 2 {
		t.Errorf("%d TCP connections accepted for one page and three WebSockets", n)
	}
}

// cdpSession speaks the Chrome DevTools Protocol over a WebSocket of our
// own client: JSON requests with an id, answered by a message with the
// same id (events, without one, are skipped).
type cdpSession struct {
	c    *conn.Conn
	next int
}

// startChromium starts a headless Chromium with a fresh profile and
// returns a session with its first page.
func startChromium(t *testing.T, ctx context.Context, browser string) *cdpSession {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--ignore-certificate-errors", "--user-data-dir="+profile,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.String())
		}
	})
	// Chromium writes its port to DevToolsActivePort once it listens.
	var port string
	for port == "" {
		if b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			if line, _, ok := strings.Cut(string(b), "\n"); ok {
				port = line
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("chromium did not start its DevTools server: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pageWS, err := pageTarget(ctx, "http://127.0.0.1:"+port+"/json/list")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := client.Dial(ctx, pageWS, &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		t.Fatalf("connecting to chromium's DevTools: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &cdpSession{c: c}
}

// pageTarget returns the DevTools WebSocket URL of the browser's first
// page.
func pageTarget(ctx context.Context, listURL string) (string, error) {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, listURL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var targets []struct{ Type, WebSocketDebuggerURL string }
			err = json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&targets)
			resp.Body.Close()
			for _, tg := range targets {
				if tg.Type == "page" && tg.WebSocketDebuggerURL != "" {
					return tg.WebSocketDebuggerURL, nil
				}
			}
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("no page target at %s: %v", listURL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends one request and returns its result.
func (s *cdpSession) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	s.next++
	id := s.next
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := s.c.WriteMessage(ctx, conn.Text, msg); err != nil {
		return nil, err
	}
	for {
		_, p, err := s.c.ReadMessage(ctx, nil)
		if err != nil {
			return nil, err
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := json.Unmarshal(p, &resp); err != nil {
			return nil, err
		}
		if resp.ID != id {
			continue // an event
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		return resp.Result, nil
	}
}

// evaluate runs a JavaScript expression in the page, waits for its
// promise, and decodes its value into v.
func (s *cdpSession) evaluate(ctx context.Context, expr string, v any) error {
	res, err := s.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	})
	if err != nil {
		return err
	}
	var out struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return err
	}
	if out.ExceptionDetails != nil {
		return errors.New(out.ExceptionDetails.Text + " " + out.ExceptionDetails.Exception.Description)
	}
	return json.Unmarshal(out.Result.Value, v)
}

func TestMain(m *testing.M) {
	// The HTTP/2 tests need net/http's server to take extended CONNECT,
	// which it reads from GODEBUG at start: run again with it set.
	if err := h2stream.Reexec(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
