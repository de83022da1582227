package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/testwait"
	"github.com/rfc6455/ws/server"
)

// Our client and server with permessage-deflate across the parameters of
// RFC 7692: window sizes 8-15 in each direction and context takeover on and
// off, over many messages so that history is exercised.
func TestCompressionEcho(t *testing.T) {
	type combo struct {
		name string
		srv  deflate.ServerOptions
		cli  deflate.ClientOptions
		want string // Sec-WebSocket-Extensions answer
	}
	combos := []combo{
		{"defaults", deflate.ServerOptions{}, deflate.ClientOptions{}, "permessage-deflate"},
		{"no context takeover", deflate.ServerOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, deflate.ClientOptions{},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	}
	for bits := 8; bits <= 15; bits++ {
		combos = append(combos, combo{fmt.Sprintf("windows %d", bits), deflate.ServerOptions{},
			deflate.ClientOptions{ServerMaxWindowBits: bits, ClientMaxWindowBits: bits},
			fmt.Sprintf("permessage-deflate; server_max_window_bits=%d; client_max_window_bits=%d", bits, bits)})
	}
	sizes := []int{0, 1, 31, 100, 1000, 4096, 65536, 1 << 20}
	for _, cb := range combos {
		t.Run(cb.name, func(t *testing.T) {
			ts := startServer(t, modes[0], echo.Handler(&server.AcceptOptions{Compression: &cb.srv}))
			ctx := testContext(t)
			opts := ts.dialOptions()
			opts.Compression = &cb.cli
			c, resp, err := client.Dial(ctx, ts.url, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != cb.want {
				t.Fatalf("negotiated %q, want %q", got, cb.want)
			}
			for round := range 3 {
				for i, n := range sizes {
					for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
						roundTrip(t, ctx, c, typ, compressible(typ, n, uint64(round*100+i)))
					}
				}
			}
			// A message streamed in pieces, fragmented on the wire.
			w, err := c.NextWriter(ctx, conn.Text)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for i := range 500 {
				line := fmt.Sprintf(`{"seq":%d,"user":"u%d","text":"hello again"}`+"\n", i, i%7)
				want.WriteString(line)
				io.WriteString(w, line)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("streamed message: %d bytes, %v", len(got), err)
			}
			closeClean(t, c)
		})
	}
}

// compressible returns n bytes that deflate well but not trivially.
func compressible(typ conn.MessageType, n int, seed uint64) []byte {
	words := strings.Fields("the quick brown fox jumps over lazy dog websocket frame deflate window history message")
	var b bytes.Buffer
	for i := uint64(0); b.Len() < n; i++ {
		b.WriteString(words[(i*7+seed)%uint64(len(words))])
		b.WriteByte(' ')
	}
	p := b.Bytes()[:n]
	if typ == conn.Binary && n > 0 {
		p[0] = 0xff
	}
	return p
}

// A small compressed frame that inflates past the read limit fails the
// connection with 1009 without the receiver buffering the excess.
func TestCompressionBomb(t *testing.T) {
	srvErr := make(chan error, 1)
	ts := startServer(t, modes[0], httpHandler(func(c *conn.Conn) {
		_, _, err := c.ReadMessage(context.Background(), nil)
		srvErr <- err
	}, &server.AcceptOptions{Compression: &deflate.ServerOptions{}, Conn: &conn.Options{ReadLimit: 1 << 20}}))
	ctx := testContext(t)
	opts := ts.dialOptions()
	opts.Compression = &deflate.ClientOptions{}
	c := dial(t, ctx, ts.url, opts)
	go c.WriteMessage(ctx, conn.Binary, make([]byte, 64<<20)) // 64 MiB of zeros, ~64 KiB on the wire
	err := testwait.RecvWithin(t, srvErr, "the server's read of the 64 MiB message", bigTransferWait)
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("server read: %v, want read limit error", err)
	}
	_, _, err = c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.StatusMessageTooBig {
		t.Fatalf("client got %v, want close 1009", err)
	}
}

// A prepared message reaches compressed and uncompressed clients alike.
func TestCompressionPrepared(t *testing.T) {
	msg := compressible(conn.Text, 5000, 1)
	pm, err := conn.NewPreparedMessage(conn.Text, msg)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, modes[0], httpHandler(func(c *conn.Conn) {
		for range 3 {
			if err := c.WritePrepared(context.Background(), pm); err != nil {
				t.Error(err)
			}
		}
		c.Close(conn.StatusNormalClosure, "")
	}, &server.AcceptOptions{Compression: &deflate.ServerOptions{ServerNoContextTakeover: true}}))
	for _, cli := range []*deflate.ClientOptions{nil, {}, {ServerMaxWindowBits: 9}, {ServerNoContextTakeover: true}} {
		ctx := testContext(t)
		opts := ts.dialOptions()
		opts.Compression = cli
		c := dial(t, ctx, ts.url, opts)
		for i := range 3 {
			if _, got, err := c.ReadMessage(ctx, nil); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("client %+v message %d: %d bytes, %v", cli, i, len(got), err)
			}
		}
		c.CloseNow()
	}
}

// httpHandler accepts with opts (any origin) and runs serve.
func httpHandler(serve func(*conn.Conn), opts *server.AcceptOptions) *acceptHandler {
	o := *opts
	o.Origin.AllowAll = true
	return &acceptHandler{serve: serve, opts: &o}
}

// acceptHandler accepts a WebSocket connection and hands it to serve.
type acceptHandler struct {
	serve func(*conn.Conn)
	opts  *server.AcceptOptions
}

func (h *acceptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := server.Accept(w, r, h.opts)
	if err != nil {
		return
	}
	defer c.CloseNow()
	h.serve(c)
}
