package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
)

// Two WebSockets over one HTTP/2 connection (RFC 8441). The server speaks
// HTTP/2 with prior knowledge; the process runs with
// GODEBUG=http2xconnect=1 (this package's tests restart themselves with
// it), without which net/http's server does not take extended CONNECT.
func ExampleHTTP2Pool() {
	s := httptest.NewUnstartedServer(echo.Handler(nil))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	defer s.Close()
	url := "ws" + strings.TrimPrefix(s.URL, "http")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool := client.NewHTTP2Pool(nil)
	defer pool.CloseIdleConnections()
	opts := &client.DialOptions{HTTP2: client.HTTP2Require, HTTP2Pool: pool, Proxy: client.NoProxy}
	for i := range 2 {
		c, resp, err := client.Dial(ctx, url, opts)
		if err != nil {
			log.Fatal(err)
		}
		c.WriteMessage(ctx, conn.Text, fmt.Appendf(nil, "socket %d", i))
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(resp.Proto, resp.StatusCode, string(msg))
		defer c.Close(conn.StatusNormalClosure, "")
	}
	// Output:
	// HTTP/2.0 200 socket 0
	// HTTP/2.0 200 socket 1
}
