package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/server"
)

// TestServeAndClient runs the command as a server, then checks its echo
// with our client and with the command run as a client against a server
// that sends messages and closes.
func TestServeAndClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Through net/http, and with -raw through server.Serve; with
	// compression, with and without context takeover on the server's side,
	// and with the window given back after quiet periods (the echo is then
	// checked again after one).
	modes := [][]string{nil, {"-raw"}, {"-compress"}, {"-compress", "-no-context-takeover"}, {"-compress", "-release-compression", "10ms"}}
	if runtime.GOOS == "linux" {
		// The event mode (server/event), without and with compression.
		modes = append(modes, []string{"-event"}, []string{"-event", "-compress"})
	}
	for _, flags := range modes {
		t.Run("server"+strings.Join(flags, ""), func(t *testing.T) {
			pr, pw := io.Pipe()
			exited := make(chan int, 1)
			srvCtx, stopServer := context.WithCancel(ctx)
			go func() { exited <- run(srvCtx, append([]string{"-addr", "127.0.0.1:0"}, flags...), pw); pw.Close() }()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, pr)
			url := strings.TrimSpace(strings.TrimPrefix(line, "echo: serving on "))

			dopts := &client.DialOptions{Proxy: client.NoProxy}
			if slices.Contains(flags, "-compress") {
				dopts.Compression = &deflate.ClientOptions{}
			}
			c, resp, err := client.Dial(ctx, url, dopts)
			if err != nil {
				t.Fatal(err)
			}
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if compressed := strings.HasPrefix(ext, "permessage-deflate"); compressed != slices.Contains(flags, "-compress") {
				t.Errorf("server answered Sec-WebSocket-Extensions %q", ext)
			}
			if nct := strings.Contains(ext, "server_no_context_takeover"); nct != slices.Contains(flags, "-no-context-takeover") {
				t.Errorf("server answered Sec-WebSocket-Extensions %q", ext)
			}
			rounds := 1
			if slices.Contains(flags, "-release-compression") {
				rounds = 3
			}
			for round := range rounds {
				if round > 0 {
					time.Sleep(50 * time.Millisecond) // quiet: the windows go
				}
				for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
					msg := strings.Repeat("ping "+typ.String()+" ", 10)
					if err := c.WriteMessage(ctx, typ, []byte(msg)); err != nil {
						t.Fatal(err)
					}
					got, p, err := c.ReadMessage(ctx, nil)
					if err != nil || got != typ || string(p) != msg {
						t.Fatalf("round %d: echo: %v %q %v", round, got, p, err)
					}
				}
			}
			if err := c.Close(conn.StatusNormalClosure, ""); err != nil {
				t.Errorf("Close: %v", err)
			}
			// A connection still open when the server stops is closed with
			// 1001 Going Away, and the server exits.
			open, _, err := client.Dial(ctx, url, &client.DialOptions{Proxy: client.NoProxy})
			if err != nil {
				t.Fatal(err)
			}
			defer open.CloseNow()
			closed := make(chan error, 1)
			go func() {
				_, _, err := open.ReadMessage(ctx, nil)
				closed <- err
			}()
			stopServer()
			if code := <-exited; code != 0 {
				t.Errorf("server exited with %d", code)
			}
			var ce *conn.CloseError
			if err := <-closed; !errors.As(err, &ce) || ce.Code != conn.StatusGoingAway {
				t.Errorf("the open connection ended with %v, want a close with 1001", err)
			}
		})
	}

	// The client mode: exit 0 after a closing handshake, 1 after a drop.
	for _, tt := range []struct {
		name  string
		close bool
		want  int
	}{{"clean close", true, 0}, {"dropped", false, 1}} {
		t.Run("client/"+tt.name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := server.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer c.CloseNow()
				c.WriteMessage(ctx, conn.Text, []byte("hi"))
				if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "hi" {
					t.Errorf("echo from the client: %q %v", p, err)
				}
				if tt.close {
					c.Close(conn.StatusNormalClosure, "")
				}
			}))
			defer s.Close()
			var stderr strings.Builder
			if code := run(ctx, []string{"-client", "ws" + strings.TrimPrefix(s.URL, "http")}, &stderr); code != tt.want {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.want, stderr.String())
			}
		})
	}
}

// startEcho runs the command as a server with flags on a loopback port
// and returns its address and a function that stops it (as SIGINT
// would) and returns its exit code and how long it took to exit.
func startEcho(t *testing.T, flags ...string) (addr string, stop func() (int, time.Duration)) {
	t.Helper()
	pr, pw := io.Pipe()
	exited := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { exited <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, flags...), pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	stop = func() (int, time.Duration) {
		stopped = true
		start := time.Now()
		cancel()
		select {
		case code := <-exited:
			return code, time.Since(start)
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not exit")
			return 0, 0
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	url := strings.TrimSpace(strings.TrimPrefix(line, "echo: serving on "))
	return strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"), stop
}

const upgradeHead = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

// TestServerLimits: in both modes, the server answers an upgrade request
// with a 1 MiB header field 431, drops a client that sends its request
// too slowly once -handshake-timeout has passed, and when stopped gives a
// client that never answers the close frame -grace, then exits.
func TestServerLimits(t *testing.T) {
	const handshakeTimeout, grace = 500 * time.Millisecond, 300 * time.Millisecond
	for _, mode := range [][]string{nil, {"-raw"}} {
		t.Run("server"+strings.Join(mode, ""), func(t *testing.T) {
			addr, stop := startEcho(t, append([]string{"-handshake-timeout", handshakeTimeout.String(), "-grace", grace.String()}, mode...)...)
			dial := func(t *testing.T) net.Conn {
				nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { nc.Close() })
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				return nc
			}

			t.Run("1 MiB header", func(t *testing.T) {
				nc := dial(t)
				// Written while the answer is read: the server answers
				// before it has read it all.
				go nc.Write([]byte(upgradeHead + "X-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"))
				resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
				if err != nil {
					t.Fatalf("reading the answer: %v", err)
				}
				if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
					t.Errorf("status %d, want 431", resp.StatusCode)
				}
			})

			t.Run("slow request", func(t *testing.T) {
				nc := dial(t)
				start := time.Now()
				nc.Write([]byte(upgradeHead[:20])) // and nothing more
				answer, err := io.ReadAll(nc)
				d := time.Since(start)
				// Serve answers nothing; net/http 400 or 408, depending on
				// how far it got.
				if err != nil || len(answer) > 0 && !strings.HasPrefix(string(answer), "HTTP/1.1 400 ") && !strings.HasPrefix(string(answer), "HTTP/1.1 408 ") {
					t.Fatalf("read %q, %v; want the connection closed, after a 400 or 408 at most", answer, err)
				}
				// The server's clock started when it accepted, a moment
				// before this one.
				if d < handshakeTimeout-100*time.Millisecond || d > handshakeTimeout+2*time.Second {
					t.Errorf("dropped after %v, want %v", d, handshakeTimeout)
				}
				t.Logf("dropped after %v with %q", d, answer)
			})

			// A client that completes the handshake and then never
			// answers the close frame.
			nc := dial(t)
			if _, err := nc.Write([]byte(upgradeHead + "\r\n")); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(nc)
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			code, took := stop()
			if code != 0 {
				t.Errorf("exit code %d", code)
			}
			if took < grace || took > grace+2*time.Second {
				t.Errorf("exited %v after the signal, want about the grace period of %v", took, grace)
			}
			t.Logf("exited %v after the signal", took)
			// What the mute client got: the close frame with 1001, then
			// the end of the connection.
			rest, err := io.ReadAll(br)
			if err != nil || len(rest) < 4 || rest[0] != 0x88 || rest[2] != 0x03 || rest[3] != 0xe9 {
				t.Errorf("after the 101: % x %v, want a close frame with 1001 and EOF", rest, err)
			}
		})
	}
}

// TestConnFlags: in both modes, the conn flags reach the connections: a
// message over -read-limit gets 1009, and a client that stops reading its
// echoes is dropped once -write-timeout has passed.
func TestConnFlags(t *testing.T) {
	const limit, writeTimeout = 2 << 20, 500 * time.Millisecond
	for _, mode := range [][]string{nil, {"-raw"}} {
		t.Run("server"+strings.Join(mode, ""), func(t *testing.T) {
			addr, _ := startEcho(t, append([]string{"-read-limit", fmt.Sprint(limit), "-write-timeout", writeTimeout.String()}, mode...)...)
			upgrade := func(t *testing.T) (net.Conn, *bufio.Reader) {
				nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { nc.Close() })
				nc.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := nc.Write([]byte(upgradeHead + "\r\n")); err != nil {
					t.Fatal(err)
				}
				br := bufio.NewReader(nc)
				if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("handshake: %v %v", resp, err)
				}
				return nc, br
			}
			// A masked binary frame header with a zero key: the payload
			// goes as it is.
			header := func(n int) []byte {
				return []byte{0x82, 0x80 | 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 0, 0, 0}
			}

			t.Run("read limit", func(t *testing.T) {
				nc, br := upgrade(t)
				go nc.Write(append(header(limit+1), make([]byte, limit+1)...))
				f := make([]byte, 4)
				if _, err := io.ReadFull(br, f); err != nil || f[0] != 0x88 || f[2] != 0x03 || f[3] != 0xf1 {
					t.Fatalf("answer % x %v, want a close frame with 1009", f, err)
				}
			})

			t.Run("write timeout", func(t *testing.T) {
				nc, br := upgrade(t)
				// Ask for 64 MiB of echoes, more than the socket buffers
				// of both ends hold, and read none of them.
				msg := append(header(1<<20), make([]byte, 1<<20)...)
				for i := range 64 {
					nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if _, err := nc.Write(msg); err != nil {
						t.Logf("write %d: %v (the server stopped reading)", i, err)
						break
					}
				}
				time.Sleep(3 * writeTimeout)
				// The server has dropped us: what is buffered drains and
				// the connection ends, well before the read deadline.
				nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				start := time.Now()
				_, err := io.Copy(io.Discard, br)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("the connection was still open %v after the writes: %v", time.Since(start), err)
				}
			})
		})
	}
}
