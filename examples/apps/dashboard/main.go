// Command dashboard pushes live data to browsers: a ticker produces a JSON
// snapshot of a few simulated metrics at a configurable rate and sends it
// to every subscriber over WebSocket.
//
//	go run ./dashboard -addr 127.0.0.1:8090 -rate 10 -policy coalesce
//
// Each subscriber has a bounded send queue drained by its own writer
// goroutine, so the ticker never waits for anyone. When a subscriber's
// queue is full, -policy decides: "drop" discards the new update,
// "coalesce" replaces the queued updates with the new one. Either way the
// subscriber is told how many updates it lost, and the page shows it.
package main

import (
	"context"
	"embed"
	"encoding/json"
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

// config is the dashboard's settings, from flags.
type config struct {
	rate   float64
	queue  int
	policy Policy
	accept *server.AcceptOptions
	debug  bool
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to serve on")
	rate := flag.Float64("rate", 10, "updates per second")
	queueSize := flag.Int("queue", 16, "updates queued per subscriber before the policy applies")
	policy := flag.String("policy", "coalesce", "when a subscriber's queue is full: drop (discard the new update) or coalesce (replace the queued updates with it)")
	debug := flag.Bool("debug", false, "serve POST /debug/stall?ms=N, which makes every subscriber's writer wait N ms (for tests)")
	origins := flag.String("origin", "", "comma-separated extra origin hosts allowed to connect; the server's own host is always allowed")
	flag.Parse()

	p, err := ParsePolicy(*policy)
	if err != nil {
		log.Fatal(err)
	}
	if *rate <= 0 || *rate > 1000 || *queueSize < 1 {
		log.Fatal("dashboard: -rate must be in (0, 1000] and -queue at least 1")
	}
	var patterns []string
	for o := range strings.SplitSeq(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			patterns = append(patterns, o)
		}
	}
	cfg := config{rate: *rate, queue: *queueSize, policy: p, debug: *debug, accept: &server.AcceptOptions{
		Origin: handshake.OriginPolicy{Patterns: patterns},
		Conn: &conn.Options{
			ReadLimit:         512, // the page sends nothing but control frames
			KeepAliveInterval: 15 * time.Second,
			KeepAliveTimeout:  10 * time.Second,
			CloseTimeout:      3 * time.Second,
		},
	}}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := newFeed(uint64(time.Now().UnixNano()))
	go f.run(ctx, cfg.rate)

	srv := &http.Server{Addr: *addr, Handler: newMux(ctx, f, cfg), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Printf("dashboard: serving http://%s/ (%g updates/s, queue %d, policy %s)", *addr, cfg.rate, cfg.queue, cfg.policy)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func newMux(ctx context.Context, f *feed, cfg config) *http.ServeMux {
	page, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { serveWS(ctx, f, cfg, w, r) })
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
		http.FileServerFS(page).ServeHTTP(w, r)
	}))
	if cfg.debug {
		mux.HandleFunc("POST /debug/stall", func(w http.ResponseWriter, r *http.Request) {
			ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
			if err != nil || ms < 0 || ms > 60000 {
				http.Error(w, "ms must be 0 to 60000", http.StatusBadRequest)
				return
			}
			f.stall(time.Duration(ms) * time.Millisecond)
		})
	}
	return mux
}

// serveWS runs one subscriber: a reader that only keeps the connection's
// control frames flowing (pongs for the keepalive, the close handshake),
// and the writer that drains the subscriber's queue.
func serveWS(ctx context.Context, f *feed, cfg config, w http.ResponseWriter, r *http.Request) {
	c, err := server.Accept(w, r, cfg.accept)
	if err != nil {
		log.Printf("dashboard: refused %s: %v", r.RemoteAddr, err)
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	hello, _ := json.Marshal(helloMsg{Type: "hello", Policy: cfg.policy.String(), Queue: cfg.queue, Rate: cfg.rate})
	if err := c.WriteMessage(ctx, conn.Text, hello); err != nil {
		return
	}
	q := newQueue(cfg.policy, cfg.queue)
	f.subscribe(q)
	defer f.unsubscribe(q)

	go func() {
		defer cancel()
		for {
			if _, _, err := c.ReadMessage(ctx, nil); err != nil {
				return
			}
		}
	}()
	err = writeLoop(ctx, c, q, time.Second, 10*time.Second, f.hold)
	var ce *conn.CloseError
	if err != nil && !errors.Is(err, context.Canceled) && !errors.As(err, &ce) {
		log.Printf("dashboard: %s: %v", r.RemoteAddr, err)
	}
	// A no-op when the browser closed first; on shutdown, tells it why.
	c.Close(conn.StatusGoingAway, "")
}
