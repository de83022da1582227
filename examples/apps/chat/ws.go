package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// writeTimeout bounds each write to a client. A client that cannot take a
// message within it is dropped; the send queue in front of the writer
// keeps the rest of the hub from waiting on it.
const writeTimeout = 10 * time.Second

// wsHandler upgrades requests to WebSocket and runs each connection: the
// handler's goroutine reads and hands each message to the hub, and one
// writer goroutine per connection drains the client's send queue.
type wsHandler struct {
	hub  *Hub
	opts *server.AcceptOptions
}

func (s *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := server.Accept(w, r, s.opts)
	if err != nil {
		// Accept has answered with the status the failure earns (403 for
		// a foreign Origin, 400 or 426 for a bad upgrade request).
		log.Printf("chat: refused %s: %v", r.RemoteAddr, err)
		return
	}
	ctx := context.Background()
	c := s.hub.newClient(time.Now())
	c.abort = func() { ws.CloseNow() }
	s.hub.Register(c)

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		writeLoop(ctx, ws, c)
	}()

	var buf []byte
	for {
		typ, msg, err := ws.ReadMessage(ctx, buf[:0])
		if err != nil {
			if ce := (*conn.CloseError)(nil); !errors.As(err, &ce) && !errors.Is(err, conn.ErrClosed) {
				log.Printf("chat: %s: %v", r.RemoteAddr, err)
			}
			break
		}
		buf = msg
		s.hub.Handle(ctx, c, typ, msg, time.Now())
	}
	s.hub.Unregister(ctx, c)
	<-writerDone
	ws.CloseNow()
}

// writeLoop sends the client's queued messages until the hub or the
// reader asks for the connection to close, then closes it with the code
// given.
func writeLoop(ctx context.Context, ws *conn.Conn, c *Client) {
	for {
		select {
		case o := <-c.queue:
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			var err error
			if o.pm != nil {
				err = ws.WritePrepared(wctx, o.pm)
			} else {
				err = ws.WriteMessage(wctx, conn.Text, o.data)
			}
			cancel()
			if err != nil {
				ws.CloseNow()
				return
			}
		case <-c.done:
			ws.Close(c.closeCode, c.closeReason)
			return
		}
	}
}
