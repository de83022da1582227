package conn

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
)

// countingConn counts the Write calls that reach the network.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// pipelined sends depth client frames in one write to an echoing server
// Conn and returns how many writes the server needed for the replies.
func pipelined(t *testing.T, depth int) int32 {
	a, b := net.Pipe()
	cc := &countingConn{Conn: a}
	srv := New(cc, Setup{Role: Server})
	defer srv.CloseNow()
	defer b.Close()
	go echo(srv)
	var batch []byte
	for i := range depth {
		p := []byte{byte(i), 'x'}
		key := [4]byte{1, 2, 3, 4}
		batch = frame.AppendHeader(batch, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: key, Length: int64(len(p))})
		frame.Mask(key, 0, p)
		batch = append(batch, p...)
	}
	go b.Write(batch)
	r, _ := frame.NewReader(b, make([]byte, 4096))
	for i := range depth {
		h, err := r.NextHeader()
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, h.Length)
		if _, err := r.Read(p); err != nil || !bytes.Equal(p, []byte{byte(i), 'x'}) {
			t.Fatalf("reply %d = %q, %v", i, p, err)
		}
	}
	return cc.writes.Load()
}

// Replies to pipelined messages already buffered go out together.
func TestWriteBatchingPipelined(t *testing.T) {
	if n := pipelined(t, 16); n > 2 {
		t.Fatalf("%d writes for 16 pipelined replies, want at most 2", n)
	}
}

// At depth 1 every reply is flushed at once: no timer is involved, so in a
// synctest bubble the reply arrives without time passing.
func TestWriteBatchingDepthOneNoDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cli := pipe(t, nil, nil)
		go echo(srv)
		start := time.Now()
		for i := range 5 {
			if err := cli.WriteMessage(context.Background(), Text, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			if _, msg, err := cli.ReadMessage(context.Background(), nil); err != nil || string(msg) != "ping" {
				t.Fatalf("round %d: %q %v", i, msg, err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("5 round trips took %v of fake time, want 0 (a flush waited for the timer)", d)
		}
		srv.CloseNow()
		cli.CloseNow()
	})
}

// A deferred flush is sent by the timer when the application stops
// reading with input still buffered.
func TestDeferredFlushTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		srv := New(a, Setup{Role: Server})
		defer srv.CloseNow()
		defer b.Close()
		var batch []byte
		for range 2 {
			key := [4]byte{9, 9, 9, 9}
			p := []byte("hi")
			frame.Mask(key, 0, p)
			batch = append(frame.AppendHeader(batch, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: key, Length: 2}), p...)
		}
		go b.Write(batch)
		// Read one message, leaving the second buffered, reply, and stop reading.
		if _, _, err := srv.ReadMessage(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		go srv.WriteMessage(context.Background(), Text, []byte("reply"))
		r, _ := frame.NewReader(b, make([]byte, 64))
		if h, err := r.NextHeader(); err != nil || h.Opcode != frame.OpText {
			t.Fatalf("%+v %v", h, err)
		}
		if d := time.Since(start); d != maxFlushDelay {
			t.Fatalf("reply flushed after %v, want the timer's %v", d, maxFlushDelay)
		}
	})
}

// A flush the reader finds deferred while a writer still holds the wire is
// sent when the writer lets go, not left to the timer: here the writer
// defers (the reader holds more input), the reader stops reading from its
// buffer and fails to take the wire, and the writer then releases it.
func TestDeferredFlushAfterWireRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		srv := New(a, Setup{Role: Server})
		defer srv.CloseNow()
		defer b.Close()
		srv.moreInput.Store(true) // as after reading one of two buffered messages
		if !srv.wlocks.tryLock(lockMessage | lockWire) {
			t.Fatal("locks not free")
		}
		srv.attachWriteBuf()
		if err := srv.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.OpText}, []byte("reply"), true); err != nil {
			t.Fatal(err)
		}
		if !srv.flushPending.Load() {
			t.Fatal("the reply was not deferred")
		}
		srv.beforeNetRead() // the reader: moreInput false, the wire is busy
		if !srv.flushPending.Load() {
			t.Fatal("the reader flushed while the writer held the wire")
		}
		start := time.Now()
		got := make(chan string, 1)
		go func() {
			r, _ := frame.NewReader(b, make([]byte, 64))
			h, err := r.NextHeader()
			p := make([]byte, h.Length)
			r.Read(p)
			got <- fmt.Sprintf("%v %s %v", h.Opcode, p, err)
		}()
		srv.unlockWriterAndWire()
		if s, want := testwait.Recv(t, got, "got"), fmt.Sprintf("%v reply <nil>", frame.OpText); s != want {
			t.Fatalf("peer read %q, want %q", s, want)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("reply flushed after %v of fake time, want at once (not by the %v timer)", d, maxFlushDelay)
		}
	})
}
