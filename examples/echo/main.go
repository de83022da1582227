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
// With -event, the server runs in the event mode of package server/event:
// connections are served from epoll loops, with no goroutine per
// connection (Linux only, plain TCP; -raw and -grace do not apply).
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
//
// With -tls the server speaks HTTPS (wss://), with the certificate and key
// of -cert and -key, or with a self-signed certificate for 127.0.0.1 and
// localhost generated in memory when they are not given. With -h2 it also
// speaks HTTP/2 (over TLS with ALPN "h2", or cleartext with prior
// knowledge) and takes WebSockets over it as extended CONNECT streams
// (RFC 8441): browsers then carry every WebSocket of a page on the page's
// own connection. net/http does that only when the process starts with
// GODEBUG=http2xconnect=1 in its environment; -h2 restarts the command
// with it when it is missing.
//
//	go run ./examples/echo -tls -h2 -compress
//	go run ./examples/echo -client wss://127.0.0.1:9001/ -insecure -h2
//
// As a client, -h2 dials over HTTP/2 or fails (client.HTTP2Require), and
// -insecure accepts any certificate (for the self-signed one).
//
// A plain GET (not a WebSocket handshake) is answered with a small HTML
// page, so that a browser has a page of the server's origin to open
// WebSockets from.
//
// The server is set up to face the internet as a server should (see the
// package doc of server): a client has -handshake-timeout (10 s) to send
// its upgrade request, whose header may take 8 KiB (431 beyond), and
// through net/http an idle keep-alive connection is dropped after 30 s;
// with -raw, Serve's defaults bound the handshakes in progress and the
// open connections. On SIGINT or SIGTERM it stops accepting, sends 1001
// Going Away to every connection, waits up to -grace (5 s) for the close
// handshakes, closes what is left and exits, printing how long it took.
// The conn package's protections keep their defaults unless set with
// -read-limit, -write-timeout, -keepalive and -keepalive-timeout (a
// negative duration turns one off), which the hostile-peer tests use to
// run with short bounds.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/h2stream"
	"github.com/rfc6455/ws/server"
	"github.com/rfc6455/ws/server/event"
)

func main() {
	if slices.ContainsFunc(os.Args[1:], func(a string) bool { return a == "-h2" || a == "--h2" || a == "-h2=true" }) &&
		!slices.Contains(os.Args[1:], "-client") && !server.ExtendedConnectEnabled() {
		// net/http reads GODEBUG once, at start: start again with it.
		if err := h2stream.Reexec(); err != nil {
			fmt.Fprintln(os.Stderr, "echo: restarting with GODEBUG="+server.GODEBUGSetting+":", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	evented := fs.Bool("event", false, "serve from epoll loops (package server/event: no goroutine per connection; Linux, plain TCP) instead of a goroutine per connection")
	raw := fs.Bool("raw", false, "serve with server.Serve straight on the listener instead of net/http (less memory per connection)")
	noTakeover := fs.Bool("no-context-takeover", false, "with -compress, as a server: compress each message on its own (server_no_context_takeover), keeping no compression window per connection")
	release := fs.Duration("release-compression", 0, "with -compress: give a connection's compression window back once it has compressed nothing for this long (conn.Options.ReleaseCompressionAfter)")
	handshakeTimeout := fs.Duration("handshake-timeout", 10*time.Second, "as a server: time a client has to send its upgrade request (http.Server.ReadHeaderTimeout, or AcceptOptions.HandshakeTimeout with -raw)")
	useTLS := fs.Bool("tls", false, "as a server: serve HTTPS (wss://); see -cert and -key")
	certFile := fs.String("cert", "", "with -tls: certificate file (PEM); a self-signed certificate is generated when empty")
	keyFile := fs.String("key", "", "with -tls: private key file (PEM)")
	h2 := fs.Bool("h2", false, "as a server: also speak HTTP/2 and take WebSockets over it (RFC 8441); as a client: dial over HTTP/2 or fail")
	insecure := fs.Bool("insecure", false, "as a client: accept any server certificate (for -tls's self-signed one)")
	grace := fs.Duration("grace", 5*time.Second, "as a server, when stopped by SIGINT or SIGTERM: how long to wait for the close handshakes (1001 Going Away) before closing what is left")
	// The conn package's protections; zero keeps its defaults, negative
	// turns one off.
	var co conn.Options
	fs.Int64Var(&co.ReadLimit, "read-limit", 0, "largest message accepted, in bytes (conn.Options.ReadLimit; 0: the default, 32 MiB)")
	fs.DurationVar(&co.WriteTimeout, "write-timeout", 0, "bound on each write to a peer that stopped reading (conn.Options.WriteTimeout; 0: the default, 30s)")
	fs.DurationVar(&co.KeepAliveInterval, "keepalive", 0, "ping a connection that received nothing for this long (conn.Options.KeepAliveInterval; 0: the default, 30s)")
	fs.DurationVar(&co.KeepAliveTimeout, "keepalive-timeout", 0, "close a connection whose peer stays silent this long after a ping (conn.Options.KeepAliveTimeout; 0: the default, 20s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	co.ReleaseCompressionAfter = *release
	sopts, copts := options(&co, *compress, *noTakeover)
	sopts.HandshakeTimeout = *handshakeTimeout
	if *clientURL != "" {
		copts.Proxy = client.NoProxy
		if *h2 {
			copts.HTTP2 = client.HTTP2Require
		}
		if *insecure {
			copts.TLSConfig = &tls.Config{InsecureSkipVerify: true} // asked for with -insecure
		}
		if err := echo.RunClient(ctx, *clientURL, copts); err != nil {
			fmt.Fprintln(stderr, "echo:", err)
			return 1
		}
		return 0
	}
	cfg := serveConfig{opts: sopts, raw: *raw, grace: *grace, h2: *h2}
	if *useTLS || *certFile != "" {
		tc, err := tlsConfig(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(stderr, "echo:", err)
			return 1
		}
		cfg.tls = tc
	}
	if *h2 && *raw {
		fmt.Fprintln(stderr, "echo: -h2 needs net/http; it does not go with -raw")
		return 2
	}
	if *evented {
		if *raw || *h2 || cfg.tls != nil {
			fmt.Fprintln(stderr, "echo: -event serves plain TCP on its own loops: it does not go with -raw, -h2 or -tls")
			return 2
		}
		if err := serveEvents(ctx, *addr, sopts, stderr); err != nil {
			fmt.Fprintln(stderr, "echo:", err)
			return 1
		}
		return 0
	}
	if *h2 && !server.ExtendedConnectEnabled() {
		fmt.Fprintf(stderr, "echo: warning: GODEBUG lacks %s: HTTP/2 is served, WebSockets go over HTTP/1.1\n", server.GODEBUGSetting)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "echo:", err)
		return 1
	}
	if err := serve(ctx, ln, cfg, stderr); err != nil {
		fmt.Fprintln(stderr, "echo:", err)
		return 1
	}
	return 0
}

// options returns the options of both roles, whose connections use co:
// with compress, each negotiates permessage-deflate with the deflate
// package's defaults, and with noTakeover the server also answers
// server_no_context_takeover.
func options(co *conn.Options, compress, noTakeover bool) (*server.AcceptOptions, *client.DialOptions) {
	so, do := &server.AcceptOptions{Conn: co}, &client.DialOptions{Conn: co}
	if compress {
		so.Compression = &deflate.ServerOptions{ServerNoContextTakeover: noTakeover}
		do.Compression = &deflate.ClientOptions{}
	}
	return so, do
}

// serveEvents runs the echo endpoint on addr in the event mode until ctx
// is done; event.Serve then sends 1001 Going Away to every connection and
// waits at most the close timeout for the answers.
func serveEvents(ctx context.Context, addr string, opts *server.AcceptOptions, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "echo: serving on ws://%s/\n", ln.Addr())
	o := *opts
	o.Origin.AllowAll = true // a test server, as echo.Handler
	err = event.Serve(ctx, ln, &event.Options{Accept: &o}, echo.EventHandler())
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// serve runs the echo endpoint on addr until ctx is done, through
// net/http or, with raw, with server.Serve on the listener, and then shuts
// down gracefully within grace: it stops accepting, sends 1001 Going Away
// to every WebSocket connection (server.Connections.Shutdown) and closes
// whatever has not finished its close handshake when grace is up.
func serve(ctx context.Context, ln net.Listener, cfg serveConfig, stderr io.Writer) error {
	opts, raw, grace := cfg.opts, cfg.raw, cfg.grace
	scheme := "ws"
	if cfg.tls != nil {
		scheme = "wss"
	}
	fmt.Fprintf(stderr, "echo: serving on %s://%s/\n", scheme, ln.Addr())
	conns := &server.Connections{}
	o := *opts
	o.Connections = conns
	// shutdown stops accepting (stopAccepting) and closes the WebSocket
	// connections, within grace. A grace period that runs out is
	// reported, not the server's failure.
	shutdown := func(stopAccepting func(context.Context) error) {
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		start, open := time.Now(), conns.Len()
		errc := make(chan error, 1)
		go func() { errc <- stopAccepting(sctx) }()
		err := conns.Shutdown(sctx)
		err = errors.Join(err, <-errc)
		fmt.Fprintf(stderr, "echo: shut down %d connections in %v (%v)\n", open, time.Since(start).Round(time.Millisecond), err)
	}

	if raw {
		if cfg.tls != nil {
			ln = tls.NewListener(ln, cfg.tls)
		}
		o.Origin.AllowAll = true // a test server, as echo.Handler
		// Serve's own context is not ctx: its handlers close their
		// connections at once when it ends, and they are to be closed
		// with 1001 first. Shutdown stops Serve.
		sctx, stopServe := context.WithCancel(context.Background())
		defer stopServe()
		served := make(chan error, 1)
		go func() { served <- server.Serve(sctx, ln, &o, echo.ServeConn) }()
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		}
		shutdown(func(context.Context) error { return nil }) // Shutdown stops Serve
		stopServe()
		if err := <-served; !errors.Is(err, server.ErrShuttingDown) && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	var h http.Handler = pageOr(echo.Handler(&o))
	if cfg.wrap != nil {
		h = cfg.wrap(h)
	}
	srv := &http.Server{
		Handler:   h,
		TLSConfig: cfg.tls,
		Protocols: protocols(cfg.tls != nil, cfg.h2),
		// A client has this long to send its request's header: without
		// it, a connection that sends nothing is held for good.
		ReadHeaderTimeout: o.HandshakeTimeout,
		// The header of an upgrade request is small; net/http's default
		// is 1 MiB (and it allows 4 KiB more). Beyond it: 431.
		MaxHeaderBytes: handshake.DefaultMaxHeaderBytes,
		// A keep-alive connection waiting for its next request.
		IdleTimeout: 30 * time.Second,
	}
	served := make(chan error, 1)
	go func() {
		if cfg.tls != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown(srv.Shutdown)
	srv.Close() // requests still running after grace
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
