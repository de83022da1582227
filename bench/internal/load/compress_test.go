package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/peers"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
)

// TestCompressPeers runs compressed traffic against every library's echo
// server with compression on: each must accept the offer, and every reply
// must inflate to the message size.
func TestCompressPeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, lib := range peers.Names() {
		t.Run(lib, func(t *testing.T) {
			c := Config{URL: serveWith(t, lib, peers.Options{Compress: true}), Conns: 2, Size: 1024, Depth: 4, Text: true,
				Compress: true, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond}
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors) != 0 || rep.Messages == 0 {
				t.Fatalf("messages %d, errors %v %v", rep.Messages, rep.Errors, rep.ErrorExamples)
			}
			cr := rep.Compression
			if cr == nil || !strings.HasPrefix(cr.Extension, "permessage-deflate") || cr.FrameBytes >= c.Size || cr.CompressedReplies != rep.Messages {
				t.Fatalf("compression report %+v", cr)
			}
			t.Logf("%s accepted %q; %d B per message", lib, cr.Extension, cr.FrameBytes)
		})
	}
}

// fakeServer is an echo server that answers the handshake with a given
// Sec-WebSocket-Extensions value and echoes every message as mode says:
//
//	plain       uncompressed (RSV1 clear), which RFC 7692 §6 allows
//	takeover    compressed with context takeover
//	notakeover  compressed, each message on its own
//	fragmented  compressed with context takeover, in two frames
//	short       compressed, one byte short
//
// It compresses with the server_max_window_bits of its answer, if any,
// and reads and writes through reused buffers, so it allocates nothing per
// message once warm.
func fakeServer(t *testing.T, ext, mode string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeEcho(nc, ext, mode)
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func fakeEcho(nc net.Conn, ext, mode string) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	var out []byte
	out = handshake.AppendResponse(out, req.Header.Get("Sec-WebSocket-Key"), "", []byte(ext))
	if _, err := nc.Write(out); err != nil {
		return
	}
	bits := 15 // server_max_window_bits as answered
	if _, v, ok := strings.Cut(ext, "server_max_window_bits="); ok {
		v, _, _ = strings.Cut(v, ";")
		bits, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	dec := deflate.NewDecompressor(15, false)
	comp := deflate.NewCompressor(bits, deflate.BestSpeed, mode != "notakeover")
	var in, msg, zmsg []byte
	var zr bytes.Reader
	zw := bytes.NewBuffer(nil)
	for {
		var h frame.Header
		for n := 2; ; n++ {
			b, err := br.Peek(n)
			if err != nil {
				return
			}
			var hn int
			if h, hn, err = frame.ParseHeader(b); err != nil {
				return
			}
			if hn > 0 {
				br.Discard(hn)
				break
			}
		}
		in = append(in[:0], make([]byte, h.Length)...)
		if _, err := io.ReadFull(br, in); err != nil {
			return
		}
		frame.Mask(h.Key, 0, in)
		if h.Opcode == frame.OpClose {
			return
		}
		msg = msg[:0]
		if h.RSV&frame.RSV1 != 0 {
			zr.Reset(in)
			dec.Reset(&zr, 0)
			for {
				if len(msg) == cap(msg) {
					msg = append(msg, 0)[:len(msg)]
				}
				m, err := dec.Read(msg[len(msg):cap(msg)])
				msg = msg[:len(msg)+m]
				if err == io.EOF {
					break
				}
				if err != nil {
					return
				}
			}
		} else {
			msg = append(msg, in...)
		}
		out = out[:0]
		reply := frame.Header{Fin: true, Opcode: h.Opcode}
		switch mode {
		case "plain":
			reply.Length = int64(len(msg))
			out = append(frame.AppendHeader(out, reply), msg...)
		default:
			if mode == "short" {
				msg = msg[:len(msg)-1]
			}
			zw.Reset()
			comp.Reset(zw)
			comp.Write(msg)
			comp.Close()
			zmsg = append(zmsg[:0], zw.Bytes()...)
			reply.RSV = frame.RSV1
			if mode == "fragmented" {
				half := len(zmsg) / 2
				first := frame.Header{Opcode: h.Opcode, RSV: frame.RSV1, Length: int64(half)}
				out = append(frame.AppendHeader(out, first), zmsg[:half]...)
				reply, zmsg = frame.Header{Fin: true, Opcode: frame.OpContinuation}, zmsg[half:]
			}
			reply.Length = int64(len(zmsg))
			out = append(frame.AppendHeader(out, reply), zmsg...)
		}
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

// TestCompressedReplies checks the reply forms a server may choose after
// accepting the offer, and the answers that must fail the connection.
func TestCompressedReplies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pmd = "permessage-deflate; client_no_context_takeover"
	cases := []struct {
		name, ext, mode string
		errKind         string // "" for a clean run
	}{
		{"uncompressed-replies", pmd, "plain", ""},
		{"server-takeover", pmd, "takeover", ""},
		{"server-no-takeover", pmd + "; server_no_context_takeover", "notakeover", ""},
		{"small-server-window", pmd + "; server_max_window_bits=10", "notakeover", ""},
		{"client-window-chosen", pmd + "; client_max_window_bits=9", "takeover", ""},
		{"fragmented-replies", pmd, "fragmented", ""},
		{"wrong-inflated-length", pmd, "short", "mismatch"},
		{"declined", "", "plain", "negotiation"},
		{"unknown-parameter", pmd + "; foo", "plain", "negotiation"},
		{"window-out-of-range", pmd + "; server_max_window_bits=16", "plain", "negotiation"},
		{"not-offered", "x-webkit-deflate-frame", "plain", "negotiation"},
		{"accepted-twice", pmd + ", " + pmd, "plain", "negotiation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{URL: fakeServer(t, tc.ext, tc.mode), Conns: 2, Size: 3000, Depth: 3, Text: true, Compress: true,
				Duration: 150 * time.Millisecond, Warmup: 50 * time.Millisecond}
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if tc.errKind == "" {
				if len(rep.Errors) != 0 || rep.Messages == 0 {
					t.Fatalf("messages %d, errors %v %v", rep.Messages, rep.Errors, rep.ErrorExamples)
				}
				cr := rep.Compression
				if cr == nil || cr.Extension == "" || (cr.CompressedReplies == 0) != (tc.mode == "plain") {
					t.Fatalf("compression report %+v", cr)
				}
				return
			}
			if rep.Errors[tc.errKind] != uint64(c.Conns) || rep.Messages != 0 {
				t.Fatalf("want %d %s errors, got %v %v (%d messages)", c.Conns, tc.errKind, rep.Errors, rep.ErrorExamples, rep.Messages)
			}
		})
	}
}

// TestNegotiateErrors checks the typed error for answers RFC 7692 §7.1
// makes the client reject.
func TestNegotiateErrors(t *testing.T) {
	for _, v := range []string{"permessage-deflate; server_max_window_bits=7", "permessage-deflate; client_max_window_bits=16"} {
		_, err := negotiate([]string{v})
		var re *runError
		if !errors.As(err, &re) || re.kind != errNegotiation || !errors.Is(err, deflate.ErrBadResponse) {
			t.Errorf("%q: %v", v, err)
		}
	}
	_, err := negotiate(nil)
	if !errors.Is(err, errDeclined) {
		t.Errorf("no extension: %v", err)
	}
	neg, err := negotiate([]string{"permessage-deflate;client_no_context_takeover; server_max_window_bits=12"})
	if err != nil || neg.cfg.DecompressWindowBits != 12 || neg.cfg.CompressContextTakeover {
		t.Fatalf("%+v, %v", neg, err)
	}
}

// TestNoAllocationsPerCompressedMessage is TestNoAllocationsPerMessage
// with compressed replies from a server with context takeover.
func TestNoAllocationsPerCompressedMessage(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so the deflate pools allocate")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := Config{URL: fakeServer(t, "permessage-deflate; client_no_context_takeover", "takeover"), Conns: 2, Size: 1024,
		Depth: 8, Text: true, Compress: true, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond}
	allocs, rep := allocationsDuringMeasurement(ctx, t, c)
	if len(rep.Errors) != 0 || rep.Messages < 500 || allocs > rep.Messages/100 {
		t.Fatalf("%d allocations for %d messages, errors %v", allocs, rep.Messages, rep.Errors)
	}
}

// TestBodies checks that compressed runs cycle through distinct bodies
// covering twice the largest window, and uncompressed runs send one.
func TestBodies(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want int
	}{
		{Config{Size: 1024}, 1},
		{Config{Size: 1024, Compress: true}, 65},
		{Config{Size: 65536, Compress: true}, 2},
		{Config{Size: 4, Compress: true}, 4096},
		{Config{Size: 0, Compress: true}, 1},
	} {
		b := bodies(&tc.c)
		if len(b) != tc.want {
			t.Errorf("%+v: %d bodies, want %d", tc.c, len(b), tc.want)
		}
		if len(b) > 1 && (bytes.Equal(b[0], b[1]) || len(b[0]) != tc.c.Size) {
			t.Errorf("%+v: bodies not distinct or of the wrong size", tc.c)
		}
	}
}

// TestIdleCompressWarmUp runs idle mode with compression against every
// library's echo server, ours first: every connection must negotiate
// permessage-deflate and exchange its warm-up messages, each echo
// compressed and inflated to the message size, before the run is ready.
func TestIdleCompressWarmUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type tc struct {
		name, lib string
		c         Config
		warm      int
	}
	cases := []tc{
		{"ours-default", "ours", Config{Conns: 40, Size: 1024, Text: true, Sources: 2}, 1},
		{"ours-pipelined", "ours", Config{Conns: 10, Size: 3000, Depth: 2, IdleWarm: 5}, 5},
	}
	for _, lib := range peers.Names()[1:] {
		cases = append(cases, tc{lib, lib, Config{Conns: 10, Size: 1024, Text: true}, 1})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.URL = serveWith(t, tc.lib, peers.Options{Compress: true})
			c.Idle, c.Compress, c.Duration = true, true, 50*time.Millisecond
			ready := false
			c.Event = func(e string) { ready = ready || e == "ready" }
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(c.Conns * tc.warm)
			if !ready || rep.Connected != c.Conns || len(rep.Errors) != 0 {
				t.Fatalf("ready %v, connected %d of %d, errors %v %v", ready, rep.Connected, c.Conns, rep.Errors, rep.ErrorExamples)
			}
			if rep.Config.IdleWarm != tc.warm || rep.Messages != n || rep.Bytes != n*uint64(c.Size) {
				t.Fatalf("warm-up %d: %d echoes of %d bytes, want %d of %d", rep.Config.IdleWarm, rep.Messages, rep.Bytes, n, c.Size)
			}
			cr := rep.Compression
			if cr == nil || !strings.HasPrefix(cr.Extension, "permessage-deflate") || cr.Mixed || cr.CompressedReplies != n {
				t.Fatalf("compression report %+v", cr)
			}
			t.Logf("%s accepted %q", tc.lib, cr.Extension)
		})
	}
}

// TestIdleWarmUpFailures checks that a connection whose warm-up fails is
// not counted as open and that its error is counted by kind.
func TestIdleWarmUpFailures(t *testing.T) {
	const pmd = "permessage-deflate; client_no_context_takeover"
	silent, _ := silentServer(t, pmd)
	for _, tc := range []struct {
		name, url, errKind string
		timeout            time.Duration
	}{
		{"wrong-inflated-length", fakeServer(t, pmd, "short"), "mismatch", time.Minute},
		{"declined", fakeServer(t, "", "plain"), "negotiation", time.Minute},
		{"no-echo", silent, "warmup_timeout", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			c := Config{URL: tc.url, Conns: 3, Size: 1024, Idle: true, Compress: true, Duration: 10 * time.Millisecond}
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Connected != 0 || rep.Errors[tc.errKind] != uint64(c.Conns) || len(rep.Errors) != 1 {
				t.Fatalf("connected %d, errors %v %v; want %d %s errors", rep.Connected, rep.Errors, rep.ErrorExamples, c.Conns, tc.errKind)
			}
		})
	}
}

// TestIdleSendsNothing checks that idle mode without a warm-up sends
// nothing after the handshake, with or without compression.
func TestIdleSendsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pmd = "permessage-deflate; client_no_context_takeover"
	for _, tc := range []struct {
		name, ext string
		c         Config
	}{
		{"plain", "", Config{}},
		{"compressed-no-warm-up", pmd, Config{Compress: true, IdleWarm: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, got := silentServer(t, tc.ext)
			c := tc.c
			c.URL, c.Conns, c.Size, c.Idle, c.Duration = url, 4, 1024, true, 50*time.Millisecond
			rep, err := Run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Connected != c.Conns || len(rep.Errors) != 0 || rep.Messages != 0 {
				t.Fatalf("connected %d, errors %v, messages %d", rep.Connected, rep.Errors, rep.Messages)
			}
			if conns, n := got(c.Conns); conns != c.Conns || n != 0 {
				t.Fatalf("%d connections closed, %d bytes received after the handshakes", conns, n)
			}
		})
	}
}

// silentServer accepts WebSocket handshakes, answering with ext, and then
// reads without ever replying. got waits (up to 10 s) until n
// connections have ended and returns how many have, and the bytes
// received after their handshakes.
func silentServer(t *testing.T, ext string) (url string, got func(n int) (int, int64)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var closed, bytesIn atomic.Int64
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer closed.Add(1)
				defer nc.Close()
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if _, err := nc.Write(handshake.AppendResponse(nil, req.Header.Get("Sec-WebSocket-Key"), "", []byte(ext))); err != nil {
					return
				}
				n, _ := io.Copy(io.Discard, br)
				bytesIn.Add(n)
			}()
		}
	}()
	got = func(n int) (int, int64) {
		for end := time.Now().Add(10 * time.Second); closed.Load() < int64(n) && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
		return int(closed.Load()), bytesIn.Load()
	}
	return "ws://" + ln.Addr().String() + "/", got
}
