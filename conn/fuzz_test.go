package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/ws/frame"
)

// outcome is what a receiver makes of a byte stream: the messages it
// delivers and how it ends.
type outcome struct {
	msgs []string // "text:..." or "binary:..."
	end  string   // "close 1000", "fail 1002", "abnormal"
}

// referenceReceive is a direct transcription of RFC 6455's receive rules,
// written for clarity rather than speed, over a whole input at once.
func referenceReceive(in []byte, server bool, limit int) outcome {
	var out outcome
	var msg []byte
	var typ frame.Opcode
	inMsg := false
	fail := func(code StatusCode) outcome { out.end = fmt.Sprintf("fail %d", code); return out }
	for {
		h, n, err := frame.ParseHeader(in)
		if err != nil {
			var pe *frame.ProtocolError
			errors.As(err, &pe)
			return fail(pe.Code)
		}
		if n == 0 {
			out.end = "abnormal"
			return out
		}
		in = in[n:]
		if h.RSV != 0 || h.Masked != server {
			return fail(1002)
		}
		control := h.Opcode.IsControl()
		if !control {
			if (h.Opcode == frame.OpContinuation) != inMsg {
				return fail(1002)
			}
			if h.Opcode != frame.OpContinuation {
				typ, msg = h.Opcode, msg[:0]
			}
			if int64(len(msg))+h.Length > int64(limit) {
				return fail(1009)
			}
		}
		avail := int64(len(in))
		truncated := avail < h.Length
		p := bytes.Clone(in[:min(avail, h.Length)])
		in = in[len(p):]
		if h.Masked {
			frame.Mask(h.Key, 0, p)
		}
		if control {
			if truncated {
				out.end = "abnormal"
				return out
			}
			if h.Opcode == frame.OpClose {
				code, _, err := frame.ParseClosePayload(p)
				if err != nil {
					var pe *frame.ProtocolError
					errors.As(err, &pe)
					return fail(pe.Code)
				}
				out.end = fmt.Sprintf("close %d", code)
				return out
			}
			continue
		}
		msg = append(msg, p...)
		if typ == frame.OpText && !utf8Completable(msg) {
			return fail(1007)
		}
		if truncated {
			out.end = "abnormal"
			return out
		}
		inMsg = !h.Fin
		if h.Fin {
			if typ == frame.OpText && !utf8.Valid(msg) {
				return fail(1007)
			}
			out.msgs = append(out.msgs, fmt.Sprintf("%v:%s", typ, msg))
		}
	}
}

// utf8Completable reports whether some continuation makes p valid UTF-8:
// everything before the last character start is valid and the tail is a
// proper prefix of a valid character.
func utf8Completable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for _, tail := range [][]byte{{0x80}, {0x80, 0x80}, {0x80, 0x80, 0x80}, {0xA0, 0x80}, {0x90, 0x80, 0x80}, {0x9F, 0x80}, {0x8F, 0x80, 0x80}} {
		if utf8.Valid(append(bytes.Clone(p), tail...)) {
			return true
		}
	}
	return false
}

// receive feeds in to a real Conn over net.Pipe and records its outcome.
func receive(t *testing.T, in []byte, server bool, limit int) outcome {
	return receiveWith(t, in, server, nil, limit)
}

// receiveWith is receive for a Conn that negotiated ext (nil: none).
func receiveWith(t *testing.T, in []byte, server bool, ext Extension, limit int) outcome {
	a, b := net.Pipe()
	role := Client
	if server {
		role = Server
	}
	c := New(a, Setup{Role: role, Extension: ext, Options: &Options{ReadLimit: int64(limit), CloseTimeout: 100 * time.Millisecond, ReadBufferSize: 64}})
	var peer sync.WaitGroup
	defer func() {
		// Once the Conn is closed, nothing may stay blocked on it.
		c.CloseNow()
		leak := time.AfterFunc(5*time.Second, func() { panic("peer goroutines blocked after CloseNow") })
		peer.Wait()
		leak.Stop()
	}()
	peer.Go(func() {
		b.Write(in)
		b.Close()
	})
	peer.Go(func() { io.Copy(io.Discard, b) }) // take whatever the Conn sends (pongs, close)
	done := time.AfterFunc(5*time.Second, func() { c.CloseNow() })
	defer done.Stop()
	var out outcome
	for {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			out.msgs = append(out.msgs, fmt.Sprintf("%v:%s", frame.Opcode(typ), msg))
			continue
		}
		var pe *frame.ProtocolError
		var ce *CloseError
		switch {
		case errors.As(err, &pe):
			out.end = fmt.Sprintf("fail %d", pe.Code)
		case errors.As(err, &ce) && ce.Code == StatusAbnormalClosure:
			out.end = "abnormal"
		case errors.As(err, &ce):
			out.end = fmt.Sprintf("close %d", ce.Code)
		default:
			t.Fatalf("untyped error %v for % x", err, in)
		}
		return out
	}
}

// FuzzReadPath feeds arbitrary byte streams to a server and a client Conn
// and checks their messages and ending against the reference model.
func FuzzReadPath(f *testing.F) {
	mk := func(h frame.Header, p string) []byte {
		h.Length = int64(len(p))
		b := []byte(p)
		if h.Masked {
			frame.Mask(h.Key, 0, b)
		}
		return append(frame.AppendHeader(nil, h), b...)
	}
	key := [4]byte{1, 2, 3, 4}
	f.Add(mk(frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: key}, "Hello"), true)
	f.Add(bytes.Join([][]byte{
		mk(frame.Header{Opcode: frame.OpText}, "Hel"),
		mk(frame.Header{Fin: true, Opcode: frame.OpPing}, "p"),
		mk(frame.Header{Fin: true, Opcode: frame.OpContinuation}, "lo"),
		mk(frame.Header{Fin: true, Opcode: frame.OpClose}, "\x03\xe8bye"),
	}, nil), false)
	f.Add(mk(frame.Header{Fin: true, Opcode: frame.OpText}, "κόσμε\xed\xa0\x80edited"), false)
	f.Add(mk(frame.Header{Fin: true, Opcode: frame.OpClose, Masked: true, Key: key}, "\x03"), true)
	f.Add(mk(frame.Header{Fin: true, Opcode: frame.OpBinary}, string(make([]byte, 300))), false)
	f.Fuzz(func(t *testing.T, in []byte, server bool) {
		const limit = 256
		want := referenceReceive(in, server, limit)
		got := receive(t, in, server, limit)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("input % x (server %v):\n got  %v\n want %v", in, server, got, want)
		}
	})
}
