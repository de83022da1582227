// Command testee-server is the project's WebSocket echo server as a testee
// for the classic Autobahn workflow: start it, then point a fuzzingclient
// spec at it.
//
//	go run ./autobahn/cmd/testee-server -addr 127.0.0.1:9001
//	go run ./autobahn/cmd/wstest -m fuzzingclient -s spec.json
//
// With -event it serves from the epoll loops of package server/event
// (Linux, no goroutine per connection) instead of net/http.
//
// With -compress (the default) it accepts permessage-deflate offers;
// -compress=false declines them. With -h2 it also takes WebSockets over
// HTTP/2 with prior knowledge (RFC 8441), for wstest -h2. It echoes every message with its opcode at every path and accepts any
// Origin: it is a test server, never to be exposed to browsers.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/h2stream"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to serve on")
	compress := flag.Bool("compress", true, "accept permessage-deflate offers (RFC 7692)")
	h2 := flag.Bool("h2", false, "also take WebSockets over HTTP/2 with prior knowledge (RFC 8441; restarts with GODEBUG=http2xconnect=1), for wstest -h2")
	evented := flag.Bool("event", false, "serve in the event mode (package server/event) instead of net/http")
	flag.Parse()
	if *h2 {
		if err := h2stream.Reexec(); err != nil {
			fmt.Fprintln(os.Stderr, "testee-server:", err)
			os.Exit(1)
		}
	}
	opts := &server.AcceptOptions{Conn: &conn.Options{}}
	if *compress {
		opts.Compression = &deflate.ServerOptions{}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testee-server:", err)
		os.Exit(1)
	}
	fmt.Printf("testee-server: serving on ws://%s/\n", ln.Addr())
	if *evented {
		opts.Origin.AllowAll = true // a test server, as echo.Handler
		err := event.Serve(context.Background(), ln, &event.Options{Accept: opts}, echo.EventHandler())
		fmt.Fprintln(os.Stderr, "testee-server:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: echo.Handler(opts), ReadHeaderTimeout: 10 * time.Second}
	if *h2 {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "testee-server:", err)
		os.Exit(1)
	}
}
