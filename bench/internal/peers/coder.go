package peers

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// coder: websocket.Accept under net/http. The echo reads each message with
// Conn.Reader into a reused buffer and sends it with Conn.Write (Conn.Read
// would allocate a new slice per message). Its read limit, 32 KiB by
// default, is raised to MaxMessage so the 64 KiB scenarios can run. The
// context is context.Background(): coder's docs warn against using the
// request's context after Accept. coder does not validate UTF-8 in text
// messages. With compression, AcceptOptions.CompressionMode (and
// DialOptions.CompressionMode) is CompressionContextTakeover, which coder's
// docs call very efficient for repetitive text protocols; it leaves
// messages of 128 bytes or less uncompressed.
func init() {
	h := func(o Options) http.Handler {
		opts := &websocket.AcceptOptions{InsecureSkipVerify: true}
		if o.Compress {
			opts.CompressionMode = websocket.CompressionContextTakeover
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { coderEcho(opts, w, r) })
	}
	hp, hd := h(Options{}), h(Options{Compress: true})
	pick := func(o Options) http.Handler {
		if o.Compress {
			return hd
		}
		return hp
	}
	register(Lib{
		Name:        "coder",
		Serve:       func(ln net.Listener, o Options) error { return serveHTTP(ln, pick(o)) },
		ServeConn:   func(nc net.Conn, o Options) { ServeHTTPConn(nc, pick(o)) },
		Dial:        dialCoder,
		Reassembles: true,
		API:         "websocket.Accept; Conn.Reader into a reused buffer + Conn.Write",
		Compression: "AcceptOptions.CompressionMode = CompressionContextTakeover",
	})
}

func coderEcho(opts *websocket.AcceptOptions, w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(MaxMessage)
	ctx := context.Background()
	var buf []byte
	for {
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if buf, err = ReadAll(rd, buf[:0]); err != nil {
			return
		}
		if err := c.Write(ctx, typ, buf); err != nil {
			return
		}
	}
}

type coderClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialCoder(ctx context.Context, url string, dial DialFunc, o Options) (Client, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: dial, Proxy: nil}}
	opts := &websocket.DialOptions{HTTPClient: hc}
	if o.Compress {
		opts.CompressionMode = websocket.CompressionContextTakeover
	}
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(MaxMessage)
	return &coderClient{c: c}, nil
}

func (c *coderClient) Echo(ctx context.Context, text bool, p []byte) ([]byte, error) {
	typ := websocket.MessageBinary
	if text {
		typ = websocket.MessageText
	}
	if err := c.c.Write(ctx, typ, p); err != nil {
		return nil, err
	}
	_, rd, err := c.c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	c.buf, err = ReadAll(rd, c.buf[:0])
	return c.buf, err
}

func (c *coderClient) Close() error { return c.c.Close(websocket.StatusNormalClosure, "") }
