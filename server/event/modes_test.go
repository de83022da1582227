//go:build linux

package event_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
)

// The same hostile input earns the same answer from both modes: the close
// code that conn.Conn sends and the one the event loop sends come from one
// protocol core (internal/proto), and this table holds them to it.
func TestSameVerdictBothModes(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 200)
	vectors := []struct {
		name string
		raw  []byte
	}{
		{"unmasked", []byte{0x82, 0x00}},
		{"reserved opcode", masked(0x83, nil)},
		{"RSV1 without extension", masked(0xc1, []byte("x"))},
		{"RSV2", masked(0xa1, []byte("x"))},
		{"continuation first", masked(0x80, nil)},
		{"text inside text", append(masked(0x01, []byte("a")), masked(0x81, []byte("b"))...)},
		{"fragmented ping", masked(0x09, nil)},
		{"long ping", append([]byte{0x89, 0xfe, 0x00, 200, 1, 2, 3, 4}, long...)},
		{"bad UTF-8", masked(0x81, []byte{0xce, 0xff})},
		{"UTF-8 cut at the end", append(masked(0x01, []byte{0xce}), masked(0x80, nil)...)},
		{"close of one byte", masked(0x88, []byte{3})},
		{"close code 1005", masked(0x88, []byte{0x03, 0xed})},
		{"close code 999", masked(0x88, []byte{0x03, 0xe7})},
		{"close reason not UTF-8", masked(0x88, []byte{0x03, 0xe8, 0xff})},
		{"close 1000", masked(0x88, []byte{0x03, 0xe8})},
		{"close 4000", masked(0x88, []byte{0x0f, 0xa0})},
		{"empty close", masked(0x88, nil)},
		{"non-minimal length", []byte{0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 1, 2, 3, 4, 5}},
		{"over the read limit", append([]byte{0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4}, make([]byte, 256)...)},
	}
	const readLimit = 128
	url := start(t, eventOptions(readLimit), echoHandler())
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			want := goroutineVerdict(t, v.raw, readLimit)
			nc := rawDial(t, url)
			nc.Write(v.raw)
			h, p := readFrame(t, nc)
			if h.Opcode != frame.OpClose {
				t.Fatalf("event mode answered %v, want a close frame", h.Opcode)
			}
			if !bytes.Equal(p, want) {
				t.Fatalf("event mode closed with %q, goroutine mode with %q", p, want)
			}
		})
	}
}

// goroutineVerdict feeds raw to a conn.Conn server over net.Pipe, echoing
// as the event test server does, and returns the payload of its close frame.
func goroutineVerdict(t *testing.T, raw []byte, readLimit int64) []byte {
	t.Helper()
	cli, srv := net.Pipe()
	defer cli.Close()
	c := conn.New(srv, conn.Setup{Role: conn.Server, Options: &conn.Options{ReadLimit: readLimit, CloseTimeout: 100 * time.Millisecond}})
	defer c.CloseNow()
	go func() {
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(context.Background(), buf[:0])
			if err != nil {
				return
			}
			c.WriteMessage(context.Background(), typ, p)
			buf = p
		}
	}()
	cli.SetDeadline(time.Now().Add(testwait.Limit))
	go cli.Write(raw)
	h, p := readFrame(t, cli)
	if h.Opcode != frame.OpClose {
		t.Fatalf("goroutine mode answered %v, want a close frame", h.Opcode)
	}
	return p
}
