package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

// serveModes are the ways the chat serves WebSockets: a reading and a
// writing goroutine per connection, or the event loops (-event).
var serveModes = []string{"goroutine", "event"}

// forEachMode runs test once per serve mode.
func forEachMode(t *testing.T, test func(t *testing.T, mode string)) {
	for _, mode := range serveModes {
		t.Run(mode, func(t *testing.T) { test(t, mode) })
	}
}

// startServer serves the chat over loopback TCP in mode with the given
// keepalive and returns its http:// URL.
func startServer(t *testing.T, mode string, h *Hub, ping time.Duration) string {
	t.Helper()
	accept := &server.AcceptOptions{Conn: &conn.Options{
		ReadLimit: 4096, KeepAliveInterval: ping, KeepAliveTimeout: ping, CloseTimeout: time.Second,
	}}
	var ws http.Handler = &wsHandler{hub: h, opts: accept}
	if mode == "event" {
		events, err := newEventWS(h, accept, h.cfg.QueueSize*4096)
		if errors.Is(err, event.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { events.Close() })
		ws = events
	}
	srv := httptest.NewServer(newMux(h, ws, true))
	t.Cleanup(srv.Close)
	return srv.URL
}

func dial(t *testing.T, base string, header http.Header) *conn.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &client.DialOptions{Header: header, Proxy: client.NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// wsPeer is a chat client over a real WebSocket connection.
type wsPeer struct {
	t  *testing.T
	c  *conn.Conn
	id uint64
}

func (p *wsPeer) send(event string, data any) uint64 {
	p.t.Helper()
	p.id++
	b, _ := json.Marshal(map[string]any{"event": event, "id": p.id, "data": data})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.c.WriteMessage(ctx, conn.Text, b); err != nil {
		p.t.Fatal(err)
	}
	return p.id
}

// next reads events until one satisfies match, failing after 5 seconds.
func (p *wsPeer) next(match func(Envelope) bool) Envelope {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := p.c.ReadMessage(ctx, nil)
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		var env Envelope
		if err := json.Unmarshal(b, &env); err != nil {
			p.t.Fatalf("server sent %q: %v", b, err)
		}
		if match(env) {
			return env
		}
	}
}

func (p *wsPeer) ack(id uint64) Envelope {
	p.t.Helper()
	env := p.next(func(e Envelope) bool { return e.ID == id })
	if env.Event != "ack" {
		p.t.Fatalf("request %d: %s %s", id, env.Event, env.Data)
	}
	return env
}

func TestOverWebSocket(t *testing.T) { forEachMode(t, testOverWebSocket) }

func testOverWebSocket(t *testing.T, mode string) {
	h := NewHub(DefaultConfig())
	base := startServer(t, mode, h, time.Minute)
	alice := &wsPeer{t: t, c: dial(t, base, nil)}
	bob := &wsPeer{t: t, c: dial(t, base, nil)}
	alice.ack(alice.send("hello", map[string]any{"name": "alice"}))
	bob.ack(bob.send("hello", map[string]any{"name": "bob"}))
	alice.ack(alice.send("join", map[string]any{"room": "lobby"}))
	bob.ack(bob.send("join", map[string]any{"room": "lobby"}))
	alice.ack(alice.send("say", map[string]any{"room": "lobby", "text": "hi bob"}))
	env := bob.next(func(e Envelope) bool { return e.Event == "message" })
	var m Message
	json.Unmarshal(env.Data, &m)
	if m.ID != 1 || m.From != "alice" || m.Text != "hi bob" {
		t.Errorf("bob received %+v", m)
	}
}

func TestOriginChecked(t *testing.T) { forEachMode(t, testOriginChecked) }

func testOriginChecked(t *testing.T, mode string) {
	base := startServer(t, mode, NewHub(DefaultConfig()), time.Minute)
	host := strings.TrimPrefix(base, "http://")
	// The page's own origin is accepted.
	dial(t, base, http.Header{"Origin": {"http://" + host}})
	// Another site's is refused with 403 before any WebSocket exists.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := client.Dial(ctx, "ws://"+host+"/ws", &client.DialOptions{Header: http.Header{"Origin": {"http://evil.example"}}, Proxy: client.NoProxy})
	if err == nil {
		t.Fatal("foreign origin accepted")
	}
	var re *handshake.ResponseError
	if !errors.As(err, &re) || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, response %v; want a 403 ResponseError", err, resp)
	}
}

func TestOversizedMessageCloses1009(t *testing.T) { forEachMode(t, testOversizedMessageCloses1009) }

func testOversizedMessageCloses1009(t *testing.T, mode string) {
	base := startServer(t, mode, NewHub(DefaultConfig()), time.Minute)
	p := &wsPeer{t: t, c: dial(t, base, nil)}
	big := `{"event":"hello","id":1,"data":{"name":"` + strings.Repeat("a", 5000) + `"}}`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.c.WriteMessage(ctx, conn.Text, []byte(big)); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.StatusMessageTooBig {
		t.Fatalf("after a 5 KB message: %v, want close 1009", err)
	}
}

// A client that stops answering pings is dropped within the keepalive
// interval plus its timeout.
func TestDeadClientDropped(t *testing.T) { forEachMode(t, testDeadClientDropped) }

func testDeadClientDropped(t *testing.T, mode string) {
	h := NewHub(DefaultConfig())
	base := startServer(t, mode, h, 100*time.Millisecond)
	p := &wsPeer{t: t, c: dial(t, base, nil)}
	p.ack(p.send("hello", map[string]any{"name": "ghost"}))
	// Stop reading: the client's pongs are sent by its reading goroutine,
	// so from now on the server's pings go unanswered.
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		h.mu.Lock()
		n := len(h.clients)
		h.mu.Unlock()
		if n == 0 {
			if d := time.Since(start); d < 100*time.Millisecond {
				t.Errorf("dropped after %v, before a ping could go unanswered", d)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("client not answering pings still connected after 3 s")
}

func TestKickDropsConnection(t *testing.T) { forEachMode(t, testKickDropsConnection) }

func testKickDropsConnection(t *testing.T, mode string) {
	h := NewHub(DefaultConfig())
	base := startServer(t, mode, h, time.Minute)
	p := &wsPeer{t: t, c: dial(t, base, nil)}
	p.ack(p.send("hello", map[string]any{"name": "bob"}))
	resp, err := http.Post(base+"/debug/kick?name=bob", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "1" {
		t.Errorf("kick answered %q, want 1", body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := p.c.ReadMessage(ctx, nil)
		if err == nil {
			continue
		}
		var ce *conn.CloseError
		if !errors.As(err, &ce) || ce.Code != conn.StatusAbnormalClosure {
			t.Fatalf("after kick: %v, want an abnormal closure (1006)", err)
		}
		return
	}
}

func TestPageServedWithCSP(t *testing.T) {
	base := startServer(t, "goroutine", NewHub(DefaultConfig()), time.Minute)
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: %d, %d bytes, CSP %q", path, resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// The page never turns user text into markup.
func TestPageUsesTextContentOnly(t *testing.T) {
	js, err := static.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}

// In event mode a client that does not read fills the event loop's write
// queue, and the next message closes it with 1013, as a full send queue
// does in goroutine mode; the messages before the close still arrive.
func TestEventSlowConsumerCloses1013(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueSize = 16 // a 64 KiB write queue (16 × 4096)
	h := NewHub(cfg)
	base := startServer(t, "event", h, time.Minute)
	p := &wsPeer{t: t, c: dial(t, base, nil)}
	p.ack(p.send("hello", map[string]any{"name": "slow"}))
	h.mu.Lock()
	var c *Client
	for c = range h.users["slow"] {
	}
	h.mu.Unlock()
	if c == nil {
		t.Fatal("no client named slow")
	}
	// The peer does not read: the socket buffers fill (a few MiB on
	// loopback), then the queue. 64 MiB at most, so a queue that never
	// fills fails the test instead of running on.
	msg := []byte(`{"event":"message","data":"` + strings.Repeat("x", 4000) + `"}`)
	sent := 0
	for ; sent < 16<<10; sent++ {
		select {
		case <-c.done:
		default:
			c.enqueue(outbound{data: msg})
			continue
		}
		break
	}
	select {
	case <-c.done:
	default:
		t.Fatalf("%d messages to a client that does not read, and it is still open", sent)
	}
	if c.closeCode != 1013 {
		t.Fatalf("closed with %v, want 1013", c.closeCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := 0
	for {
		_, b, err := p.c.ReadMessage(ctx, nil)
		if err != nil {
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != 1013 {
				t.Fatalf("after %d messages: %v, want close 1013", got, err)
			}
			break
		}
		if len(b) == len(msg) {
			got++
		}
	}
	if got == 0 || got >= sent {
		t.Fatalf("read %d of %d messages before the close, want some but not all", got, sent)
	}
	t.Logf("%d messages enqueued, %d delivered before the 1013", sent, got)
}
