package peers

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
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
//
// With compression the echo is message-level, as gobwas's README shows
// wsflate with wsutil: ws.Upgrader negotiating through a wsflate.Extension
// with wsflate.DefaultParameters (no context takeover either way, the only
// mode its Reader and Writer helpers support), a wsutil.Reader and
// wsutil.Writer sharing a wsflate.MessageState, and each compressed message
// inflated with a wsflate.Reader and deflated back with a wsflate.Writer
// over compress/flate at BestSpeed (the README uses level 9; BestSpeed is
// what the other libraries use). A message received uncompressed is echoed
// uncompressed.
func init() {
	register(Lib{
		Name: "gobwas",
		Serve: func(ln net.Listener, o Options) error {
			for {
				nc, err := ln.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return nil
					}
					return err
				}
				go gobwasServeConn(nc, o)
			}
		},
		ServeConn:   gobwasServeConn,
		Dial:        dialGobwas,
		API:         "ws.Upgrade on net.Conn; ws.ReadHeaderBuffer + ws.Cipher + bufio.Writer flushed when input is drained",
		Compression: "ws.Upgrader{Negotiate: wsflate.Extension.Negotiate}, DefaultParameters; wsutil.Reader/Writer + wsflate.Reader/Writer (message-level echo)",
	})
}

func gobwasServeConn(nc net.Conn, o Options) {
	if o.Compress {
		gobwasServeDeflate(nc)
		return
	}
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

// gobwasServeDeflate is the message-level echo with permessage-deflate.
func gobwasServeDeflate(nc net.Conn) {
	defer nc.Close()
	e := wsflate.Extension{Parameters: wsflate.DefaultParameters}
	u := ws.Upgrader{Negotiate: e.Negotiate}
	if _, err := u.Upgrade(nc); err != nil {
		return
	}
	state := ws.StateServerSide
	if _, ok := e.Accepted(); ok {
		state |= ws.StateExtended
	}
	var msg wsflate.MessageState
	rd := &wsutil.Reader{Source: bufio.NewReaderSize(nc, 4096), State: state, MaxMessageSize: MaxMessage,
		Extensions: []wsutil.RecvExtension{&msg}}
	ctl := wsutil.ControlHandler{Src: rd, Dst: nc, State: state}
	rd.OnIntermediate = func(h ws.Header, _ io.Reader) error { return ctl.Handle(h) }
	wr := wsutil.NewWriter(nc, state, 0)
	wr.SetExtensions(&msg)
	fr := wsflate.NewReader(nil, newFlateReader)
	fw := wsflate.NewWriter(nil, newFlateWriter)
	var buf []byte
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return
		}
		if h.OpCode.IsControl() {
			if err := ctl.Handle(h); err != nil {
				return
			}
			continue
		}
		compressed := msg.IsCompressed()
		var src io.Reader = rd
		if compressed {
			fr.Reset(rd)
			src = fr
		}
		if buf, err = ReadAll(src, buf[:0]); err != nil {
			return
		}
		wr.ResetOp(h.OpCode)
		if compressed {
			fw.Reset(wr)
			if _, err := fw.Write(buf); err != nil {
				return
			}
			if err := fw.Close(); err != nil {
				return
			}
		} else if _, err := wr.Write(buf); err != nil {
			return
		}
		if err := wr.Flush(); err != nil {
			return
		}
	}
}

// flateReader gives compress/flate's reader the Reset(io.Reader) method
// wsflate.Reader looks for (wsflate.ReadResetter), so it is reused from
// message to message instead of allocated for each.
type flateReader struct{ io.ReadCloser }

func (f flateReader) Reset(r io.Reader) { f.ReadCloser.(flate.Resetter).Reset(r, nil) }

func newFlateReader(r io.Reader) wsflate.Decompressor { return flateReader{flate.NewReader(r)} }

// newFlateWriter returns a compress/flate writer, which wsflate.Writer
// reuses through its Reset method.
func newFlateWriter(w io.Writer) wsflate.Compressor {
	f, _ := flate.NewWriter(w, flate.BestSpeed)
	return f
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
//
// With compression the client offers wsflate.DefaultParameters and, when
// they are accepted, sends every message compressed through a wsflate.Writer
// into a wsutil.Writer (which masks it) and inflates compressed replies with
// a wsflate.Reader.
type gobwasClient struct {
	nc  net.Conn
	rd  wsutil.Reader
	ctl wsutil.ControlHandler
	out bytes.Buffer
	key [4]byte
	buf []byte

	// With permessage-deflate.
	deflate bool
	recv    wsflate.MessageState
	send    wsflate.MessageState
	wr      *wsutil.Writer
	fr      *wsflate.Reader
	fw      *wsflate.Writer
}

func dialGobwas(ctx context.Context, url string, dial DialFunc, o Options) (Client, error) {
	d := ws.Dialer{NetDial: dial}
	if o.Compress {
		d.Extensions = append(d.Extensions, wsflate.DefaultParameters.Option())
	}
	nc, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var src io.Reader = nc
	if br != nil {
		src = br
	}
	g := &gobwasClient{nc: nc}
	state := ws.StateClientSide
	for _, x := range hs.Extensions {
		if string(x.Name) == wsflate.ExtensionName {
			g.deflate = true
			state |= ws.StateExtended
		}
	}
	g.rd = wsutil.Reader{Source: src, State: state, MaxMessageSize: MaxMessage}
	g.ctl = wsutil.ControlHandler{Src: &g.rd, Dst: nc, State: ws.StateClientSide, DisableSrcCiphering: true}
	g.rd.OnIntermediate = func(h ws.Header, _ io.Reader) error { return g.ctl.Handle(h) }
	if g.deflate {
		g.rd.Extensions = []wsutil.RecvExtension{&g.recv}
		g.send.SetCompressed(true)
		g.wr = wsutil.NewWriter(nc, state, ws.OpBinary)
		g.wr.SetExtensions(&g.send)
		g.fr = wsflate.NewReader(nil, newFlateReader)
		g.fw = wsflate.NewWriter(nil, newFlateWriter)
	}
	return g, nil
}

func (g *gobwasClient) Echo(_ context.Context, text bool, p []byte) ([]byte, error) {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	if g.deflate {
		return g.echoDeflate(op, p)
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
	if err := g.nextDataFrame(); err != nil {
		return nil, err
	}
	var err error
	g.buf, err = ReadAll(&g.rd, g.buf[:0])
	return g.buf, err
}

// nextDataFrame reads frames, handling control frames, until the header
// of a data frame; its payload is then read through g.rd.
func (g *gobwasClient) nextDataFrame() error {
	for {
		h, err := g.rd.NextFrame()
		if err != nil {
			return err
		}
		if !h.OpCode.IsControl() {
			return nil
		}
		if err := g.ctl.Handle(h); err != nil {
			return err
		}
	}
}

func (g *gobwasClient) echoDeflate(op ws.OpCode, p []byte) ([]byte, error) {
	g.wr.ResetOp(op)
	g.fw.Reset(g.wr)
	if _, err := g.fw.Write(p); err != nil {
		return nil, err
	}
	if err := g.fw.Close(); err != nil {
		return nil, err
	}
	if err := g.wr.Flush(); err != nil {
		return nil, err
	}
	if err := g.nextDataFrame(); err != nil {
		return nil, err
	}
	var src io.Reader = &g.rd
	if g.recv.IsCompressed() {
		g.fr.Reset(&g.rd)
		src = g.fr
	}
	var err error
	g.buf, err = ReadAll(src, g.buf[:0])
	return g.buf, err
}

func (g *gobwasClient) Close() error {
	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	ws.WriteFrame(g.nc, ws.MaskFrameInPlace(ws.NewCloseFrame(body)))
	return g.nc.Close()
}
