package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/payload"
	"github.com/rfc6455/ws/bench/internal/peers"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
)

// BenchmarkServer measures each library's server-side work per echoed
// message with the network taken out: the server's ServeConn (the same
// endpoint cmd/compare runs) reads from an in-memory connection that
// answers each read with depth masked client frames, as a pipelined
// client's segments arrive, and writes to one that discards. One op is
// one message read and echoed; the run ends when the stream does, and the
// benchmark checks that every echo was written. It isolates the
// per-message CPU that compare's "server CPU per message" adds on top of
// the system calls, which are the same for every library at a given depth
// (see RESULTS.md). Our Conn runs here on its buffered path (a net.Conn
// that is not a socket), not the readiness path it uses on TCP.
//
// With comp=on the client offers permessage-deflate, each library's
// endpoint negotiates it as compare's does (peers.Options.Compress), and
// every client message is the payload compressed on its own (no context
// takeover on the client's side, which any server's agreement admits),
// so the server decompresses and compresses each message as in compare's
// compressed scenarios.
func BenchmarkServer(b *testing.B) {
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		for _, s := range serverScenarios {
			b.Run(fmt.Sprintf("lib=%s/%s", name, s), func(b *testing.B) {
				sc := newScript(s)
				b.SetBytes(int64(s.size))
				b.ReportAllocs()
				b.ResetTimer()
				out, err := serveScripted(lib, sc, b.N)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(out)/float64(b.N), "wire-B/msg")
			})
		}
	}
}

// serverScenario is one kind of client stream for BenchmarkServer.
type serverScenario struct {
	compress bool
	text     bool
	size     int // message payload, before compression
	depth    int // frames per read
}

func (s serverScenario) String() string {
	comp, typ := "off", "binary"
	if s.compress {
		comp = "on"
	}
	if s.text {
		typ = "text"
	}
	return fmt.Sprintf("comp=%s/type=%s/size=%s/depth=%d", comp, typ, sizeLabel(s.size), s.depth)
}

// serverScenarios are compare's message sizes and depths, text and binary,
// without compression, and its compressed sizes with it.
var serverScenarios = func() []serverScenario {
	var all []serverScenario
	for _, comp := range []bool{false, true} {
		sizes := []int{16, 1 << 10}
		if comp {
			sizes = []int{1 << 10, 64 << 10}
		}
		for _, text := range []bool{false, true} {
			for _, n := range sizes {
				for _, depth := range []int{1, 16} {
					all = append(all, serverScenario{compress: comp, text: text, size: n, depth: depth})
				}
			}
		}
	}
	return all
}()

// serveScripted runs lib's echo endpoint on a scriptedConn carrying count
// messages of scenario s, checks that the handshake agreed on compression
// exactly when s asks for it and that every message was echoed, and
// returns the bytes written after the handshake response.
func serveScripted(lib peers.Lib, sc *script, count int) (int64, error) {
	s := sc.scenario
	request := upgradeRequest
	if s.compress {
		request = upgradeRequestDeflate
	}
	nc := &scriptedConn{request: request, segs: sc.segs, left: count, done: make(chan struct{})}
	// Some servers serve the connection on a goroutine of their own and
	// return at once; every one closes the connection when its stream ends.
	go lib.ServeConn(nc, peers.Options{Compress: s.compress})
	select {
	case <-nc.done:
	case <-time.After(time.Minute):
		return 0, fmt.Errorf("%s did not close the connection within a minute of its stream", lib.Name)
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if nc.response == 0 {
		return 0, fmt.Errorf("%s wrote no complete handshake response", lib.Name)
	}
	if got := nc.deflate; got != s.compress {
		return 0, fmt.Errorf("%s: permessage-deflate agreed = %t, want %t", lib.Name, got, s.compress)
	}
	if nc.echoes.err != nil {
		return 0, fmt.Errorf("%s wrote a malformed frame: %v", lib.Name, nc.echoes.err)
	}
	if got := nc.echoes.messages; got < count {
		return 0, fmt.Errorf("%s ended %d data messages after its handshake response, want at least %d", lib.Name, got, count)
	}
	if !s.compress {
		if got, want := nc.written-nc.response, int64(count)*int64(sc.echoLen); got < want {
			return 0, fmt.Errorf("%s wrote %d bytes of frames after its handshake response, want at least %d (%d echoes of %d bytes)", lib.Name, got, want, count, sc.echoLen)
		}
	}
	return nc.written - nc.response, nil
}

// TestServerScript runs the harness of BenchmarkServer briefly for every
// library, so that a change that breaks it shows in the tests.
func TestServerScript(t *testing.T) {
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		for _, s := range serverScenarios {
			if s.size > 1<<10 {
				continue
			}
			if _, err := serveScripted(lib, newScript(s), 100); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	}
}

// upgradeRequest is a client's opening handshake (RFC 6455 §1.3).
const upgradeRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgradeRequestDeflate is upgradeRequest offering permessage-deflate with
// the parameters browsers send (RFC 7692 §7.1.2.1).
var upgradeRequestDeflate = strings.TrimSuffix(upgradeRequest, "\r\n") +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"

// script is a client's stream for a scenario: segments of depth masked
// frames, each what one read of the connection returns, replayed in turn.
// The messages are distinct pieces of one body (payload.Series): with
// compression enough of them to fill the largest window twice, so that a
// server keeping its compression context cannot refer to the same message
// sent before, each compressed on its own (RFC 7692 §7.2.1, 15-bit window,
// RSV1 set), which is valid whatever context takeover the server agreed.
type script struct {
	scenario serverScenario
	segs     []segment
	echoLen  int // the length of the frame a server echoes without compression
}

// segment is frames a scriptedConn serves with one read.
type segment struct {
	data []byte
	ends []int // the end of each frame in data
}

// newScript builds the stream of scenario s.
func newScript(s serverScenario) *script {
	op := frame.OpBinary
	if s.text {
		op = frame.OpText
	}
	count := s.depth
	if s.compress {
		need := max(2, 2<<deflate.MaxWindowBits/s.size)
		count = (need + s.depth - 1) / s.depth * s.depth
	}
	var segs []segment
	for i, msg := range payload.Series(s.size, count) {
		if i%s.depth == 0 {
			segs = append(segs, segment{})
		}
		seg := &segs[len(segs)-1]
		h := frame.Header{Fin: true, Opcode: op, Masked: true, Key: [4]byte{byte(i), 0x5a, 0xc3, 0x17}}
		wire := msg
		if s.compress {
			wire = deflate.AppendCompressed(nil, msg, deflate.MaxWindowBits, deflate.BestSpeed)
			h.RSV = frame.RSV1
		}
		h.Length = int64(len(wire))
		seg.data = frame.AppendHeader(seg.data, h)
		start := len(seg.data)
		seg.data = append(seg.data, wire...)
		frame.Mask(h.Key, 0, seg.data[start:])
		seg.ends = append(seg.ends, len(seg.data))
	}
	echo := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: op, Length: int64(s.size)})
	return &script{scenario: s, segs: segs, echoLen: len(echo) + s.size}
}

// scriptedConn is a net.Conn that reads as a client's handshake followed
// by left frames, served a segment at a time (each read returns at most
// the rest of the current segment; the last may be cut short after a
// frame), and then the end of the stream.
// Writes are counted and discarded, after the handshake response has been
// checked for permessage-deflate and its frames counted; done is closed at
// the first Close.
type scriptedConn struct {
	request string
	segs    []segment
	left    int // frames still to be read

	next     int    // the segment after cur
	cur      []byte // the rest of the current segment to be read
	mu       sync.Mutex
	written  int64
	response int64 // bytes of the handshake response, once complete
	deflate  bool  // the response agreed on permessage-deflate
	echoes   frameCounter
	closed   bool
	head     []byte        // the handshake response so far
	done     chan struct{} // closed by Close
}

var errClosedScript = errors.New("scripted connection closed")

func (s *scriptedConn) Read(p []byte) (int, error) {
	if s.request != "" {
		n := copy(p, s.request)
		s.request = s.request[n:]
		return n, nil
	}
	if len(s.cur) == 0 {
		if s.left == 0 {
			return 0, io.EOF
		}
		seg := s.segs[s.next]
		s.next = (s.next + 1) % len(s.segs)
		k := min(s.left, len(seg.ends))
		s.left -= k
		s.cur = seg.data[:seg.ends[k-1]]
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

func (s *scriptedConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosedScript
	}
	if s.response == 0 {
		// The first write that completes the response's header block
		// ends the handshake; frames follow.
		s.head = append(s.head, p...)
		if i := bytes.Index(s.head, []byte("\r\n\r\n")); i >= 0 {
			s.response = int64(i) + 4
			s.deflate = bytes.Contains(bytes.ToLower(s.head[:i]), []byte("\r\nsec-websocket-extensions: permessage-deflate"))
			s.echoes.write(s.head[i+4:])
			s.head = nil
		}
	} else {
		s.echoes.write(p)
	}
	s.written += int64(len(p))
	return len(p), nil
}

// frameCounter follows a stream of server frames written in pieces of any
// size and counts the data messages that end in it.
type frameCounter struct {
	header   []byte // a header not yet complete
	skip     int64  // payload bytes of the current frame still to come
	messages int    // final data frames (text, binary, continuation)
	err      error
}

func (f *frameCounter) write(p []byte) {
	for len(p) > 0 && f.err == nil {
		if f.skip > 0 {
			k := min(int64(len(p)), f.skip)
			f.skip -= k
			p = p[k:]
			continue
		}
		k := min(len(p), frame.MaxHeaderSize-len(f.header))
		f.header = append(f.header, p[:k]...)
		h, n, err := frame.ParseHeader(f.header)
		if err != nil {
			f.err = err
			return
		}
		if n == 0 {
			p = p[k:]
			continue
		}
		// The header took n of the bytes held; the rest are payload.
		p = p[k-(len(f.header)-n):]
		f.header = f.header[:0]
		f.skip = h.Length
		if h.Fin && !h.Opcode.IsControl() {
			f.messages++
		}
	}
}

func (s *scriptedConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	return nil
}

func (s *scriptedConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9001}
}
func (s *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (s *scriptedConn) SetDeadline(t time.Time) error      { return nil }
func (s *scriptedConn) SetReadDeadline(t time.Time) error  { return nil }
func (s *scriptedConn) SetWriteDeadline(t time.Time) error { return nil }
