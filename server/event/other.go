//go:build !linux

package event

import (
	"context"
	"net"
	"net/http"

	"github.com/rfc6455/ws/conn"
)

// Conn is a connection of the event mode, which exists only on Linux.
type Conn struct{}

// Serve returns ErrUnsupported: the event mode needs epoll. Use
// server.Serve, whose goroutine-per-connection mode runs everywhere.
func Serve(ctx context.Context, ln net.Listener, opts *Options, h Handler) error {
	return ErrUnsupported
}

// Server is the event mode's server, which exists only on Linux.
type Server struct{}

// NewServer returns ErrUnsupported: the event mode needs epoll. Use
// server.Accept, whose goroutine-per-connection mode runs everywhere.
func NewServer(opts *Options, h Handler) (*Server, error) { return nil, ErrUnsupported }

// Upgrade answers 501 and returns ErrUnsupported.
func (sv *Server) Upgrade(w http.ResponseWriter, r *http.Request) error {
	http.Error(w, ErrUnsupported.Error(), http.StatusNotImplemented)
	return ErrUnsupported
}

// Close returns ErrUnsupported.
func (sv *Server) Close() error { return ErrUnsupported }

func (c *Conn) Subprotocol() string                               { return "" }
func (c *Conn) SetValue(v any)                                    {}
func (c *Conn) Value() any                                        { return nil }
func (c *Conn) RemoteAddr() net.Addr                              { return nil }
func (c *Conn) BufferedAmount() int                               { return 0 }
func (c *Conn) WriteMessage(typ conn.MessageType, p []byte) error { return ErrUnsupported }
func (c *Conn) Close(code conn.StatusCode, reason string) error   { return ErrUnsupported }
func (c *Conn) CloseNow() error                                   { return ErrUnsupported }
