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

	"github.com/rfc6455/ws/bench/internal/peers"
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
func BenchmarkServer(b *testing.B) {
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		for _, typ := range []string{"binary", "text"} {
			for _, n := range []int{16, 1 << 10} {
				for _, depth := range []int{1, 16} {
					b.Run(fmt.Sprintf("lib=%s/type=%s/size=%s/depth=%d", name, typ, sizeLabel(n), depth), func(b *testing.B) {
						benchServer(b, lib, typ == "text", n, depth)
					})
				}
			}
		}
	}
}

func benchServer(b *testing.B, lib peers.Lib, text bool, n, depth int) {
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	if err := serveScripted(lib, text, n, depth, b.N); err != nil {
		b.Fatal(err)
	}
}

// serveScripted runs lib's echo endpoint on a scriptedConn carrying count
// messages of n bytes, depth frames per read, and checks that every echo
// was written.
func serveScripted(lib peers.Lib, text bool, n, depth, count int) error {
	batch, echoLen, err := clientFrames(text, peers.Payload(n), depth)
	if err != nil {
		return err
	}
	nc := &scriptedConn{request: upgradeRequest, batch: batch, frames: depth, left: count, done: make(chan struct{})}
	// Some servers serve the connection on a goroutine of their own and
	// return at once; every one closes the connection when its stream ends.
	go lib.ServeConn(nc, peers.Options{})
	select {
	case <-nc.done:
	case <-time.After(time.Minute):
		return fmt.Errorf("%s did not close the connection within a minute of its stream", lib.Name)
	}
	if got, want := nc.frameBytes(), int64(count)*int64(echoLen); got < want {
		return fmt.Errorf("%s wrote %d bytes of frames after its handshake response, want at least %d (%d echoes of %d bytes)", lib.Name, got, want, count, echoLen)
	}
	return nil
}

// TestServerScript runs the harness of BenchmarkServer briefly for every
// library, so that a change that breaks it shows in the tests.
func TestServerScript(t *testing.T) {
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		for _, text := range []bool{false, true} {
			if err := serveScripted(lib, text, 1<<10, 16, 100); err != nil {
				t.Error(err)
			}
		}
	}
}

// upgradeRequest is a client's opening handshake (RFC 6455 §1.3).
const upgradeRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// clientFrames returns depth masked frames carrying msg, as a client sends
// them, and the length of the unmasked frame a server echoes.
func clientFrames(text bool, msg []byte, depth int) ([]byte, int, error) {
	op := frame.OpBinary
	if text {
		op = frame.OpText
	}
	var out bytes.Buffer
	var w frame.Writer
	if err := w.Reset(&out, make([]byte, len(msg)+frame.MaxHeaderSize)); err != nil {
		return nil, 0, err
	}
	for i := range depth {
		h := frame.Header{Fin: true, Opcode: op, Masked: true, Key: [4]byte{byte(i), 0x5a, 0xc3, 0x17}}
		if err := w.WriteFrame(h, msg); err != nil {
			return nil, 0, err
		}
		if err := w.Flush(); err != nil {
			return nil, 0, err
		}
	}
	echo := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: op, Length: int64(len(msg))})
	return out.Bytes(), len(echo) + len(msg), nil
}

// scriptedConn is a net.Conn that reads as a client's handshake followed
// by left frames, served frames at a time from batch (each read returns at
// most the rest of the current batch), and then the end of the stream.
// Writes are counted and discarded; done is closed at the first Close.
type scriptedConn struct {
	request string
	batch   []byte
	frames  int // frames in batch
	left    int // frames still to be read

	off      int // read position in batch
	cut      int // end of the frames of the current batch still to be read
	mu       sync.Mutex
	written  int64
	response int64 // bytes of the handshake response, once complete
	closed   bool
	done     chan struct{} // closed by Close
}

var errClosedScript = errors.New("scripted connection closed")

func (s *scriptedConn) Read(p []byte) (int, error) {
	if s.request != "" {
		n := copy(p, s.request)
		s.request = s.request[n:]
		return n, nil
	}
	if s.off == s.cut {
		if s.left == 0 {
			return 0, io.EOF
		}
		k := min(s.left, s.frames)
		s.left -= k
		s.off, s.cut = 0, len(s.batch)/s.frames*k
	}
	n := copy(p, s.batch[s.off:s.cut])
	s.off += n
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
		if i := strings.Index(string(p), "\r\n\r\n"); i >= 0 {
			s.response = s.written + int64(i) + 4
		}
	}
	s.written += int64(len(p))
	return len(p), nil
}

// frameBytes returns the bytes written after the handshake response.
func (s *scriptedConn) frameBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.response == 0 {
		return 0
	}
	return s.written - s.response
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
