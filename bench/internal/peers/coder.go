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
// messages.
func init() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
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
	})
	register(Lib{
		Name:        "coder",
		Serve:       func(ln net.Listener) error { return serveHTTP(ln, h) },
		ServeConn:   func(nc net.Conn) { ServeHTTPConn(nc, h) },
		Dial:        dialCoder,
		Reassembles: true,
		API:         "websocket.Accept; Conn.Reader into a reused buffer + Conn.Write",
	})
}

type coderClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialCoder(ctx context.Context, url string, dial DialFunc) (Client, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: dial, Proxy: nil}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
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
