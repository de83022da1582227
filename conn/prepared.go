package conn

import (
	"context"
	"sync"

	"github.com/rfc6455/ws/frame"
)

// PreparedMessage is a message encoded once and sent to many connections,
// as a broadcast does. For servers without a transforming extension the
// frame is built once and each send is a copy into the write buffer. A
// client must mask every frame with a fresh key (RFC 6455 §5.3), so on a
// client each send masks a copy; a connection with an extension encodes it
// as an ordinary message.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	once  sync.Once
	frame []byte // unmasked single frame, for servers
}

// NewPreparedMessage prepares data to be sent as a message of type typ. It
// keeps data; the caller must not modify it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != Text && typ != Binary {
		return nil, ErrInvalidType
	}
	return &PreparedMessage{typ: typ, data: data}, nil
}

func (pm *PreparedMessage) serverFrame() []byte {
	pm.once.Do(func() {
		h := frame.Header{Fin: true, Opcode: frame.Opcode(pm.typ), Length: int64(len(pm.data))}
		pm.frame = append(frame.AppendHeader(make([]byte, 0, h.Size()+len(pm.data)), h), pm.data...)
	})
	return pm.frame
}

// WritePrepared sends pm as one message.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	if c.role == Client || c.ext != nil || (c.opts.MaxFrameSize > 0 && len(pm.data) > c.opts.MaxFrameSize) {
		return c.WriteMessage(ctx, pm.typ, pm.data)
	}
	if err := c.lockWriter(ctx); err != nil {
		return err
	}
	defer c.unlockWriter()
	interrupted := c.watch(ctx, false)
	defer interrupted()
	if !c.lockWire(0) {
		return c.endErrOr(ErrClosed)
	}
	defer c.unlockWire()
	if c.writeErr != nil {
		return c.writeErr
	}
	if c.closeSentLocked() {
		return ErrClosed
	}
	_, err := c.fw.Write(pm.serverFrame())
	if err == nil {
		err = c.fw.Flush()
	}
	if err != nil {
		c.writeFailed(err)
	}
	return err
}
