package peers

import (
	"context"
	"net"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
)

// ours: the server is echo.Handler, the very code examples/echo serves
// (server.Accept, then ReadMessage into a reused buffer and WriteMessage:
// whole messages, UTF-8 validated). The client uses the same calls.
func init() {
	h := echo.Handler(nil)
	register(Lib{
		Name:          "ours",
		Serve:         func(ln net.Listener) error { return serveHTTP(ln, h) },
		ServeConn:     func(nc net.Conn) { ServeHTTPConn(nc, h) },
		Dial:          dialOurs,
		ValidatesUTF8: true,
		Reassembles:   true,
		API:           "server.Accept; Conn.ReadMessage(ctx, buf[:0]) + Conn.WriteMessage",
	})
}

type oursClient struct {
	c   *conn.Conn
	buf []byte
}

func dialOurs(ctx context.Context, url string, dial DialFunc) (Client, error) {
	c, _, err := client.Dial(ctx, url, &client.DialOptions{NetDialContext: dial, Proxy: client.NoProxy})
	if err != nil {
		return nil, err
	}
	return &oursClient{c: c}, nil
}

func (o *oursClient) Echo(ctx context.Context, text bool, p []byte) ([]byte, error) {
	typ := conn.Binary
	if text {
		typ = conn.Text
	}
	if err := o.c.WriteMessage(ctx, typ, p); err != nil {
		return nil, err
	}
	_, buf, err := o.c.ReadMessage(ctx, o.buf[:0])
	o.buf = buf
	return buf, err
}

func (o *oursClient) Close() error { return o.c.Close(conn.StatusNormalClosure, "") }
