package conn

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
)

func deflateSession() *deflate.Session {
	return deflate.NewSession(deflate.Config{CompressWindowBits: 15, CompressContextTakeover: true, DecompressWindowBits: 15, DecompressContextTakeover: true, Level: deflate.BestSpeed})
}

// newDeflatePeer is newRawPeer for a Conn that negotiated permessage-deflate.
func newDeflatePeer(t *testing.T, opts *Options) (*Conn, *rawPeer) {
	c, p := newRawPeer(t, Client, opts)
	c.ext = deflateSession()
	c.rules.AllowRSV(frame.RSV1)
	return c, p
}

// inflate decodes a permessage-deflate payload with compress/flate.
func inflate(t *testing.T, p []byte) []byte {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
	out, err := io.ReadAll(r)
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// RSV1 marks the first frame of a compressed message only; continuation
// frames carry the rest of the DEFLATE stream (RFC 7692 §6.1).
func TestDeflateWireFormat(t *testing.T) {
	c, p := newDeflatePeer(t, &Options{MaxFrameSize: 100})
	msg := strings.Repeat("compressible text, compressible text. ", 200)
	go c.WriteMessage(context.Background(), Text, []byte(msg))
	var payload []byte
	for i := 0; ; i++ {
		h, b := p.next()
		if wantRSV := i == 0; (h.RSV == frame.RSV1) != wantRSV || h.RSV&^frame.RSV1 != 0 {
			t.Fatalf("frame %d: RSV %#x", i, h.RSV)
		}
		if (i == 0) != (h.Opcode == frame.OpText) {
			t.Fatalf("frame %d: opcode %v", i, h.Opcode)
		}
		payload = append(payload, b...)
		if h.Fin {
			break
		}
	}
	if len(payload) >= len(msg)/4 {
		t.Errorf("compressed to %d of %d bytes", len(payload), len(msg))
	}
	if got := inflate(t, payload); string(got) != msg {
		t.Fatalf("inflated %d bytes, want the message", len(got))
	}
}

// Control frames are never compressed; messages under the threshold and
// messages written with compression off go out plain.
func TestDeflatePlainFrames(t *testing.T) {
	c, p := newDeflatePeer(t, nil)
	go func() {
		c.WriteMessage(context.Background(), Text, []byte("tiny"))
		c.SetWriteCompression(false)
		c.WriteMessage(context.Background(), Binary, bytes.Repeat([]byte{7}, 5000))
		c.SetWriteCompression(true)
		c.Ping(context.Background())
	}()
	for i, want := range []frame.Opcode{frame.OpText, frame.OpBinary, frame.OpPing} {
		h, b := p.next()
		if h.Opcode != want || h.RSV != 0 {
			t.Fatalf("frame %d: %v RSV %#x, want plain %v", i, h.Opcode, h.RSV, want)
		}
		if want == frame.OpBinary && len(b) != 5000 {
			t.Fatalf("opted-out message of %d bytes", len(b))
		}
	}
}

// The peer's compressed messages are inflated, with control frames
// between their fragments; RSV1 where RFC 7692 forbids it is 1002.
func TestDeflateReceive(t *testing.T) {
	compress := func(msg string) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		io.WriteString(w, msg)
		w.Flush()
		return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	}
	t.Run("fragmented with ping", func(t *testing.T) {
		c, p := newDeflatePeer(t, nil)
		z := compress("Hello, compressed world")
		first := p.frame(false, frame.OpText, z[:5])
		first[0] |= frame.RSV1
		got := make(chan string, 1)
		go func() { _, m, _ := c.ReadMessage(context.Background(), nil); got <- string(m) }()
		p.send(first)
		p.send(p.frame(true, frame.OpPing, []byte("x")))
		if h, _ := p.next(); h.Opcode != frame.OpPong {
			t.Fatalf("got %v, want pong", h.Opcode)
		}
		p.send(p.frame(true, frame.OpContinuation, z[5:]))
		if m := testwait.Recv(t, got, "got"); m != "Hello, compressed world" {
			t.Fatalf("got %q", m)
		}
	})
	for _, tt := range []struct {
		name string
		wire func(p *rawPeer) []byte
	}{
		{"RSV1 on continuation", func(p *rawPeer) []byte {
			a := p.frame(false, frame.OpText, compress("ab"))
			a[0] |= frame.RSV1
			b := p.frame(true, frame.OpContinuation, nil)
			b[0] |= frame.RSV1
			return append(a, b...)
		}},
		{"RSV1 on ping", func(p *rawPeer) []byte { b := p.frame(true, frame.OpPing, nil); b[0] |= frame.RSV1; return b }},
		{"RSV2 with deflate", func(p *rawPeer) []byte { b := p.frame(true, frame.OpText, nil); b[0] |= frame.RSV2; return b }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, p := newDeflatePeer(t, nil)
			errc := make(chan error, 1)
			go func() { _, _, err := c.ReadMessage(context.Background(), nil); errc <- err }()
			go p.nc.Write(tt.wire(p))
			if code := p.expectClose(); code != StatusProtocolError {
				t.Fatalf("close %v, want 1002", code)
			}
			p.nc.Close()
			var pe *frame.ProtocolError
			if err := testwait.Recv(t, errc, "errc"); !errors.As(err, &pe) || pe.Code != StatusProtocolError {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("corrupt data", func(t *testing.T) {
		c, p := newDeflatePeer(t, nil)
		go c.ReadMessage(context.Background(), nil)
		b := p.frame(true, frame.OpBinary, []byte{0xff, 0xff, 0xff})
		b[0] |= frame.RSV1
		go p.nc.Write(b)
		if code := p.expectClose(); code != StatusInvalidPayloadData {
			t.Fatalf("close %v, want 1007", code)
		}
	})
}

// Closing a Conn from another goroutine while it reads and writes
// compressed messages must not release the extension's buffers under
// them (run with -race).
func TestDeflateCloseWhileBusy(t *testing.T) {
	for range 20 {
		srv, cli := pipe(t, nil, nil)
		srv.ext, cli.ext = deflateSession(), deflateSession()
		srv.rules.AllowRSV(frame.RSV1)
		cli.rules.AllowRSV(frame.RSV1)
		msg := bytes.Repeat([]byte("busy busy busy "), 1000)
		go echo(srv)
		go func() {
			for cli.WriteMessage(context.Background(), Binary, msg) == nil {
			}
		}()
		go func() {
			for {
				if _, _, err := cli.ReadMessage(context.Background(), nil); err != nil {
					return
				}
			}
		}()
		srv.CloseNow()
		cli.CloseNow()
	}
}

// A message written whole is compressed into one frame while the encoded
// message fits 64 KiB (one write system call), into frames of at most
// 64 KiB beyond that, and into MaxFrameSize frames when that is set.
func TestDeflateWholeMessageFrames(t *testing.T) {
	// Random lower-case letters: compressible (to about 5/8), but a
	// megabyte of them does not fit 64 KiB compressed.
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	text := string(b)
	for _, tc := range []struct {
		name     string
		size     int
		maxFrame int
		frames   func(n int) bool // acceptable frame counts
		maxLen   int64
	}{
		{"4 KiB", 4 << 10, 0, func(n int) bool { return n == 1 }, 64 << 10},
		{"64 KiB", 64 << 10, 0, func(n int) bool { return n == 1 }, 64 << 10},
		{"1 MiB", 1 << 20, 0, func(n int) bool { return n >= 2 }, 64 << 10},
		{"64 KiB, MaxFrameSize 1000", 64 << 10, 1000, func(n int) bool { return n > 2 }, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newDeflatePeer(t, &Options{MaxFrameSize: tc.maxFrame})
			c.role = Server // unmasked frames, as a server sends them
			msg := text[:tc.size]
			go c.WriteMessage(context.Background(), Text, []byte(msg))
			var payload []byte
			n := 0
			for {
				h, b := p.next()
				n++
				if h.Length > tc.maxLen {
					t.Fatalf("frame %d: %d bytes, want at most %d", n, h.Length, tc.maxLen)
				}
				payload = append(payload, b...)
				if h.Fin {
					break
				}
			}
			if !tc.frames(n) {
				t.Errorf("%d frames for %d bytes compressed to %d", n, len(msg), len(payload))
			}
			if got := inflate(t, payload); string(got) != msg {
				t.Fatalf("inflated %d bytes, want the %d sent", len(got), len(msg))
			}
		})
	}
}
