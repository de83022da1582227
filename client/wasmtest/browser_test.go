//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// The checks main_js.go must report, all passing. A check missing from the
// page's report fails the test as surely as a failed one.
var wantChecks = []string{
	"header option refused",
	"keepalive option refused",
	"refused handshake is an error",
	"dial",
	"subprotocol negotiated",
	"text echo",
	"binary echo",
	"fragmented message echo",
	"large message echo (8 MiB)",
	"read interrupted by its context",
	"echo after interrupted read",
	"ping refused",
	"echo after refused ping",
	"close handshake",
	"dial /echo-limit",
	"read limit fails with 1009",
	"dial /flood",
	"unread input is bounded",
	"dial /close-me",
	"server's close code and reason",
}

// Deadlines: the build and the page each get a bound, so that a broken
// client fails with a message rather than a go test timeout.
const (
	buildTimeout = 3 * time.Minute
	pageTimeout  = 60 * time.Second
)

// TestBrowser builds main_js.go for GOOS=js GOARCH=wasm, serves it with
// Go's wasm_exec.js from a server on 127.0.0.1 that also has the
// WebSocket endpoints it dials, loads it in headless Chromium, and checks
// the verdicts the page posts back, and the close code and reason the
// server received.
//
// It is skipped when no Chromium is installed, unless WS_REQUIRE_BROWSER=1
// (as in CI, after examples/apps/e2e/run.sh has installed it). Set
// WS_CHROMIUM to use another binary.
func TestBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("WS_REQUIRE_BROWSER") == "1" {
			t.Fatal("WS_REQUIRE_BROWSER=1 but no chromium found (set WS_CHROMIUM or install chromium)")
		}
		t.Skip("no chromium, chromium-browser or google-chrome on PATH (set WS_CHROMIUM): the js/wasm client is not tested in a browser")
	}
	dir := t.TempDir()
	wasm := buildWasm(t, dir)
	execJS := wasmExecJS(t)

	results := make(chan []byte, 1)
	serverClose := make(chan *conn.CloseError, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, indexHTML)
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, execJS)
	})
	mux.HandleFunc("/test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasm)
	})
	// echoRecording echoes, and sends the close the client sent to closes.
	echoRecording := func(closes chan<- *conn.CloseError) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Accept(w, r, &server.AcceptOptions{
				Subprotocols: []string{"echo.v1"},
				Conn:         &conn.Options{MaxFrameSize: 4096}, // the browser reassembles
			})
			if err != nil {
				return
			}
			defer c.CloseNow()
			err = echo.Loop(context.Background(), c)
			var ce *conn.CloseError
			if errors.As(err, &ce) {
				select {
				case closes <- ce:
				default:
				}
			}
		}
	}
	limitClose := make(chan *conn.CloseError, 1)
	mux.HandleFunc("/echo", echoRecording(serverClose))
	mux.HandleFunc("/echo-limit", echoRecording(limitClose))
	mux.HandleFunc("/flood", func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		msg := make([]byte, 500)
		for range 5000 {
			if c.WriteMessage(context.Background(), conn.Binary, msg) != nil {
				return
			}
		}
		c.ReadMessage(context.Background(), nil) // until the client goes
	})
	mux.HandleFunc("/close-me", func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Close(4002, "server says bye")
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			select {
			case results <- body:
			default:
			}
		}
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	defer srv.Close()

	var stderr lockedBuffer
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		srv.URL+"/")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so its helpers go with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("chromium (pid %d) did not exit 10 s after SIGKILL", cmd.Process.Pid)
		}
	}()

	var body []byte
	select {
	case body = <-results:
	case err := <-exited:
		t.Fatalf("chromium exited before the page reported (%v); its output:\n%s", err, stderr.tail())
	case <-time.After(pageTimeout):
		t.Fatalf("no report from the page within %v; chromium's output:\n%s", pageTimeout, stderr.tail())
	}
	var verdicts []struct {
		Name, Detail string
		OK           bool
	}
	if err := json.Unmarshal(body, &verdicts); err != nil {
		t.Fatalf("page's report %q: %v", body, err)
	}
	seen := map[string]bool{}
	for _, v := range verdicts {
		seen[v.Name] = true
		if v.OK {
			t.Logf("ok   %s", v.Name)
		} else {
			t.Errorf("FAIL %s: %s", v.Name, v.Detail)
		}
	}
	for _, name := range wantChecks {
		if !seen[name] {
			t.Errorf("the page did not report %q", name)
		}
	}

	select {
	case ce := <-serverClose:
		if ce.Code != 4321 || ce.Reason != "bye from the browser" {
			t.Errorf("server saw close %d %q, want 4321 %q", ce.Code, ce.Reason, "bye from the browser")
		}
	case <-time.After(5 * time.Second):
		t.Error("the echo server saw no close frame within 5 s")
	}
	select {
	case ce := <-limitClose:
		// The client failed with 1009, which WebSocket.close refuses: the
		// browser closes without a status.
		if ce.Code != conn.StatusNoStatusReceived {
			t.Errorf("/echo-limit server saw close %d %q, want 1005", ce.Code, ce.Reason)
		}
	case <-time.After(5 * time.Second):
		t.Error("the /echo-limit server saw no close frame within 5 s")
	}
}

const indexHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>ws wasmtest</title>
<script src="/wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("/test.wasm"), go.importObject)
	.then(r => go.run(r.instance))
	.catch(e => fetch("/result", {method: "POST", body: JSON.stringify([{name: "load", ok: false, detail: String(e)}])}));
</script></head><body>running</body></html>
`

func findChromium() string {
	if p := os.Getenv("WS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// buildWasm builds main_js.go with the go command that runs the test.
func buildWasm(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "test.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, b)
	}
	return out
}

// wasmExecJS finds the JavaScript glue of the Go release: lib/wasm since
// Go 1.24, misc/wasm before.
func wasmExecJS(t *testing.T) string {
	t.Helper()
	b, err := exec.Command(goTool(), "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	root := strings.TrimSpace(string(b))
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return filepath.Join(root, p)
		}
	}
	t.Fatalf("no wasm_exec.js under %s (lib/wasm or misc/wasm)", root)
	return ""
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// lockedBuffer collects chromium's output from its copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; do not grow without bound
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}
