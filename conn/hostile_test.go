package conn

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/proto"
	"github.com/rfc6455/ws/internal/testwait"
)

// Tests of what a hostile or broken peer can make a Conn spend: memory,
// CPU, time and descriptors. Each sends the hostile bytes and asserts the
// close code and the bound.

// readResult is what a ReadMessage in a goroutine returned.
type readResult struct {
	typ MessageType
	msg []byte
	err error
}

func readAsync(c *Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		ch <- readResult{typ, msg, err}
	}()
	return ch
}

// writeUntilClosed writes b to nc, in pieces, until it is all written or
// the other side stops reading, and returns how much was written.
func writeUntilClosed(nc net.Conn, b []byte) int {
	n := 0
	for n < len(b) {
		m, err := nc.Write(b[n:min(len(b), n+4096)])
		n += m
		if err != nil {
			break
		}
	}
	return n
}

// An endless run of empty continuation frames adds nothing to a message's
// size, so only MaxMessageFrames stops it: 1009 once the message has more
// frames than allowed.
func TestTooManyFrames(t *testing.T) {
	const max = 1000
	c, p, counted := newCountingPeer(t, &Options{MaxMessageFrames: max, CloseTimeout: time.Second})
	res := readAsync(c)
	wire := p.frame(false, frame.OpText, []byte("a"))
	for range 5 * max {
		wire = append(wire, p.frame(false, frame.OpContinuation, nil)...)
	}
	go writeUntilClosed(p.nc, wire)
	if code := p.expectClose(); code != StatusMessageTooBig {
		t.Errorf("close code %v, want 1009", code)
	}
	p.nc.Close()
	if r := testwait.RecvWithin(t, res, "ReadMessage", 10*time.Second); !errors.Is(r.err, ErrTooManyFrames) {
		t.Fatalf("err = %v, want ErrTooManyFrames", r.err)
	}
	// Each empty masked continuation is 6 bytes; the Conn had read at most
	// a buffer past the frame that broke the limit when it failed.
	if n := counted.atWrite.Load(); n < 0 || n > (max+1)*6+DefaultBufferSize {
		t.Errorf("the Conn had read %d bytes of empty frames when it failed the connection, want about %d", n, (max+1)*6)
	}
}

// The default bound lets Autobahn's most fragmented message (65,536
// frames) through and stops a flood of a million and more.
func TestMaxMessageFramesDefault(t *testing.T) {
	r := proto.NewRules(true, 0, DefaultReadLimit, DefaultMaxMessageFrames)
	h := frame.Header{Opcode: frame.OpText, Masked: true, Length: 64}
	for i := range DefaultMaxMessageFrames {
		if _, err := r.Check(&h); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		h.Opcode, h.Length = frame.OpContinuation, 0
	}
	if _, err := r.Check(&h); !errors.Is(err, ErrTooManyFrames) {
		t.Fatalf("frame %d: %v, want ErrTooManyFrames", DefaultMaxMessageFrames+1, err)
	}
	r = proto.NewRules(true, 0, DefaultReadLimit, -1)
	h = frame.Header{Opcode: frame.OpText, Masked: true}
	for range 2 * DefaultMaxMessageFrames {
		if _, err := r.Check(&h); err != nil {
			t.Fatalf("no limit: %v", err)
		}
		h.Opcode = frame.OpContinuation
	}
}

// A compressed frame declaring 2^62 bytes fails at its header with 1009:
// the wire size of a compressed message is bounded too.
func TestCompressedHugeDeclaredLength(t *testing.T) {
	c, p := newDeflatePeer(t, &Options{CloseTimeout: time.Second})
	res := readAsync(c)
	h := frame.Header{Fin: true, RSV: frame.RSV1, Opcode: frame.OpBinary, Masked: true, Length: 1 << 62}
	go p.nc.Write(frame.AppendHeader(nil, h))
	if code := p.expectClose(); code != StatusMessageTooBig {
		t.Errorf("close code %v, want 1009", code)
	}
	p.nc.Close()
	if r := testwait.RecvWithin(t, res, "ReadMessage", 10*time.Second); !errors.Is(r.err, ErrMessageTooBig) {
		t.Fatalf("err = %v, want ErrMessageTooBig", r.err)
	}
}

// Empty stored DEFLATE blocks (00 00 00 ff ff) inflate to nothing, so the
// read limit on the inflated size never trips; the bound on the wire size
// does, after a quarter more than the limit. What counts is how much the
// Conn had read when it decided: the bytes it read before its first write
// (its close frame). Bytes written until the peer's socket closed would
// also count the bounded drain that follows a failure (failDrainBytes),
// which depends on scheduling.
func TestEmptyDeflateBlocksBounded(t *testing.T) {
	const limit = 64 << 10
	c, p, counted := newCountingPeer(t, &Options{ReadLimit: limit, CloseTimeout: time.Second})
	c.ext = deflateSession()
	c.rules.AllowRSV(frame.RSV1)
	res := readAsync(c)
	empty := bytes.Repeat([]byte{0, 0, 0, 0xff, 0xff}, 800) // 4,000 bytes, nothing inflated
	first := p.frame(false, frame.OpText, empty)
	first[0] |= 0x40 // RSV1: compressed
	wire := first
	for range 256 { // 1 MiB in all
		wire = append(wire, p.frame(false, frame.OpContinuation, empty)...)
	}
	go writeUntilClosed(p.nc, wire)
	if code := p.expectClose(); code != StatusMessageTooBig {
		t.Errorf("close code %v, want 1009", code)
	}
	p.nc.Close()
	if r := testwait.RecvWithin(t, res, "ReadMessage", 10*time.Second); !errors.Is(r.err, ErrMessageTooBig) {
		t.Fatalf("err = %v, want ErrMessageTooBig", r.err)
	}
	// The reader reads ahead at most its buffer (4 KiB by default).
	if n, bound := counted.atWrite.Load(), proto.TransformedLimit(limit)+8192; n < 0 || n > bound {
		t.Errorf("the Conn had read %d bytes of empty blocks when it failed the connection, want at most %d", n, bound)
	}
}

// newCountingPeer is newRawPeer (the raw peer plays the client) with the
// Conn's side counted: how many bytes the Conn had read when it first
// wrote, which in these tests is its close frame.
func newCountingPeer(t *testing.T, opts *Options) (*Conn, *rawPeer, *readsBeforeWrite) {
	a, b := net.Pipe()
	counted := &readsBeforeWrite{Conn: a}
	counted.atWrite.Store(-1)
	c := New(counted, Setup{Role: Server, Options: opts})
	r, _ := frame.NewReader(b, make([]byte, 256))
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, &rawPeer{t: t, nc: b, r: r, client: true}, counted
}

// readsBeforeWrite counts the bytes read through it and records the count
// at the first Write.
type readsBeforeWrite struct {
	net.Conn
	read    atomic.Int64
	atWrite atomic.Int64
}

func (r *readsBeforeWrite) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.read.Add(int64(n))
	return n, err
}

func (r *readsBeforeWrite) Write(p []byte) (int, error) {
	r.atWrite.CompareAndSwap(-1, r.read.Load())
	return r.Conn.Write(p)
}

// A Conn that fails the connection because of what the peer sent lets the
// TCP connection go within a second, not CloseTimeout, when the peer does
// not answer its close frame (RFC 6455 §7.1.7).
func TestFailReleasesWithinASecond(t *testing.T) {
	rows := []struct {
		name string
		wire []byte
		code StatusCode
	}{
		{"unmasked frame", []byte{0x81, 0x01, 'x'}, StatusProtocolError},
		{"invalid UTF-8", (&rawPeer{client: true}).frame(true, frame.OpText, []byte{0xff}), StatusInvalidPayloadData},
		{"over the limit", frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 40}), StatusMessageTooBig},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := New(a, Setup{Role: Server}) // CloseTimeout: the default 5 s
				defer c.CloseNow()
				res := readAsync(c)
				start := time.Now()
				go b.Write(tt.wire)
				// The peer reads what the Conn sends and never answers.
				var got []byte
				buf := make([]byte, 256)
				for {
					n, err := b.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				if elapsed := time.Since(start); elapsed > time.Second {
					t.Errorf("TCP released after %v, want at most 1s", elapsed)
				}
				h, n, err := frame.ParseHeader(got)
				if err != nil || h.Opcode != frame.OpClose {
					t.Fatalf("first frame % x: %v", got, err)
				}
				if code, _, _ := frame.ParseClosePayload(got[n : n+int(h.Length)]); code != tt.code {
					t.Errorf("close code %v, want %v", code, tt.code)
				}
				b.Close()
				var pe *frame.ProtocolError
				if r := <-res; !errors.As(r.err, &pe) || pe.Code != tt.code {
					t.Errorf("err = %v, want a ProtocolError with %v", r.err, tt.code)
				}
			})
		})
	}
}

// A peer that stops reading while the Conn writes is released by the
// write timeout: the blocked write fails between half and all of
// WriteTimeout, and the connection closes.
func TestWriteTimeoutStalledReader(t *testing.T) {
	for _, timeout := range []time.Duration{0, 10 * time.Second} {
		want := timeout
		if want == 0 {
			want = DefaultWriteTimeout
		}
		t.Run(want.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe() // no buffer: a write waits for the peer to read
				defer b.Close()
				c := New(a, Setup{Role: Server, Options: &Options{WriteTimeout: timeout, KeepAliveInterval: -1}})
				start := time.Now()
				errc := make(chan error, 1)
				go func() { errc <- c.WriteMessage(context.Background(), Binary, make([]byte, 1<<20)) }()
				// The peer reads the message's first bytes, then stalls.
				b.Read(make([]byte, 16))
				err := <-errc
				elapsed := time.Since(start)
				if err == nil {
					t.Fatal("write to a stalled peer succeeded")
				}
				if elapsed < want/2 || elapsed > want {
					t.Errorf("write failed after %v, want between %v and %v", elapsed, want/2, want)
				}
				select {
				case <-c.closed:
				default:
					t.Error("Conn not closed after the write timed out")
				}
			})
		})
	}
}

// A deadline set with SetWriteDeadline earlier than the rolling one wins;
// a later one does not postpone the write timeout.
func TestWriteTimeoutWithDeadline(t *testing.T) {
	for _, tt := range []struct {
		deadline, want time.Duration
	}{{2 * time.Second, 2 * time.Second}, {time.Hour, 10 * time.Second}} {
		synctest.Test(t, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			c := New(a, Setup{Role: Server, Options: &Options{WriteTimeout: 10 * time.Second, KeepAliveInterval: -1}})
			start := time.Now()
			c.SetWriteDeadline(start.Add(tt.deadline))
			if err := c.WriteMessage(context.Background(), Binary, []byte("x")); err == nil {
				t.Fatal("write to a peer that never reads succeeded")
			}
			if elapsed := time.Since(start); elapsed != tt.want {
				t.Errorf("deadline %v: write failed after %v, want %v", tt.deadline, elapsed, tt.want)
			}
		})
	}
}

// A peer that floods pings and never reads cannot pin the reader: the
// pongs back up, the write timeout fails them, and the Conn closes.
func TestPingFloodWithoutReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := New(a, Setup{Role: Server, Options: &Options{WriteTimeout: 10 * time.Second, KeepAliveInterval: -1}})
		p := &rawPeer{t: t, nc: b, client: true}
		ping := p.frame(true, frame.OpPing, make([]byte, 125))
		go func() {
			for {
				if _, err := b.Write(ping); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		_, _, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			t.Fatal("read returned a message")
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("released after %v, want within the 10s write timeout", elapsed)
		}
		b.Close()
	})
}

// With the default options, a reading Conn whose peer has gone silent is
// released within a minute: a ping after 30 s, silence for the 20 s
// timeout, and a second look a second later.
func TestKeepAliveDefaultReleasesSilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		go io.Copy(io.Discard, b) // reads, so writes do not block, never answers
		c := New(a, Setup{Role: Server})
		start := time.Now()
		_, _, err := c.ReadMessage(context.Background(), nil)
		if !errors.Is(err, ErrKeepAliveTimeout) {
			t.Fatalf("err = %v, want ErrKeepAliveTimeout", err)
		}
		if elapsed, want := time.Since(start), DefaultKeepAliveInterval+DefaultKeepAliveTimeout+time.Second; elapsed != want {
			t.Errorf("released after %v, want %v", elapsed, want)
		}
	})
}

// A busy peer stays connected, and gets one keepalive ping per interval
// at most.
func TestKeepAliveBusyPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := New(a, Setup{Role: Server, Options: &Options{KeepAliveInterval: 10 * time.Second}})
		// Its pongs wait in a socket buffer (net.Pipe has none).
		cli := New(bufferedWrites(b), Setup{Role: Client, Options: &Options{KeepAliveInterval: -1}})
		var pings int
		var mu sync.Mutex
		cli.opts.OnPing = func([]byte) { mu.Lock(); pings++; mu.Unlock() }
		go func() {
			for {
				if _, _, err := cli.ReadMessage(context.Background(), nil); err != nil {
					return
				}
			}
		}()
		dropped := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
					dropped <- err
					return
				}
			}
		}()
		for range 30 { // a message every 5 s for 150 s
			if err := cli.WriteMessage(context.Background(), Text, []byte("tick")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Second)
		}
		synctest.Wait()
		select {
		case err := <-dropped:
			t.Fatalf("busy connection dropped: %v", err)
		default:
		}
		mu.Lock()
		if pings > 15 {
			t.Errorf("%d keepalive pings in 150 s at a 10 s interval", pings)
		}
		mu.Unlock()
		c.CloseNow()
		cli.CloseNow()
	})
}

// An application that only writes never reads the peer's pongs. Its
// quiet, live connection must not be dropped for that.
func TestKeepAliveWriteOnlyApplication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := New(a, Setup{Role: Server, Options: &Options{KeepAliveInterval: 10 * time.Second}})
		// The peer reads, so it answers pings; like a browser, it sends
		// none of its own (the server, not reading, would not answer them).
		// Its pongs wait in a socket buffer (net.Pipe has none).
		cli := New(bufferedWrites(b), Setup{Role: Client, Options: &Options{KeepAliveInterval: -1}})
		go func() {
			for {
				if _, _, err := cli.ReadMessage(context.Background(), nil); err != nil {
					return
				}
			}
		}()
		for range 10 { // a message a minute for ten minutes; no read on c
			if err := c.WriteMessage(context.Background(), Text, []byte("update")); err != nil {
				t.Fatalf("write-only connection dropped: %v", err)
			}
			time.Sleep(time.Minute)
		}
		c.CloseNow()
		cli.CloseNow()
	})
}

// Reading one message at the read limit, whatever its framing, never
// allocates more than 1.25 times the limit (plus a small constant): the
// allocations while reading bound the heap's high-water mark from above,
// garbage included. Twenty connections read such messages at once.
func TestReadMessageMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures under the race detector mean nothing")
	}
	const limit = DefaultReadLimit
	msg := bytes.Repeat([]byte("0123456789abcdef"), limit/16)[:limit-1]
	frames := func(payload []byte, size int, rsv byte) []byte {
		p := &rawPeer{client: true}
		var wire []byte
		for i := 0; i < len(payload); i += size {
			op := frame.OpContinuation
			if i == 0 {
				op = frame.OpBinary
			}
			end := min(len(payload), i+size)
			f := p.frame(end == len(payload), op, payload[i:end])
			if i == 0 {
				f[0] |= rsv << 4
			}
			wire = append(wire, f...)
		}
		return wire
	}
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestSpeed)
	zw.Write(msg)
	zw.Flush()
	compressed := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})

	for _, tt := range []struct {
		name    string
		wire    []byte
		deflate bool
		conns   int
	}{
		{"4KiB frames", frames(msg, 4096, 0), false, 1},
		{"one frame", frames(msg, len(msg), 0), false, 1},
		{"compressed 4KiB frames", frames(compressed, 4096, 4), true, 1},
		{"4KiB frames 20 conns", frames(msg, 4096, 0), false, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conns := make([]*Conn, tt.conns)
			for i := range conns {
				a, b := tcpPair(t)
				conns[i] = New(a, Setup{Role: Server})
				if tt.deflate {
					conns[i].ext = deflateSession()
					conns[i].rules.AllowRSV(frame.RSV1)
				}
				go b.Write(tt.wire)
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var wg sync.WaitGroup
			errs := make([]error, len(conns))
			for i, c := range conns {
				wg.Go(func() {
					_, got, err := c.ReadMessage(context.Background(), nil)
					if err == nil && len(got) != len(msg) {
						err = errors.New("wrong length")
					}
					errs[i] = err
				})
			}
			wg.Wait()
			runtime.ReadMemStats(&after)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("conn %d: %v", i, err)
				}
			}
			perConn := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(conns))
			t.Logf("allocated %.1f MiB per connection while reading a %d MiB message (%.3f × the limit)",
				perConn/(1<<20), limit>>20, perConn/limit)
			if bound := 1.25*limit + 256<<10; perConn > bound {
				t.Errorf("allocated %.0f bytes per connection, want at most 1.25 × the limit + 256 KiB = %.0f", perConn, bound)
			}
		})
	}
}

// writeQueue is a net.Conn whose writes return at once and reach the
// underlying connection in order from a goroutine, as a socket's send
// buffer lets writes return before the peer reads (net.Pipe has none).
type writeQueue struct {
	net.Conn
	q         chan []byte
	done      chan struct{}
	closeOnce sync.Once
}

func bufferedWrites(nc net.Conn) net.Conn {
	w := &writeQueue{Conn: nc, q: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		for {
			select {
			case b := <-w.q:
				if _, err := nc.Write(b); err != nil {
					return
				}
			case <-w.done:
				return
			}
		}
	}()
	return w
}

func (w *writeQueue) Write(p []byte) (int, error) {
	select {
	case w.q <- bytes.Clone(p):
		return len(p), nil
	case <-w.done:
		return 0, net.ErrClosed
	}
}

func (w *writeQueue) Close() error {
	w.closeOnce.Do(func() { close(w.done) })
	return w.Conn.Close()
}
