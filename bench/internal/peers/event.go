package peers

import (
	"context"
	"errors"
	"net"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

// ours-event: our event mode (package server/event), the handler
// examples/echo -event serves: epoll loops, no goroutine per connection,
// OnMessage echoing with Conn.WriteMessage (whole messages, UTF-8
// validated). Server only: its client is ours.
func init() {
	register(Lib{
		Name: "ours-event",
		Serve: func(ln net.Listener, o Options) error {
			opts := &server.AcceptOptions{}
			opts.Origin.AllowAll = true
			if o.Compress {
				opts.Compression = &deflate.ServerOptions{}
			}
			err := event.Serve(context.Background(), ln, &event.Options{Accept: opts}, echo.EventHandler())
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		},
		Dial:          dialOurs,
		ValidatesUTF8: true,
		Reassembles:   true,
		ServerOnly:    true,
		API:           "event.Serve; Handler.OnMessage + Conn.WriteMessage (examples/echo -event)",
		Compression:   "AcceptOptions.Compression = &deflate.ServerOptions{}",
	})
}
