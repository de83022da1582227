// Command echo is a WebSocket echo server and client, used as the endpoint
// under test by the Autobahn runner and the benchmarks.
//
//	go run ./examples/echo -addr 127.0.0.1:9001
//
// serves an echo endpoint at every path: each message received is sent back
// with the same type (opcode). It accepts any Origin, which makes it a test
// server only: never expose it to browsers.
//
//	go run ./examples/echo -client ws://127.0.0.1:9001/
//
// is the matching client: it connects, echoes every message it receives
// until the server closes the connection, answers the close, and exits 0
// when the closing handshake completed (RFC 6455 §7.1.4, whatever the
// code) and 1 otherwise.
//
// With -raw, the server runs the opening handshake itself on each accepted
// TCP connection (server.Serve) instead of going through net/http: no
// http.Server state per connection, which is what a server holding very
// many connections wants.
//
// With -compress, both roles negotiate permessage-deflate (RFC 7692): the
// server accepts any acceptable offer, the client offers
// "permessage-deflate; client_max_window_bits". With -no-context-takeover
// as well, the server compresses each message on its own and keeps no
// compression window per connection (about 40 KiB less each), at a cost
// in the compression of small messages. With -release-compression D as
// well, a connection keeps its window while it sends messages and gives it
// back once it has sent none for D.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run is the command with its arguments; it returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9001", "address to serve on")
	clientURL := fs.String("client", "", "run as a client of the echo server at this ws:// or wss:// URL")
	compress := fs.Bool("compress", false, "negotiate permessage-deflate (RFC 7692): accept offers as a server, offer it as a client")
	raw := fs.Bool("raw", false, "serve with server.Serve straight on the listener instead of net/http (less memory per connection)")
	noTakeover := fs.Bool("no-context-takeover", false, "with -compress, as a server: compress each message on its own (server_no_context_takeover), keeping no compression window per connection")
	release := fs.Duration("release-compression", 0, "with -compress: give a connection's compression window back once it has compressed nothing for this long (conn.Options.ReleaseCompressionAfter)")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	sopts, copts := options(*compress, *noTakeover, *release)
	if *clientURL != "" {
		if err := echo.RunClient(ctx, *clientURL, copts); err != nil {
			fmt.Fprintln(stderr, "echo:", err)
			return 1
		}
		return 0
	}
	if err := serve(ctx, *addr, sopts, *raw, stderr); err != nil {
		fmt.Fprintln(stderr, "echo:", err)
		return 1
	}
	return 0
}

// options returns the options of both roles: with compress, each
// negotiates permessage-deflate with the deflate package's defaults, and
// with noTakeover the server also answers server_no_context_takeover, and
// release is both roles' conn.Options.ReleaseCompressionAfter.
func options(compress, noTakeover bool, release time.Duration) (*server.AcceptOptions, *client.DialOptions) {
	co := &conn.Options{ReleaseCompressionAfter: release}
	so, do := &server.AcceptOptions{Conn: co}, &client.DialOptions{Conn: co}
	if compress {
		so.Compression = &deflate.ServerOptions{ServerNoContextTakeover: noTakeover}
		do.Compression = &deflate.ClientOptions{}
	}
	return so, do
}

// serve runs the echo endpoint on addr until ctx is done, through
// net/http or, with raw, with server.Serve on the listener.
func serve(ctx context.Context, addr string, opts *server.AcceptOptions, raw bool, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "echo: serving on ws://%s/\n", ln.Addr())
	if raw {
		o := *opts
		o.Origin.AllowAll = true // a test server, as echo.Handler
		if err := server.Serve(ctx, ln, &o, echo.ServeConn); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	srv := &http.Server{
		Handler:           echo.Handler(opts),
		ReadHeaderTimeout: 10 * time.Second,
	}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
