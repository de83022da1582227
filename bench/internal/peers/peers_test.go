package peers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestEcho checks every library's endpoint and client against each other
// library's over both transports the benchmarks use, with compression off
// and on: text and binary messages, sizes around the header-length and
// buffer boundaries.
func TestEcho(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, o := range []Options{{}, {Compress: true}} {
		sizes := []int{0, 1, 125, 126, 4095, 4097, 65535, 65536, 200000}
		if o.Compress {
			sizes = []int{0, 1, 200, 4097, 65536, 200000}
		}
		for _, srvName := range Names() {
			testEchoServer(ctx, t, srvName, o, sizes)
		}
	}
}

// TestServerOnlyEcho checks the server-only endpoints (our event mode,
// nbio) with our client over TCP, compression off and on.
//
// nbio's endpoint sends nothing back for an empty message, so sizes start
// at 1 for it.
func TestServerOnlyEcho(t *testing.T) {
	for _, name := range ServerOnlyNames() {
		sizes := []int{0, 1, 125, 126, 4097, 65536, 200000}
		if name == "nbio" {
			sizes = sizes[1:]
		}
		for _, o := range []Options{{}, {Compress: true}} {
			t.Run(fmt.Sprintf("%s/compress=%v", name, o.Compress), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv, _ := Get(name)
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				go srv.Serve(ln, o)
				c, err := srv.Dial(ctx, "ws://"+ln.Addr().String()+"/", (&net.Dialer{}).DialContext, o)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, n := range sizes {
					for _, text := range []bool{false, true} {
						msg := Payload(n)
						got, err := c.Echo(ctx, text, msg)
						if err != nil {
							t.Fatalf("size %d text %v: %v", n, text, err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("size %d text %v: echo differs (%d bytes back)", n, text, len(got))
						}
					}
				}
			})
		}
	}
}

func testEchoServer(ctx context.Context, t *testing.T, srvName string, o Options, sizes []int) {
	srv, _ := Get(srvName)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go srv.Serve(ln, o)
	url := "ws://" + ln.Addr().String() + "/"
	for _, cliName := range Names() {
		cli, _ := Get(cliName)
		for _, tr := range []string{"pipe", "tcp"} {
			t.Run(fmt.Sprintf("compress=%v/server=%s/client=%s/%s", o.Compress, srvName, cliName, tr), func(t *testing.T) {
				if tr == "pipe" && srvName == "gobwas" && cliName == "gorilla" && !o.Compress {
					// gorilla sends a message larger than its 4 KiB
					// write buffer as several frames, and the gobwas
					// endpoint echoes each frame as it arrives: over
					// net.Pipe, which buffers nothing, both block on
					// a write. TCP's socket buffers absorb it.
					t.Skip("frame-level echo of a fragmenting client deadlocks on an unbuffered pipe")
				}
				dial := (&net.Dialer{}).DialContext
				if tr == "pipe" {
					dial = PipeDialer(srv, o)
				}
				c, err := cli.Dial(ctx, url, dial, o)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, n := range sizes {
					for _, text := range []bool{false, true} {
						msg := Payload(n)
						got, err := c.Echo(ctx, text, msg)
						if err != nil {
							t.Fatalf("size %d text %v: %v", n, text, err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("size %d text %v: echo differs (%d bytes back)", n, text, len(got))
						}
					}
				}
			})
		}
	}
}

func TestPayloadText(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 5, 100, 1000} {
		p := Payload(n)
		if !utf8.Valid(p) {
			t.Fatalf("Payload(%d) is not valid UTF-8", n)
		}
		if len(p) != n {
			t.Fatalf("Payload(%d) has %d bytes", n, len(p))
		}
	}
}

// TestClientsOffer checks that every client offers permessage-deflate
// with compression on, and only then: the request's
// Sec-WebSocket-Extensions is recorded by a listener that answers nothing.
func TestClientsOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	offers := make(chan string, 1)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(nc))
			if err == nil {
				offers <- req.Header.Get("Sec-WebSocket-Extensions")
			}
			nc.Close()
		}
	}()
	for _, name := range Names() {
		lib, _ := Get(name)
		for _, o := range []Options{{}, {Compress: true}} {
			if c, err := lib.Dial(ctx, "ws://"+ln.Addr().String()+"/", (&net.Dialer{}).DialContext, o); err == nil {
				c.Close()
				t.Fatalf("%s: dial succeeded against a silent listener", name)
			}
			got := <-offers
			if strings.Contains(got, "permessage-deflate") != o.Compress {
				t.Errorf("%s, compress %v: offered %q", name, o.Compress, got)
			}
		}
	}
}
