package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
	for _, flags := range [][]string{nil, {"-raw"}, {"-compress"}, {"-compress", "-no-context-takeover"}, {"-compress", "-release-compression", "10ms"}} {
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
			// A connection still open when the server stops is closed, and the
			// server exits.
			open, _, err := client.Dial(ctx, url, &client.DialOptions{Proxy: client.NoProxy})
			if err != nil {
				t.Fatal(err)
			}
			defer open.CloseNow()
			stopServer()
			if code := <-exited; code != 0 {
				t.Errorf("server exited with %d", code)
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
