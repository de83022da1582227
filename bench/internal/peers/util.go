package peers

import (
	"context"
	"net"

	"github.com/rfc6455/ws/bench/internal/payload"
)

// PipeDialer returns a DialFunc that connects over net.Pipe to l's
// ServeConn with o, run in a new goroutine per connection.
func PipeDialer(l Lib, o Options) DialFunc {
	return func(context.Context, string, string) (net.Conn, error) {
		a, b := net.Pipe()
		go l.ServeConn(b, o)
		return a, nil
	}
}

// Payload returns n bytes of message payload, the same for text and
// binary messages: see package payload.
func Payload(n int) []byte { return payload.New(n) }
