//go:build js && wasm

package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall/js"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
)

// inBrowser is true when the program runs as WebAssembly in a page, where
// Dial opens the browser's WebSocket instead of TCP.
const inBrowser = true

// Under js/wasm a page cannot open TCP connections: Dial opens the
// browser's WebSocket (WHATWG WebSockets Standard) and returns the same
// *conn.Conn as everywhere else, built over browserConn, a net.Conn that
// translates between the frames the Conn reads and writes and the
// messages the browser's API deals in:
//
//   - each message the browser delivers is encoded as one unmasked server
//     frame (RFC 6455 §5.2) into the read side, and the browser's close
//     event becomes a close frame (§5.5.1) followed by the end of the
//     stream, so the Conn's reads, limits and close handshake work as on
//     TCP;
//   - the masked client frames the Conn writes are parsed on the write
//     side, unmasked (§5.3), a fragmented message (§5.4) reassembled, and
//     each message handed to WebSocket.send; a close frame becomes
//     WebSocket.close(code, reason).
//
// The browser owns the wire: it masks, fragments, answers pings and
// negotiates compression by itself, and tells a page none of it. So the
// Conn negotiates no extension, its keepalive is off (it would send pings,
// which a page cannot), and Ping returns an *UnsupportedError.

// browserWriteHighWater bounds the bytes the browser may hold unsent
// (WebSocket.bufferedAmount) before a write waits: the API never blocks
// and would otherwise queue without limit for a slow network. A write
// waits, polling every browserWritePoll, until the browser has sent
// enough or the write deadline (Options.WriteTimeout, 30 s by default)
// passes.
const (
	browserWriteHighWater = 4 << 20
	browserWritePoll      = 5 * time.Millisecond
)

// browserInputSlack is added to twice the read limit to bound the input
// that browserConn holds unread: the browser has no way to slow a server
// down, so a server that sends faster than the application reads fails
// the connection there instead of growing memory without bound.
const browserInputSlack = 1 << 20

// errInputOverflow ends the read side when the unread input passes its
// bound.
var errInputOverflow = errors.New("client: the server sent more than the application read (input bound: twice Options.ReadLimit plus 1 MiB)")

// dialBrowser opens a WebSocket with the browser's API and waits for it
// to open, for ctx, or for the browser to give up.
func (o *DialOptions) dialBrowser(ctx context.Context, rawURL string) (*conn.Conn, *http.Response, error) {
	opts, err := o.browserOptions()
	if err != nil {
		return nil, nil, err
	}
	u, err := browserURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, nil, errors.New("client: this JavaScript environment has no WebSocket")
	}
	protocols := make([]any, len(o.Subprotocols))
	for i, p := range o.Subprotocols {
		protocols[i] = p
	}
	var ws js.Value
	if err := jsTry(func() { ws = ctor.New(u, protocols) }); err != nil {
		// A SyntaxError: an invalid URL or subprotocol token.
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	ws.Set("binaryType", "arraybuffer")

	bc := newBrowserConn(ws, inputBound(opts.ReadLimit))
	select {
	case <-bc.opened:
	case <-bc.ended:
		bc.Close()
		return nil, nil, fmt.Errorf("client: the browser could not open %s (close code %d); a page is not told why (refused handshake, network error, TLS)", u, bc.closeCode)
	case <-ctx.Done():
		bc.Close()
		return nil, nil, fmt.Errorf("client: %w", ctx.Err())
	}
	sub := ws.Get("protocol").String()
	if sub != "" && !offered(o.Subprotocols, sub) {
		bc.Close()
		return nil, nil, fmt.Errorf("client: server selected subprotocol %q, which was not offered", sub)
	}
	c := conn.New(bc, conn.Setup{Role: conn.Client, Subprotocol: sub, Options: &opts})
	// The browser hides the response; these are the facts it does report.
	resp := &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
		Body:   http.NoBody,
	}
	if sub != "" {
		resp.Header.Set("Sec-WebSocket-Protocol", sub)
	}
	if ext := ws.Get("extensions").String(); ext != "" {
		resp.Header.Set("Sec-WebSocket-Extensions", ext)
	}
	return c, resp, nil
}

func offered(offers []string, s string) bool {
	for _, o := range offers {
		if o == s {
			return true
		}
	}
	return false
}

// browserOptions checks that every option set is one the browser can
// honour, and returns the Conn's options with keepalive off.
func (o *DialOptions) browserOptions() (conn.Options, error) {
	unsupported := func(what, why string) error { return &UnsupportedError{What: what, Why: why} }
	switch {
	case o.TLSConfig != nil:
		return conn.Options{}, unsupported("DialOptions.TLSConfig", "the browser does TLS with its own settings and certificate store")
	case o.Header != nil:
		return conn.Options{}, unsupported("DialOptions.Header", "a page cannot set handshake header fields; the browser sends Origin, cookies and User-Agent itself")
	case o.Extensions != nil:
		return conn.Options{}, unsupported("DialOptions.Extensions", "the browser negotiates extensions itself (Chromium and Firefox offer permessage-deflate)")
	case o.Compression != nil:
		return conn.Options{}, unsupported("DialOptions.Compression", "the browser negotiates permessage-deflate itself")
	case o.NetDialContext != nil:
		return conn.Options{}, unsupported("DialOptions.NetDialContext", "a page cannot open TCP connections")
	case o.Proxy != nil:
		return conn.Options{}, unsupported("DialOptions.Proxy", "the browser uses the system's proxy settings")
	case o.MaxHeaderBytes != 0:
		return conn.Options{}, unsupported("DialOptions.MaxHeaderBytes", "the browser reads the handshake response with its own limits")
	}
	var opts conn.Options
	if o.Conn != nil {
		opts = *o.Conn
	}
	switch {
	case opts.KeepAliveInterval > 0 || opts.KeepAliveTimeout > 0:
		return conn.Options{}, unsupported("Options.KeepAliveInterval", "keepalive needs pings, which a page cannot send; the browser keeps the connection")
	case opts.OnPing != nil || opts.OnPong != nil:
		return conn.Options{}, unsupported("Options.OnPing and OnPong", "the browser answers pings itself and does not show them to the page")
	}
	opts.KeepAliveInterval = -1
	return opts, nil
}

// browserURL accepts what Dial accepts elsewhere: ws, wss, and http and
// https taken as ws and wss (RFC 6455 §3).
func browserURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("client: URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	if u.Fragment != "" {
		return "", errors.New("client: a WebSocket URL has no fragment (RFC 6455 §3)")
	}
	return u.String(), nil
}

// inputBound is the most unread input browserConn holds: twice the read
// limit (after its default) plus browserInputSlack, or no bound when the
// read limit is off.
func inputBound(readLimit int64) int64 {
	switch {
	case readLimit < 0:
		return -1
	case readLimit == 0:
		readLimit = conn.DefaultReadLimit
	}
	return 2*readLimit + browserInputSlack
}

// jsTry runs f and returns the JavaScript exception it throws, if any.
func jsTry(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jerr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jerr
		}
	}()
	f()
	return nil
}

// browserConn is the net.Conn of a Conn in a browser: see the comment at
// the top of this file.
type browserConn struct {
	ws     js.Value
	funcs  []js.Func
	opened chan struct{} // closed by the open event
	ended  chan struct{} // closed by the close event, or by Close

	mu        sync.Mutex
	in        [][]byte // frames not yet read, oldest first
	inBytes   int64
	inBound   int64         // bound on inBytes, -1 for none
	inEnd     error         // what Read returns once in is empty: io.EOF or why not
	readWake  chan struct{} // signalled when in, inEnd or the read deadline changes
	rdeadline time.Time
	wdeadline time.Time
	closeCode int  // from the close event, for Dial's error
	endedSet  bool // ended is closed
	closed    bool // Close was called

	// Write side, used by the Conn's writer under its wire lock.
	out   []byte       // bytes of a frame not complete yet
	msg   []byte       // a fragmented message being reassembled
	msgOp frame.Opcode // its opcode, 0 when none
}

func newBrowserConn(ws js.Value, inBound int64) *browserConn {
	b := &browserConn{
		ws:       ws,
		opened:   make(chan struct{}),
		ended:    make(chan struct{}),
		inBound:  inBound,
		readWake: make(chan struct{}, 1),
	}
	b.on("open", func(js.Value) { close(b.opened) })
	b.on("message", b.onMessage)
	b.on("close", b.onClose)
	// An error event is always followed by a close event, which says
	// what there is to say (a page is told nothing more).
	b.on("error", func(js.Value) {})
	return b
}

// on sets the handler of a WebSocket event. The browser calls it on the
// JavaScript event loop; it must not block.
func (b *browserConn) on(event string, h func(ev js.Value)) {
	f := js.FuncOf(func(this js.Value, args []js.Value) any {
		h(args[0])
		return nil
	})
	b.funcs = append(b.funcs, f)
	b.ws.Set("on"+event, f)
}

// onMessage encodes the message as one unmasked final frame, as a server
// would send it (RFC 6455 §5.2).
func (b *browserConn) onMessage(ev js.Value) {
	data := ev.Get("data")
	var h frame.Header
	var payload []byte
	if data.Type() == js.TypeString {
		h.Opcode = frame.OpText
		payload = []byte(data.String())
	} else {
		h.Opcode = frame.OpBinary
		arr := js.Global().Get("Uint8Array").New(data)
		payload = make([]byte, arr.Get("length").Int())
		js.CopyBytesToGo(payload, arr)
	}
	h.Fin = true
	h.Length = int64(len(payload))
	b.push(frame.AppendHeader(make([]byte, 0, frame.MaxHeaderSize), h), payload)
}

// onClose encodes the peer's close as a close frame (RFC 6455 §5.5.1),
// then ends the stream, as a server closing TCP would. A close without a
// frame (1006, or 1015 for TLS) ends it without one.
func (b *browserConn) onClose(ev js.Value) {
	code := frame.StatusCode(ev.Get("code").Int())
	b.mu.Lock()
	b.closeCode = int(code)
	b.mu.Unlock()
	switch {
	case code == frame.StatusNoStatusReceived:
		b.push(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpClose}))
	case frame.ValidCloseCode(code):
		p := frame.AppendClosePayload(nil, code, ev.Get("reason").String())
		b.push(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpClose, Length: int64(len(p))}), p)
	}
	b.end(io.EOF)
}

// push queues the chunks of a frame for Read.
func (b *browserConn) push(chunks ...[]byte) {
	b.mu.Lock()
	if b.inEnd != nil {
		b.mu.Unlock()
		return
	}
	for _, c := range chunks {
		if len(c) > 0 {
			b.in = append(b.in, c)
			b.inBytes += int64(len(c))
		}
	}
	over := b.inBound >= 0 && b.inBytes > b.inBound
	b.mu.Unlock()
	b.wakeReader()
	if over {
		// Fail the connection: the browser cannot slow the server, and a
		// page cannot send a 1008 (WebSocket.close takes only 1000 and
		// 3000-4999), so it closes without a code.
		b.end(errInputOverflow)
		b.closeSocket()
	}
}

// end marks the end of input: Read returns err once the queued frames are
// read.
func (b *browserConn) end(err error) {
	b.mu.Lock()
	if b.inEnd == nil {
		b.inEnd = err
	}
	if !b.endedSet {
		b.endedSet = true
		close(b.ended)
	}
	b.mu.Unlock()
	b.wakeReader()
}

func (b *browserConn) wakeReader() {
	select {
	case b.readWake <- struct{}{}:
	default:
	}
}

// Read copies queued frames into p, waiting for input until the read
// deadline. As on a TCP connection, a deadline that has passed fails the
// read even when input is waiting: the Conn sets one to interrupt a read
// when its context is done.
func (b *browserConn) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return 0, net.ErrClosed
		}
		if !b.rdeadline.IsZero() && !time.Now().Before(b.rdeadline) {
			b.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		if len(b.in) > 0 {
			n := 0
			for n < len(p) && len(b.in) > 0 {
				k := copy(p[n:], b.in[0])
				n += k
				if k == len(b.in[0]) {
					b.in[0] = nil
					b.in = b.in[1:]
				} else {
					b.in[0] = b.in[0][k:]
				}
			}
			b.inBytes -= int64(n)
			b.mu.Unlock()
			return n, nil
		}
		if b.inEnd != nil {
			err := b.inEnd
			b.mu.Unlock()
			return 0, err
		}
		deadline := b.rdeadline
		b.mu.Unlock()
		if err := waitUntil(b.readWake, deadline); err != nil {
			return 0, err
		}
	}
}

// waitUntil waits for a signal on wake, or returns os.ErrDeadlineExceeded
// (a net.Error whose Timeout is true) once deadline, if set, has passed.
func waitUntil(wake <-chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		<-wake
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// Write takes the masked client frames the Conn writes, possibly split
// or batched in any way, and sends each complete message through the
// browser.
func (b *browserConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	closed, deadline := b.closed, b.wdeadline
	b.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	b.out = append(b.out, p...)
	off := 0
	for {
		h, n, err := frame.ParseHeader(b.out[off:])
		if err != nil {
			return 0, fmt.Errorf("client: browser adapter: %w", err)
		}
		if n == 0 || int64(len(b.out)-off-n) < h.Length {
			break // need more bytes
		}
		payload := b.out[off+n : off+n+int(h.Length)]
		off += n + int(h.Length)
		if h.Masked {
			frame.Mask(h.Key, 0, payload)
		}
		if err := b.writeFrame(h, payload, deadline); err != nil {
			return 0, err
		}
	}
	b.out = b.out[:copy(b.out, b.out[off:])]
	if len(b.out) == 0 && cap(b.out) > 64<<10 {
		b.out = nil // do not hold a large message's buffer while idle
	}
	return len(p), nil
}

// writeFrame acts on one unmasked frame: data frames are sent as
// messages once whole (RFC 6455 §5.4), a close frame closes the browser's
// WebSocket (§5.5.1), a ping or pong cannot be sent by a page.
func (b *browserConn) writeFrame(h frame.Header, payload []byte, deadline time.Time) error {
	switch h.Opcode {
	case frame.OpText, frame.OpBinary:
		if h.Fin && b.msgOp == 0 {
			return b.send(h.Opcode, payload, deadline)
		}
		b.msgOp = h.Opcode
		b.msg = append(b.msg[:0], payload...)
	case frame.OpContinuation:
		b.msg = append(b.msg, payload...)
		if h.Fin {
			op := b.msgOp
			b.msgOp = 0
			err := b.send(op, b.msg, deadline)
			b.msg = b.msg[:0]
			if cap(b.msg) > 64<<10 {
				b.msg = nil
			}
			return err
		}
	case frame.OpClose:
		code, reason, err := frame.ParseClosePayload(payload)
		if err != nil {
			return err
		}
		b.closeWith(code, reason)
	default:
		return b.RefusePing()
	}
	return nil
}

// send hands one message to WebSocket.send, once the browser's unsent
// bytes are under browserWriteHighWater.
func (b *browserConn) send(op frame.Opcode, payload []byte, deadline time.Time) error {
	for {
		if state := b.ws.Get("readyState").Int(); state != 1 { // OPEN
			return net.ErrClosed
		}
		if b.ws.Get("bufferedAmount").Int() <= browserWriteHighWater {
			break
		}
		if !deadline.IsZero() && !time.Now().Add(browserWritePoll).Before(deadline) {
			return os.ErrDeadlineExceeded
		}
		time.Sleep(browserWritePoll)
	}
	var v js.Value
	if op == frame.OpText {
		v = js.ValueOf(string(payload))
	} else {
		v = js.Global().Get("Uint8Array").New(len(payload))
		js.CopyBytesToJS(v, payload)
	}
	return jsTry(func() { b.ws.Call("send", v) })
}

// closeWith starts the browser's closing handshake with the Conn's close
// frame. WebSocket.close accepts only 1000 and 3000-4999: other codes
// (1001, 1002, 1009 …) close without a status, which the server reads as
// 1005. A WebSocket already closing, because the server closed first and
// the Conn is answering, is left alone: the browser has answered.
func (b *browserConn) closeWith(code frame.StatusCode, reason string) {
	if state := b.ws.Get("readyState").Int(); state > 1 { // CLOSING, CLOSED
		return
	}
	switch {
	case code == frame.StatusNormalClosure || code >= 3000 && code <= 4999:
		jsTry(func() { b.ws.Call("close", int(code), reason) })
	default:
		b.closeSocket()
	}
}

// closeSocket closes the browser's WebSocket without a status.
func (b *browserConn) closeSocket() {
	jsTry(func() { b.ws.Call("close") })
}

// RefusePing makes Conn.Ping fail at once: a page cannot send pings or
// pongs (the browser answers the server's pings itself).
func (b *browserConn) RefusePing() error {
	return &UnsupportedError{What: "Ping", Why: "a page cannot send pings; the browser answers the server's pings itself"}
}

// Close closes the browser's WebSocket if it is still open (without a
// status: the Conn sends its close frame before this) and detaches the
// event handlers.
func (b *browserConn) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return net.ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	if state := b.ws.Get("readyState").Int(); state <= 1 { // CONNECTING, OPEN
		b.closeSocket()
	}
	for _, ev := range []string{"onopen", "onmessage", "onclose", "onerror"} {
		b.ws.Set(ev, js.Null())
	}
	for _, f := range b.funcs {
		f.Release()
	}
	b.funcs = nil
	b.end(net.ErrClosed)
	b.mu.Lock()
	b.in, b.inBytes = nil, 0
	b.mu.Unlock()
	return nil
}

// browserAddr is the address of either end: a page knows only the URL.
type browserAddr string

func (a browserAddr) Network() string { return "websocket" }
func (a browserAddr) String() string  { return string(a) }

func (b *browserConn) LocalAddr() net.Addr  { return browserAddr("browser") }
func (b *browserConn) RemoteAddr() net.Addr { return browserAddr(b.ws.Get("url").String()) }

func (b *browserConn) SetReadDeadline(t time.Time) error {
	b.mu.Lock()
	b.rdeadline = t
	b.mu.Unlock()
	b.wakeReader() // a waiting Read looks at the new deadline
	return nil
}

func (b *browserConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	b.wdeadline = t
	b.mu.Unlock()
	return nil
}

func (b *browserConn) SetDeadline(t time.Time) error {
	b.SetReadDeadline(t)
	return b.SetWriteDeadline(t)
}
