package autobahn

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/report"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/server"
)

// The project's own server and client through the paths its echo endpoint
// never takes, because only options other than the defaults reach them:
// prepared messages (compressed once, without context takeover), the
// streaming NextWriter with compression, a MaxFrameSize smaller than the
// messages. A bug that keeps RSV1 on continuation frames of prepared
// messages survived the default Autobahn run for that reason. Every
// verdict must be the one the default run expects
// (testdata/expected-*.json): none of these options changes what a peer
// may observe beyond the framing.
//
// By default a subset of cases runs (a minute or two with -race);
// AUTOBAHN_PATHS_FULL=1 runs all of sections 1-7, 10, 12 and 13.

// echoWay is how a variant sends each message back.
type echoWay int

const (
	echoPrepared   echoWay = iota // NewPreparedMessage + WritePrepared
	echoNextWriter                // NextReader copied into NextWriter in 1000-byte writes
)

func (w echoWay) String() string { return [...]string{"prepared", "nextwriter"}[w] }

// echoWith echoes messages on c the given way until the connection ends.
func echoWith(ctx context.Context, c *conn.Conn, way echoWay) error {
	buf := make([]byte, 1000)
	for {
		switch way {
		case echoPrepared:
			typ, p, err := c.ReadMessage(ctx, nil)
			if err != nil {
				return err
			}
			pm, err := conn.NewPreparedMessage(typ, p)
			if err != nil {
				return err
			}
			if err := c.WritePrepared(ctx, pm); err != nil {
				return err
			}
		case echoNextWriter:
			typ, r, err := c.NextReader(ctx)
			if err != nil {
				return err
			}
			w, err := c.NextWriter(ctx, typ)
			if err != nil {
				return err
			}
			// Hide ReaderFrom/WriterTo so the copy makes many writes.
			if _, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf); err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
		}
	}
}

type pathVariant struct {
	name      string
	way       echoWay
	maxFrame  int
	noContext bool // compress without context takeover (prepared messages reuse the compressed bytes)
}

var pathVariants = []pathVariant{
	{"prepared, no context takeover, MaxFrameSize 256", echoPrepared, 256, true},
	{"prepared, context takeover", echoPrepared, 0, false},
	{"nextwriter, MaxFrameSize 512", echoNextWriter, 512, false},
}

// pathCaseIDs is the subset run by default: every section but 9 in part,
// and compression cases with messages of 16 and 1024 bytes (text, a bitmap,
// binary), with windows of 9 and 15 bits, with and without context
// takeover.
func pathCaseIDs() []string {
	if os.Getenv("AUTOBAHN_PATHS_FULL") != "" {
		return idsOf("1", "2", "3", "4", "5", "6", "7", "10", "12", "13")
	}
	ids := idsOf("1", "2", "3", "4", "5", "6.1", "6.2", "6.3", "6.4", "7.1", "7.5", "10")
	return append(ids, "12.1.1", "12.2.4", "12.5.4", "13.2.4", "13.3.1", "13.3.4", "13.5.4", "13.6.4", "13.7.4")
}

func expectedFor(t *testing.T, file string, ids []string) verdicts {
	t.Helper()
	exp, err := report.ReadExpected(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	want := verdicts{}
	for _, id := range ids {
		e, ok := exp[id]
		if !ok {
			t.Fatalf("%s: no expected verdict for %s", file, id)
		}
		want[id] = e.Behavior + "/" + e.BehaviorClose
	}
	return want
}

func TestOwnServerPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Autobahn cases for a minute")
	}
	t.Parallel()
	ids := pathCaseIDs()
	want := expectedFor(t, "expected-server.json", ids)
	for _, v := range pathVariants {
		t.Run(v.name, func(t *testing.T) {
			opts := &server.AcceptOptions{Conn: &conn.Options{MaxFrameSize: v.maxFrame},
				Compression: &deflate.ServerOptions{ServerNoContextTakeover: v.noContext}}
			opts.Origin.AllowAll = true
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(w, r, opts)
				if err != nil {
					return
				}
				defer c.CloseNow()
				echoWith(r.Context(), c, v.way)
			})}
			go hs.Serve(ln)
			t.Cleanup(func() { hs.Close() })
			run := func(ids []string, parallel int) verdicts {
				spec := &Spec{Cases: ids, Servers: []ServerSpec{{Agent: "own", URL: "ws://" + ln.Addr().String()}}}
				res := NewResults()
				c := &Client{Spec: spec, Set: cases.Default(), Parallel: parallel, Watchdog: time.Minute}
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
				defer cancel()
				if err := c.Run(ctx, res); err != nil {
					t.Fatal(err)
				}
				out := verdicts{}
				for id, r := range res.Snapshot()["own"] {
					out[id] = verdictOf(r)
				}
				return out
			}
			check(t, run(ids, 4), want, func(ids []string) verdicts { return run(ids, 1) })
		})
	}
}

func TestOwnClientPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Autobahn cases for a minute")
	}
	t.Parallel()
	ids := pathCaseIDs()
	want := expectedFor(t, "expected-client.json", ids)
	for _, v := range pathVariants {
		t.Run(v.name, func(t *testing.T) {
			opts := &client.DialOptions{Conn: &conn.Options{MaxFrameSize: v.maxFrame},
				Compression: &deflate.ClientOptions{ClientNoContextTakeover: v.noContext}}
			run := func(ids []string, parallel int) verdicts {
				srv, base := startFuzzingServer(t, ids)
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
				defer cancel()
				sem := make(chan struct{}, parallel)
				var wg sync.WaitGroup
				for n := range ids {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sem <- struct{}{}
						defer func() { <-sem }()
						c, _, err := client.Dial(ctx, base+"/runCase?case="+strconv.Itoa(n+1)+"&agent=own", opts)
						if err != nil {
							return // the case records what the suite saw
						}
						defer c.CloseNow()
						echoWith(ctx, c, v.way)
					}()
				}
				waitGroup(t, &wg, 4*time.Minute)
				return waitVerdicts(t, srv, "own", len(ids), 10*time.Second)
			}
			check(t, run(ids, 4), want, func(ids []string) verdicts { return run(ids, 1) })
		})
	}
}

// waitGroup waits for wg, failing the test after d.
func waitGroup(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("testee clients still running after %v", d)
	}
}

// waitVerdicts collects the verdicts the fuzzing server recorded for
// agent, waiting up to d for n of them.
func waitVerdicts(t *testing.T, srv *Server, agent string, n int, d time.Duration) verdicts {
	t.Helper()
	out := verdicts{}
	deadline := time.Now().Add(d)
	for {
		for id, r := range srv.Results.Snapshot()[agent] {
			out[id] = verdictOf(r)
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Logf("only %d of %d verdicts after %v", len(out), n, d)
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}
