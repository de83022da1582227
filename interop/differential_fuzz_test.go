package interop

// Differential fuzz targets: our frame header parser, close-frame
// validation and read path against gobwas/ws and gorilla/websocket on the
// same bytes. Every disagreement the fuzzers met is either fixed in our
// code or a difference of theirs, written down in fuzz/FINDINGS.md with
// its input and what RFC 6455 says; those are recognised by name below
// (fzKnown*), each with a seed in testdata/fuzz, and every other
// disagreement fails.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	gobwas "github.com/gobwas/ws"
	"github.com/gorilla/websocket"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
)

// fzVerdict is one library's reading of a frame header.
type fzVerdict struct {
	state string // "ok", "incomplete" or "error"
	h     frame.Header
	n     int // header size, for "ok"
}

// ourHeader reads b with frame.ParseHeader and applies the receiver's rules
// with Header.Check (no extension owns a reserved bit).
func ourHeader(b []byte, server bool) fzVerdict {
	h, n, err := frame.ParseHeader(b)
	switch {
	case err != nil:
		var pe *frame.ProtocolError
		if !errors.As(err, &pe) || pe.Code != frame.StatusProtocolError {
			panic(fmt.Sprintf("ParseHeader error %v without close code 1002", err))
		}
		return fzVerdict{state: "error"}
	case n == 0:
		return fzVerdict{state: "incomplete"}
	case h.Check(server, 0) != nil:
		return fzVerdict{state: "error"}
	}
	return fzVerdict{state: "ok", h: h, n: n}
}

// gobwasHeader reads b with ws.ReadHeader and applies ws.CheckHeader for
// the same side. The state says "fragmented" for a continuation frame so
// that CheckHeader's message sequencing, which our header functions leave
// to package conn, never decides.
func gobwasHeader(b []byte, server bool) fzVerdict {
	r := bytes.NewReader(b)
	gh, err := gobwas.ReadHeader(r)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fzVerdict{state: "incomplete"}
	case err != nil:
		return fzVerdict{state: "error"}
	}
	state := gobwas.StateClientSide
	if server {
		state = gobwas.StateServerSide
	}
	if gh.OpCode == gobwas.OpContinuation {
		state |= gobwas.StateFragmented
	}
	if gobwas.CheckHeader(gh, state) != nil {
		return fzVerdict{state: "error"}
	}
	return fzVerdict{state: "ok", n: len(b) - r.Len(), h: frame.Header{
		Fin: gh.Fin, RSV: gh.Rsv << 4, Opcode: frame.Opcode(gh.OpCode),
		Masked: gh.Masked, Key: gh.Mask, Length: gh.Length,
	}}
}

// FuzzHeaderVsGobwas compares our header parser and receiver checks with
// gobwas/ws's ReadHeader and CheckHeader: both must accept the same
// headers with the same fields and size, and reject the same ones. When
// one needs more bytes and the other has already rejected, the verdict
// is compared on the header completed with zero bytes: that is a
// difference in when a violation is detected, not in what is one.
func FuzzHeaderVsGobwas(f *testing.F) {
	for _, s := range []string{
		"\x81\x05Hello", "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", "\x01\x03Hel", "\x80\x02lo",
		"\x89\x7e\x00\x7e", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00",
		"\x83\x00", "\xc1\x00", "\x09\x00", "\x82\x7e\x00\x05", "\x88", "",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, server bool) {
		ours, theirs := ourHeader(b, server), gobwasHeader(b, server)
		if ours.state != theirs.state && (ours.state == "incomplete" || theirs.state == "incomplete") {
			padded := append(bytes.Clone(b), make([]byte, frame.MaxHeaderSize)...)
			ours, theirs = ourHeader(padded, server), gobwasHeader(padded, server)
		}
		if ours != theirs && ours.state == "error" && theirs.state == "ok" && fzNonMinimal(b) {
			t.Logf("known difference F5, a length not in its minimal encoding: % x", b)
			return
		}
		if ours != theirs {
			t.Fatalf("% x (server %v):\n ours   %+v\n gobwas %+v", b, server, ours, theirs)
		}
	})
}

// fzNonMinimal reports whether the header at the front of b, completed
// with zero bytes, encodes its length in more bytes than it needs (RFC
// 6455 §5.2), which gobwas/ws accepts (F5 in fuzz/FINDINGS.md).
func fzNonMinimal(b []byte) bool {
	b = append(bytes.Clone(b), make([]byte, frame.MaxHeaderSize)...)
	switch b[1] & 0x7F {
	case 126:
		return binary.BigEndian.Uint16(b[2:]) < 126
	case 127:
		return binary.BigEndian.Uint64(b[2:]) <= 0xFFFF
	}
	return false
}

// Close payload verdicts: "ok CODE REASON", or "error".

func ourClose(p []byte) string {
	code, reason, err := frame.ParseClosePayload(p)
	if err != nil {
		return "error"
	}
	return fmt.Sprintf("ok %d %q", code, reason)
}

// gobwasClose is what a gobwas/ws receiver does with a close payload: an
// empty one means no status (1005, RFC 6455 §7.1.5); otherwise
// ParseCloseFrameData and CheckCloseFrameData.
func gobwasClose(p []byte) string {
	if len(p) == 0 {
		return fmt.Sprintf("ok %d %q", frame.StatusNoStatusReceived, "")
	}
	code, reason := gobwas.ParseCloseFrameData(p)
	if gobwas.CheckCloseFrameData(code, reason) != nil {
		return "error"
	}
	return fmt.Sprintf("ok %d %q", code, reason)
}

// gorillaClose feeds a close frame with payload p to a gorilla client
// Conn and reports what ReadMessage makes of it: a *CloseError is
// acceptance, any other error a rejection.
func gorillaClose(t *testing.T, p []byte) string {
	in := append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpClose, Length: int64(len(p))}), p...)
	g := gorillaFeed(t, in, false, 1)
	defer g.Close()
	_, _, err := g.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return fmt.Sprintf("ok %d %q", ce.Code, ce.Text)
	}
	return "error"
}

// Known differences in close-payload validation (fuzz/FINDINGS.md).
func fzKnownClose(p []byte, lib string) bool {
	if len(p) == 1 {
		return lib == "gorilla" // F1: a 1-byte payload is read as "no status"
	}
	if len(p) < 2 {
		return false
	}
	code := binary.BigEndian.Uint16(p)
	switch lib {
	case "gorilla":
		return code == 1014 // F2: 1014 (Bad Gateway, IANA) refused
	case "gobwas":
		return code >= 1012 && code <= 1014 || // F3: 1012-1014 (IANA) refused
			code >= 5000 && utf8.Valid(p[2:]) // F4: codes above 4999 accepted
	}
	return false
}

// FuzzCloseVsOthers compares our close-payload validation (RFC 6455
// §5.5.1, §7.4) with gobwas/ws's ParseCloseFrameData and
// CheckCloseFrameData and with a gorilla/websocket Conn receiving the
// close frame: code and reason when accepted, or a rejection.
func FuzzCloseVsOthers(f *testing.F) {
	for _, s := range []string{
		"", "\x03", "\x03\xe8", "\x03\xe8bye", "\x03\xe9\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", "\x03\xe8\xff",
		"\x03\xec", "\x03\xed", "\x03\xee", "\x03\xef", "\x03\xf4", "\x03\xf5", "\x03\xf6", "\x03\xf7",
		"\x03\xf8", "\x0b\xb8", "\x13\x87", "\x13\x88", "\xff\xff", "\x00\x00", "\x03\xe7", "\x07\xd0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > frame.MaxControlPayload {
			return
		}
		ours := ourClose(p)
		for _, other := range []struct{ lib, verdict string }{
			{"gobwas", gobwasClose(p)},
			{"gorilla", gorillaClose(t, p)},
		} {
			if other.verdict == ours {
				continue
			}
			if !fzKnownClose(p, other.lib) {
				t.Fatalf("close payload % x:\n ours    %s\n %-7s %s", p, ours, other.lib, other.verdict)
			}
			t.Logf("known difference of %s: ours %s, %s %s", other.lib, ours, other.lib, other.verdict)
		}
	})
}

// feedConn is a net.Conn that reads from fixed bytes, at most chunk
// bytes a read, and discards what is written. respond, when set, builds
// the bytes to read from what was written before the first read (the
// handshake request).
type feedConn struct {
	mu      sync.Mutex
	in      *bytes.Reader
	written bytes.Buffer
	respond func(written []byte) []byte
	chunk   int
}

func (c *feedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in == nil {
		c.in = bytes.NewReader(c.respond(c.written.Bytes()))
	}
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.in.Read(p)
}

func (c *feedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.respond != nil && c.in == nil {
		c.written.Write(p)
	}
	return len(p), nil
}

func (c *feedConn) Close() error                     { return nil }
func (c *feedConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *feedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *feedConn) SetDeadline(time.Time) error      { return nil }
func (c *feedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *feedConn) SetWriteDeadline(time.Time) error { return nil }

// hijackWriter is the http.ResponseWriter gorilla's Upgrader needs: it
// hands over the connection.
type hijackWriter struct {
	nc     net.Conn
	header http.Header
}

func (w *hijackWriter) Header() http.Header         { return w.header }
func (w *hijackWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.nc, bufio.NewReadWriter(bufio.NewReader(w.nc), bufio.NewWriter(w.nc)), nil
}

const fzKey = "dGhlIHNhbXBsZSBub25jZQ=="

// gorillaFeed returns a gorilla Conn of the given side that reads in
// after its opening handshake.
func gorillaFeed(t *testing.T, in []byte, server bool, chunk int) *websocket.Conn {
	if server {
		nc := &feedConn{in: bytes.NewReader(in), chunk: chunk}
		r := &http.Request{
			Method: "GET", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com",
			Header: http.Header{
				"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
				"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {fzKey},
			},
		}
		up := websocket.Upgrader{ReadBufferSize: 64, WriteBufferSize: 256}
		g, err := up.Upgrade(&hijackWriter{nc: nc, header: http.Header{}}, r, nil)
		if err != nil {
			t.Fatalf("gorilla Upgrade: %v", err)
		}
		return g
	}
	nc := &feedConn{chunk: chunk, respond: func(req []byte) []byte {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req)))
		if err != nil {
			t.Errorf("gorilla's request: %v", err)
			return nil
		}
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + handshake.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		return append([]byte(resp), in...)
	}}
	d := websocket.Dialer{
		NetDialContext:  func(context.Context, string, string) (net.Conn, error) { return nc, nil },
		ReadBufferSize:  64,
		WriteBufferSize: 256,
	}
	g, _, err := d.Dial("ws://example.com/", nil)
	if err != nil {
		t.Fatalf("gorilla Dial: %v", err)
	}
	return g
}

// fzOutcome is what a receiver makes of a byte stream: its messages and
// how it ends ("close CODE", "fail CODE" or "abnormal").
type fzOutcome struct {
	msgs []string
	end  string
}

func (o fzOutcome) String() string { return fmt.Sprintf("%q %s", o.msgs, o.end) }

// fzReadLimit is the read limit of both receivers.
const fzReadLimit = 256

func ourRead(t *testing.T, in []byte, server bool, chunk int) fzOutcome {
	role := conn.Client
	if server {
		role = conn.Server
	}
	c := conn.New(&feedConn{in: bytes.NewReader(in), chunk: chunk}, conn.Setup{Role: role, Options: &conn.Options{
		ReadLimit: fzReadLimit, ReadBufferSize: 64, CloseTimeout: 50 * time.Millisecond,
	}})
	defer c.CloseNow()
	var out fzOutcome
	for {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			out.msgs = append(out.msgs, fmt.Sprintf("%d:%s", typ, msg))
			continue
		}
		var pe *frame.ProtocolError
		var ce *conn.CloseError
		switch {
		case errors.As(err, &pe):
			out.end = fmt.Sprintf("fail %d", pe.Code)
		case errors.As(err, &ce) && ce.Code == frame.StatusAbnormalClosure:
			out.end = "abnormal"
		case errors.As(err, &ce):
			out.end = fmt.Sprintf("close %d", ce.Code)
		default:
			t.Fatalf("untyped error %v", err)
		}
		return out
	}
}

func gorillaRead(t *testing.T, in []byte, server bool, chunk int) fzOutcome {
	g := gorillaFeed(t, in, server, chunk)
	defer g.Close()
	g.SetReadLimit(fzReadLimit)
	var out fzOutcome
	for {
		typ, msg, err := g.ReadMessage()
		if err == nil {
			out.msgs = append(out.msgs, fmt.Sprintf("%d:%s", typ, msg))
			continue
		}
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
			out.end = "abnormal"
		case errors.As(err, &ce):
			out.end = fmt.Sprintf("close %d", ce.Code)
		case errors.Is(err, websocket.ErrReadLimit):
			out.end = "fail 1009"
		case strings.HasPrefix(err.Error(), "websocket: "):
			out.end = "fail 1002" // handleProtocolError: sends 1002 and returns the reason
		default:
			t.Fatalf("gorilla: unexpected error %v", err)
		}
		return out
	}
}

// fzKnownRead walks in as RFC 6455 prescribes and returns the first place
// where one of the known differences of gorilla/websocket's read path
// (fuzz/FINDINGS.md) applies: the number of messages delivered before it,
// and its name; "" when none applies, and then the outcomes must agree.
func fzKnownRead(in []byte, server bool) (int, string) {
	delivered := 0
	inMsg, text := false, false
	var msg []byte
	for len(in) > 0 {
		h, n, err := frame.ParseHeader(in)
		if n == 0 && err == nil {
			// The stream ends inside a header: gorilla judges the first
			// two bytes before it reads the rest.
			if earlyViolation(in, server, inMsg) {
				return delivered, "G4 early verdict on a truncated header"
			}
			return 0, ""
		}
		if err != nil {
			if errors.Is(err, frame.ErrLengthOverflow) && !earlyViolation(in, server, inMsg) {
				return delivered, "G5 64-bit length with the top bit set"
			}
			if errors.Is(err, frame.ErrNonMinimalLength) && !earlyViolation(in, server, inMsg) {
				return delivered, "G7 a length not in its minimal encoding"
			}
			return 0, ""
		}
		if earlyViolation(in, server, inMsg) || h.Check(server, 0) != nil {
			return 0, ""
		}
		in = in[n:]
		truncated := int64(len(in)) < h.Length
		p := bytes.Clone(in[:min(int64(len(in)), h.Length)])
		in = in[len(p):]
		frame.Mask(h.Key, 0, p)
		if truncated {
			// Both end abnormally, unless we meet invalid UTF-8 first.
			prev := msg
			if h.Opcode != frame.OpContinuation {
				prev = nil
			}
			isText := h.Opcode == frame.OpText || h.Opcode == frame.OpContinuation && text
			if isText && int64(len(prev))+h.Length <= fzReadLimit && !utf8Completable(append(prev, p...)) {
				return delivered, "G3 text messages are not checked for UTF-8"
			}
			return 0, ""
		}
		switch {
		case h.Opcode == frame.OpClose:
			if len(p) == 1 {
				return delivered, "G1 one-byte close payload"
			}
			if len(p) < 2 {
				return 0, ""
			}
			code := frame.StatusCode(binary.BigEndian.Uint16(p))
			switch {
			case code == 1014 && utf8.Valid(p[2:]):
				return delivered, "G2 close code 1014"
			case (frame.ValidCloseCode(code) || code == 1014) && !utf8.Valid(p[2:]):
				return delivered, "G6 close reason not UTF-8: 1002, ours 1007"
			}
			return 0, ""
		case h.Opcode.IsControl():
			continue
		case h.Opcode != frame.OpContinuation:
			msg, text = msg[:0], h.Opcode == frame.OpText
		}
		if int64(len(msg))+h.Length > fzReadLimit {
			return 0, ""
		}
		msg = append(msg, p...)
		inMsg = !h.Fin
		if text && (h.Fin && !utf8.Valid(msg) || !h.Fin && !utf8Completable(msg)) {
			return delivered, "G3 text messages are not checked for UTF-8"
		}
		if h.Fin {
			delivered++
		}
	}
	return 0, ""
}

// utf8Completable reports whether some continuation makes p valid UTF-8.
func utf8Completable(p []byte) bool {
	for _, tail := range []string{"", "\x80", "\x80\x80", "\x80\x80\x80", "\xa0\x80", "\x90\x80\x80", "\x9f\x80", "\x8f\x80\x80"} {
		if utf8.Valid(append(bytes.Clone(p), tail...)) {
			return true
		}
	}
	return false
}

// earlyViolation reports whether the first two bytes of a header already
// break a rule that gorilla checks before reading the rest: reserved
// bits, a reserved opcode, a control frame that is fragmented or whose
// 7-bit length is over 125, the mask bit, and message sequencing.
func earlyViolation(b []byte, server, inMsg bool) bool {
	if len(b) < 2 {
		return false
	}
	op := frame.Opcode(b[0] & 0xF)
	fin := b[0]&0x80 != 0
	switch {
	case b[0]&0x70 != 0, op.IsReserved(), (b[1]&0x80 != 0) != server:
		return true
	case op.IsControl():
		return !fin || b[1]&0x7F > frame.MaxControlPayload
	case op == frame.OpContinuation:
		return !inMsg
	}
	return inMsg
}

// FuzzReadVsGorilla feeds the same bytes to one of our Conns and to a
// gorilla/websocket Conn of the same side, both with a read limit of 256
// bytes, reading at most chunk bytes at a time, and compares the messages
// delivered and how the stream ends: a close frame's code, a failure's
// close code, or an abnormal end. Where a known difference of gorilla's
// applies, the messages before it must still agree.
func FuzzReadVsGorilla(f *testing.F) {
	mk := func(h frame.Header, p string) []byte {
		h.Length = int64(len(p))
		b := []byte(p)
		if h.Masked {
			frame.Mask(h.Key, 0, b)
		}
		return append(frame.AppendHeader(nil, h), b...)
	}
	key := [4]byte{1, 2, 3, 4}
	for _, server := range []bool{false, true} {
		fr := func(fin bool, op frame.Opcode, p string) []byte {
			return mk(frame.Header{Fin: fin, Opcode: op, Masked: server, Key: key}, p)
		}
		cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
		f.Add(cat(fr(true, frame.OpText, "Hello"), fr(true, frame.OpClose, "\x03\xe8bye")), server, uint8(0))
		f.Add(cat(fr(false, frame.OpText, "Hel"), fr(true, frame.OpPing, "p"), fr(true, frame.OpContinuation, "lo")), server, uint8(3))
		f.Add(cat(fr(true, frame.OpBinary, strings.Repeat("x", 300))), server, uint8(0))
		f.Add(cat(fr(true, frame.OpText, "ok"), fr(true, frame.OpText, "\xed\xa0\x80")), server, uint8(1))
		f.Add(cat(fr(true, frame.OpBinary, "a"), fr(true, frame.OpClose, "\x03")), server, uint8(0))
		f.Add(cat(fr(true, frame.OpClose, "\x03\xf6")), server, uint8(0))
		f.Add(cat(fr(true, frame.OpBinary, "a"), []byte{0x83}), server, uint8(0))
		f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, server, uint8(0))
		// A length not in its minimal encoding (G7), data and control.
		nonMinimal := func(op frame.Opcode, p string) []byte {
			b := fr(true, op, p) // a 7-bit length: p is short
			return append([]byte{b[0], b[1]&0x80 | 126, 0, byte(len(p))}, b[2:]...)
		}
		f.Add(cat(fr(true, frame.OpText, "ok"), nonMinimal(frame.OpBinary, "hello")), server, uint8(0))
		f.Add(cat(fr(true, frame.OpText, "ok"), nonMinimal(frame.OpPing, "p")), server, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, server bool, chunk uint8) {
		ours := ourRead(t, in, server, int(chunk))
		theirs := gorillaRead(t, in, server, int(chunk))
		if ours.String() == theirs.String() {
			return
		}
		k, why := fzKnownRead(in, server)
		if why != "" && len(ours.msgs) >= k && len(theirs.msgs) >= k &&
			fmt.Sprint(ours.msgs[:k]) == fmt.Sprint(theirs.msgs[:k]) {
			t.Logf("known difference %s:\n ours    %v\n gorilla %v", why, ours, theirs)
			return
		}
		t.Fatalf("% x (server %v, chunk %d):\n ours    %v\n gorilla %v", in, server, chunk, ours, theirs)
	})
}
