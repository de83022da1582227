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
// per message). gorilla does not validate UTF-8 in text messages.
func init() {
	up := &websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})
	register(Lib{
		Name:        "gorilla",
		Serve:       func(ln net.Listener) error { return serveHTTP(ln, h) },
		ServeConn:   func(nc net.Conn) { ServeHTTPConn(nc, h) },
		Dial:        dialGorilla,
		Reassembles: true,
		API:         "Upgrader.Upgrade; NextReader into a reused buffer + WriteMessage",
	})
}

type gorillaClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialGorilla(ctx context.Context, url string, dial DialFunc) (Client, error) {
	d := websocket.Dialer{NetDialContext: dial}
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
