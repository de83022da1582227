package interop

// permessage-deflate (RFC 7692) between our client and server and the
// compressing modes of gorilla/websocket and coder/websocket, in each
// direction. Every row of compressionPairs records the exact offer and
// answer the pair exchanges; interop/COMPRESSION.md is the same table in
// prose. A row that connects then exchanges every size class, text and
// binary, whole and fragmented, and a long run of chat messages, so that a
// window carried from message to message (context takeover, §7.1.1) is
// exercised, and checks that the bytes on the wire really shrank.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
)

// compressedSizes are the message sizes of the compression interop tests.
var compressedSizes = []int{0, 1, 100, 1000, 64 << 10, 1 << 20}

// compressedMsg is one message through the peer-neutral interface below.
type compressedMsg struct {
	text bool
	data []byte
}

// wsConn is a connection of any of the three libraries, as the tests drive
// it. fragmented is fixed when it is made.
type wsConn interface {
	write(ctx context.Context, m compressedMsg) error
	read(ctx context.Context) (compressedMsg, error)
	// closeNormal runs the closing handshake (RFC 6455 §7.1.2) from this
	// side with 1000 and reports how it ended.
	closeNormal(ctx context.Context) error
	abort()
}

// clientSpec dials one library's client with compression on.
type clientSpec struct {
	name string
	dial func(ctx context.Context, url string, fragmented bool) (wsConn, *http.Response, error)
}

// serverSpec is one library's echo server with compression on.
type serverSpec struct {
	ours    bool // our server: it also toggles compression and sends prepared messages
	handler func(fragmented bool) http.Handler
}

// compressionPair is one row of the negotiation table.
type compressionPair struct {
	name   string
	client clientSpec
	server serverSpec
	offer  string // Sec-WebSocket-Extensions of the request
	answer string // Sec-WebSocket-Extensions of the response ("" declined)
	// dialErr, when set, is a substring of the client's expected refusal
	// of the answer; the connection is then not used.
	dialErr string
}

// compressed reports whether the pair ends up compressing.
func (p compressionPair) compressed() bool { return p.answer != "" && p.dialErr == "" }

// Our client.

func ourClient(name string, opts deflate.ClientOptions) clientSpec {
	return clientSpec{name: name, dial: func(ctx context.Context, url string, fragmented bool) (wsConn, *http.Response, error) {
		o := opts
		c, resp, err := client.Dial(ctx, url, &client.DialOptions{
			Proxy:       client.NoProxy,
			Compression: &o,
			Conn:        ourOptions(fragmented),
		})
		if err != nil {
			return nil, resp, err
		}
		return &ourConn{c: c, fragmented: fragmented, toggle: 7}, resp, nil
	}}
}

// ourConn drives a *conn.Conn. With toggle > 0 every toggle-th message is
// sent uncompressed (Conn.SetWriteCompression(false), RFC 7692 §6), so the
// peer sees uncompressed messages amid a compressed stream.
type ourConn struct {
	c          *conn.Conn
	fragmented bool
	toggle     int
	sent       int
	buf        []byte
}

func (o *ourConn) write(ctx context.Context, m compressedMsg) error {
	o.sent++
	if o.toggle > 0 {
		o.c.SetWriteCompression(o.sent%o.toggle != 0)
	}
	return ourWrite(ctx, o.c, msgType(m.text), m.data, o.fragmented)
}

func msgType(text bool) conn.MessageType {
	if text {
		return conn.Text
	}
	return conn.Binary
}

// ourWrite sends p whole, or fragmented: streamed through NextWriter in
// chunk-sized writes (the length unknown to the extension) and cut into
// chunk-sized frames by MaxFrameSize.
func ourWrite(ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte, fragmented bool) error {
	if !fragmented {
		return c.WriteMessage(ctx, typ, p)
	}
	w, err := c.NextWriter(ctx, typ)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		n := min(chunk, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			w.Close()
			return err
		}
		p = p[n:]
	}
	return w.Close()
}

func (o *ourConn) read(ctx context.Context) (compressedMsg, error) {
	typ, p, err := o.c.ReadMessage(ctx, o.buf[:0])
	if err != nil {
		return compressedMsg{}, err
	}
	o.buf = p
	return compressedMsg{typ == conn.Text, bytes.Clone(p)}, nil
}

func (o *ourConn) closeNormal(context.Context) error {
	return o.c.Close(conn.StatusNormalClosure, "done")
}

func (o *ourConn) abort() { o.c.CloseNow() }

// gorilla/websocket's client.

var gorillaClient = clientSpec{name: "gorilla", dial: func(ctx context.Context, url string, fragmented bool) (wsConn, *http.Response, error) {
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: testTimeout}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, resp, err
	}
	return &gorillaConn{c: c, fragmented: fragmented}, resp, nil
}}

type gorillaConn struct {
	c          *websocket.Conn
	fragmented bool
}

func (g *gorillaConn) write(_ context.Context, m compressedMsg) error {
	typ := websocket.BinaryMessage
	if m.text {
		typ = websocket.TextMessage
	}
	return gorillaWrite(g.c, typ, m.data, g.fragmented)
}

func (g *gorillaConn) read(context.Context) (compressedMsg, error) {
	g.c.SetReadDeadline(time.Now().Add(testTimeout))
	typ, p, err := g.c.ReadMessage()
	return compressedMsg{typ == websocket.TextMessage, p}, err
}

func (g *gorillaConn) closeNormal(context.Context) error {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
	if err := g.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(testTimeout)); err != nil {
		return err
	}
	g.c.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err := g.c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return fmt.Errorf("after our close frame: %v, want the peer's close 1000", err)
	}
	return g.c.Close()
}

func (g *gorillaConn) abort() { g.c.Close() }

// coder/websocket's client.

func coderClient(name string, mode coder.CompressionMode) clientSpec {
	return clientSpec{name: name, dial: func(ctx context.Context, url string, fragmented bool) (wsConn, *http.Response, error) {
		c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: mode})
		if err != nil {
			return nil, resp, err
		}
		c.SetReadLimit(2 << 20)
		return &coderConn{c: c, fragmented: fragmented}, resp, nil
	}}
}

type coderConn struct {
	c          *coder.Conn
	fragmented bool
}

func (k *coderConn) write(ctx context.Context, m compressedMsg) error {
	typ := coder.MessageBinary
	if m.text {
		typ = coder.MessageText
	}
	return coderWrite(ctx, k.c, typ, m.data, k.fragmented)
}

func (k *coderConn) read(ctx context.Context) (compressedMsg, error) {
	typ, p, err := k.c.Read(ctx)
	return compressedMsg{typ == coder.MessageText, p}, err
}

func (k *coderConn) closeNormal(context.Context) error {
	return k.c.Close(coder.StatusNormalClosure, "done")
}

func (k *coderConn) abort() { k.c.CloseNow() }

// Servers.

var gorillaServer = serverSpec{handler: func(fragmented bool) http.Handler {
	up := websocket.Upgrader{EnableCompression: true, ReadBufferSize: 4096, WriteBufferSize: 4096}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if gorillaWrite(c, typ, p, fragmented) != nil {
				return
			}
		}
	})
}}

func coderServer(mode coder.CompressionMode) serverSpec {
	return serverSpec{handler: func(fragmented bool) http.Handler { return coderEchoMode(mode, fragmented) }}
}

// preparedRequest, sent as a binary message to our server, makes it send
// preparedBody as a prepared message preparedCount times instead of an
// echo.
var (
	preparedRequest = []byte("\x00send prepared")
	preparedBody    = chatMessages(1, 2000)[0]
)

const preparedCount = 3

// ourCompressionServer echoes with compression negotiated on opts. Every fifth echo
// is sent uncompressed (SetWriteCompression(false)); preparedRequest is
// answered with a PreparedMessage shared by all connections of the
// server, compressed once where the parameters allow.
func ourCompressionServer(opts deflate.ServerOptions) serverSpec {
	return serverSpec{ours: true, handler: func(fragmented bool) http.Handler {
		pm, err := conn.NewPreparedMessage(conn.Text, preparedBody)
		if err != nil {
			panic(err)
		}
		o := opts
		accept := &server.AcceptOptions{
			Origin:      handshake.OriginPolicy{AllowAll: true},
			Compression: &o,
			Conn:        ourOptions(fragmented),
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Accept(w, r, accept)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := context.WithoutCancel(r.Context())
			var buf []byte
			for i := 1; ; i++ {
				typ, p, err := c.ReadMessage(ctx, buf[:0])
				if err != nil {
					return
				}
				buf = p
				if typ == conn.Binary && bytes.Equal(p, preparedRequest) {
					for range preparedCount {
						if c.WritePrepared(ctx, pm) != nil {
							return
						}
					}
					continue
				}
				c.SetWriteCompression(i%5 != 0)
				if ourWrite(ctx, c, typ, p, fragmented) != nil {
					return
				}
			}
		})
	}}
}

// The negotiation table. Offers and answers are the exact header values.
var compressionPairs = []compressionPair{
	// Our client against gorilla's server, which accepts any
	// permessage-deflate offer, ignores its parameters and always answers
	// with no context takeover both ways.
	{
		name: "ours-default/gorilla", client: ourClient("ours-default", deflate.ClientOptions{}), server: gorillaServer,
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name: "ours-client-window-8-level-9/gorilla", client: ourClient("ours-client-window-8-level-9", deflate.ClientOptions{ClientMaxWindowBits: 8, Threshold: -1, Level: 9}), server: gorillaServer,
		offer:  "permessage-deflate; client_max_window_bits=8",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		// gorilla accepts server_max_window_bits=10 without echoing it,
		// which RFC 7692 §7.1.2.1 requires; our client fails the
		// connection as §7.1 says.
		name: "ours-server-window-10/gorilla", client: ourClient("ours-server-window-10", deflate.ClientOptions{ServerMaxWindowBits: 10}), server: gorillaServer,
		offer:   "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
		answer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		dialErr: "server_max_window_bits requested but not in the response",
	},

	// Our client against coder's server, which accepts bare or valued
	// client_max_window_bits (it decompresses with 32 KiB anyway) and
	// server_max_window_bits=15 only, and declines any other offer.
	{
		name: "ours-default/coder-takeover", client: ourClient("ours-default", deflate.ClientOptions{}), server: coderServer(coder.CompressionContextTakeover),
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name: "ours-default/coder-no-takeover", client: ourClient("ours-default", deflate.ClientOptions{}), server: coderServer(coder.CompressionNoContextTakeover),
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
	},
	{
		name: "ours-client-window-8-level-9/coder-takeover", client: ourClient("ours-client-window-8-level-9", deflate.ClientOptions{ClientMaxWindowBits: 8, Threshold: -1, Level: 9}), server: coderServer(coder.CompressionContextTakeover),
		offer:  "permessage-deflate; client_max_window_bits=8",
		answer: "permessage-deflate",
	},
	{
		name: "ours-no-takeover/coder-takeover", client: ourClient("ours-no-takeover", deflate.ClientOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}), server: coderServer(coder.CompressionContextTakeover),
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
		answer: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
	},
	{
		// coder declines an offer with server_max_window_bits below 15:
		// the connection goes on uncompressed.
		name: "ours-server-window-10/coder-takeover", client: ourClient("ours-server-window-10", deflate.ClientOptions{ServerMaxWindowBits: 10}), server: coderServer(coder.CompressionContextTakeover),
		offer:  "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
		answer: "",
	},
	{
		// coder accepts server_max_window_bits=15 but leaves it out of
		// its answer (RFC 7692 §7.1.2.1 requires it); our client fails
		// the connection.
		name: "ours-server-window-15/coder-takeover", client: ourClient("ours-server-window-15", deflate.ClientOptions{ServerMaxWindowBits: 15}), server: coderServer(coder.CompressionContextTakeover),
		offer:   "permessage-deflate; server_max_window_bits=15; client_max_window_bits",
		answer:  "permessage-deflate",
		dialErr: "server_max_window_bits requested but not in the response",
	},

	// gorilla's client, which offers and requires no context takeover
	// both ways and ignores other parameters of the answer.
	{
		name: "gorilla/ours-default", client: gorillaClient, server: ourCompressionServer(deflate.ServerOptions{}),
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		// Our server's window capped at 8 bits is announced; gorilla
		// offers no client_max_window_bits, so the client's cap cannot be
		// sent and is waived (RequireClientMaxWindowBits is off).
		name: "gorilla/ours-windows-8-level-6", client: gorillaClient, server: ourCompressionServer(deflate.ServerOptions{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, Threshold: -1, Level: 6}),
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8",
	},
	{
		name: "gorilla/ours-require-client-window", client: gorillaClient, server: ourCompressionServer(deflate.ServerOptions{ClientMaxWindowBits: 10, RequireClientMaxWindowBits: true}),
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		answer: "",
	},

	// coder's client: it offers no window parameters and accepts
	// server_max_window_bits with any value in the answer, but fails on
	// client_max_window_bits (it cannot shrink its compressor's window).
	{
		name: "coder-takeover/ours-default", client: coderClient("coder-takeover", coder.CompressionContextTakeover), server: ourCompressionServer(deflate.ServerOptions{}),
		offer:  "permessage-deflate",
		answer: "permessage-deflate",
	},
	{
		name: "coder-no-takeover/ours-default", client: coderClient("coder-no-takeover", coder.CompressionNoContextTakeover), server: ourCompressionServer(deflate.ServerOptions{}),
		offer:  "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name: "coder-takeover/ours-windows-8-level-6", client: coderClient("coder-takeover", coder.CompressionContextTakeover), server: ourCompressionServer(deflate.ServerOptions{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, Threshold: -1, Level: 6}),
		offer:  "permessage-deflate",
		answer: "permessage-deflate; server_max_window_bits=8",
	},
	{
		name: "coder-takeover/ours-server-no-takeover", client: coderClient("coder-takeover", coder.CompressionContextTakeover), server: ourCompressionServer(deflate.ServerOptions{ServerNoContextTakeover: true}),
		offer:  "permessage-deflate",
		answer: "permessage-deflate; server_no_context_takeover",
	},
}

// TestCompressionNegotiation checks the offer and answer of every pair of
// the table with a short exchange; TestCompressionInterop runs the full
// traffic over the same pairs.
func TestCompressionNegotiation(t *testing.T) {
	for _, p := range compressionPairs {
		t.Run(p.name, func(t *testing.T) {
			ctx := testContext(t)
			c, ok := connectPair(t, ctx, p, false)
			if !ok {
				return
			}
			defer c.abort()
			for _, m := range chatMessages(3, 0) {
				echoCheck(t, ctx, c, compressedMsg{true, m})
			}
			if err := c.closeNormal(ctx); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

func TestCompressionInterop(t *testing.T) {
	for _, p := range compressionPairs {
		if p.dialErr != "" {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			forModes(t, func(t *testing.T, fragmented bool) {
				exerciseCompressed(t, p, fragmented)
			})
		})
	}
}

// pairServer serves p's server on 127.0.0.1, recording the offer of each
// handshake and counting the bytes the server reads and writes.
type pairServer struct {
	*httptest.Server
	mu    sync.Mutex
	offer string
	wire  wireCount
}

// wireCount counts bytes through the server's side of its connections:
// in is what clients sent, out what the server sent.
type wireCount struct{ in, out atomic.Int64 }

func startPairServer(t *testing.T, p compressionPair, fragmented bool) *pairServer {
	ps := &pairServer{}
	h := p.server.handler(fragmented)
	ps.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.offer = strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", ")
		ps.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	ps.Listener = &countingListener{Listener: ps.Listener, count: &ps.wire}
	ps.Start()
	t.Cleanup(ps.Close)
	return ps
}

func (ps *pairServer) lastOffer() string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.offer
}

// connectPair dials p and checks the negotiation. ok is false when the
// row expects the client to refuse the answer (and it did).
func connectPair(t *testing.T, ctx context.Context, p compressionPair, fragmented bool) (wsConn, bool) {
	t.Helper()
	c, _, ok := connectPairServer(t, ctx, p, fragmented)
	return c, ok
}

func connectPairServer(t *testing.T, ctx context.Context, p compressionPair, fragmented bool) (wsConn, *pairServer, bool) {
	t.Helper()
	ps := startPairServer(t, p, fragmented)
	c, resp, err := p.client.dial(ctx, wsURL(ps.Server), fragmented)
	if got := ps.lastOffer(); got != p.offer {
		t.Errorf("offer %q, want %q", got, p.offer)
	}
	answer := "(no response)"
	if resp != nil {
		answer = resp.Header.Get("Sec-WebSocket-Extensions")
		if answer != p.answer {
			t.Errorf("answer %q, want %q", answer, p.answer)
		}
	}
	t.Logf("offer %q, answer %q, dial error %v", ps.lastOffer(), answer, err)
	if p.dialErr != "" {
		if err == nil {
			c.abort()
			t.Fatalf("dial succeeded, want an error containing %q", p.dialErr)
		}
		if !strings.Contains(err.Error(), p.dialErr) {
			t.Fatalf("dial error %q, want one containing %q", err, p.dialErr)
		}
		return nil, ps, false
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c, ps, true
}

// echoCheck sends m and checks that the echo is m.
func echoCheck(t *testing.T, ctx context.Context, c wsConn, m compressedMsg) {
	t.Helper()
	if err := c.write(ctx, m); err != nil {
		t.Fatalf("write %s: %v", describe(m), err)
	}
	got, err := c.read(ctx)
	if err != nil {
		t.Fatalf("read the echo of %s: %v", describe(m), err)
	}
	if got.text != m.text || !bytes.Equal(got.data, m.data) {
		t.Fatalf("echo of %s: got %s (same bytes: %t)", describe(m), describe(got), bytes.Equal(got.data, m.data))
	}
}

func describe(m compressedMsg) string {
	kind := "binary"
	if m.text {
		kind = "text"
	}
	return fmt.Sprintf("%s message of %d bytes", kind, len(m.data))
}

// exerciseCompressed runs the full traffic of one pair.
func exerciseCompressed(t *testing.T, p compressionPair, fragmented bool) {
	ctx := testContext(t)
	c, ps, ok := connectPairServer(t, ctx, p, fragmented)
	if !ok {
		return
	}
	defer c.abort()

	// Every size, text that compresses and binary that does not
	// (stored blocks, RFC 1951 §3.2.4).
	for i, n := range compressedSizes {
		echoCheck(t, ctx, c, compressedMsg{true, wordText(n, uint64(i))})
		echoCheck(t, ctx, c, compressedMsg{false, payload(false, n, uint64(i))})
	}

	// History: chat messages of 64 B to 2 KiB and binary records, many
	// of them, each side carrying its window across them with context
	// takeover. Wire bytes are counted for this part only.
	in, out := ps.wire.in.Load(), ps.wire.out.Load()
	var sent int64
	for i, m := range chatMessages(300, 0) {
		echoCheck(t, ctx, c, compressedMsg{true, m})
		sent += int64(len(m))
		if i%10 == 9 {
			rec := binaryRecord(i)
			echoCheck(t, ctx, c, compressedMsg{false, rec})
			sent += int64(len(rec))
		}
	}
	up, down := ps.wire.in.Load()-in, ps.wire.out.Load()-out
	t.Logf("history: %d payload bytes each way; on the wire %d to the server (%.0f%%), %d to the client (%.0f%%)",
		sent, up, 100*float64(up)/float64(sent), down, 100*float64(down)/float64(sent))
	// Frame headers add 2-14 bytes per frame; uncompressed, the wire
	// carries at least the payload. Compressed chat shrinks well below
	// three quarters of it even without context takeover, although our
	// server sends every fifth message uncompressed, our client every
	// seventh, and coder's thresholds (128 or 512 bytes) leave short
	// messages alone.
	if p.compressed() {
		if limit := sent * 3 / 4; up > limit || down > limit {
			t.Errorf("compression negotiated but the wire carried %d and %d bytes for %d of payload", up, down, sent)
		}
	} else if up < sent || down < sent {
		t.Errorf("no compression negotiated, yet the wire carried %d and %d bytes for %d of payload", up, down, sent)
	}

	if p.server.ours {
		if err := c.write(ctx, compressedMsg{false, preparedRequest}); err != nil {
			t.Fatal(err)
		}
		for i := range preparedCount {
			got, err := c.read(ctx)
			if err != nil || !got.text || !bytes.Equal(got.data, preparedBody) {
				t.Fatalf("prepared message %d: %s, %v", i, describe(got), err)
			}
		}
	}
	if err := c.closeNormal(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// wordText returns n bytes of ASCII words, which deflate well but not
// trivially.
func wordText(n int, seed uint64) []byte {
	words := strings.Fields("the quick brown fox jumps over lazy dog websocket frame deflate window history message compression")
	var b bytes.Buffer
	for i := seed; b.Len() < n; i++ {
		b.WriteString(words[(i*7+i/3)%uint64(len(words))])
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

// chatMessages returns n JSON chat messages of 64 bytes to 2 KiB (if
// size is 0) or of about size bytes, deterministic, repetitive the way
// chat traffic is, so that context takeover pays.
func chatMessages(n, size int) [][]byte {
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"}
	msgs := make([][]byte, n)
	for i := range msgs {
		target := size
		if target == 0 {
			target = 64 + (i*i*37)%(2048-64)
		}
		text := wordText(max(target-72, 1), uint64(i))
		msgs[i] = fmt.Appendf(nil, `{"seq":%d,"room":"general","user":%q,"text":%q}`, i, users[i%len(users)], text)
	}
	return msgs
}

// binaryRecord returns a little-endian record of counters that compresses
// moderately.
func binaryRecord(i int) []byte {
	p := make([]byte, 512+i)
	for j := range p {
		p[j] = byte((j / 8) ^ (i * j % 7))
	}
	return p
}

// countingListener counts the bytes through every connection it accepts.
type countingListener struct {
	net.Listener
	count *wireCount
}

func (l *countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: nc, count: l.count}, nil
}

type countingConn struct {
	net.Conn
	count *wireCount
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.count.in.Add(int64(n))
	return n, err
}

// Write counts p before writing it and takes back what was not written.
// Counting only after the write returned, it could let the peer have the
// bytes, and a test read the count at that moment, before they were in it.
func (c *countingConn) Write(p []byte) (int, error) {
	c.count.out.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.count.out.Add(int64(n - len(p)))
	return n, err
}

// A message that inflates past our read limit, compressed by gorilla or
// coder, fails the connection with 1009 (RFC 6455 §7.4.1) once the limit
// of decompressed bytes is passed: 16 MiB of zeros is about 16 KiB on the
// wire, and our server's limit is 64 KiB.
func TestCompressionReadLimitAcross(t *testing.T) {
	const limit = 64 << 10
	bomb := make([]byte, 16<<20)
	for _, cs := range []clientSpec{gorillaClient, coderClient("coder-takeover", coder.CompressionContextTakeover)} {
		t.Run(cs.name, func(t *testing.T) {
			serverErr := make(chan error, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(w, r, &server.AcceptOptions{
					Compression: &deflate.ServerOptions{},
					Conn:        &conn.Options{ReadLimit: limit},
				})
				if err != nil {
					serverErr <- err
					return
				}
				defer c.CloseNow()
				_, _, err = c.ReadMessage(context.Background(), nil)
				serverErr <- err
			}))
			defer s.Close()
			ctx := testContext(t)
			c, resp, err := cs.dial(ctx, wsURL(s), false)
			if err != nil {
				t.Fatal(err)
			}
			defer c.abort()
			if resp.Header.Get("Sec-WebSocket-Extensions") == "" {
				t.Fatal("permessage-deflate not negotiated")
			}
			// The write may fail once our server has closed. The peer
			// must be reading for the closing handshake to complete:
			// until it answers, our server waits (up to CloseTimeout)
			// before closing TCP.
			go c.write(ctx, compressedMsg{false, bomb})
			_, err = c.read(ctx)
			if code := peerCloseCode(err); code != 1009 {
				t.Errorf("%s read %v, want close 1009", cs.name, err)
			}
			err = <-serverErr
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || pe.Code != frame.StatusMessageTooBig {
				t.Errorf("our server read: %v, want a protocol error with 1009", err)
			}
		})
	}
}

// peerCloseCode returns the close code in a gorilla or coder read error,
// or -1.
func peerCloseCode(err error) int {
	var ge *websocket.CloseError
	if errors.As(err, &ge) {
		return ge.Code
	}
	if code := coder.CloseStatus(err); code != -1 {
		return int(code)
	}
	return -1
}
