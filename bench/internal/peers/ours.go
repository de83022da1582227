package peers

import (
	"context"
	"net"
	"net/http"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// ours: the server is echo.Handler, the very code examples/echo serves
// (server.Accept, then ReadMessage into a reused buffer and WriteMessage:
// whole messages, UTF-8 validated), with AcceptOptions.Compression set to
// the zero deflate.ServerOptions for compression, as examples/echo
// -compress does. The client uses the same calls, with
// DialOptions.Compression set to the zero deflate.ClientOptions.
func init() {
	plain := echo.Handler(nil)
	deflated := echo.Handler(&server.AcceptOptions{Compression: &deflate.ServerOptions{}})
	h := func(o Options) http.Handler {
		if o.Compress {
			return deflated
		}
		return plain
	}
	register(Lib{
		Name:          "ours",
		Serve:         func(ln net.Listener, o Options) error { return serveHTTP(ln, h(o)) },
		ServeConn:     func(nc net.Conn, o Options) { ServeHTTPConn(nc, h(o)) },
		Dial:          dialOurs,
		ValidatesUTF8: true,
		Reassembles:   true,
		API:           "server.Accept; Conn.ReadMessage(ctx, buf[:0]) + Conn.WriteMessage",
		Compression:   "AcceptOptions.Compression = &deflate.ServerOptions{} (examples/echo -compress)",
	})
}

type oursClient struct {
	c   *conn.Conn
	buf []byte
}

func dialOurs(ctx context.Context, url string, dial DialFunc, o Options) (Client, error) {
	opts := &client.DialOptions{NetDialContext: dial, Proxy: client.NoProxy}
	if o.Compress {
		opts.Compression = &deflate.ClientOptions{}
	}
	c, _, err := client.Dial(ctx, url, opts)
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
