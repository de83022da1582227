//go:build js && wasm

package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
)

// In a browser page (GOOS=js GOARCH=wasm), Dial opens the browser's
// WebSocket and returns the same *conn.Conn as everywhere else. What a
// page cannot do fails with an error matching client.ErrNotSupported:
// handshake headers, TLS settings, proxies, compression settings,
// keepalive and pings. client/wasmtest runs this kind of program in
// headless Chromium against a server of this module.
func Example_browser() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, "wss://example.com/chat", &client.DialOptions{
		Subprotocols: []string{"chat.v1"}, // the browser offers them
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	if err := c.WriteMessage(ctx, conn.Text, []byte("hello from the browser")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))

	if _, err := c.Ping(ctx); errors.Is(err, client.ErrNotSupported) {
		fmt.Println("the browser answers pings itself; a page cannot send them")
	}
	// Codes 1000 and 3000-4999 reach the server as sent (WebSocket.close
	// takes no others).
	c.Close(conn.StatusNormalClosure, "bye")
}
