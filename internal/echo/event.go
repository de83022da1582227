package echo

import (
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server/event"
)

// EventHandler echoes every message on connections served by the event
// mode (event.Serve), with its type.
func EventHandler() event.Handler {
	return event.Handler{
		OnMessage: func(c *event.Conn, typ conn.MessageType, data []byte) {
			c.WriteMessage(typ, data)
		},
	}
}
