//go:build linux

package event_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server/event"
)

// A page and its WebSocket endpoint on one port: net/http routes, and
// Upgrade hands each WebSocket to the event loops.
func ExampleServer_Upgrade() {
	sv, err := event.NewServer(nil, event.Handler{
		OnMessage: func(c *event.Conn, typ conn.MessageType, data []byte) {
			c.WriteMessage(typ, append([]byte("echo: "), data...))
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sv.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if err := sv.Upgrade(w, r); err != nil {
			log.Printf("upgrade: %v", err) // Upgrade has answered r
		}
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the page") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, conn.Text, []byte("hello"))
	_, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)
	c.Close(conn.StatusNormalClosure, "")
	// Output: echo: hello
}
