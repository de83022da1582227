package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

// eventWS serves the WebSocket endpoint on the event mode (-event):
// net/http routes the request, event.Server.Upgrade takes the connection
// to its epoll loops, and the hub sees the same Client as in goroutine
// mode, driven by callbacks instead of a reading and a writing goroutine
// per connection. An idle chat connection then holds no goroutine.
type eventWS struct {
	hub *Hub
	sv  *event.Server
}

// newEventWS starts the event loops with accept's terms. Each connection
// may queue queueBytes for a client that does not read; past that it is
// closed with 1013, as the goroutine mode does when its message queue is
// full.
func newEventWS(hub *Hub, accept *server.AcceptOptions, queueBytes int) (*eventWS, error) {
	e := &eventWS{hub: hub}
	sv, err := event.NewServer(&event.Options{
		Accept:          accept,
		WriteQueueLimit: queueBytes,
		QueueFull:       event.Drop, // enqueue turns ErrQueueFull into a 1013
	}, event.Handler{OnOpen: e.open, OnMessage: e.message, OnClose: e.closed})
	if err != nil {
		return nil, err
	}
	e.sv = sv
	return e, nil
}

func (e *eventWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := e.sv.Upgrade(w, r); err != nil {
		// Upgrade has answered with the status the failure earns.
		log.Printf("chat: refused %s: %v", r.RemoteAddr, err)
	}
}

// Close closes the connections left (1001) and stops the loops.
func (e *eventWS) Close() error { return e.sv.Close() }

func (e *eventWS) open(ws *event.Conn) {
	c := e.hub.newClient(time.Now())
	c.abort = func() { ws.CloseNow() }
	c.send = func(o outbound) bool {
		return !errors.Is(ws.WriteMessage(conn.Text, o.data), event.ErrQueueFull)
	}
	c.shut = func(code conn.StatusCode, reason string) { ws.Close(code, reason) }
	ws.SetValue(c)
	e.hub.Register(c)
}

func (e *eventWS) message(ws *event.Conn, typ conn.MessageType, data []byte) {
	if c, ok := ws.Value().(*Client); ok {
		e.hub.Handle(context.Background(), c, typ, data, time.Now())
	}
}

func (e *eventWS) closed(ws *event.Conn, err error) {
	c, ok := ws.Value().(*Client)
	if !ok {
		return
	}
	if ce := (*conn.CloseError)(nil); !errors.As(err, &ce) {
		log.Printf("chat: connection ended: %v", err)
	}
	e.hub.Unregister(context.Background(), c)
}
