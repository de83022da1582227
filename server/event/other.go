//go:build !linux

package event

import (
	"context"
	"net"

	"github.com/rfc6455/ws/conn"
)

// Conn is a connection of the event mode, which exists only on Linux.
type Conn struct{}

// Serve returns ErrUnsupported: the event mode needs epoll. Use
// server.Serve, whose goroutine-per-connection mode runs everywhere.
func Serve(ctx context.Context, ln net.Listener, opts *Options, h Handler) error {
	return ErrUnsupported
}

func (c *Conn) Subprotocol() string                               { return "" }
func (c *Conn) SetValue(v any)                                    {}
func (c *Conn) Value() any                                        { return nil }
func (c *Conn) RemoteAddr() net.Addr                              { return nil }
func (c *Conn) BufferedAmount() int                               { return 0 }
func (c *Conn) WriteMessage(typ conn.MessageType, p []byte) error { return ErrUnsupported }
func (c *Conn) Close(code conn.StatusCode, reason string) error   { return ErrUnsupported }
func (c *Conn) CloseNow() error                                   { return ErrUnsupported }
