package conn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
)

// passExtension is an Extension that sends messages as they are, with
// RSV1 set, and counts what the Conn asks of it.
type passExtension struct{ closes atomic.Int32 }

func (*passExtension) RSV() byte                                      { return frame.RSV1 }
func (*passExtension) DecodeMessage(src io.Reader, _ int64) io.Reader { return src }
func (*passExtension) EncodeMessage(dst io.Writer, _ int) io.WriteCloser {
	return passEncoder{dst}
}
func (e *passExtension) Close() error { e.closes.Add(1); return nil }

type passEncoder struct{ io.Writer }

func (passEncoder) Close() error { return nil }

// releasingExtension is a passExtension that implements IdleReleaser.
type releasingExtension struct {
	passExtension
	releases atomic.Int32
}

func (e *releasingExtension) ReleaseIdle() { e.releases.Add(1) }

// idleConn returns a server Conn with ext and ReleaseCompressionAfter set
// to after, whose peer reads and discards everything.
func idleConn(t *testing.T, ext Extension, after time.Duration) *Conn {
	a, b := net.Pipe()
	c := New(a, Setup{Role: Server, Extension: ext, Options: &Options{ReleaseCompressionAfter: after}})
	go io.Copy(io.Discard, b)
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c
}

func send(t *testing.T, c *Conn) {
	t.Helper()
	if err := c.WriteMessage(context.Background(), Text, []byte("hello")); err != nil {
		t.Fatal(err)
	}
}

// sentOnce returns an idleConn with a releasingExtension that has sent
// one message.
func sentOnce(t *testing.T, period time.Duration) (*Conn, *releasingExtension) {
	ext := &releasingExtension{}
	c := idleConn(t, ext, period)
	send(t, c)
	return c, ext
}

// expectReleases checks, once every goroutine of the synctest bubble is
// blocked, that ext has released want times.
func expectReleases(t *testing.T, ext *releasingExtension, when string, want int32) {
	t.Helper()
	synctest.Wait()
	if n := ext.releases.Load(); n != want {
		t.Fatalf("%s: %d releases, want %d", when, n, want)
	}
}

// idleArmed reports, under the message lock, whether the release timer
// runs.
func idleArmed(t *testing.T, c *Conn) bool {
	t.Helper()
	if !c.wlocks.tryLock(lockMessage) {
		t.Fatal("message lock held")
	}
	defer c.wlocks.unlock(lockMessage)
	return c.idle != nil && c.idle.armed
}

// The extension's state is released between one and two periods after the
// last compressed message, not while messages keep coming, and the timer
// stops once it has released.
func TestReleaseCompressionAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const period = time.Second
		c, ext := sentOnce(t, period)
		time.Sleep(period + period/2)
		expectReleases(t, ext, "1.5 periods after a message", 0)
		time.Sleep(period / 2)
		expectReleases(t, ext, "2 periods after a message", 1)
		if idleArmed(t, c) {
			t.Fatal("timer still running after the release")
		}
		time.Sleep(10 * period)
		expectReleases(t, ext, "10 quiet periods later", 1)

		for range 10 { // a message every half period
			send(t, c)
			time.Sleep(period / 2)
		}
		expectReleases(t, ext, "while messages come every half period", 1)
		time.Sleep(period + period/2) // 2 periods after the last message
		expectReleases(t, ext, "2 periods after the last message", 2)
	})
}

// Periods under minReleasePeriod count as minReleasePeriod.
func TestReleaseCompressionAfterMinimum(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{
		{0, 0},
		{-time.Second, -time.Second},
		{time.Nanosecond, minReleasePeriod},
		{minReleasePeriod, minReleasePeriod},
		{time.Minute, time.Minute},
	} {
		a, b := net.Pipe()
		c := New(a, Setup{Role: Server, Options: &Options{ReleaseCompressionAfter: tc.set}})
		if got := c.opts.ReleaseCompressionAfter; got != tc.want {
			t.Errorf("ReleaseCompressionAfter %v became %v, want %v", tc.set, got, tc.want)
		}
		c.CloseNow()
		b.Close()
	}
}

// Without the option, or with an extension that cannot release, no timer
// is ever made.
func TestReleaseCompressionAfterOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ext := &releasingExtension{}
		off := idleConn(t, ext, 0)
		cannot := idleConn(t, &passExtension{}, time.Second)
		for _, c := range []*Conn{off, cannot} {
			send(t, c)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if ext.releases.Load() != 0 || off.idle != nil || cannot.idle != nil {
			t.Fatalf("releases %d, idle state %v and %v: want none", ext.releases.Load(), off.idle, cannot.idle)
		}
	})
}

// A message being streamed holds the message lock: the timer does not
// release under it, and counts the message once it ends.
func TestReleaseCompressionAfterStreaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const period = time.Second
		c, ext := sentOnce(t, period)
		w, err := c.NextWriter(context.Background(), Text)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			w.Write([]byte("part "))
			time.Sleep(period / 2)
		}
		expectReleases(t, ext, "while a message was being written", 0)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(period)
		expectReleases(t, ext, "one period after the streamed message ended", 0)
		time.Sleep(period)
		expectReleases(t, ext, "two periods after the streamed message ended", 1)
	})
}

// Closing stops the timer: nothing is released after the extension is
// closed, and the extension is closed once.
func TestReleaseCompressionAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const period = time.Second
		c, ext := sentOnce(t, period)
		time.Sleep(period / 2)
		c.CloseNow()
		if c.idle.armed {
			t.Fatal("timer still running after CloseNow")
		}
		time.Sleep(10 * period)
		synctest.Wait()
		if r, n := ext.releases.Load(), ext.closes.Load(); r != 0 || n != 1 {
			t.Fatalf("after close: %d releases, %d closes; want 0 and 1", r, n)
		}
	})
}

// With permessage-deflate and context takeover, the first message after a
// quiet period compresses as the first message of the connection did,
// without reference to earlier ones; the messages around it refer back;
// and a peer that keeps its window all along decodes them all.
func TestReleaseCompressionAfterDeflate(t *testing.T) {
	var msg []byte
	for i := range 40 {
		msg = fmt.Appendf(msg, `{"id":%d,"user":"u%d","score":%d},`, i, i*7919%1000, i*i%997)
	}
	for _, after := range []time.Duration{0, time.Second} {
		synctest.Test(t, func(t *testing.T) {
			a, b := net.Pipe()
			c := New(a, Setup{Role: Server, Extension: deflateSession(), Options: &Options{ReleaseCompressionAfter: after}})
			defer c.CloseNow()
			defer b.Close()
			r, _ := frame.NewReader(b, make([]byte, 4096))
			d := deflate.NewDecompressor(15, true)
			defer d.Release()
			var sizes []int
			next := func() {
				t.Helper()
				go c.WriteMessage(context.Background(), Text, msg)
				h, err := r.NextHeader()
				if err != nil || h.RSV != frame.RSV1 || !h.Fin {
					t.Fatalf("frame %+v, %v: want one compressed frame", h, err)
				}
				p, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(p))
				d.Reset(bytes.NewReader(p), 0)
				if got, err := io.ReadAll(d); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("message %d: inflated %d bytes, %v; want the message", len(sizes), len(got), err)
				}
			}
			next()
			next()
			time.Sleep(3 * time.Second)
			next()
			next()
			if sizes[1] >= sizes[0]/4 || sizes[3] >= sizes[0]/4 {
				t.Fatalf("after=%v: sizes %v: repeats did not refer back", after, sizes)
			}
			if released := sizes[2] == sizes[0]; released != (after > 0) {
				t.Fatalf("after=%v: sizes %v: the message after the quiet period compressed as the first: %t", after, sizes, released)
			}
		})
	}
}

// countingSession is a deflate.Session that counts its releases.
type countingSession struct {
	*deflate.Session
	releases atomic.Int32
}

func (s *countingSession) ReleaseIdle() {
	s.releases.Add(1)
	s.Session.ReleaseIdle()
}

// Releases between the messages of concurrent writers leave a stream that
// a peer keeping its window throughout decodes message by message. The
// writers write in rounds; between rounds the connection stays quiet until
// a release has happened, so the first messages of each round race for a
// compressor that has just dropped its history.
func TestReleaseCompressionAfterConcurrentWriters(t *testing.T) {
	const rounds, writers, perRound = 10, 4, 10
	a, b := net.Pipe()
	ext := &countingSession{Session: deflateSession()}
	c := New(a, Setup{Role: Server, Extension: ext, Options: &Options{ReleaseCompressionAfter: minReleasePeriod}})
	defer c.CloseNow()
	defer b.Close()
	sent := make(map[string]int)
	msg := func(round, w, i int) []byte {
		return fmt.Appendf(nil, `{"round":%d,"writer":%d,"seq":%d,"text":"the same words again and again"}`, round, w, i)
	}
	for round := range rounds {
		for w := range writers {
			for i := range perRound {
				sent[string(msg(round, w, i))]++
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		for round := range rounds {
			before := ext.releases.Load()
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := range perRound {
						if err := c.WriteMessage(context.Background(), Text, msg(round, w, i)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := testwait.Recv(t, errs, "errs"); err != nil {
				done <- err
				return
			}
			for deadline := time.Now().Add(5 * time.Second); ext.releases.Load() == before; time.Sleep(100 * time.Microsecond) {
				if time.Now().After(deadline) {
					done <- fmt.Errorf("round %d: no release within 5 s of quiet", round)
					return
				}
			}
		}
		done <- nil
	}()
	r, _ := frame.NewReader(b, make([]byte, 4096))
	d := deflate.NewDecompressor(15, true)
	defer d.Release()
	for n := range rounds * writers * perRound {
		h, err := r.NextHeader()
		if err != nil {
			t.Fatal(err)
		}
		p, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if h.RSV == frame.RSV1 {
			d.Reset(bytes.NewReader(p), 0)
			if p, err = io.ReadAll(d); err != nil {
				t.Fatalf("message %d: %v", n, err)
			}
		}
		if sent[string(p)] == 0 {
			t.Fatalf("message %d decoded to %q, which no writer sent", n, p)
		}
		sent[string(p)]--
	}
	if err := testwait.Recv(t, done, "done"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d releases among %d messages", ext.releases.Load(), rounds*writers*perRound)
}
