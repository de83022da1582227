package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
)

// worker is one connection and the goroutine that drives it.
type worker struct {
	r  *runner
	id int
	nc net.Conn

	rbuf   []byte
	rs, re int // rbuf[rs:re] is read and not yet parsed

	// Reply parsing.
	skip   int64 // payload bytes of the current frame still to skip
	inMsg  bool  // inside a fragmented reply
	msgLen int64 // payload bytes of the current reply so far
	ctrl   bool  // the current frame is a control frame being skipped

	// Messages in flight: their send (or intended send) times, a ring.
	times      []int64
	head, nfly int

	set    *frameSet // the shared frames this connection sends
	frames []byte    // set's frames, or a private copy with FreshMasks
	krand  *rand.ChaCha8
	next   int    // index of the next frame to send, in [0, set.ring)
	pend   []byte // part of a write that has not gone out yet
	owed   int    // closed loop: messages to send once pend has gone

	readDL int64 // read deadline currently set (ns since base), 0 = none

	// With permessage-deflate: the server's messages are inflated by dec,
	// configured as the server answered (window, context takeover); the
	// compressed payload of the current reply collects in zbuf and the
	// inflated bytes are counted into sink and dropped. All three are
	// reused from message to message.
	rsvOK    byte // RSV bits a reply may set: RSV1 once compression is negotiated
	comp     bool // the current reply is compressed
	inflated bool // the reply being completed was compressed
	dec      *deflate.Decompressor
	zbuf     []byte
	zr       bytes.Reader
	sink     []byte
}

// open dials and runs the handshake.
func (w *worker) open(ctx context.Context) error {
	r := w.r
	c := &r.cfg
	size := min(max(4<<10, c.Depth*(frame.MaxHeaderSize+c.Size)), 64<<10)
	if c.Idle {
		size = maxResponse
	}
	w.rbuf = make([]byte, size)
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	nc, n, neg, err := dial(hctx, c, r.u, w.id, w.rbuf)
	if err != nil {
		return err
	}
	w.nc, w.re = nc, n
	w.set = &r.plain
	if neg != nil {
		w.set = r.deflatedFrames(neg)
		w.rsvOK = frame.RSV1
		w.dec = neg.cfg.NewDecompressor()
		w.sink = make([]byte, 8<<10)
	}
	return nil
}

// warmUpTimeout bounds the warm-up exchange of an idle connection.
const warmUpTimeout = 2 * time.Minute

// idle readies an open connection for idle mode: it exchanges the warm-up
// messages, if any, then drops everything but the connection itself,
// which it closes on error.
func (w *worker) idle(ctx context.Context) error {
	err := w.warmUp(ctx)
	if w.dec != nil {
		w.dec.Release()
	}
	w.dec, w.rbuf, w.zbuf, w.sink, w.times = nil, nil, nil, nil, nil
	if err != nil {
		w.nc.Close()
	}
	return err
}

// warmUp exchanges the connection's IdleWarm messages, at most Depth in
// flight, and waits for their echoes, each checked (and inflated) as in a
// run, for at most warmUpTimeout.
func (w *worker) warmUp(ctx context.Context) error {
	r := w.r
	n := r.cfg.IdleWarm
	if n == 0 {
		return nil
	}
	w.times = make([]int64, r.window)
	w.frames = w.set.frames
	ctx, cancel := context.WithTimeout(ctx, warmUpTimeout)
	defer cancel()
	// Closing, unlike a deadline, cannot be undone by the deadlines that
	// pending writes set and clear.
	stop := context.AfterFunc(ctx, func() { w.nc.Close() })
	sent, got := 0, 0
	var err error
	for got < n && err == nil {
		if k := min(r.window-w.nfly, n-sent); k > 0 && len(w.pend) == 0 {
			if err = w.send(k, r.now()); err != nil {
				break
			}
			sent += k
		}
		var m int
		m, err = w.receive()
		got += m
	}
	if !stop() || (err != nil && ctx.Err() != nil) {
		// The connection was closed under the exchange.
		return &runError{kind: errWarmTimeout, err: fmt.Errorf("%w: %d of %d echoes received (%v)", errWarmUp, got, n, ctx.Err())}
	}
	return err
}

// run drives the connection until the run stops, then drains and closes.
func (w *worker) run(ctx context.Context) {
	defer w.nc.Close()
	if w.dec != nil {
		defer w.dec.Release()
	}
	r := w.r
	c := &r.cfg
	w.times = make([]int64, r.window)
	w.frames = w.set.frames
	if c.FreshMasks {
		w.frames = append([]byte(nil), w.frames...)
		w.krand = newKeyRand()
	}
	// Wait for the start signal.
	for r.goAt.Load() == 0 {
		if ctx.Err() != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	stop := context.AfterFunc(ctx, func() { w.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	if c.Rate > 0 {
		err = w.openLoop(ctx)
	} else {
		err = w.closedLoop(ctx)
	}
	if err != nil && ctx.Err() == nil {
		r.errs.add(err)
		return
	}
	w.close()
}

// closedLoop keeps Depth messages in flight.
func (w *worker) closedLoop(ctx context.Context) error {
	r := w.r
	if err := w.send(r.cfg.Depth, r.now()); err != nil {
		return err
	}
	for !r.stopping.Load() {
		got, err := w.receive()
		if err != nil {
			return err
		}
		w.owed += got
		if w.owed > 0 && len(w.pend) == 0 && !r.stopping.Load() {
			k := w.owed
			w.owed = 0
			if err := w.send(k, r.now()); err != nil {
				return err
			}
		}
	}
	return w.drain()
}

// openLoop sends on the schedule, at most Depth in flight.
func (w *worker) openLoop(ctx context.Context) error {
	r := w.r
	c := &r.cfg
	interval := float64(time.Second) * float64(c.Conns) / c.Rate
	// Spread the connections' schedules over one interval.
	start := float64(r.goAt.Load()) + interval*float64(w.id)/float64(c.Conns)
	var seq int64
	due := int64(start)
	for !r.stopping.Load() {
		now := r.now()
		for due <= now && w.nfly < r.window && len(w.pend) == 0 {
			k := 0
			for due <= now && w.nfly+k < r.window {
				w.times[(w.head+w.nfly+k)%len(w.times)] = due
				k++
				seq++
				due = int64(start + interval*float64(seq))
			}
			w.nfly += k
			if err := w.write(w.take(k)); err != nil {
				return err
			}
		}
		if w.nfly < r.window {
			w.setReadDeadline(due)
		} else {
			w.setReadDeadline(0)
		}
		if _, err := w.receive(); err != nil {
			return err
		}
	}
	return w.drain()
}

// send queues k messages stamped with time t and writes them.
func (w *worker) send(k int, t int64) error {
	for i := range k {
		w.times[(w.head+w.nfly+i)%len(w.times)] = t
	}
	w.nfly += k
	return w.write(w.take(k))
}

// take returns the next k frames (k <= window) as one slice, re-keyed
// with FreshMasks.
func (w *worker) take(k int) []byte {
	fs := w.set
	p := w.frames[fs.offs[w.next]:fs.offs[w.next+k]]
	if w.krand != nil {
		w.rekey(p, k)
	}
	w.next = (w.next + k) % fs.ring
	return p
}

// rekey gives each of the k frames in p a fresh key: XORing the payload
// with old^new turns masking under the old key into masking under the new.
// Each frame carries its current key in its header, so the copies of a
// ring position (index i and i+ring) can drift apart harmlessly.
func (w *worker) rekey(p []byte, k int) {
	for range k {
		h, n, _ := frame.ParseHeader(p)
		f := p[:n+int(h.Length)]
		p = p[len(f):]
		v := w.krand.Uint64()
		nk := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		x := [4]byte{h.Key[0] ^ nk[0], h.Key[1] ^ nk[1], h.Key[2] ^ nk[2], h.Key[3] ^ nk[3]}
		frame.Mask(x, 0, f[n:])
		copy(f[n-4:n], nk[:])
	}
}

// write sends p; no other write may be pending. A large write that cannot
// complete within a millisecond is left pending and finished by receive,
// which keeps reading meanwhile.
func (w *worker) write(p []byte) error {
	if len(p) <= 64<<10 {
		_, err := w.nc.Write(p)
		if err != nil {
			return &runError{kind: errWrite, err: err}
		}
		return nil
	}
	w.pend = p
	return w.flushPending()
}

func (w *worker) flushPending() error {
	w.nc.SetWriteDeadline(time.Now().Add(time.Millisecond))
	n, err := w.nc.Write(w.pend)
	w.pend = w.pend[n:]
	if err != nil && !isTimeout(err) {
		return &runError{kind: errWrite, err: err}
	}
	if len(w.pend) == 0 {
		w.nc.SetWriteDeadline(time.Time{})
	}
	return nil
}

func (w *worker) setReadDeadline(t int64) {
	if t == w.readDL {
		return
	}
	w.readDL = t
	if t == 0 {
		w.nc.SetReadDeadline(time.Time{})
		return
	}
	w.nc.SetReadDeadline(w.r.base.Add(time.Duration(t)))
}

// receive reads once (finishing any pending write first) and handles every
// complete reply; it returns how many echoes completed. A read that times
// out returns 0 and no error.
func (w *worker) receive() (int, error) {
	if len(w.pend) > 0 {
		if err := w.flushPending(); err != nil {
			return 0, err
		}
		if len(w.pend) > 0 {
			w.setReadDeadline(w.r.now() + int64(time.Millisecond))
		}
	} else if w.r.cfg.Rate == 0 && w.readDL != 0 {
		w.setReadDeadline(0)
	}
	if w.rs == w.re {
		w.rs, w.re = 0, 0
	} else if w.re == len(w.rbuf) {
		w.re = copy(w.rbuf, w.rbuf[w.rs:w.re])
		w.rs = 0
	}
	got, err := w.parse()
	if got > 0 || err != nil {
		return got, err // replies left from the handshake read
	}
	n, err := w.nc.Read(w.rbuf[w.re:])
	w.re += n
	if err != nil {
		if isTimeout(err) {
			return 0, nil
		}
		return 0, &runError{kind: errRead, err: err}
	}
	return w.parse()
}

// parse consumes the bytes in rbuf[rs:re]: frame headers and payloads.
func (w *worker) parse() (int, error) {
	r := w.r
	got := 0
	var now int64
	for {
		if w.skip > 0 {
			n := min(w.skip, int64(w.re-w.rs))
			if w.comp && !w.ctrl {
				w.zbuf = append(w.zbuf, w.rbuf[w.rs:w.rs+int(n)]...)
			}
			w.rs += int(n)
			w.skip -= n
			if w.skip > 0 {
				return got, nil
			}
			if w.ctrl {
				w.ctrl = false
				continue
			}
			if w.inMsg {
				continue
			}
			if err := w.finish(); err != nil {
				return got, err
			}
			if now == 0 {
				now = r.now()
			}
			w.complete(now)
			got++
			continue
		}
		h, n, err := frame.ParseHeader(w.rbuf[w.rs:w.re])
		if err != nil {
			return got, &runError{kind: errProtocol, err: err}
		}
		if n == 0 {
			return got, nil
		}
		if h.Masked || h.RSV&^w.rsvOK != 0 || (h.RSV != 0 && (h.Opcode.IsControl() || h.Opcode == frame.OpContinuation)) {
			// RSV1 marks the first frame of a compressed message and
			// nothing else (RFC 7692 §6).
			return got, &runError{kind: errProtocol, err: errMaskedReply}
		}
		if h.Opcode.IsControl() {
			if h.Opcode == frame.OpClose {
				return got, &runError{kind: errServerClose, err: errClosed}
			}
			if h.Opcode == frame.OpPing {
				// Answer with a pong once the payload is here.
				if int64(w.re-w.rs-n) < h.Length {
					return got, nil
				}
				w.pong(w.rbuf[w.rs+n : w.rs+n+int(h.Length)])
			}
			w.rs += n
			w.skip, w.ctrl = h.Length, true
			if w.skip == 0 {
				w.ctrl = false
			}
			continue
		}
		w.rs += n
		switch {
		case h.Opcode == frame.OpContinuation && !w.inMsg,
			h.Opcode != frame.OpContinuation && (w.inMsg || h.Opcode != r.op):
			return got, &runError{kind: errMismatch, err: errWrongType}
		}
		if h.Opcode != frame.OpContinuation {
			w.comp = h.RSV&frame.RSV1 != 0
		}
		w.msgLen += h.Length
		w.inMsg = !h.Fin
		switch {
		case w.comp:
			// Compressed: the length is checked once inflated; bound
			// what is collected meanwhile.
			if w.msgLen > maxCompressed(r.cfg.Size) {
				return got, &runError{kind: errMismatch, err: errWrongLength}
			}
		case w.msgLen > int64(r.cfg.Size) || (h.Fin && w.msgLen != int64(r.cfg.Size)):
			return got, &runError{kind: errMismatch, err: errWrongLength}
		}
		if w.nfly == 0 {
			return got, &runError{kind: errMismatch, err: errUnsolicited}
		}
		w.skip = h.Length
		if w.skip == 0 && h.Fin {
			if err := w.finish(); err != nil {
				return got, err
			}
			if now == 0 {
				now = r.now()
			}
			w.complete(now)
			got++
		}
	}
}

// maxCompressed bounds the compressed size of an echo of n bytes: DEFLATE
// stored blocks add 5 bytes per 65535, and no encoder worth measuring
// does worse.
func maxCompressed(n int) int64 { return int64(n) + int64(n)/1024 + 1024 }

// finish ends a reply whose payload has all been parsed: a compressed one
// is inflated (RFC 7692 §7.2.2), its bytes counted and dropped, and its
// length must be the message size.
func (w *worker) finish() error {
	if !w.comp {
		return nil
	}
	w.comp = false
	w.zr.Reset(w.zbuf)
	w.zbuf = w.zbuf[:0]
	size := w.r.cfg.Size
	w.dec.Reset(&w.zr, int64(size)+1)
	n := 0
	for {
		m, err := w.dec.Read(w.sink)
		n += m
		if err == io.EOF {
			break
		}
		if errors.Is(err, deflate.ErrMessageTooBig) {
			return &runError{kind: errMismatch, err: errWrongLength}
		}
		if err != nil {
			return &runError{kind: errInflate, err: err}
		}
	}
	if n != size {
		return &runError{kind: errMismatch, err: errWrongLength}
	}
	w.inflated = true
	return nil
}

// complete records the echo of the oldest message in flight.
func (w *worker) complete(now int64) {
	r := w.r
	t := w.times[w.head]
	w.head = (w.head + 1) % len(w.times)
	w.nfly--
	w.msgLen = 0
	st := &r.stats[w.id]
	st.totalMsgs.Add(1)
	st.totalBytes.Add(uint64(r.cfg.Size))
	inflated := w.inflated
	w.inflated = false
	if r.measuring.Load() {
		if inflated {
			st.compressed.Add(1)
		}
		st.msgs.Add(1)
		st.bytes.Add(uint64(r.cfg.Size))
		r.hists[w.id%len(r.hists)].Record(now - t)
	}
}

// pong answers a ping (RFC 6455 §5.5.2), unless a large write is under
// way, in which case the ping goes unanswered (§5.5.3 lets an endpoint
// answer only the latest; load tests rarely see pings at all).
func (w *worker) pong(p []byte) {
	if len(w.pend) > 0 {
		return
	}
	w.writeControl(frame.OpPong, p)
}

// writeControl sends one masked control frame with a fresh key.
func (w *worker) writeControl(op frame.Opcode, p []byte) {
	var b [frame.MaxHeaderSize + frame.MaxControlPayload]byte
	v := rand.Uint32() // math/rand/v2's global generator is ChaCha8-based
	h := frame.Header{Fin: true, Opcode: op, Masked: true, Length: int64(len(p))}
	h.Key = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	f := frame.AppendHeader(b[:0], h)
	n := len(f)
	f = append(f, p...)
	frame.Mask(h.Key, 0, f[n:])
	w.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	w.nc.Write(f)
	w.nc.SetWriteDeadline(time.Time{})
}

// drain waits for the echoes still in flight, for at most DrainTimeout.
func (w *worker) drain() error {
	r := w.r
	end := r.now() + int64(r.cfg.DrainTimeout)
	for w.nfly > 0 || len(w.pend) > 0 {
		if r.now() >= end {
			return &runError{kind: errDrain, err: errDrainTimeout}
		}
		w.setReadDeadline(end)
		if _, err := w.receive(); err != nil {
			return err
		}
	}
	return nil
}

// close sends a close frame (1000) before run closes the connection,
// without waiting for the server's answer.
func (w *worker) close() {
	if len(w.pend) == 0 {
		w.writeControl(frame.OpClose, []byte{0x03, 0xE8})
	}
}
