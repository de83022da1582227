package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/testwait"
)

// pipe returns the two ends of an in-memory connection.
func pipe(t testing.TB, srvOpts, cliOpts *Options) (srv, cli *Conn) {
	a, b := net.Pipe()
	srv = New(a, Setup{Role: Server, Options: srvOpts})
	cli = New(b, Setup{Role: Client, Options: cliOpts})
	t.Cleanup(func() { srv.CloseNow(); cli.CloseNow() })
	return srv, cli
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (a, b net.Conn) { return socketPair(t, "tcp", "127.0.0.1:0") }

// socketPair returns the accepted (a) and dialled (b) ends of a connection
// to a listener on network and address.
func socketPair(t testing.TB, network, address string) (a, b net.Conn) {
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		ch <- c
	}()
	b, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a = testwait.Recv(t, ch, "ch")
	if a == nil {
		t.FailNow()
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func payload(n int, text bool) []byte {
	p := make([]byte, n)
	for i := range p {
		if text {
			p[i] = 'a' + byte(i%26)
		} else {
			p[i] = byte(i * 31)
		}
	}
	return p
}

// echo serves c, echoing every message until the connection ends.
func echo(c *Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
		if err != nil {
			return err
		}
		buf = msg
		if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
			return err
		}
	}
}

func TestEchoSizes(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 4095, 4096, 4097, 65535, 65536, 1 << 20}
	for _, role := range []Role{Server, Client} {
		t.Run(role.String()+" echoes", func(t *testing.T) {
			srv, cli := pipe(t, nil, &Options{MaxFrameSize: 1000})
			echoer, sender := srv, cli
			if role == Client {
				echoer, sender = cli, srv
			}
			go echo(echoer)
			for _, n := range sizes {
				for _, typ := range []MessageType{Text, Binary} {
					want := payload(n, typ == Text)
					errc := make(chan error, 1)
					go func() { errc <- sender.WriteMessage(context.Background(), typ, want) }()
					gotTyp, got, err := sender.ReadMessage(context.Background(), nil)
					if err != nil || <-errc != nil {
						t.Fatalf("%d bytes %v: %v", n, typ, err)
					}
					if gotTyp != typ || !bytes.Equal(got, want) {
						t.Fatalf("%d bytes %v: got %v of %d bytes", n, typ, gotTyp, len(got))
					}
				}
			}
		})
	}
}

func TestStreamingWriterFragments(t *testing.T) {
	a, b := net.Pipe()
	cli := New(a, Setup{Role: Client, Options: &Options{MaxFrameSize: 10}})
	defer cli.CloseNow()
	go func() {
		w, err := cli.NextWriter(context.Background(), Text)
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(w, "Hello, ")
		io.WriteString(w, "fragmented world")
		w.Close()
	}()
	r, _ := frame.NewReader(b, make([]byte, 64))
	var got []byte
	var frames int
	for {
		h, err := r.NextHeader()
		if err != nil {
			t.Fatal(err)
		}
		frames++
		if !h.Masked || (frames == 1) != (h.Opcode == frame.OpText) || h.Length > 10 {
			t.Fatalf("frame %d: %+v", frames, h)
		}
		p, _ := io.ReadAll(r)
		got = append(got, p...)
		if h.Fin {
			break
		}
	}
	if string(got) != "Hello, fragmented world" || frames != 3 {
		t.Fatalf("got %q in %d frames", got, frames)
	}
}

// rawPeer drives one end of a pipe with hand-made frames.
type rawPeer struct {
	t      testing.TB
	nc     net.Conn
	r      *frame.Reader
	client bool // the raw peer plays the client: its frames are masked
}

func newRawPeer(t testing.TB, peerRole Role, opts *Options) (*Conn, *rawPeer) {
	a, b := net.Pipe()
	role := Server
	if peerRole == Server {
		role = Client
	}
	c := New(a, Setup{Role: role, Options: opts})
	r, _ := frame.NewReader(b, make([]byte, 256))
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, &rawPeer{t: t, nc: b, r: r, client: peerRole == Client}
}

func (p *rawPeer) frame(fin bool, op frame.Opcode, data []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Length: int64(len(data)), Masked: p.client, Key: [4]byte{0xa, 0xb, 0xc, 0xd}}
	b := frame.AppendHeader(nil, h)
	d := bytes.Clone(data)
	if p.client {
		frame.Mask(h.Key, 0, d)
	}
	return append(b, d...)
}

func (p *rawPeer) send(b []byte) {
	p.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("raw write: %v", err)
	}
}

// next reads the next frame the Conn sent.
func (p *rawPeer) next() (frame.Header, []byte) {
	p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	h, err := p.r.NextHeader()
	if err != nil {
		p.t.Fatalf("raw read: %v", err)
	}
	b, err := io.ReadAll(p.r)
	if err != nil {
		p.t.Fatalf("raw read payload: %v", err)
	}
	return h, b
}

// expectClose reads frames until a close frame and returns its code.
func (p *rawPeer) expectClose() StatusCode {
	for {
		h, b := p.next()
		if h.Opcode == frame.OpClose {
			code, _, err := frame.ParseClosePayload(b)
			if err != nil {
				p.t.Fatalf("bad close payload % x: %v", b, err)
			}
			return code
		}
	}
}

// Malformed input: each row names the error the reader returns and the
// close code the Conn sends.
func TestProtocolViolations(t *testing.T) {
	type row struct {
		name  string
		wire  func(p *rawPeer) []byte
		err   error
		code  StatusCode
		limit int64
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	rows := []row{
		{"reserved opcode", func(p *rawPeer) []byte { return p.frame(true, 0x3, nil) }, frame.ErrReservedOpcode, 1002, 0},
		{"reserved control opcode", func(p *rawPeer) []byte { return p.frame(true, 0xB, nil) }, frame.ErrReservedOpcode, 1002, 0},
		{"RSV1 without extension", func(p *rawPeer) []byte { b := p.frame(true, frame.OpText, []byte("x")); b[0] |= 0x40; return b }, frame.ErrReservedBits, 1002, 0},
		{"RSV2", func(p *rawPeer) []byte { b := p.frame(true, frame.OpBinary, nil); b[0] |= 0x20; return b }, frame.ErrReservedBits, 1002, 0},
		{"RSV3 on ping", func(p *rawPeer) []byte { b := p.frame(true, frame.OpPing, nil); b[0] |= 0x10; return b }, frame.ErrReservedBits, 1002, 0},
		{"unmasked from client", func(p *rawPeer) []byte { return []byte{0x81, 0x01, 'x'} }, frame.ErrUnmaskedFrame, 1002, 0},
		{"long ping", func(p *rawPeer) []byte { return p.frame(true, frame.OpPing, make([]byte, 126)) }, frame.ErrControlTooLong, 1002, 0},
		{"fragmented ping", func(p *rawPeer) []byte { return p.frame(false, frame.OpPing, nil) }, frame.ErrControlFragmented, 1002, 0},
		{"lone continuation", func(p *rawPeer) []byte { return p.frame(true, frame.OpContinuation, []byte("x")) }, ErrUnexpectedContinuation, 1002, 0},
		{"text inside fragmented message", func(p *rawPeer) []byte {
			return cat(p.frame(false, frame.OpText, []byte("a")), p.frame(true, frame.OpText, []byte("b")))
		}, ErrExpectedContinuation, 1002, 0},
		{"invalid UTF-8", func(p *rawPeer) []byte { return p.frame(true, frame.OpText, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}) }, frame.ErrInvalidUTF8, 1007, 0},
		{"UTF-8 cut at message end", func(p *rawPeer) []byte { return p.frame(true, frame.OpText, []byte{0xce}) }, frame.ErrInvalidUTF8, 1007, 0},
		{"invalid UTF-8 across fragments", func(p *rawPeer) []byte {
			return cat(p.frame(false, frame.OpText, []byte{0xf4}), p.frame(true, frame.OpContinuation, []byte{0x90, 0x80, 0x80}))
		}, frame.ErrInvalidUTF8, 1007, 0},
		{"close of one byte", func(p *rawPeer) []byte { return p.frame(true, frame.OpClose, []byte{0x03}) }, frame.ErrCloseTooShort, 1002, 0},
		{"close code 1005", func(p *rawPeer) []byte { return p.frame(true, frame.OpClose, []byte{0x03, 0xed}) }, frame.ErrInvalidCloseCode, 1002, 0},
		{"close reason not UTF-8", func(p *rawPeer) []byte { return p.frame(true, frame.OpClose, []byte{0x03, 0xe8, 0xff}) }, frame.ErrInvalidCloseReason, 1007, 0},
		{"frame over limit", func(p *rawPeer) []byte { return p.frame(true, frame.OpBinary, make([]byte, 101)) }, ErrMessageTooBig, 1009, 100},
		{"fragments over limit", func(p *rawPeer) []byte {
			return cat(p.frame(false, frame.OpBinary, make([]byte, 60)), p.frame(true, frame.OpContinuation, make([]byte, 60)))
		}, ErrMessageTooBig, 1009, 100},
	}
	// Each row runs twice: the bytes arrive while ReadMessage waits, or
	// they are already buffered behind a message that ReadMessage returns
	// first, which takes the path for frames buffered whole.
	for _, tt := range rows {
		for _, mode := range []string{"arriving", "buffered"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				testProtocolViolation(t, tt.wire, tt.err, tt.code, tt.limit, mode == "buffered")
			})
		}
	}
}

// testProtocolViolation has a raw client send wire to a server Conn and
// checks the error ReadMessage returns and the close code the Conn sends.
// With buffered set, a valid message precedes wire in the same write and
// is read first.
func testProtocolViolation(t *testing.T, wire func(p *rawPeer) []byte, wantErr error, wantCode StatusCode, limit int64, buffered bool) {
	c, p := newRawPeer(t, Client, &Options{ReadLimit: limit, CloseTimeout: time.Second})
	errc := make(chan error, 1)
	var first []byte
	if buffered {
		first = p.frame(true, frame.OpBinary, []byte("ok"))
	}
	go func() {
		if buffered {
			if _, msg, err := c.ReadMessage(context.Background(), nil); err != nil || string(msg) != "ok" {
				errc <- fmt.Errorf("first message %q, %w", msg, err)
				return
			}
		}
		_, _, err := c.ReadMessage(context.Background(), nil)
		errc <- err
	}()
	go func() { p.nc.Write(append(first, wire(p)...)) }()
	if code := p.expectClose(); code != wantCode {
		t.Errorf("close code %v, want %v", code, wantCode)
	}
	// Best effort: after a header it cannot parse, the Conn may not
	// wait for our close.
	p.nc.SetWriteDeadline(time.Now().Add(time.Second))
	p.nc.Write(p.frame(true, frame.OpClose, frame.AppendClosePayload(nil, wantCode, "")))
	err := testwait.Recv(t, errc, "errc")
	if !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != wantCode {
		t.Fatalf("error %v does not carry close code %v", err, wantCode)
	}
}

// Control frames buffered whole ahead of a message are handled on the
// way to it: a ping is answered, a pong is observed.
func TestBufferedControlFramesBeforeMessage(t *testing.T) {
	var pongs atomic.Int32
	c, p := newRawPeer(t, Client, &Options{OnPong: func([]byte) { pongs.Add(1) }})
	wire := bytes.Join([][]byte{
		p.frame(true, frame.OpBinary, []byte("first")),
		p.frame(true, frame.OpPing, []byte("p1")),
		p.frame(true, frame.OpPong, []byte("unsolicited")),
		p.frame(true, frame.OpText, []byte("second")),
	}, nil)
	go p.nc.Write(wire)
	pong := make(chan string, 1)
	go func() {
		// The pong is written while the Conn reads: read it meanwhile
		// (net.Pipe has no buffer).
		h, b := p.next()
		pong <- fmt.Sprintf("%v %s", h.Opcode, b)
	}()
	for _, want := range []string{"first", "second"} {
		if _, msg, err := c.ReadMessage(context.Background(), nil); err != nil || string(msg) != want {
			t.Fatalf("read %q, %v; want %q", msg, err, want)
		}
	}
	if got, want := testwait.Recv(t, pong, "pong"), fmt.Sprintf("%v p1", frame.OpPong); got != want {
		t.Fatalf("peer got %q, want %q", got, want)
	}
	if n := pongs.Load(); n != 1 {
		t.Fatalf("OnPong called %d times, want 1", n)
	}
}

// The client role rejects masked frames from a server.
func TestClientRejectsMaskedFrame(t *testing.T) {
	c, p := newRawPeer(t, Server, &Options{CloseTimeout: time.Second})
	errc := make(chan error, 1)
	go func() { _, _, err := c.ReadMessage(context.Background(), nil); errc <- err }()
	p.client = true // make the raw server mask, which is wrong
	go p.nc.Write(p.frame(true, frame.OpText, []byte("x")))
	p.client = false
	if code := p.expectClose(); code != 1002 {
		t.Errorf("close code %v", code)
	}
	p.nc.Close()
	if err := testwait.Recv(t, errc, "errc"); !errors.Is(err, frame.ErrMaskedFrame) {
		t.Fatalf("err = %v", err)
	}
}

// An invalid byte sequence fails the connection as soon as it arrives,
// before the rest of the frame is sent (Autobahn 6.4.x).
func TestUTF8FailsFast(t *testing.T) {
	c, p := newRawPeer(t, Client, &Options{CloseTimeout: time.Second})
	go c.ReadMessage(context.Background(), nil)
	f := p.frame(true, frame.OpText, []byte("κόσμε\xed\xa0\x80 and then much more text"))
	cut := frame.Header{Length: 1}.Size() + 4 + len("κόσμε") + 2
	p.send(f[:cut])
	if code := p.expectClose(); code != 1007 {
		t.Fatalf("close code %v, want 1007", code)
	}
}

// The read limit is checked on the declared length: no payload is read.
func TestReadLimitBeforePayload(t *testing.T) {
	c, p := newRawPeer(t, Client, &Options{ReadLimit: 1 << 10, CloseTimeout: time.Second})
	go c.ReadMessage(context.Background(), nil)
	h := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 40})
	p.send(h) // 1 TiB announced, nothing sent
	if code := p.expectClose(); code != 1009 {
		t.Fatalf("close code %v, want 1009", code)
	}
}

func TestPingsBetweenFragmentsAreAnswered(t *testing.T) {
	c, p := newRawPeer(t, Client, nil)
	type result struct {
		typ MessageType
		msg []byte
		err error
	}
	res := make(chan result, 1)
	var pings []string
	c.opts.OnPing = func(b []byte) { pings = append(pings, string(b)) }
	go func() {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		res <- result{typ, msg, err}
	}()
	p.send(p.frame(false, frame.OpText, []byte("Hel")))
	p.send(p.frame(true, frame.OpPing, []byte("p1")))
	if h, b := p.next(); h.Opcode != frame.OpPong || string(b) != "p1" || h.Masked {
		t.Fatalf("got %v %q", h.Opcode, b)
	}
	p.send(p.frame(false, frame.OpContinuation, []byte("l")))
	p.send(p.frame(true, frame.OpPing, []byte("p2")))
	if h, b := p.next(); h.Opcode != frame.OpPong || string(b) != "p2" {
		t.Fatalf("got %v %q", h.Opcode, b)
	}
	p.send(p.frame(true, frame.OpContinuation, []byte("o")))
	r := testwait.Recv(t, res, "res")
	if r.err != nil || r.typ != Text || string(r.msg) != "Hello" {
		t.Fatalf("got %v %q %v", r.typ, r.msg, r.err)
	}
	if strings.Join(pings, ",") != "p1,p2" {
		t.Fatalf("OnPing saw %q", pings)
	}
}

func TestCloseHandshake(t *testing.T) {
	for _, closer := range []Role{Server, Client} {
		t.Run(closer.String()+" closes", func(t *testing.T) {
			srv, cli := pipe(t, nil, nil)
			a, b := srv, cli
			if closer == Client {
				a, b = cli, srv
			}
			readErr := make(chan error, 1)
			go func() { _, _, err := b.ReadMessage(context.Background(), nil); readErr <- err }()
			if err := a.Close(4000, "bye now"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			var ce *CloseError
			if err := testwait.Recv(t, readErr, "readErr"); !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye now" {
				t.Fatalf("peer read %v, want CloseError 4000 bye now", err)
			}
			if err := a.WriteMessage(context.Background(), Text, []byte("late")); err == nil {
				t.Fatal("write after close succeeded")
			}
			if err := a.Close(1000, ""); err == nil {
				t.Fatal("second Close succeeded")
			}
		})
	}
}

// waitReadLock waits until a goroutine holds c's read lock: a read started
// elsewhere is under way, or Close is reading the peer's close.
func waitReadLock(t *testing.T, c *Conn) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !c.readLock.held.Load(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("no goroutine took the read lock within 5 s")
		}
	}
}

// Close while another goroutine reads: the reader receives the close.
func TestCloseWithActiveReader(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	go echo(cli)
	readErr := make(chan error, 1)
	go func() { _, _, err := srv.ReadMessage(context.Background(), nil); readErr <- err }()
	waitReadLock(t, srv)
	if err := srv.Close(StatusGoingAway, "restart"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if err := testwait.Recv(t, readErr, "readErr"); !errors.As(err, &ce) || ce.Code != StatusGoingAway {
		t.Fatalf("reader got %v", err)
	}
}

// Close with no read waiting reads the peer's close itself; the reads
// that come after it, as a read loop's next call would, return the peer's
// *CloseError, as the read would have had it been waiting.
func TestReadAfterCloseReturnsPeerClose(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	go echo(cli)
	if err := srv.Close(StatusGoingAway, "restart"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if _, _, err := srv.ReadMessage(context.Background(), nil); !errors.As(err, &ce) || ce.Code != StatusGoingAway {
		t.Fatalf("ReadMessage after Close: %v, want the peer's CloseError 1001", err)
	}
	if _, _, err := srv.NextReader(context.Background()); !errors.As(err, &ce) || ce.Code != StatusGoingAway {
		t.Fatalf("NextReader after Close: %v, want the peer's CloseError 1001", err)
	}
}

// A read that starts while Close is reading the peer's close, the read
// loop of an application that closes from another goroutine, waits for the
// close instead of failing with ErrConcurrentRead, and returns the peer's
// close; one whose context ends first returns the context's error.
func TestReadDuringClose(t *testing.T) {
	c, p := newRawPeer(t, Client, nil)
	closed := make(chan error, 1)
	go func() { closed <- c.Close(StatusNormalClosure, "") }()
	if code := p.expectClose(); code != StatusNormalClosure {
		t.Fatalf("peer got close %d", code)
	}
	waitReadLock(t, c) // Close's, held until the peer's close arrives
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.ReadMessage(ctx, nil); err != context.Canceled {
		t.Fatalf("ReadMessage with a cancelled context during Close: %v", err)
	}
	read := make(chan error, 1)
	go func() { _, _, err := c.ReadMessage(context.Background(), nil); read <- err }()
	time.Sleep(10 * time.Millisecond) // let the read find the lock held; if it has not, it still must end as below
	p.send(p.frame(true, frame.OpClose, frame.AppendClosePayload(nil, StatusGoingAway, "bye")))
	if err := testwait.Recv(t, closed, "closed"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var ce *CloseError
	if err := testwait.Recv(t, read, "read"); !errors.As(err, &ce) || ce.Code != StatusGoingAway || ce.Reason != "bye" {
		t.Fatalf("ReadMessage during Close: %v, want the peer's CloseError 1001 bye", err)
	}
}

// A read loop that runs while another goroutine closes ends with the
// peer's close (Close) or ErrClosed (CloseNow), wherever the close finds
// it: inside ReadMessage, between two calls, or starting one while Close
// holds the read lock. It never sees ErrConcurrentRead.
func TestReadLoopRacingClose(t *testing.T) {
	for _, now := range []bool{false, true} {
		for i := range 40 {
			srv, cli := pipe(t, nil, nil)
			go func() { // the peer sends messages until its writes fail, and reads to answer the close
				for cli.WriteMessage(context.Background(), Text, []byte("tick")) == nil {
				}
			}()
			go func() {
				for {
					if _, _, err := cli.ReadMessage(context.Background(), nil); err != nil {
						return
					}
				}
			}()
			loopErr := make(chan error, 1)
			go func() {
				for {
					if _, _, err := srv.ReadMessage(context.Background(), nil); err != nil {
						loopErr <- err
						return
					}
					runtime.Gosched() // the application at work between two reads
				}
			}()
			for range i % 8 {
				runtime.Gosched()
			}
			var ce *CloseError
			if now {
				srv.CloseNow()
				if err := testwait.Recv(t, loopErr, "loopErr"); !errors.Is(err, ErrClosed) {
					t.Fatalf("round %d: read loop ended with %v after CloseNow, want ErrClosed", i, err)
				}
			} else {
				if err := srv.Close(StatusNormalClosure, ""); err != nil {
					t.Fatalf("round %d: Close: %v", i, err)
				}
				if err := testwait.Recv(t, loopErr, "loopErr"); !errors.As(err, &ce) || ce.Code != StatusNormalClosure {
					t.Fatalf("round %d: read loop ended with %v after Close, want the peer's CloseError 1000", i, err)
				}
			}
			cli.CloseNow()
		}
	}
}

func TestCloseTimeout(t *testing.T) {
	c, p := newRawPeer(t, Client, &Options{CloseTimeout: 50 * time.Millisecond})
	go func() { io.Copy(io.Discard, p.nc) }() // reads but never answers
	if err := c.Close(1000, ""); !errors.Is(err, ErrCloseTimeout) {
		t.Fatalf("Close = %v, want ErrCloseTimeout", err)
	}
}

func TestCloseRejectsReservedCodes(t *testing.T) {
	srv, _ := pipe(t, nil, nil)
	for _, code := range []StatusCode{1004, 1006, 1015, 999, 2000, 5000} {
		if err := srv.Close(code, ""); err == nil {
			t.Errorf("Close(%d) accepted", code)
		}
	}
}

// An empty close frame is answered with an empty close frame.
func TestEmptyCloseEchoed(t *testing.T) {
	c, p := newRawPeer(t, Client, nil)
	errc := make(chan error, 1)
	go func() { _, _, err := c.ReadMessage(context.Background(), nil); errc <- err }()
	p.send(p.frame(true, frame.OpClose, nil))
	h, b := p.next()
	if h.Opcode != frame.OpClose || len(b) != 0 {
		t.Fatalf("answer %v % x", h.Opcode, b)
	}
	var ce *CloseError
	if err := testwait.Recv(t, errc, "errc"); !errors.As(err, &ce) || ce.Code != StatusNoStatusReceived {
		t.Fatalf("err = %v", err)
	}
}

func TestAbnormalClosure(t *testing.T) {
	c, p := newRawPeer(t, Client, nil)
	go func() {
		p.send(p.frame(false, frame.OpText, []byte("partial")))
		p.nc.Close()
	}()
	_, _, err := c.ReadMessage(context.Background(), nil)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure {
		t.Fatalf("err = %v, want 1006", err)
	}
}

func TestPing(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	go echo(srv)
	go cli.ReadMessage(context.Background(), nil) // processes pongs
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for range 3 {
		if rtt, err := cli.Ping(ctx); err != nil || rtt <= 0 {
			t.Fatalf("Ping = %v, %v", rtt, err)
		}
	}
}

// Many goroutines ping while one writes a large fragmented message: the
// peer (our own reader, which rejects interleaved frames) gets the message
// whole and every ping is answered.
func TestConcurrentPingsDuringLargeWrite(t *testing.T) {
	srv, cli := pipe(t, &Options{MaxFrameSize: 1000}, nil)
	want := payload(4<<20, false)
	got := make(chan []byte, 1)
	go func() {
		_, msg, err := srv.ReadMessage(context.Background(), nil)
		if err != nil {
			t.Error(err)
		}
		got <- msg
		srv.ReadMessage(context.Background(), nil) // keep answering pings
	}()
	go cli.ReadMessage(context.Background(), nil) // processes pongs
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := cli.Ping(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		w, _ := cli.NextWriter(ctx, Binary)
		for p := want; len(p) > 0; p = p[min(len(p), 3000):] {
			if _, err := w.Write(p[:min(len(p), 3000)]); err != nil {
				t.Error(err)
				return
			}
		}
		w.Close()
	})
	wg.Wait()
	if msg := testwait.Recv(t, got, "got"); !bytes.Equal(msg, want) {
		t.Fatalf("message corrupted: %d bytes", len(msg))
	}
}

// A read cancelled while waiting for a message leaves the Conn usable.
func TestReadContextCancelBetweenMessages(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := srv.ReadMessage(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	go cli.WriteMessage(context.Background(), Text, []byte("still here"))
	_, msg, err := srv.ReadMessage(context.Background(), nil)
	if err != nil || string(msg) != "still here" {
		t.Fatalf("after cancel: %q %v", msg, err)
	}
}

func TestReadDeadlineBetweenMessages(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	srv.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, _, err := srv.ReadMessage(context.Background(), nil); !isTimeout(err) {
		t.Fatalf("err = %v, want timeout", err)
	}
	srv.SetReadDeadline(time.Time{})
	go cli.WriteMessage(context.Background(), Binary, []byte{1, 2, 3})
	if _, msg, err := srv.ReadMessage(context.Background(), nil); err != nil || len(msg) != 3 {
		t.Fatalf("after timeout: %v %v", msg, err)
	}
}

func TestWriteContextCancelledWaitingForLock(t *testing.T) {
	srv, _ := pipe(t, nil, nil)
	w, err := srv.NextWriter(context.Background(), Text)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := srv.WriteMessage(ctx, Text, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	_ = w
}

func TestConcurrentReadRejected(t *testing.T) {
	srv, _ := pipe(t, nil, nil)
	go srv.ReadMessage(context.Background(), nil)
	waitReadLock(t, srv)
	if _, _, err := srv.ReadMessage(context.Background(), nil); err != ErrConcurrentRead {
		t.Fatalf("err = %v, want ErrConcurrentRead", err)
	}
}

func TestInvalidMessageType(t *testing.T) {
	srv, _ := pipe(t, nil, nil)
	if err := srv.WriteMessage(context.Background(), MessageType(frame.OpPing), nil); err != ErrInvalidType {
		t.Fatalf("err = %v", err)
	}
}

func TestPreparedMessage(t *testing.T) {
	pm, err := NewPreparedMessage(Text, []byte("broadcast"))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []Role{Server, Client} {
		c, p := newRawPeer(t, map[Role]Role{Server: Client, Client: Server}[role], nil)
		for range 2 {
			go c.WritePrepared(context.Background(), pm)
			h, b := p.next()
			if h.Masked != (role == Client) || h.Opcode != frame.OpText || string(b) != "broadcast" {
				t.Fatalf("%v: %+v %q", role, h, b)
			}
		}
	}
}

func TestNetConn(t *testing.T) {
	srv, cli := pipe(t, nil, nil)
	a, b := NetConn(srv, Binary), NetConn(cli, Binary)
	go func() {
		io.WriteString(b, "hello ")
		io.WriteString(b, "stream")
		b.Close()
	}()
	got, err := io.ReadAll(a)
	if err != nil || string(got) != "hello stream" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// Bytes buffered by the handshake are read before the connection.
func TestSetupBuffered(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	first := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: 2})
	first = append(first, "hi"...)
	c := New(a, Setup{Role: Client, Buffered: first})
	defer c.CloseNow()
	if _, msg, err := c.ReadMessage(context.Background(), nil); err != nil || string(msg) != "hi" {
		t.Fatalf("%q %v", msg, err)
	}
}

// Reading into a caller buffer and writing a binary message up to 64 KiB
// allocates nothing.
func TestEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool, which lends the read and write buffers, drops items at random under the race detector")
	}
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		a, b := tcpPair(t)
		srv := New(a, Setup{Role: Server})
		cli := New(b, Setup{Role: Client})
		go echo(srv)
		msg := payload(n, false)
		buf := make([]byte, 0, n)
		ctx := context.Background()
		allocs := testing.AllocsPerRun(50, func() {
			if err := cli.WriteMessage(ctx, Binary, msg); err != nil {
				t.Fatal(err)
			}
			var err error
			if _, buf, err = cli.ReadMessage(ctx, buf[:0]); err != nil || len(buf) != n {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%d bytes: %v allocs per echo, want 0", n, allocs)
		}
		cli.CloseNow()
		srv.CloseNow()
	}
}

// After a malformed close frame the server closes TCP at once: the peer has
// closed and owes no reply (Autobahn 7.3.2, 7.5.1, 7.9.x).
func TestMalformedCloseDropsTCPAtOnce(t *testing.T) {
	c, p := newRawPeer(t, Client, &Options{CloseTimeout: time.Hour})
	done := make(chan error, 1)
	go func() { _, _, err := c.ReadMessage(context.Background(), nil); done <- err }()
	go p.nc.Write(p.frame(true, frame.OpClose, []byte{0x03, 0xed})) // 1005 may not be sent
	if code := p.expectClose(); code != StatusProtocolError {
		t.Fatalf("close %v, want 1002", code)
	}
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after our close: %v, want the server to close TCP (EOF)", err)
	}
	if err := testwait.Recv(t, done, "done"); !errors.Is(err, frame.ErrInvalidCloseCode) {
		t.Fatalf("read error %v", err)
	}
}

// With no read limit, a header announcing an enormous frame costs no more
// than maxPrealloc before its payload arrives, and never panics.
func TestNoLimitHugeHeader(t *testing.T) {
	c, p := newRawPeer(t, Client, &Options{ReadLimit: -1, CloseTimeout: time.Second})
	errc := make(chan error, 1)
	go func() { _, _, err := c.ReadMessage(context.Background(), nil); errc <- err }()
	p.send(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 62}))
	p.nc.Close()
	var ce *CloseError
	if err := testwait.Recv(t, errc, "errc"); !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure {
		t.Fatalf("err = %v, want 1006", err)
	}
}
