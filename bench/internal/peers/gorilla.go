package peers

import (
	"context"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

// gorilla: Upgrader.Upgrade under net/http. The echo reads each message
// with NextReader into a reused buffer and sends it with WriteMessage,
// gorilla's allocation-free pair (ReadMessage would allocate a new slice
// per message). gorilla does not validate UTF-8 in text messages. With
// compression, Upgrader.EnableCompression (and Dialer.EnableCompression for
// the client): gorilla then compresses every message it writes, and
// supports only "no context takeover" both ways.
func init() {
	plain := &websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	deflated := &websocket.Upgrader{CheckOrigin: plain.CheckOrigin, EnableCompression: true}
	handler := func(up *websocket.Upgrader) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gorillaEcho(up, w, r)
		})
	}
	hp, hd := handler(plain), handler(deflated)
	h := func(o Options) http.Handler {
		if o.Compress {
			return hd
		}
		return hp
	}
	register(Lib{
		Name:        "gorilla",
		Serve:       func(ln net.Listener, o Options) error { return serveHTTP(ln, h(o)) },
		ServeConn:   func(nc net.Conn, o Options) { ServeHTTPConn(nc, h(o)) },
		Dial:        dialGorilla,
		Reassembles: true,
		API:         "Upgrader.Upgrade; NextReader into a reused buffer + WriteMessage",
		Compression: "Upgrader.EnableCompression = true",
	})
}

func gorillaEcho(up *websocket.Upgrader, w http.ResponseWriter, r *http.Request) {
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	var buf []byte
	for {
		typ, rd, err := c.NextReader()
		if err != nil {
			return
		}
		if buf, err = ReadAll(rd, buf[:0]); err != nil {
			return
		}
		if err := c.WriteMessage(typ, buf); err != nil {
			return
		}
	}
}

type gorillaClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialGorilla(ctx context.Context, url string, dial DialFunc, o Options) (Client, error) {
	d := websocket.Dialer{NetDialContext: dial, EnableCompression: o.Compress}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return &gorillaClient{c: c}, nil
}

func (g *gorillaClient) Echo(_ context.Context, text bool, p []byte) ([]byte, error) {
	typ := websocket.BinaryMessage
	if text {
		typ = websocket.TextMessage
	}
	if err := g.c.WriteMessage(typ, p); err != nil {
		return nil, err
	}
	_, rd, err := g.c.NextReader()
	if err != nil {
		return nil, err
	}
	g.buf, err = ReadAll(rd, g.buf[:0])
	return g.buf, err
}

func (g *gorillaClient) Close() error {
	g.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	return g.c.Close()
}
