package conn

import (
	"context"
	"sync"

	"github.com/rfc6455/ws/frame"
)

// PreparedMessage is a message encoded once and sent to many connections,
// as a broadcast does. On a server the frame is built once per encoding
// and each send is a copy into the write buffer. With an extension that can
// encode a message on its own, such as permessage-deflate without context
// takeover on the server's side, the message is compressed once per
// negotiated parameter set, not once per connection. A client masks every
// frame with a fresh key (RFC 6455 §5.3), so on a client each send masks a
// copy; with context takeover each connection compresses it itself.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu    sync.Mutex
	forms []*preparedForm // one per encoding in use; few in practice
}

// preparedForm is the message under one encoding: key 0 with plain true is
// the untransformed message.
type preparedForm struct {
	key     uint32
	plain   bool
	payload []byte // encoded payload; nil with encoded false means send data as is
	encoded bool   // payload carries the extension's transform (RSV set)
	frame   []byte // the whole unmasked frame, for servers
}

// preparedEncoder is implemented by extensions that can encode a whole
// message independently of the connection's history (deflate.Session).
type preparedEncoder interface {
	// PreparedKey identifies the encoding; ok is false when the encoding
	// depends on the connection (context takeover).
	PreparedKey() (key uint32, ok bool)
	// EncodePrepared appends msg encoded to dst, or returns nil when msg
	// should be sent untransformed.
	EncodePrepared(dst, msg []byte) []byte
}

// NewPreparedMessage prepares data to be sent as a message of type typ. It
// keeps data; the caller must not modify it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != Text && typ != Binary {
		return nil, ErrInvalidType
	}
	return &PreparedMessage{typ: typ, data: data}, nil
}

// form returns the message encoded by enc (nil: untransformed), encoding
// it on first use.
func (pm *PreparedMessage) form(enc preparedEncoder, key uint32, rsv byte) *preparedForm {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	plain := enc == nil
	for _, f := range pm.forms {
		if f.plain == plain && f.key == key {
			return f
		}
	}
	f := &preparedForm{key: key, plain: plain, payload: pm.data}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(pm.typ)}
	if enc != nil {
		if p := enc.EncodePrepared(nil, pm.data); p != nil {
			f.payload, f.encoded = p, true
			h.RSV = rsv
		}
	}
	h.Length = int64(len(f.payload))
	f.frame = append(frame.AppendHeader(make([]byte, 0, h.Size()+len(f.payload)), h), f.payload...)
	pm.forms = append(pm.forms, f)
	return f
}

// WritePrepared sends pm as one message.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	var enc preparedEncoder
	var key uint32
	if c.ext != nil && c.compress.Load() {
		pe, ok := c.ext.(preparedEncoder)
		if !ok {
			return c.WriteMessage(ctx, pm.typ, pm.data)
		}
		if key, ok = pe.PreparedKey(); !ok {
			return c.WriteMessage(ctx, pm.typ, pm.data)
		}
		enc = pe
	}
	var rsv byte
	if enc != nil {
		rsv = c.ext.RSV()
	}
	f := pm.form(enc, key, rsv)
	if !f.encoded {
		rsv = 0
	}
	if err := c.lockWriter(ctx); err != nil {
		return err
	}
	defer c.unlockWriter()
	if c.role == Client || (c.opts.MaxFrameSize > 0 && len(f.payload) > c.opts.MaxFrameSize) {
		return c.writeFrames(ctx, frame.Opcode(pm.typ), rsv, f.payload, true, true)
	}
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
	_, err := c.fw.Write(f.frame)
	if err == nil {
		err = c.endMessage()
	}
	if err != nil {
		c.writeFailed(err)
	}
	return err
}
