package hostile

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// floodResult is what a flood saw: how much it wrote and how the server
// answered.
type floodResult struct {
	sent int64 // bytes written
	end  ending
}

// flood writes the chunks next returns (nil: done) while a goroutine
// reads what the server sends. It stops when the server sends a close
// frame or closes TCP, a write fails, or deadline passes, and then gives
// the server c.Release to close TCP.
func (s *session) flood(c *Config, next func() []byte, deadline time.Time) floodResult {
	var r floodResult
	start := time.Now()
	ended := make(chan ending, 1)
	var closeSeen atomic.Bool
	onClose := func() {
		closeSeen.Store(true)
		s.nc.SetWriteDeadline(time.Now()) // unblock a write the server no longer reads
	}
	s.nc.SetReadDeadline(deadline.Add(c.Release))
	s.nc.SetWriteDeadline(deadline)
	go func() { ended <- s.awaitNotify(start, time.Time{}, onClose) }()
	var e ending
	got := false
writing:
	for !closeSeen.Load() {
		select {
		case e = <-ended:
			got = true
			break writing
		default:
		}
		chunk := next()
		if chunk == nil {
			break
		}
		n, err := s.nc.Write(chunk)
		r.sent += int64(n)
		if err != nil {
			break
		}
	}
	if !got {
		s.nc.SetReadDeadline(time.Now().Add(c.Release))
		e = <-ended
	}
	r.end = e
	return r
}

// fragmentFlood starts a text message, sends up to c.Fragments empty
// continuation frames in batches and then a final one: a server must
// bound the frames of a message and close with 1009 or 1008 (RFC 6455
// §7.4.1) rather than swallow them all. A server that swallowed them
// echoes the message: that, not whether the tool finished writing (the
// socket buffers hold megabytes), tells it read to the end.
func fragmentFlood(ctx context.Context, c *Config) outcome {
	s, err := c.open(ctx, "")
	if err != nil {
		return fail(err.Error(), -1)
	}
	defer s.reset()
	const batch = 50_000
	first, last := true, false
	left := c.Fragments
	next := func() []byte {
		if first {
			first = false
			return text(false, "a")
		}
		if left == 0 {
			if !last {
				last = true
				return cont(true, "")
			}
			return nil
		}
		n := min(batch, left)
		left -= n
		b := make([]byte, 0, n*6)
		key := wire.NewMaskKey()
		for range n {
			b = wire.AppendHeader(b, wire.Header{Opcode: wire.OpContinuation, Masked: true, Key: key})
		}
		return b
	}
	r := s.flood(c, next, time.Now().Add(c.Stall))
	units := min(max(r.sent-int64(len(text(false, "a"))), 0)/6, int64(c.Fragments)) // 6 bytes per empty masked frame
	obs := fmt.Sprintf("%s; %d of %d fragments written", r.end.describe(), units, c.Fragments)
	ok := (r.end.closeCode == 1009 || r.end.closeCode == 1008) && r.end.released && r.end.data == 0
	if r.end.data > 0 {
		obs = fmt.Sprintf("swallowed all %d fragments and echoed the message; %s", c.Fragments, r.end.describe())
	}
	return verdictOf(ok, obs, r.end)
}

func verdictOf(ok bool, obs string, e ending) outcome {
	release := time.Duration(-1)
	if e.released {
		release = e.after
	}
	if ok {
		return pass(obs, release)
	}
	return fail(obs, release)
}

// deflateZeros compresses n zero bytes as one permessage-deflate message
// payload: raw DEFLATE, sync-flushed, without the final 00 00 ff ff
// (RFC 7692 §7.2.1).
func deflateZeros(n int64) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	io.CopyN(w, zeros{}, n)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// bombAttack sends one compressed message that inflates to 1 MiB more than
// the server's read limit.
func bombAttack(c *Config) func(context.Context, *Config) outcome {
	return violation(true, func() []byte {
		return wire.ClientFrame(nil, wire.OpBinary, true, wire.RSV1, deflateZeros(c.ReadLimit+1<<20))
	}, 1009)
}

// storedBlocksBomb streams one compressed frame made of empty stored
// DEFLATE blocks (00 00 00 ff ff: BFINAL 0, BTYPE 00, LEN 0, NLEN ffff,
// RFC 1951 §3.2.4), which inflate to nothing: a server that bounds only
// the inflated size reads it all, and echoes an empty message. The
// declared length is at least twice the read limit. The payload ends with one 00 byte, the header of the
// empty block whose 00 00 ff ff RFC 7692 §7.2.1 strips and the server
// appends back, so the whole message is valid and inflates to nothing.
func storedBlocksBomb(ctx context.Context, c *Config) outcome {
	s, err := c.open(ctx, deflateOffer)
	if err != nil {
		return fail(err.Error(), -1)
	}
	defer s.reset()
	if !s.deflate {
		return skip("server declined permessage-deflate")
	}
	total := uint64(max(64<<20, 2*c.ReadLimit))/5*5 + 1
	key := wire.NewMaskKey()
	block := []byte{0, 0, 0, 0xff, 0xff}
	plain := bytes.Repeat(block, 200_000) // 1 MB per chunk
	var pos uint64
	header := true
	next := func() []byte {
		if header {
			header = false
			return wire.AppendHeader(nil, wire.Header{Fin: true, RSV: wire.RSV1, Opcode: wire.OpBinary, Masked: true, Key: key, Length: total})
		}
		if pos == total {
			return nil
		}
		var chunk []byte
		if left := total - pos; left == 1 {
			chunk = []byte{0} // the header of the stripped final block
		} else {
			chunk = slices.Clone(plain[:min(uint64(len(plain)), left-1)])
		}
		pos = wire.Mask(key, pos, chunk)
		return chunk
	}
	r := s.flood(c, next, time.Now().Add(c.Stall))
	obs := fmt.Sprintf("%s; %s of %s sent", r.end.describe(), mib(max(r.sent-14, 0)), mib(int64(total)))
	if r.end.data > 0 {
		obs = "read it all and echoed the (empty) message; " + obs
	}
	// A server that read to the end echoes the message; one that bounds
	// compressed input closes before.
	return verdictOf(r.end.closeCode == 1009 && r.end.released && r.end.data == 0, obs, r.end)
}

// neverReads asks for echoes of 32 binary messages of 1 MiB and never
// reads: the server's writes block, and it must drop the connection
// within c.Stall (a write timeout, or keepalive pings left unanswered)
// rather than hold it, and its buffers, forever.
func neverReads(ctx context.Context, c *Config) outcome {
	s, err := c.open(ctx, "")
	if err != nil {
		return fail(err.Error(), -1)
	}
	defer s.reset()
	start := time.Now()
	deadline := start.Add(c.Stall + c.Release)
	msg := make([]byte, 1<<20)
	var wg sync.WaitGroup
	wg.Add(1)
	writeErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		s.nc.SetWriteDeadline(deadline)
		for range 32 {
			if _, err := s.nc.Write(wire.ClientFrame(nil, wire.OpBinary, true, 0, msg)); err != nil {
				writeErr <- err
				return
			}
		}
	}()
	gone, how := waitGone(s, deadline, writeErr)
	s.nc.SetWriteDeadline(time.Now()) // unblock the writer
	wg.Wait()
	if !gone {
		return fail(fmt.Sprintf("still connected after %s (server holds a peer that never reads)", ms(time.Since(start))), -1)
	}
	after := time.Since(start)
	obs := fmt.Sprintf("dropped after %s (%s)", ms(after), how)
	if after > c.Stall {
		return fail(obs+", later than -stall", after)
	}
	return pass(obs, after)
}

// waitGone polls the TCP state of s until the server has closed or reset
// it, a write reported a reset, or deadline passes.
func waitGone(s *session, deadline time.Time, writeErr <-chan error) (bool, string) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case err := <-writeErr:
			if isReset(err) {
				return true, "write failed: " + err.Error()
			}
			if !isTimeout(err) {
				return true, "write failed: " + err.Error()
			}
		case <-t.C:
			if closed, _ := peerClosed(s.nc); closed {
				return true, "TCP closed or reset by the server"
			}
		}
	}
	return false, ""
}

// pingFlood sends pings with 125-byte payloads as fast as the server
// takes them and never reads the pongs (RFC 6455 §5.5.2 owes one per
// ping). The server must drop the connection or stop reading (back
// pressure) so its memory stays bounded. It runs at most c.Stall +
// c.Release.
func pingFlood(ctx context.Context, c *Config) outcome {
	s, err := c.open(ctx, "")
	if err != nil {
		return fail(err.Error(), -1)
	}
	defer s.reset()
	rss := sampleRSS(c.PID, 100*time.Millisecond)
	start := time.Now()
	deadline := start.Add(c.Stall + c.Release)
	payload := bytes.Repeat([]byte{'p'}, 125)
	var chunk []byte
	for range 500 {
		chunk = wire.ClientFrame(chunk, wire.OpPing, true, 0, payload)
	}
	var sent int64
	writeErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.nc.SetWriteDeadline(deadline)
		for {
			n, err := s.nc.Write(chunk)
			sent += int64(n)
			if err != nil {
				writeErr <- err
				return
			}
		}
	}()
	gone, how := waitGone(s, deadline, writeErr)
	s.nc.SetWriteDeadline(time.Now())
	wg.Wait()
	after := time.Since(start)
	obs := fmt.Sprintf("sent %s of pings", mib(sent))
	var growth int64
	rising := false
	if rss != nil {
		rss.finish()
		growth = rss.peak - rss.base
		obs += ", server RSS growth " + mib(growth)
		if n := len(rss.samples); n >= 6 {
			// Still rising: the last third's peak well above the middle's.
			mid := slices.Max(rss.samples[n/3 : 2*n/3])
			last := slices.Max(rss.samples[2*n/3:])
			rising = last-mid > c.RSSBound/4
		}
	}
	switch {
	case gone:
		obs = fmt.Sprintf("dropped after %s (%s); %s", ms(after), how, obs)
		if rss != nil && growth > c.RSSBound {
			return fail(obs+", over -rss-bound", after)
		}
		return pass(obs, after)
	case rss == nil:
		return skip(fmt.Sprintf("not dropped within %s; %s; memory not checked (no -pid)", ms(after), obs))
	case growth > c.RSSBound || rising:
		return fail(fmt.Sprintf("not dropped within %s; %s (bound %s, still rising: %v)", ms(after), obs, mib(c.RSSBound), rising), -1)
	}
	return pass(fmt.Sprintf("not dropped within %s but memory bounded; %s", ms(after), obs), -1)
}
