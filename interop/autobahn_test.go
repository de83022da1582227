package interop

// Fidelity tests of the Go-native Autobahn|Testsuite (../autobahn): the suite
// is run against implementations that are not this project's, gorilla/websocket
// and coder/websocket, as servers (the suite's fuzzingclient mode) and as
// clients (its fuzzingserver mode), and every verdict is compared with
// testdata/autobahn-<lib>-<role>.json. Each entry there that is not OK carries
// a written reason tracing the verdict to the library's documented behavior.
//
// The testees are written the way the libraries' own Autobahn testees are:
// gorilla's examples/autobahn/server.go ("/m": ReadMessage, a UTF-8 check of
// each whole text message answered with close 1007, WriteMessage; upgrader with
// 4096-byte buffers and EnableCompression), coder's autobahn_test.go (Dial or
// Accept with CompressionContextTakeover, then an echo loop copying each
// message from Reader to Writer with the read limit raised to 1 GiB). gorilla
// has no Autobahn client example; its client testee echoes as its server does.
//
// By default sections 1-7 and 10 run with a subset of 12 and 13; set
// AUTOBAHN_FULL=1 for all of 12 and 13 (minutes). Run with
// -autobahn.update to rewrite the expected files from a run, keeping the
// reasons of entries whose verdict did not change.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/rfc6455/ws/autobahn"
	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
	"github.com/rfc6455/ws/autobahn/report"
)

var autobahnUpdate = flag.Bool("autobahn.update", false, "rewrite testdata/autobahn-*.json from this run")

// autobahnSubset is the part of sections 12 and 13 run by default: each
// offer kind once (no parameters, server_no_context_takeover,
// client_max_window_bits) at a few message sizes.
var autobahnSubset = []string{
	"12.1.1", "12.1.2", "12.1.3", "12.1.4",
	"13.1.1", "13.1.2", "13.1.3", "13.1.4",
	"13.3.1", "13.3.2", "13.3.3",
	"13.5.1", "13.5.2", "13.5.3",
}

// autobahnIDs returns the cases to run: sections 1-7 and 10 and, with
// AUTOBAHN_FULL=1, 12 and 13 whole, else autobahnSubset.
func autobahnIDs(t *testing.T) []string {
	t.Helper()
	patterns := []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"}
	if os.Getenv("AUTOBAHN_FULL") != "" {
		patterns = append(patterns, "12.*", "13.*")
	} else {
		patterns = append(patterns, autobahnSubset...)
	}
	ids, err := (&autobahn.Spec{Cases: patterns}).SelectCases(cases.Default())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// The testee servers.

// abGorillaUpgrader is configured as in gorilla's examples/autobahn/server.go.
var abGorillaUpgrader = websocket.Upgrader{
	ReadBufferSize:    4096,
	WriteBufferSize:   4096,
	EnableCompression: true,
	CheckOrigin:       func(*http.Request) bool { return true },
}

// abGorillaEcho is the echo loop of gorilla's Autobahn example ("/m",
// echoReadAll with WriteMessage): read a whole message, answer invalid
// UTF-8 in a text message with close 1007 and go on, echo the message.
func abGorillaEcho(c *websocket.Conn) {
	defer c.Close()
	for {
		mt, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		if mt == websocket.TextMessage && !utf8.Valid(b) {
			c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Time{})
		}
		// After a close was sent this fails with websocket.ErrCloseSent;
		// like the example, keep reading until the peer's close arrives.
		c.WriteMessage(mt, b)
	}
}

func abGorillaServer(w http.ResponseWriter, r *http.Request) {
	c, err := abGorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	abGorillaEcho(c)
}

// abCoderEcho is coder's Autobahn echo loop (internal/test/wstest.EchoLoop):
// copy each message from Reader to Writer until an error, then close with
// 1011 (a no-op when the connection is already closed).
func abCoderEcho(ctx context.Context, c *coder.Conn) error {
	defer c.Close(coder.StatusInternalError, "")
	c.SetReadLimit(1 << 30)
	buf := make([]byte, 32<<10)
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		if _, err := io.CopyBuffer(w, r, buf); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

func abCoderServer(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, &coder.AcceptOptions{
		CompressionMode:    coder.CompressionContextTakeover,
		InsecureSkipVerify: true,
	})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	abCoderEcho(ctx, c)
}

// The testee clients, driving the fuzzing server the classic way.

type abTesteeClient interface {
	// text fetches one text message from url (/getCaseCount).
	text(ctx context.Context, url string) (string, error)
	// echo runs one case: connect to url (/runCase) and echo until closed.
	echo(ctx context.Context, url string)
	// command connects to url (/updateReports) and waits for the
	// server's close.
	command(ctx context.Context, url string) error
}

type abGorillaClient struct{}

func (abGorillaClient) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		EnableCompression: true,
		HandshakeTimeout:  10 * time.Second,
	}
}

func (g abGorillaClient) text(ctx context.Context, url string) (string, error) {
	c, _, err := g.dialer().DialContext(ctx, url, nil)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_, b, err := c.ReadMessage()
	return string(b), err
}

func (g abGorillaClient) echo(ctx context.Context, url string) {
	c, _, err := g.dialer().DialContext(ctx, url, nil)
	if err != nil {
		return
	}
	abGorillaEcho(c)
}

func (g abGorillaClient) command(ctx context.Context, url string) error {
	c, _, err := g.dialer().DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			// The server closes when done; the original sends no status.
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return nil
			}
			return err
		}
	}
}

type abCoderClient struct{}

func (abCoderClient) dial(ctx context.Context, url string) (*coder.Conn, error) {
	c, _, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
	return c, err
}

func (cc abCoderClient) text(ctx context.Context, url string) (string, error) {
	c, err := cc.dial(ctx, url)
	if err != nil {
		return "", err
	}
	defer c.Close(coder.StatusNormalClosure, "")
	_, b, err := c.Read(ctx)
	return string(b), err
}

func (cc abCoderClient) echo(ctx context.Context, url string) {
	c, err := cc.dial(ctx, url)
	if err != nil {
		return
	}
	abCoderEcho(ctx, c)
}

func (cc abCoderClient) command(ctx context.Context, url string) error {
	c, err := cc.dial(ctx, url)
	if err != nil {
		return err
	}
	_, _, err = c.Read(ctx)
	// The server closes when done; the original sends no status.
	if coder.CloseStatus(err) != -1 {
		return nil
	}
	c.Close(coder.StatusNormalClosure, "")
	return err
}

// Running the suite.

// autobahnParallel is how many cases run at once: enough to hide the 1 s
// waits of the timing cases, few enough for a loaded 2-core machine.
const autobahnParallel = 4

// runAgainstServer runs cases with the suite as client against the testee
// server h and returns the results by case ID.
func runAgainstServer(t *testing.T, h http.HandlerFunc, ids []string) map[string]*engine.Result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()

	spec := &autobahn.Spec{
		Options: map[string]any{"failByDrop": false},
		Cases:   ids,
		Servers: []autobahn.ServerSpec{{Agent: "testee", URL: "ws://" + ln.Addr().String()}},
	}
	res := autobahn.NewResults()
	c := &autobahn.Client{Spec: spec, Set: cases.Default(), Parallel: autobahnParallel, Watchdog: 5 * time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := c.Run(ctx, res); err != nil {
		t.Fatal(err)
	}
	return res.Snapshot()["testee"]
}

// runAgainstClient starts the suite's fuzzing server for ids and drives the
// testee client through it the classic way: /getCaseCount, /runCase for
// each case number, /updateReports; then reads the verdicts from the
// index.json the server wrote.
func runAgainstClient(t *testing.T, tc abTesteeClient, ids []string) map[string]*engine.Result {
	t.Helper()
	const agent = "testee"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	srv := &autobahn.Server{
		Spec:     &autobahn.Spec{Cases: ids, OutDir: out},
		Set:      cases.Default(),
		Results:  autobahn.NewResults(),
		Watchdog: 5 * time.Minute,
	}
	if _, err := srv.Cases(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "ws://" + ln.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	s, err := tc.text(ctx, base+"/getCaseCount")
	if err != nil {
		t.Fatalf("getCaseCount: %v", err)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n != len(ids) {
		t.Fatalf("getCaseCount = %q, want %d", s, len(ids))
	}
	// The classic testee runs the cases one after another; a few at once
	// keep the test short, and the fuzzing server runs each on its own
	// connection.
	var wg sync.WaitGroup
	next := make(chan int)
	for range autobahnParallel {
		wg.Go(func() {
			for i := range next {
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Minute)
				tc.echo(cctx, fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, agent))
				ccancel()
			}
		})
	}
	for i := 1; i <= n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	// A case's verdict is final once its connection is gone on the server
	// side too; wait for all before asking for the reports.
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Results.Snapshot()[agent]) < len(ids) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := tc.command(ctx, base+"/updateReports?agent="+agent); err != nil {
		t.Fatalf("updateReports: %v", err)
	}

	// Read the verdicts back from index.json, as a classic testee's CI does.
	b, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]map[string]struct {
		Behavior      string `json:"behavior"`
		BehaviorClose string `json:"behaviorClose"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	got := map[string]*engine.Result{}
	for id, e := range index[agent] {
		got[id] = &engine.Result{ID: id, Behavior: e.Behavior, BehaviorClose: e.BehaviorClose}
	}
	return got
}

// checkAutobahn compares the results with the expected file, running
// mismatching cases once more on their own first: a few cases have 1 s
// deadlines that a correct testee can miss on a loaded machine.
func checkAutobahn(t *testing.T, file string, ids []string, got map[string]*engine.Result, rerun func([]string) map[string]*engine.Result) {
	t.Helper()
	path := filepath.Join("testdata", file)
	want, err := report.ReadExpected(path)
	if err != nil && !*autobahnUpdate {
		t.Fatal(err)
	}
	if want == nil {
		want = report.Expected{}
	}
	var again []string
	for _, id := range ids {
		w, ok := want[id]
		if r := got[id]; ok && (r == nil || r.Behavior != w.Behavior || r.BehaviorClose != w.BehaviorClose) {
			again = append(again, id)
		}
	}
	if len(again) > 0 && len(again) <= 20 {
		t.Logf("running again after a mismatch: %v", again)
		for id, r := range rerun(again) {
			got[id] = r
		}
	}
	logSummary(t, got)

	if *autobahnUpdate {
		// Keep the expectations of cases not run this time.
		merged := report.Expected{}
		for id, e := range want {
			merged[id] = e
		}
		for id, e := range report.FromResults(got, want) {
			merged[id] = e
		}
		if err := report.WriteExpected(path, merged); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}

	sub := report.Expected{}
	for _, id := range ids {
		if e, ok := want[id]; ok {
			sub[id] = e
		}
	}
	if diff := report.Compare(got, sub); len(diff) > 0 {
		t.Errorf("%s: %d differences:\n%s", path, len(diff), strings.Join(diff, "\n"))
	}
}

// logSummary logs the count of each verdict.
func logSummary(t *testing.T, got map[string]*engine.Result) {
	t.Helper()
	count := map[string]int{}
	for _, r := range got {
		count[r.Behavior+"/"+r.BehaviorClose]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, count[k])
	}
	t.Logf("%d cases:%s", len(got), b.String())
}

func TestAutobahnGorillaServer(t *testing.T) {
	t.Parallel()
	ids := autobahnIDs(t)
	run := func(ids []string) map[string]*engine.Result { return runAgainstServer(t, abGorillaServer, ids) }
	checkAutobahn(t, "autobahn-gorilla-server.json", ids, run(ids), run)
}

func TestAutobahnCoderServer(t *testing.T) {
	t.Parallel()
	ids := autobahnIDs(t)
	run := func(ids []string) map[string]*engine.Result { return runAgainstServer(t, abCoderServer, ids) }
	checkAutobahn(t, "autobahn-coder-server.json", ids, run(ids), run)
}

func TestAutobahnGorillaClient(t *testing.T) {
	t.Parallel()
	ids := autobahnIDs(t)
	run := func(ids []string) map[string]*engine.Result { return runAgainstClient(t, abGorillaClient{}, ids) }
	checkAutobahn(t, "autobahn-gorilla-client.json", ids, run(ids), run)
}

func TestAutobahnCoderClient(t *testing.T) {
	t.Parallel()
	ids := autobahnIDs(t)
	run := func(ids []string) map[string]*engine.Result { return runAgainstClient(t, abCoderClient{}, ids) }
	checkAutobahn(t, "autobahn-coder-client.json", ids, run(ids), run)
}
