package client_test

import (
	"context"
	"errors"
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

func ExampleDial() {
	s := httptest.NewServer(echo.Handler(nil))
	defer s.Close()
	url := "ws" + strings.TrimPrefix(s.URL, "http") // ws://127.0.0.1:port

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, url, &client.DialOptions{
		Header: http.Header{"Origin": {s.URL}},
		Proxy:  client.NoProxy,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()

	if err := c.WriteMessage(ctx, conn.Text, []byte("hello, echo")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	fmt.Println(c.Close(conn.StatusNormalClosure, ""))
	// Output:
	// text hello, echo
	// <nil>
}

// A refused handshake: the error carries the server's response.
func ExampleDial_refused() {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chat"`)
		http.Error(w, "log in first", http.StatusUnauthorized)
	}))
	defer s.Close()

	_, _, err := client.Dial(context.Background(), "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{Proxy: client.NoProxy})
	var re *client.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Response.StatusCode, re.Response.Header.Get("WWW-Authenticate"))
		fmt.Printf("%q\n", re.Body)
	}
	// Output:
	// 401 Bearer realm="chat"
	// "log in first\n"
}
