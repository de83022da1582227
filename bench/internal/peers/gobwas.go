package peers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// gobwas: the low-level, frame-level echo that gobwas/ws documents for
// servers that want no allocations: ws.Upgrade straight on the accepted
// net.Conn (no net/http), then, per frame, ws.ReadHeaderBuffer,
// ws.CheckHeader, the payload into a reused buffer, ws.Cipher to unmask,
// and the same frame back through a bufio.Writer that is flushed only when
// no further input is buffered: pipelined requests are answered with one
// write. One goroutine per connection. It echoes frame by frame: it neither
// reassembles fragmented messages nor validates UTF-8, so it does less work
// than a message-level echo.
func init() {
	register(Lib{
		Name: "gobwas",
		Serve: func(ln net.Listener) error {
			for {
				nc, err := ln.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return nil
					}
					return err
				}
				go gobwasServeConn(nc)
			}
		},
		ServeConn: gobwasServeConn,
		Dial:      dialGobwas,
		API:       "ws.Upgrade on net.Conn; ws.ReadHeaderBuffer + ws.Cipher + bufio.Writer flushed when input is drained",
	})
}

func gobwasServeConn(nc net.Conn) {
	defer nc.Close()
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	br := bufio.NewReaderSize(nc, 4096)
	bw := bufio.NewWriterSize(nc, 4096)
	var hbuf [ws.MaxHeaderSize]byte
	var payload []byte
	state := ws.StateServerSide
	for {
		h, err := ws.ReadHeaderBuffer(br, hbuf[:])
		if err != nil {
			return
		}
		if err := ws.CheckHeader(h, state); err != nil {
			gobwasClose(bw, ws.StatusProtocolError)
			return
		}
		if h.Length > MaxMessage {
			gobwasClose(bw, ws.StatusMessageTooBig)
			return
		}
		if int64(cap(payload)) < h.Length {
			payload = make([]byte, h.Length)
		}
		p := payload[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		ws.Cipher(p, h.Mask, 0)
		h.Masked = false
		switch h.OpCode {
		case ws.OpPong:
			continue
		case ws.OpPing:
			h.OpCode = ws.OpPong
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameDataUnsafe(p)
			if code == 0 {
				p = p[:0]
			} else {
				p = p[:2]
			}
			h.Length = int64(len(p))
			ws.WriteHeaderBuffer(bw, h, hbuf[:])
			bw.Write(p)
			bw.Flush()
			return
		default:
			if !h.Fin {
				state = state.Set(ws.StateFragmented)
			} else {
				state = state.Clear(ws.StateFragmented)
			}
		}
		if err := ws.WriteHeaderBuffer(bw, h, hbuf[:]); err != nil {
			return
		}
		if _, err := bw.Write(p); err != nil {
			return
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

func gobwasClose(bw *bufio.Writer, code ws.StatusCode) {
	body := ws.NewCloseFrameBody(code, "")
	ws.WriteHeader(bw, ws.Header{Fin: true, OpCode: ws.OpClose, Length: int64(len(body))})
	bw.Write(body)
	bw.Flush()
}

// The client is frame-level like the server: each message is one frame
// built in a reused buffer (ws.WriteHeaderBuffer, then the payload copied
// and masked in place with ws.Cipher) and sent with one Write; replies are
// read with a wsutil.Reader (NextFrame, then the message into a reused
// buffer), with wsutil.ControlHandler for control frames. (wsutil.Writer
// would fragment messages larger than its buffer, and
// wsutil.WriteClientMessage allocates a masked copy per message.)
type gobwasClient struct {
	nc  net.Conn
	rd  wsutil.Reader
	ctl wsutil.ControlHandler
	out bytes.Buffer
	key [4]byte
	buf []byte
}

func dialGobwas(ctx context.Context, url string, dial DialFunc) (Client, error) {
	d := ws.Dialer{NetDial: dial}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var src io.Reader = nc
	if br != nil {
		src = br
	}
	g := &gobwasClient{nc: nc}
	g.rd = wsutil.Reader{Source: src, State: ws.StateClientSide, MaxMessageSize: MaxMessage}
	g.ctl = wsutil.ControlHandler{Src: &g.rd, Dst: nc, State: ws.StateClientSide, DisableSrcCiphering: true}
	g.rd.OnIntermediate = func(h ws.Header, _ io.Reader) error { return g.ctl.Handle(h) }
	return g, nil
}

func (g *gobwasClient) Echo(_ context.Context, text bool, p []byte) ([]byte, error) {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	// A fresh key per frame (RFC 6455 §5.3), from gobwas's ws.NewMask.
	g.key = ws.NewMask()
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: g.key, Length: int64(len(p))}
	var hbuf [ws.MaxHeaderSize]byte
	g.out.Reset()
	ws.WriteHeaderBuffer(&g.out, h, hbuf[:])
	start := g.out.Len()
	g.out.Write(p)
	ws.Cipher(g.out.Bytes()[start:], g.key, 0)
	if _, err := g.nc.Write(g.out.Bytes()); err != nil {
		return nil, err
	}
	for {
		h, err := g.rd.NextFrame()
		if err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			if err := g.ctl.Handle(h); err != nil {
				return nil, err
			}
			continue
		}
		g.buf, err = ReadAll(&g.rd, g.buf[:0])
		return g.buf, err
	}
}

func (g *gobwasClient) Close() error {
	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	ws.WriteFrame(g.nc, ws.MaskFrameInPlace(ws.NewCloseFrame(body)))
	return g.nc.Close()
}
