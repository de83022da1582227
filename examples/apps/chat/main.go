// Command chat is a multi-room chat server with its browser client, built
// on the ws library: rooms with history, private messages, typing and
// presence, acknowledged requests, heartbeats, reconnection with recovery
// of missed messages, and scale-out through Redis.
//
//	go run ./chat -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080/ in two browser tabs. With -event
// (Linux), the WebSocket connections are served by epoll loops
// (package server/event) instead of two goroutines each. With
// -redis 127.0.0.1:6379, several chat processes share rooms and history.
// README.md describes the protocol and the limits.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"io/fs"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
)

//go:embed static
var static embed.FS

func main() {
	cfg := DefaultConfig()
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on")
	redisAddr := flag.String("redis", "", "share rooms and history with other chat processes through the Redis server at this address")
	origins := flag.String("origin", "", "comma-separated extra origin hosts allowed to connect (host[:port] patterns); the server's own host is always allowed")
	ping := flag.Duration("ping", 15*time.Second, "heartbeat: ping each client after this much time")
	pingTimeout := flag.Duration("ping-timeout", 10*time.Second, "heartbeat: drop a client whose pong is this late")
	maxMsg := flag.Int64("max-msg", 4096, "largest WebSocket message accepted, in bytes (larger ones close the connection with 1009)")
	flag.Float64Var(&cfg.Rate, "rate", cfg.Rate, "requests per second per connection (token bucket refill rate)")
	flag.Float64Var(&cfg.Burst, "burst", cfg.Burst, "requests a connection may send at once (token bucket size)")
	eventMode := flag.Bool("event", false, "serve WebSocket connections on epoll loops (server/event, Linux) instead of a reading and a writing goroutine each")
	debug := flag.Bool("debug", false, "serve POST /debug/kick?name=N, which drops N's connections without a close frame (for tests)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	hub := newHub(cfg)
	if *redisAddr != "" {
		hub.cfg.Node = nodeName(*addr)
		bus, err := newRedisBus(ctx, *redisAddr, cfg.HistorySize, hub.deliver)
		if err != nil {
			log.Fatalf("chat: %v", err)
		}
		defer bus.Close()
		hub.bus, hub.shared = bus, true
	} else {
		hub.bus = newLocalBus(cfg.HistorySize, hub.deliver)
	}
	go hub.Run(ctx)

	var patterns []string
	for p := range strings.SplitSeq(*origins, ",") {
		if p = strings.TrimSpace(p); p != "" {
			patterns = append(patterns, p)
		}
	}
	accept := &server.AcceptOptions{
		// The default policy admits pages served by this host (the Origin's
		// host equals Host) and refuses other sites with 403, which stops
		// cross-site WebSocket hijacking (RFC 6455 §10.2).
		Origin: handshake.OriginPolicy{Patterns: patterns},
		Conn: &conn.Options{
			ReadLimit:         *maxMsg,
			KeepAliveInterval: *ping,
			KeepAliveTimeout:  *pingTimeout,
			CloseTimeout:      3 * time.Second,
		},
	}

	var ws http.Handler = &wsHandler{hub: hub, opts: accept}
	var events *eventWS
	if *eventMode {
		// A full send queue is QueueSize messages in goroutine mode; here
		// the event loop's queue is bounded in bytes, as many messages of
		// the largest size a client may send.
		var err error
		if events, err = newEventWS(hub, accept, cfg.QueueSize*int(*maxMsg)); err != nil {
			log.Fatalf("chat: -event: %v", err)
		}
		ws = events
	}
	srv := &http.Server{Addr: *addr, Handler: newMux(hub, ws, *debug), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		hub.CloseAll(conn.StatusGoingAway, "server shutting down")
	}()
	mode := "goroutine mode"
	if events != nil {
		mode = "event mode"
	}
	log.Printf("chat: serving http://%s/ (node %s, %s)", *addr, hub.cfg.Node, mode)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	// Let the writers send their close frames.
	time.Sleep(500 * time.Millisecond)
	if events != nil {
		events.Close()
	}
}

// newMux routes the page, the WebSocket endpoint, a health check and, with
// debug, the kick endpoint of the end-to-end tests.
func newMux(hub *Hub, ws http.Handler, debug bool) *http.ServeMux {
	page, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", ws)
	mux.Handle("GET /", securityHeaders(http.FileServerFS(page)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	if debug {
		mux.HandleFunc("POST /debug/kick", func(w http.ResponseWriter, r *http.Request) {
			n := hub.Kick(r.URL.Query().Get("name"))
			w.Write([]byte(strconv.Itoa(n) + "\n"))
		})
	}
	return mux
}

// securityHeaders makes the browser refuse scripts and connections from
// anywhere but this server, a second line of defence behind the page's
// use of textContent for everything users send.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
