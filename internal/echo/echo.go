package echo

import (
	"context"
	"errors"
	"net/http"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// Loop echoes messages on c until reading or writing fails, and returns
// that error: a *conn.CloseError carrying the peer's code and reason when
// the peer started the close handshake (which the Conn answers), another
// error otherwise. Messages are read into one buffer reused from message to
// message, so the loop allocates nothing per message once the buffer has
// grown to the largest message.
func Loop(ctx context.Context, c *conn.Conn) error {
	var buf []byte
	for {
		typ, p, err := c.ReadMessage(ctx, buf[:0])
		if err != nil {
			return err
		}
		if err := c.WriteMessage(ctx, typ, p); err != nil {
			return err
		}
		buf = p
	}
}

// Handler returns an http.Handler that accepts WebSocket connections with
// opts (nil for defaults) and echoes every message on them. It accepts any
// Origin whatever opts.Origin says: it is a test server, never to be
// exposed to browsers holding credentials for its host.
func Handler(opts *server.AcceptOptions) http.Handler {
	var o server.AcceptOptions
	if opts != nil {
		o = *opts
	}
	o.Origin.AllowAll = true
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &o)
		if err != nil {
			return // Accept has answered the request
		}
		if r.ProtoMajor == 2 {
			// Over HTTP/2 the handler's return ends the stream
			// (RFC 8441 §6): serve the connection here.
			defer c.CloseNow()
			Loop(context.Background(), c)
			return
		}
		// The connection lives on in a goroutine of its own and the
		// handler returns: until it does, net/http keeps the request's
		// buffers (8 KiB) and the handler goroutine's deep stack, which
		// an idle connection does not need. The connection ends when the
		// peer closes it or the Conn fails; a context that is never done
		// costs the Conn no watch per call.
		go func() {
			defer c.CloseNow()
			Loop(context.Background(), c)
		}()
	})
}

// ServeConn echoes messages on c, accepted by server.Serve, until the
// connection ends or ctx is done; it is a server.Handler. The request and
// its Origin are not checked: a test server only.
func ServeConn(ctx context.Context, c *conn.Conn, _ *http.Request) {
	defer c.CloseNow()
	// One watch for the connection's life, rather than a cancellable
	// context on every read and write (which costs allocations per call).
	stop := context.AfterFunc(ctx, func() { c.CloseNow() })
	defer stop()
	Loop(context.Background(), c)
}

// RunClient connects to the WebSocket server at url with opts (nil for
// defaults) and echoes every message it receives until the connection
// ends. It returns nil when the connection was closed cleanly, that is
// when the server sent a close frame, which the Conn answers (RFC 6455
// §7.1.4: the closing handshake completed; the code itself is the
// server's business). Any other end, including a protocol violation by
// the server or a connection dropped without a close frame (1006), is
// returned as an error.
func RunClient(ctx context.Context, url string, opts *client.DialOptions) error {
	c, _, err := client.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	err = Loop(ctx, c)
	if ce := (*conn.CloseError)(nil); errors.As(err, &ce) && ce.Code != conn.StatusAbnormalClosure {
		return nil
	}
	return err
}
