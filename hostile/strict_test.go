package hostile

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// strictServer is a minimal echo server, written for this test, with the
// protections the flood and stall attacks look for: it fails a
// connection with 1009 after 1000 fragments of one message or a frame
// longer than 1 MiB, with 1002 on an unmasked frame, closes TCP at once
// after its close frame, and drops a peer whose writes block for 300 ms.
// It shows those checks PASS against a server other than the project's,
// whose code the tool might otherwise mirror.
func strictServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				strictConn(nc)
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func strictConn(nc net.Conn) {
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	key := ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if line = strings.TrimSpace(line); line == "" {
			break
		}
		if name, value, _ := strings.Cut(line, ":"); strings.EqualFold(name, "Sec-WebSocket-Key") {
			key = strings.TrimSpace(value)
		}
	}
	nc.SetReadDeadline(time.Time{})
	write := func(b []byte) bool {
		nc.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := nc.Write(b)
		return err == nil
	}
	fail := func(code uint16) {
		write(wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: wire.OpClose}, wire.ClosePayload(code, "")))
	}
	if !write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wire.AcceptKey(key) + "\r\n\r\n")) {
		return
	}
	fragments := 0
	var msg []byte
	var msgOp byte
	for {
		b, err := br.Peek(2)
		if err != nil {
			return
		}
		size := 2 + map[byte]int{126: 2, 127: 8}[b[1]&0x7f] + 4
		if b, err = br.Peek(size); err != nil {
			return
		}
		h, n, err := wire.ParseHeader(b)
		if err != nil {
			return
		}
		br.Discard(n)
		switch {
		case !h.Masked:
			fail(1002)
			return
		case h.Length > 1<<20 || uint64(len(msg))+h.Length > 1<<20:
			fail(1009)
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		wire.Mask(h.Key, 0, p)
		switch h.Opcode {
		case wire.OpPing:
			if !write(wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: wire.OpPong}, p)) {
				return
			}
			continue
		case wire.OpClose:
			write(wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: wire.OpClose}, p))
			return
		case wire.OpText, wire.OpBinary:
			msgOp, msg, fragments = h.Opcode, p, 0
		default:
			if fragments++; fragments > 1000 {
				fail(1009)
				return
			}
			msg = append(msg, p...)
		}
		if h.Fin && !write(wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: msgOp}, msg)) {
			return
		}
	}
}

func TestStrictServerPasses(t *testing.T) {
	t.Parallel() // after TestDescriptorChecks, which counts this process's descriptors
	c := testConfig(t, strictServer(t))
	c.Stall = 2 * time.Second
	results := runNamed(t, c, "frame/unmasked", "length/huge", "flood/fragments", "stall/never-reads", "flood/ping-no-read")
	wantVerdicts(t, results, Pass, map[string]string{
		"length/huge":        "close 1009",
		"flood/fragments":    "close 1009",
		"stall/never-reads":  "dropped after",
		"flood/ping-no-read": "dropped after",
	})
}
