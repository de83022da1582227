package server_test

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
	"github.com/rfc6455/ws/server"
)

// A handler that serves WebSockets over HTTP/1.1 and HTTP/2 alike. Over
// HTTP/2 (RFC 8441) the handler's return ends the stream, so it serves
// the connection in place and returns when it is over. The process must
// start with GODEBUG=http2xconnect=1 (this package's tests restart
// themselves with it).
func ExampleAccept_http2() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err != nil {
				return
			}
			reply := fmt.Appendf(nil, "%s over HTTP/%d", msg, r.ProtoMajor)
			if err := c.WriteMessage(r.Context(), typ, reply); err != nil {
				return
			}
		}
	})
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, mode := range []client.HTTP2Mode{client.HTTP2Never, client.HTTP2Require} {
		c, _, err := client.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), &client.DialOptions{
			TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig,
			Proxy:     client.NoProxy,
			HTTP2:     mode,
		})
		if err != nil {
			log.Fatal(err)
		}
		c.WriteMessage(ctx, conn.Text, []byte("hello"))
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(msg))
		c.Close(conn.StatusNormalClosure, "")
	}
	// Output:
	// hello over HTTP/1
	// hello over HTTP/2
}
