package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// NetConn returns a net.Conn that carries a byte stream over c: each Write
// sends one message of type typ and Read reads across message boundaries.
// Closing it closes c with StatusNormalClosure. A close from the peer with
// StatusNormalClosure or StatusGoingAway reads as io.EOF. Use it to run a
// byte-stream protocol (TLS, SSH, a custom framing) over a WebSocket.
func NetConn(c *Conn, typ MessageType) net.Conn {
	return &netConn{c: c, typ: typ}
}

type netConn struct {
	c   *Conn
	typ MessageType
	r   io.Reader // current message, or nil
}

func (n *netConn) Read(p []byte) (int, error) {
	for {
		if n.r == nil {
			_, r, err := n.c.NextReader(context.Background())
			if err != nil {
				return 0, streamErr(err)
			}
			n.r = r
		}
		k, err := n.r.Read(p)
		if err == io.EOF {
			n.r = nil
			if k == 0 {
				continue
			}
			err = nil
		}
		return k, streamErr(err)
	}
}

// streamErr maps a normal close to io.EOF, as a byte stream ends.
func streamErr(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && (ce.Code == StatusNormalClosure || ce.Code == StatusGoingAway) {
		return io.EOF
	}
	return err
}

func (n *netConn) Write(p []byte) (int, error) {
	if err := n.c.WriteMessage(context.Background(), n.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (n *netConn) Close() error {
	err := n.c.Close(StatusNormalClosure, "")
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

func (n *netConn) LocalAddr() net.Addr                { return n.c.LocalAddr() }
func (n *netConn) RemoteAddr() net.Addr               { return n.c.RemoteAddr() }
func (n *netConn) SetReadDeadline(t time.Time) error  { return n.c.SetReadDeadline(t) }
func (n *netConn) SetWriteDeadline(t time.Time) error { return n.c.SetWriteDeadline(t) }
func (n *netConn) SetDeadline(t time.Time) error {
	return errors.Join(n.c.SetReadDeadline(t), n.c.SetWriteDeadline(t))
}
