package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// TestHTTPSWithHTTP2 runs the command with -tls -h2 (a self-signed
// certificate) and reaches it over HTTP/2 and over HTTP/1.1, with and
// without compression; a plain GET gets the page.
func TestHTTPSWithHTTP2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	exited := make(chan int, 1)
	srvCtx, stopServer := context.WithCancel(ctx)
	go func() {
		exited <- run(srvCtx, []string{"-addr", "127.0.0.1:0", "-tls", "-h2", "-compress"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(strings.TrimPrefix(line, "echo: serving on "))
	if !strings.HasPrefix(url, "wss://") {
		t.Fatalf("serving on %q, want a wss:// URL", url)
	}
	insecure := &tls.Config{InsecureSkipVerify: true} // the command's self-signed certificate
	for _, mode := range []client.HTTP2Mode{client.HTTP2Require, client.HTTP2Never} {
		t.Run(mode.String(), func(t *testing.T) {
			opts := &client.DialOptions{Proxy: client.NoProxy, TLSConfig: insecure, HTTP2: mode}
			c, resp, err := client.Dial(ctx, url, opts)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.CloseNow()
			if want := map[client.HTTP2Mode]int{client.HTTP2Require: 2, client.HTTP2Never: 1}[mode]; resp.ProtoMajor != want {
				t.Errorf("answered over %s, want HTTP/%d", resp.Proto, want)
			}
			if err := c.WriteMessage(ctx, conn.Text, []byte("over "+resp.Proto)); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "over "+resp.Proto {
				t.Fatalf("echo: %q, %v", p, err)
			}
			if err := c.Close(conn.StatusNormalClosure, ""); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Run("page", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: insecure, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("https" + strings.TrimPrefix(url, "wss"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || !strings.Contains(string(body), "WebSocket echo server") {
			t.Errorf("GET /: %s, %q", resp.Proto, body)
		}
	})
	stopServer()
	if code := <-exited; code != 0 {
		t.Errorf("server exited with %d", code)
	}
}

// TestClientOverHTTP2 runs the command as a client with -h2 -insecure
// against an HTTPS server with HTTP/2.
func TestClientOverHTTP2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	protos := make(chan int, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.ProtoMajor
		c, err := server.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.WriteMessage(ctx, conn.Text, []byte("hi"))
		if _, p, err := c.ReadMessage(ctx, nil); err != nil || string(p) != "hi" {
			t.Errorf("echo from the client: %q %v", p, err)
		}
		c.Close(conn.StatusNormalClosure, "")
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()
	var stderr strings.Builder
	if code := run(ctx, []string{"-client", "wss" + strings.TrimPrefix(s.URL, "https"), "-h2", "-insecure"}, &stderr); code != 0 {
		t.Errorf("client exited with %d: %s", code, stderr.String())
	}
	if p := <-protos; p != 2 {
		t.Errorf("the client came over HTTP/%d, want 2", p)
	}
}
