package autobahn

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/ws/frame"
)

// testee is a small WebSocket endpoint written for these tests, with
// switchable defects, so the suite's verdicts can be checked against
// implementations whose behavior is known exactly. It speaks just enough
// RFC 6455 to be a correct echo endpoint when no defect is set: it fails
// fast on invalid UTF-8, checks reserved bits and opcodes, answers pings
// and closes, and (as a server) drops TCP after the closing handshake.
type testee struct {
	noUTF8       bool // never validates UTF-8
	lateUTF8     bool // validates UTF-8 only when a message is complete
	ignoreRSV    bool // accepts frames with reserved bits set
	noCloseReply bool // ignores close frames: never answers, never drops
	badPong      bool // answers every ping with the payload "wrong"

	collect func(op byte, payload []byte) // client: record messages instead of echoing
}

const testeeWait = 3 * time.Second

type testeeConn struct {
	t       testee
	conn    net.Conn
	br      *bufio.Reader
	client  bool
	closing bool // a close frame was sent
}

// serveTestee runs a testee server on a loopback listener until it is
// closed.
func serveTestee(ln net.Listener, t testee) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			tc := &testeeConn{t: t, conn: c, br: bufio.NewReader(c)}
			if tc.serverHandshake() == nil {
				tc.loop()
			}
		}()
	}
}

// runTesteeClient connects to rawurl (ws://host:port/path?query) and runs
// the testee as a client until the connection ends.
func runTestee(rawurl string, t testee) error {
	rest := strings.TrimPrefix(rawurl, "ws://")
	host, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	c, err := net.DialTimeout("tcp", host, testeeWait)
	if err != nil {
		return err
	}
	defer c.Close()
	tc := &testeeConn{t: t, conn: c, br: bufio.NewReader(c), client: true}
	if err := tc.clientHandshake(host, path); err != nil {
		return err
	}
	return tc.loop()
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func (c *testeeConn) readHead() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(testeeWait))
	defer c.conn.SetReadDeadline(time.Time{})
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == "\r\n" {
			return b.String(), nil
		}
		b.WriteString(line)
	}
}

func header(head, name string) string {
	for _, l := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (c *testeeConn) serverHandshake() error {
	head, err := c.readHead()
	if err != nil {
		return err
	}
	key := header(head, "Sec-WebSocket-Key")
	if key == "" {
		return errors.New("no key")
	}
	_, err = fmt.Fprintf(c.conn, "HTTP/1.1 101 Switching Protocols\r\nServer: testee\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(key))
	return err
}

func (c *testeeConn) clientHandshake(host, path string) error {
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	if _, err := fmt.Fprintf(c.conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, key); err != nil {
		return err
	}
	head, err := c.readHead()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(head, "HTTP/1.1 101") || header(head, "Sec-WebSocket-Accept") != wsAccept(key) {
		return fmt.Errorf("handshake refused: %q", head)
	}
	return nil
}

func (c *testeeConn) writeFrame(op byte, payload []byte) error {
	h := frame.Header{Fin: true, Opcode: frame.Opcode(op), Length: int64(len(payload))}
	p := bytes.Clone(payload)
	if c.client {
		h.Masked = true
		rand.Read(h.Key[:])
		frame.Mask(h.Key, 0, p)
	}
	_, err := c.conn.Write(append(frame.AppendHeader(nil, h), p...))
	return err
}

// sendClose starts or answers the closing handshake.
func (c *testeeConn) sendClose(code int) {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	c.writeFrame(8, p)
	c.closing = true
}

// finish ends the connection after the closing handshake: a server drops
// TCP at once, a client waits for the server to drop it.
func (c *testeeConn) finish() error {
	if c.client {
		c.conn.SetReadDeadline(time.Now().Add(testeeWait))
		io.Copy(io.Discard, c.br)
	}
	return nil
}

func (c *testeeConn) fail(code int) error {
	if c.closing {
		return errors.New("second failure while closing")
	}
	c.sendClose(code)
	return nil
}

func validCode(code int) bool {
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999)
}

// loop reads frames until the connection ends.
func (c *testeeConn) loop() error {
	var (
		msg     []byte
		msgOp   byte
		inMsg   bool
		utf     frame.UTF8Validator
		hdr     [14]byte
		chunk   = make([]byte, 4096)
		control []byte
	)
	deadline := func() { c.conn.SetReadDeadline(time.Now().Add(10 * time.Second)) }
	for {
		deadline()
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return err
		}
		fin := hdr[0]&0x80 != 0
		rsv := hdr[0] & 0x70
		op := hdr[0] & 0x0f
		masked := hdr[1]&0x80 != 0
		length := uint64(hdr[1] & 0x7f)
		switch length {
		case 126:
			if _, err := io.ReadFull(c.br, hdr[2:4]); err != nil {
				return err
			}
			length = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(c.br, hdr[2:10]); err != nil {
				return err
			}
			length = binary.BigEndian.Uint64(hdr[2:10])
		}
		var key [4]byte
		if masked {
			if _, err := io.ReadFull(c.br, key[:]); err != nil {
				return err
			}
		}
		bad := (rsv != 0 && !c.t.ignoreRSV) ||
			(op > 2 && op < 8) || op > 10 ||
			(op >= 8 && (!fin || length > 125)) ||
			masked == c.client ||
			(op == 0 && !inMsg && op < 8) || (op != 0 && op < 8 && inMsg) ||
			length > 64<<20
		if bad {
			if c.closing || length > 1<<20 {
				return errors.New("protocol error while closing")
			}
			c.fail(1002)
			if op == 8 {
				// A malformed close is still the peer's close: the
				// closing handshake is over.
				return c.finish()
			}
			if c.t.noCloseReply {
				// A testee that ignores closes still ends a broken
				// connection by dropping it.
				return nil
			}
			deadline()
			if _, err := io.CopyN(io.Discard, c.br, int64(length)); err != nil {
				return err
			}
			continue
		}
		// Read the payload as it arrives so invalid UTF-8 is found early.
		isText := op == 1 || (op == 0 && msgOp == 1)
		if op < 8 && !inMsg {
			inMsg, msgOp, msg = true, op, msg[:0]
			utf.Reset()
		}
		control = control[:0]
		pos := 0
		failed := false
		for left := length; left > 0; {
			n := min(left, uint64(len(chunk)))
			if b := c.br.Buffered(); b > 0 {
				n = min(n, uint64(b))
			}
			deadline()
			m, err := c.br.Read(chunk[:n])
			if err != nil {
				return err
			}
			p := chunk[:m]
			if masked {
				pos = frame.Mask(key, pos, p)
			}
			left -= uint64(m)
			if op >= 8 {
				control = append(control, p...)
				continue
			}
			if c.closing {
				continue
			}
			msg = append(msg, p...)
			if isText && !c.t.noUTF8 && !c.t.lateUTF8 && !failed && !utf.Write(p) {
				failed = true
				c.fail(1007)
			}
		}
		if c.closing && op != 8 {
			continue
		}
		switch op {
		case 8:
			if c.t.noCloseReply {
				continue
			}
			if c.closing {
				return c.finish()
			}
			code := 0
			switch {
			case len(control) == 1:
				c.sendClose(1002)
				return c.finish()
			case len(control) >= 2:
				code = int(binary.BigEndian.Uint16(control))
				if !validCode(code) {
					c.sendClose(1002)
					return c.finish()
				}
				if !utf8.Valid(control[2:]) {
					c.sendClose(1007)
					return c.finish()
				}
			}
			c.sendClose(code)
			return c.finish()
		case 9:
			p := control
			if c.t.badPong {
				p = []byte("wrong")
			}
			c.writeFrame(10, p)
		case 10:
		default:
			if !fin {
				continue
			}
			inMsg = false
			if msgOp == 1 && !c.t.noUTF8 && !utf8.Valid(msg) {
				c.fail(1007)
				continue
			}
			if c.t.collect != nil {
				c.t.collect(msgOp, bytes.Clone(msg))
				continue
			}
			c.writeFrame(msgOp, msg)
		}
	}
}
