package h2stream

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// streamPair returns two Conns joined by Pipes, as a client's request body
// would join it to a server: what a writes, b reads, and back.
func streamPair(t testing.TB) (a, b *Conn) {
	ab, ba := NewPipe(), NewPipe()
	a = New(Config{In: ba, Out: ab, OnClose: func(<-chan struct{}) { ab.CloseWrite(); ba.Close() }})
	b = New(Config{In: ab, Out: ba, OnClose: func(<-chan struct{}) { ba.CloseWrite(); ab.Close() }})
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// within fails the test if fn does not return within a few seconds.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return within 5s", what)
	}
}

func TestReadDeadlineLeavesStreamUsable(t *testing.T) {
	a, b := streamPair(t)
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 16)
	within(t, "a Read past its deadline", func() {
		if n, err := b.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read = %d, %v; want 0, os.ErrDeadlineExceeded", n, err)
		}
	})
	var ne net.Error
	if _, err := b.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a Read after the deadline: %v, want a net.Error with Timeout()", err)
	}
	b.SetReadDeadline(time.Time{})
	within(t, "Write and Read after the timeout", func() {
		go a.Write([]byte("after"))
		n, err := io.ReadFull(b, buf[:5])
		if err != nil || string(buf[:n]) != "after" {
			t.Errorf("Read after clearing the deadline: %q, %v", buf[:n], err)
		}
	})
}

func TestDeadlineInThePastInterruptsRead(t *testing.T) {
	_, b := streamPair(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		b.SetReadDeadline(time.Unix(1, 0))
	}()
	within(t, "a Read interrupted by a past deadline", func() {
		if _, err := b.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read: %v, want os.ErrDeadlineExceeded", err)
		}
	})
}

// TestWriteDeadlineWithdrawsBytes: nobody reads, so Write blocks; at its
// deadline it returns a timeout, and the bytes not taken are not sent
// later.
func TestWriteDeadlineWithdrawsBytes(t *testing.T) {
	out := NewPipe()
	c := New(Config{In: NewPipe(), Out: out})
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	within(t, "a Write past its deadline", func() {
		if n, err := c.Write([]byte("withdrawn")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Write = %d, %v; want 0, os.ErrDeadlineExceeded", n, err)
		}
	})
	c.SetWriteDeadline(time.Time{})
	within(t, "a Write after the timeout", func() {
		go c.Write([]byte("sent"))
		buf := make([]byte, 16)
		n, err := out.Read(buf)
		if err != nil || string(buf[:n]) != "sent" {
			t.Errorf("reader got %q, %v; want only the later write", buf[:n], err)
		}
	})
}

// TestPipeAbortAfterPartialTake: the count of an aborted Write is what
// the reader took.
func TestPipeAbortAfterPartialTake(t *testing.T) {
	p := NewPipe()
	done := make(chan struct{})
	var n int
	var err error
	go func() {
		defer close(done)
		n, err = p.Write([]byte("0123456789"))
	}()
	buf := make([]byte, 4)
	if k, _ := p.Read(buf); k != 4 {
		t.Fatalf("Read took %d bytes, want 4", k)
	}
	p.Abort()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write did not return after Abort")
	}
	if n != 4 || !errors.Is(err, ErrAborted) {
		t.Errorf("Write = %d, %v; want 4, ErrAborted", n, err)
	}
	p.CloseWrite()
	if k, err := p.Read(buf); k != 0 || err != io.EOF {
		t.Errorf("Read after CloseWrite = %d, %v; want 0, EOF (the withdrawn bytes stay withdrawn)", k, err)
	}
}

func TestCloseUnblocksAndFailsCalls(t *testing.T) {
	a, _ := streamPair(t)
	readErr := make(chan error, 1)
	writeErr := make(chan error, 1)
	go func() { _, err := a.Read(make([]byte, 1)); readErr <- err }()
	go func() { _, err := a.Write(make([]byte, 1<<20)); writeErr <- err }()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	for _, ch := range []chan error{readErr, writeErr} {
		select {
		case err := <-ch:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("blocked call after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close left a call blocked")
		}
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
	// The reading goroutine ends once the role's OnClose ended the
	// incoming half: no goroutine is left behind.
	select {
	case <-a.PumpDone():
	case <-time.After(5 * time.Second):
		t.Error("the reading goroutine still runs 5 s after Close")
	}
}

// TestPeerEndReadsEOF: END_STREAM from the peer (the body's io.EOF)
// reaches Read after the data before it.
func TestPeerEndReadsEOF(t *testing.T) {
	a, b := streamPair(t)
	within(t, "reading to the end", func() {
		go func() {
			a.Write([]byte("last words"))
			a.Close()
		}()
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, []byte("last words")) {
			t.Errorf("ReadAll = %q, %v; want the data then EOF", got, err)
		}
	})
}

// TestStreamAllocs: moving bytes through a pair of streams allocates
// nothing once running.
func TestStreamAllocs(t *testing.T) {
	a, b := streamPair(t)
	msg := make([]byte, 1024)
	buf := make([]byte, 1024)
	send := make(chan struct{})
	defer close(send)
	go func() {
		for range send {
			a.Write(msg)
		}
	}()
	allocs := testing.AllocsPerRun(100, func() {
		send <- struct{}{}
		if _, err := io.ReadFull(b, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per 1 KiB through the streams, want 0", allocs)
	}
}
