package server_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/server"
)

// A chat-style handler: accept, then read messages until the peer closes.
func ExampleAccept() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &server.AcceptOptions{
			Subprotocols: []string{"chat.v2", "chat.v1"},
			Conn:         &conn.Options{ReadLimit: 64 << 10},
		})
		if err != nil {
			return // Accept has answered the request
		}
		defer c.CloseNow()
		ctx := context.Background()
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(ctx, buf[:0])
			if err != nil {
				return
			}
			reply := fmt.Sprintf("%s says %q", c.Subprotocol(), p)
			if err := c.WriteMessage(ctx, typ, []byte(reply)); err != nil {
				return
			}
			buf = p
		}
	})
	s := httptest.NewServer(handler)
	defer s.Close()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{
		Subprotocols: []string{"chat.v1"},
		Proxy:        client.NoProxy,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, conn.Text, []byte("hello"))
	_, reply, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply))
	fmt.Println(c.Close(conn.StatusNormalClosure, "bye"))
	// Output:
	// chat.v1 says "hello"
	// <nil>
}

// A server on a bare listener, without net/http.
func ExampleServe() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- server.Serve(ctx, ln, nil, func(ctx context.Context, c *conn.Conn, r *http.Request) {
			defer c.CloseNow()
			c.WriteMessage(ctx, conn.Text, []byte("welcome to "+r.URL.Path))
			c.Close(conn.StatusNormalClosure, "")
		})
	}()

	c, _, err := client.Dial(context.Background(), "ws://"+ln.Addr().String()+"/lobby", &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	_, msg, _ := c.ReadMessage(context.Background(), nil)
	fmt.Println(string(msg))
	_, _, err = c.ReadMessage(context.Background(), nil)
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		fmt.Println("closed by the server:", ce.Code)
	}

	stop()
	fmt.Println(<-done)
	// Output:
	// welcome to /lobby
	// closed by the server: normal closure
	// context canceled
}

// A server pushing compressed updates to many mostly quiet connections:
// context takeover keeps each update small, and a connection that has sent
// nothing for a while gives its compression window back. Answering
// client_no_context_takeover as well means a quiet connection keeps no
// window for the client's messages either.
func ExampleAccept_compression() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &server.AcceptOptions{
			Compression: &deflate.ServerOptions{ClientNoContextTakeover: true},
			Conn:        &conn.Options{ReleaseCompressionAfter: 30 * time.Second},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for i := range 3 {
			update := fmt.Sprintf(`{"ticker":"ACME","price":%d.25,"volume":1200}`, 100+i)
			if err := c.WriteMessage(ctx, conn.Text, []byte(update)); err != nil {
				return
			}
		}
		c.Close(conn.StatusNormalClosure, "")
	})
	s := httptest.NewServer(handler)
	defer s.Close()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{
		Compression: &deflate.ClientOptions{},
		Proxy:       client.NoProxy,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))
	for {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			break
		}
		fmt.Println(string(msg))
	}
	// Output:
	// permessage-deflate; client_no_context_takeover
	// {"ticker":"ACME","price":100.25,"volume":1200}
	// {"ticker":"ACME","price":101.25,"volume":1200}
	// {"ticker":"ACME","price":102.25,"volume":1200}
}

// Stopping a net/http server gracefully: every WebSocket connection gets
// 1001 Going Away and a few seconds to answer it.
func ExampleConnections_Shutdown() {
	conns := &server.Connections{}
	opts := &server.AcceptOptions{Connections: conns}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Accept(w, r, opts)
			if err != nil {
				return
			}
			go func() { // serve the connection, and let the handler return
				defer c.CloseNow()
				for {
					if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
						return
					}
				}
			}()
		}),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)

	c, _, err := client.Dial(context.Background(), "ws://"+ln.Addr().String()+"/", &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	closed := make(chan error)
	go func() {
		_, _, err := c.ReadMessage(context.Background(), nil)
		closed <- err
	}()
	for i := 0; conns.Len() == 0 && i < 2000; i++ { // the server adds the Conn just after its 101
		time.Sleep(time.Millisecond)
	}

	// On SIGTERM, say:
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go srv.Shutdown(ctx)
	fmt.Println("Shutdown:", conns.Shutdown(ctx))

	var ce *conn.CloseError
	if errors.As(<-closed, &ce) {
		fmt.Println("the client got:", ce.Code, ce.Reason)
	}
	// Output:
	// Shutdown: <nil>
	// the client got: going away server shutting down
}
