package peers

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/lxzan/gws"
)

// gws: the event API of its README. The server is gws.NewServer(handler,
// nil) (its Quick Start; it parses the handshake itself, no net/http):
// servers/gws runs it as is, and Serve below does what its RunListener does
// per connection, because RunListener never returns once its listener is
// closed. The handler's OnMessage writes the message back with
// Conn.WriteMessage and releases it with Message.Close, as the README's
// Best Practice does. Options are the defaults: ParallelEnabled off (so
// echoes keep their order) and CheckUtf8Enabled off, so gws does not
// validate UTF-8 here. gws reassembles fragmented messages before
// OnMessage. With compression, ServerOption.PermessageDeflate is
// {Enabled: true}, as in the README's server example (no context takeover
// either way, 15-bit windows; gws compresses messages of 512 bytes and
// more), and the client's ClientOption the same.
func init() {
	register(Lib{
		Name: "gws",
		Serve: func(ln net.Listener, o Options) error {
			for {
				nc, err := ln.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return nil
					}
					return err
				}
				go gwsServeConn(nc, o)
			}
		},
		ServeConn:   gwsServeConn,
		Dial:        dialGWS,
		Reassembles: true,
		API:         "gws.NewServer(handler).RunListener; OnMessage → Conn.WriteMessage",
		Compression: "ServerOption.PermessageDeflate = {Enabled: true}",
	})
}

// GWSServerOption returns the server options for o: nil (the defaults)
// without compression.
func GWSServerOption(o Options) *gws.ServerOption {
	if !o.Compress {
		return nil
	}
	return &gws.ServerOption{PermessageDeflate: gws.PermessageDeflate{Enabled: true}}
}

// GWSHandler is the gws echo event handler.
func GWSHandler() gws.Event { return gwsEcho{} }

type gwsEcho struct{ gws.BuiltinEventHandler }

var gwsUpgraders = [2]*gws.Upgrader{
	gws.NewUpgrader(gwsEcho{}, GWSServerOption(Options{})),
	gws.NewUpgrader(gwsEcho{}, GWSServerOption(Options{Compress: true})),
}

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	c.WriteMessage(m.Opcode, m.Bytes())
}

// gwsServeConn does over one connection what gws.Server does for each
// connection it accepts.
func gwsServeConn(nc net.Conn, o Options) {
	br := bufio.NewReaderSize(nc, 4096)
	req, err := http.ReadRequest(br)
	if err != nil {
		nc.Close()
		return
	}
	up := gwsUpgraders[0]
	if o.Compress {
		up = gwsUpgraders[1]
	}
	c, err := up.UpgradeFromConn(nc, br, req)
	if err != nil {
		return
	}
	c.ReadLoop()
}

// The client is event-driven too: OnMessage copies the echo into the
// client's buffer and signals the waiting Echo call through a channel.
type gwsClient struct {
	c    *gws.Conn
	got  chan int
	buf  []byte
	done chan struct{}
}

type gwsClientHandler struct {
	gws.BuiltinEventHandler
	g *gwsClient
}

func (h gwsClientHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	h.g.buf = append(h.g.buf[:0], m.Bytes()...)
	m.Close()
	h.g.got <- len(h.g.buf)
}

func (h gwsClientHandler) OnClose(*gws.Conn, error) { close(h.g.done) }

func dialGWS(ctx context.Context, url string, dial DialFunc, o Options) (Client, error) {
	nc, err := dial(ctx, "tcp", hostOf(url))
	if err != nil {
		return nil, err
	}
	g := &gwsClient{got: make(chan int, 1), done: make(chan struct{})}
	c, _, err := gws.NewClientFromConn(gwsClientHandler{g: g}, &gws.ClientOption{Addr: url, PermessageDeflate: gws.PermessageDeflate{Enabled: o.Compress}}, nc)
	if err != nil {
		return nil, err
	}
	g.c = c
	go c.ReadLoop()
	return g, nil
}

func (g *gwsClient) Echo(ctx context.Context, text bool, p []byte) ([]byte, error) {
	op := gws.OpcodeBinary
	if text {
		op = gws.OpcodeText
	}
	if err := g.c.WriteMessage(op, p); err != nil {
		return nil, err
	}
	select {
	case <-g.got:
		return g.buf, nil
	case <-g.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gwsClient) Close() error {
	g.c.WriteClose(1000, nil)
	return g.c.NetConn().Close()
}
