package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/autobahn"
	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
	"github.com/rfc6455/ws/autobahn/report"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// The project's own testees, from internal/echo (the endpoint of
// examples/echo), with permessage-deflate negotiated when compress is set.

// ownEchoHandler returns an HTTP handler that upgrades to WebSocket and
// echoes every message with its opcode until the peer closes.
func ownEchoHandler(compress bool) (http.Handler, error) {
	opts := &server.AcceptOptions{Conn: &conn.Options{}}
	if compress {
		opts.Compression = &deflate.ServerOptions{}
	}
	return echo.Handler(opts), nil
}

// ownEchoClient connects to url, echoes every message with its opcode
// until the peer closes, answers the close, and returns nil on a clean
// close.
func ownEchoClient(ctx context.Context, url string, compress bool, h2 *client.HTTP2Pool) error {
	opts := &client.DialOptions{Conn: &conn.Options{}}
	if compress {
		opts.Compression = &deflate.ClientOptions{}
	}
	if h2 != nil {
		opts.HTTP2, opts.HTTP2Pool, opts.Proxy = client.HTTP2Require, h2, client.NoProxy
	}
	return echo.RunClient(ctx, url, opts)
}

const (
	ownServerAgent = "rfc6455-ws-server"
	ownClientAgent = "rfc6455-ws-client"
)

// projectJob runs the suite against the project's own server and client;
// with f.h2, every case over HTTP/2 (RFC 8441, cleartext with prior
// knowledge) in both halves, judged against the same expected results.
func projectJob(ctx context.Context, f flags, set *cases.Set) (int, error) {
	patterns := []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*"}
	if f.no9 {
		patterns = slices.DeleteFunc(patterns, func(p string) bool { return p == "9.*" })
	}
	expDir := f.expected
	if expDir == "" {
		expDir = filepath.Join("autobahn", "testdata")
	}
	handler, err := ownEchoHandler(f.compress)
	if err != nil {
		return 2, err
	}

	// 1. The suite as client against our echo server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 2, err
	}
	hs := &http.Server{Handler: handler}
	if f.h2 {
		// Both HTTP/1.1 and HTTP/2 with prior knowledge (h2c), as a
		// server that takes both would.
		hs.Protocols = new(http.Protocols)
		hs.Protocols.SetHTTP1(true)
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	go hs.Serve(ln)
	defer hs.Close()
	out := "reports"
	if f.outdir != "" {
		out = f.outdir
	}
	spec := &autobahn.Spec{OutDir: filepath.Join(out, "servers"), Cases: patterns,
		Servers: []autobahn.ServerSpec{{Agent: ownServerAgent, URL: "ws://" + ln.Addr().String()}}}
	res := autobahn.NewResults()
	start := time.Now()
	c := &autobahn.Client{Spec: spec, Set: set, Parallel: f.parallel, Progress: progress(), HTTP2: f.h2, Cache: f.cache}
	if err := c.Run(ctx, res); err != nil {
		return 2, err
	}
	serverSnap := res.Snapshot()
	if err := report.Write(spec.OutDir, set, serverSnap); err != nil {
		return 2, err
	}
	fmt.Printf("server side: %s, report %s\n", time.Since(start).Round(time.Millisecond), filepath.Join(spec.OutDir, "index.html"))

	// 2. Our testee client against the suite as server.
	fln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 2, err
	}
	srv := &autobahn.Server{Spec: &autobahn.Spec{OutDir: filepath.Join(out, "clients"), Cases: patterns}, Set: set, Cache: f.cache}
	ids, err := srv.Cases()
	if err != nil {
		return 2, err
	}
	var pool *client.HTTP2Pool
	if f.h2 {
		go srv.ServeHTTP2(fln, nil)
		pool = client.NewHTTP2Pool(nil)
		defer pool.CloseIdleConnections()
	} else {
		go srv.Serve(fln)
	}
	defer srv.Close()
	start = time.Now()
	base := "ws://" + fln.Addr().String()
	if err := runTesteeClient(ctx, base, ownClientAgent, ids, set, f.parallel, f.compress, pool, progress()); err != nil {
		return 2, err
	}
	// The client can be done with a case a moment before the suite's
	// side of the connection has seen it end and recorded the result.
	waitForResults(srv.Results, ownClientAgent, ids, 5*time.Second)
	if err := srv.WriteReports(); err != nil {
		return 2, err
	}
	clientSnap := srv.Results.Snapshot()
	fmt.Printf("client side: %s, report %s\n", time.Since(start).Round(time.Millisecond), filepath.Join(srv.OutDir, "index.html"))

	fmt.Printf("suite cache: %s\n", f.cache.Stats())
	s1, err := verdict(serverSnap, filepath.Join(expDir, "expected-server.json"), f.update)
	if err != nil {
		return s1, err
	}
	s2, err := verdict(clientSnap, filepath.Join(expDir, "expected-client.json"), f.update)
	if err != nil {
		return s2, err
	}
	return max(s1, s2), nil
}

// waitForResults waits up to limit for the results of ids; a result still
// missing then is reported as a case that did not run.
func waitForResults(res *autobahn.Results, agent string, ids []string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for _, id := range ids {
		got := make(chan struct{})
		res.Wait(agent, id, func(*engine.Result) { close(got) })
		select {
		case <-got:
		case <-time.After(time.Until(deadline)):
			return
		}
	}
}

// runTesteeClient runs every case with the project's client, like a
// classic testee client would (one /runCase connection per case), several
// at once; section 9 cases run one at a time.
func runTesteeClient(ctx context.Context, base, agent string, ids []string, set *cases.Set, parallel int, compress bool, h2 *client.HTTP2Pool, progress autobahn.Progress) error {
	var done atomic.Int64
	run := func(n int) {
		ownEchoClient(ctx, base+"/runCase?case="+strconv.Itoa(n)+"&agent="+agent, compress, h2)
		progress.Progress(int(done.Add(1)), len(ids), ids[n-1], agent)
	}
	defer progress.Done()
	var serial []int
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				run(n)
			}
		}()
	}
	for i, id := range ids {
		if set.ByID(id).Section() == "9" {
			serial = append(serial, i+1)
			continue
		}
		work <- i + 1
	}
	close(work)
	wg.Wait()
	for _, n := range serial {
		run(n)
	}
	return ctx.Err()
}
