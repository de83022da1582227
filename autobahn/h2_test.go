package autobahn

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/internal/h2stream"
	"github.com/rfc6455/ws/server"
)

func TestMain(m *testing.M) {
	// The HTTP/2 tests need net/http's server to take extended CONNECT,
	// which it reads from GODEBUG at start: run again with it set.
	if err := h2stream.Reexec(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// h2Cases is a sample of every section the project job runs, compression
// included.
var h2Cases = []string{"1.1.1", "1.2.8", "2.10", "3.1", "4.2.5", "5.19", "6.3.1", "6.4.3", "7.1.6", "7.5.1", "7.9.1", "10.1.1", "12.1.1", "13.3.1"}

func h2Want() verdicts {
	return fill(verdicts{"7.1.6": "INFORMATIONAL/INFORMATIONAL"}, "OK/OK",
		"1.1.1", "1.2.8", "2.10", "3.1", "4.2.5", "5.19", "6.3.1", "6.4.3", "7.5.1", "7.9.1", "10.1.1", "12.1.1", "13.3.1")
}

// TestHTTP2TransportClient: the suite as client over HTTP/2 (cleartext,
// prior knowledge) against our echo server gives the verdicts it gives
// over HTTP/1.1.
func TestHTTP2TransportClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: echo.Handler(&server.AcceptOptions{Compression: &deflate.ServerOptions{}})}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetUnencryptedHTTP2(true)
	go hs.Serve(ln)
	defer hs.Close()
	run := func(ids []string) verdicts {
		spec := &Spec{Cases: ids, Servers: []ServerSpec{{Agent: "ours", URL: "ws://" + ln.Addr().String()}}}
		res := NewResults()
		c := &Client{Spec: spec, Set: cases.Default(), Parallel: 4, Watchdog: time.Minute, HTTP2: true}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Run(ctx, res); err != nil {
			t.Fatal(err)
		}
		out := verdicts{}
		for id, r := range res.Snapshot()["ours"] {
			out[id] = verdictOf(r)
		}
		return out
	}
	check(t, run(h2Cases), h2Want(), run)
}

// TestHTTP2TransportServer: the suite as server over HTTP/2 with our
// client, which can only reach it over HTTP/2 (HTTP2Require; the server
// refuses anything else).
func TestHTTP2TransportServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Spec: &Spec{Cases: h2Cases}, Set: cases.Default(), OutDir: t.TempDir(), Watchdog: time.Minute}
	go srv.ServeHTTP2(ln, nil)
	defer srv.Close()
	base := "ws://" + ln.Addr().String()
	pool := client.NewHTTP2Pool(nil)
	defer pool.CloseIdleConnections()
	run := func(ids []string) verdicts {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		done := make(chan struct{}, len(ids))
		for _, id := range ids {
			n := 0
			for i, x := range h2Cases {
				if x == id {
					n = i + 1
				}
			}
			go func() {
				defer func() { done <- struct{}{} }()
				opts := &client.DialOptions{Conn: &conn.Options{}, Compression: &deflate.ClientOptions{},
					HTTP2: client.HTTP2Require, HTTP2Pool: pool, Proxy: client.NoProxy}
				echo.RunClient(ctx, base+"/runCase?case="+itoa(n)+"&agent=ours", opts)
			}()
		}
		for range ids {
			<-done
		}
		out := verdicts{}
		deadline := time.Now().Add(10 * time.Second)
		for len(out) < len(ids) && time.Now().Before(deadline) {
			for id, r := range srv.Results.Snapshot()["ours"] {
				out[id] = verdictOf(r)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return out
	}
	check(t, run(h2Cases), h2Want(), run)
}
