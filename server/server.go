package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/handshake"
)

// DefaultHandshakeTimeout bounds the server side of an opening handshake
// when AcceptOptions.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// AcceptOptions configures Accept, Upgrade and Serve. A nil *AcceptOptions
// and the zero value mean the defaults; the options are copied on each
// call, so one value can serve many connections.
type AcceptOptions struct {
	// Origin decides which browser origins may connect (RFC 6455 §4.2.2
	// step 4, §10.2). The zero policy accepts requests without an Origin
	// header and requests whose Origin host equals the Host header; see
	// handshake.OriginPolicy for allow-lists, a callback, or AllowAll.
	// Refused origins are answered with 403 Forbidden.
	Origin handshake.OriginPolicy

	// Subprotocols are the application protocols the server speaks, most
	// preferred first. The first one the client also offers is selected
	// and echoed in Sec-WebSocket-Protocol (RFC 6455 §4.2.2 step 4); when
	// none matches, the connection is accepted without a subprotocol and
	// the application decides what to do (Conn.Subprotocol returns "").
	Subprotocols []string

	// Extensions, when set, negotiates extensions such as
	// permessage-deflate (RFC 7692) from the client's offers. It is the
	// seam the deflate package plugs into; nil accepts no extension, which
	// is always a valid answer (RFC 6455 §9.1).
	Extensions ExtensionNegotiator

	// Compression, when set and Extensions is nil, accepts
	// permessage-deflate (RFC 7692) offers on these terms; nil declines
	// them. A connection that negotiates it with context takeover keeps a
	// window for each direction, about 2·2^W bytes (74 KB at the default
	// 15 bits, 18 KB at 12); without context takeover it keeps nothing
	// between messages. See deflate.ServerOptions.
	Compression *deflate.ServerOptions

	// Conn configures the connection once it is established: buffer sizes,
	// read limit, frame size, close timeout, keepalive. nil means the
	// conn package's defaults.
	Conn *conn.Options

	// HandshakeTimeout bounds the handshake (DefaultHandshakeTimeout when
	// zero, no bound when negative). On the raw path (Upgrade, Serve) it
	// covers reading the request and writing the response; under net/http,
	// which has already read the request, it covers writing the 101
	// response on the hijacked connection. Over HTTP/2 it runs from
	// Accept's call until the 200's HEADERS frame is handed to the
	// connection's writer; past it net/http resets the stream and Accept
	// returns an error wrapping os.ErrDeadlineExceeded. The request's
	// header is bounded by http.Server.ReadHeaderTimeout in both cases.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the request line and header fields on the raw
	// path (handshake.DefaultMaxHeaderBytes, 8 KiB, when zero). A larger
	// request is answered with 431 Request Header Fields Too Large
	// (RFC 6585 §5). Under net/http, http.Server.MaxHeaderBytes applies
	// instead.
	MaxHeaderBytes int

	// Connections, when set, records every Conn that Accept, Upgrade and
	// Serve hand out, so that Connections.Shutdown can end them all with
	// 1001 Going Away when the server stops. Once Shutdown has begun, new
	// requests are answered 503 Service Unavailable. nil tracks nothing and
	// costs nothing.
	Connections *Connections

	// MaxHandshakes bounds the handshakes Serve runs at once that are
	// waiting for their request, the part of a handshake a client controls
	// (DefaultMaxHandshakes, 1024, when zero; no bound when negative). A
	// connection that arrives with MaxHandshakes of them is not refused:
	// the oldest is cut short instead (closed without an answer). Real
	// clients finish in a round trip and slow or idle ones are the oldest,
	// so a flood of connections that send their request a byte at a time
	// holds at most MaxHandshakes goroutines and buffers, and cannot lock
	// real clients out for HandshakeTimeout. Accept and Upgrade ignore it
	// (under net/http, see http.Server.ReadHeaderTimeout in the package
	// doc).
	MaxHandshakes int

	// MaxConnections bounds the connections Serve holds open, from accept
	// until the TCP connection is closed, handshakes included
	// (DefaultMaxConnections() when zero: the process's descriptor limit
	// less some headroom; no bound when negative). A connection accepted at
	// the cap is answered 503 Service Unavailable and closed at once, so
	// its client learns to retry rather than waiting in the listen queue,
	// and the process keeps descriptors for its other work. Accept and
	// Upgrade ignore it.
	MaxConnections int
}

// HandshakeError is the error of Accept, Upgrade and Serve's handshakes
// for a request refused because of what it says: its Status is the HTTP
// status the client was answered with (400, 403, 426 …) and its message
// says why. It is handshake.Error, named here so that a server checks it
// with errors.As without importing handshake.
type HandshakeError = handshake.Error

// ExtensionNegotiator chooses the extensions of a connection from the
// client's offers (RFC 6455 §9.1), on behalf of the server.
//
// Negotiate is given the offers in the client's order of preference, each
// with its parameters, and returns the extensions to accept, as they are
// to appear in the response's Sec-WebSocket-Extensions header, and the
// conn.Extension that implements them (nil when accepted is empty).
// Declining every offer (nil, nil, nil) is always allowed. An error fails
// the handshake: a *handshake.Error is answered with its own status,
// anything else with 400 Bad Request.
//
// Negotiate is called only when the client offered at least one
// extension, once per handshake, possibly from many goroutines at once.
type ExtensionNegotiator interface {
	Negotiate(offers []handshake.Extension) (accepted []handshake.Extension, ext conn.Extension, err error)
}

// deflateNegotiator accepts permessage-deflate through package deflate.
type deflateNegotiator struct{ opts *deflate.ServerOptions }

func (n deflateNegotiator) Negotiate(offers []handshake.Extension) ([]handshake.Extension, conn.Extension, error) {
	resp, cfg, ok := deflate.AcceptOffer(offers, n.opts)
	if !ok {
		return nil, nil, nil
	}
	return []handshake.Extension{resp}, deflate.NewSession(cfg), nil
}

// Errors returned by Accept and Upgrade that are not handshake failures
// caused by the request.
var (
	// ErrHijack is returned by Accept when the http.ResponseWriter does not
	// let its connection be taken over: an HTTP/1.1 request under a server
	// that does not allow it, or a wrapping writer that hides the Hijack
	// method and has no Unwrap method for http.ResponseController to
	// follow. (HTTP/2 requests are not taken over; see acceptHTTP2.)
	ErrHijack = errors.New("server: cannot take over the HTTP connection")
)

// withDefaults returns a copy of o with the defaults filled in.
func (o *AcceptOptions) withDefaults() AcceptOptions {
	var c AcceptOptions
	if o != nil {
		c = *o
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	return c
}

// deadline returns the time by which the handshake must be done, or the
// zero time when it is unbounded.
func (o *AcceptOptions) deadline() time.Time {
	if o.HandshakeTimeout < 0 {
		return time.Time{}
	}
	return time.Now().Add(o.HandshakeTimeout)
}

// agreement is what a successful server handshake settles: the values of
// the 101 response and the extension that implements the accepted
// extensions.
type agreement struct {
	key        string
	protocol   string
	extensions []byte // Sec-WebSocket-Extensions value, nil for none
	ext        conn.Extension
}

// negotiate runs the server's checks on r, in the order of RFC 6455
// §4.2.1 and §4.2.2: the request itself, its origin, the subprotocol and
// the extensions. Every error is a *handshake.Error that says how to
// answer.
func (o *AcceptOptions) negotiate(r *http.Request) (agreement, *handshake.Error) {
	if he := checkHTTP1(r); he != nil {
		return agreement{}, he
	}
	req, err := handshake.ParseRequest(r)
	if err != nil {
		return agreement{}, asHandshakeError(err, http.StatusBadRequest)
	}
	return o.agree(r, req)
}

// agree runs the checks that HTTP/1.1 and HTTP/2 handshakes share, on a
// request handshake.ParseRequest or ParseExtendedConnect validated: the
// origin, the subprotocol and the extensions.
func (o *AcceptOptions) agree(r *http.Request, req *handshake.Request) (agreement, *handshake.Error) {
	if err := o.Origin.Verify(r); err != nil {
		return agreement{}, asHandshakeError(err, http.StatusForbidden)
	}
	a := agreement{
		key:      req.Key,
		protocol: handshake.SelectSubprotocol(o.Subprotocols, req.Protocols),
	}
	neg := o.Extensions
	if neg == nil && o.Compression != nil {
		neg = deflateNegotiator{o.Compression}
	}
	if neg == nil || len(req.Extensions) == 0 {
		return a, nil
	}
	accepted, ext, err := neg.Negotiate(req.Extensions)
	if err != nil {
		if ext != nil {
			ext.Close()
		}
		return agreement{}, asHandshakeError(err, http.StatusBadRequest)
	}
	if len(accepted) > 0 {
		a.extensions = handshake.AppendExtensions(nil, accepted)
	}
	a.ext = ext
	return a, nil
}

// checkHTTP1 refuses a request that is not HTTP/1.x, which net/http lets
// through to Accept (an HTTP/2 or HTTP/3 request) and the raw path's
// handshake.ReadRequest never produces: its connection cannot be taken
// over. (handshake.ParseRequest refuses a request with a body, the other
// thing net/http accepts and the raw path does not.)
func checkHTTP1(r *http.Request) *handshake.Error {
	if r.ProtoMajor != 1 {
		return &handshake.Error{Status: http.StatusHTTPVersionNotSupported, Message: "a WebSocket handshake needs HTTP/1.1"}
	}
	return nil
}

// shuttingDown is the answer to a request that arrives once
// Connections.Shutdown has begun.
func shuttingDown() *handshake.Error {
	return &handshake.Error{
		Status:  http.StatusServiceUnavailable,
		Message: "the server is shutting down",
		Header:  http.Header{"Connection": {"close"}},
	}
}

// open hands nc, once the 101 response is written, to package conn, with
// the hooks that follow its life: its entry in o.Connections (whose begin
// admitted the handshake) and its place in count (Serve's
// MaxConnections), both released when the TCP connection is closed. If
// Shutdown began while the handshake finished, the Conn is being closed as
// Shutdown closes the others, and open returns ErrShuttingDown.
func (o *AcceptOptions) open(nc net.Conn, a *agreement, buffered []byte, count *connCount) (*conn.Conn, error) {
	setup := conn.Setup{
		Role:        conn.Server,
		Subprotocol: a.protocol,
		Extension:   a.ext,
		Buffered:    buffered,
		Options:     o.Conn,
	}
	set := o.Connections
	var t *tracked
	switch {
	case set != nil && count != nil:
		t = new(tracked)
		setup.OnClose = func() { set.remove(t); count.release() }
	case set != nil:
		t = new(tracked)
		setup.OnClose = func() { set.remove(t) }
	case count != nil:
		setup.OnClose = count.release
	}
	c := conn.New(nc, setup)
	if set != nil && !set.add(t, c) {
		return nil, ErrShuttingDown
	}
	return c, nil
}

// release frees the negotiated extension of a handshake that did not
// complete.
func (a *agreement) release() {
	if a.ext != nil {
		a.ext.Close()
	}
}

// asHandshakeError returns err as a *handshake.Error, wrapping errors of
// other types in one with the given status.
func asHandshakeError(err error, status int) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	return &handshake.Error{Status: status, Message: err.Error()}
}

// Accept completes the server side of the opening handshake (RFC 6455
// §4.2) for a request received by a net/http handler, and returns the
// WebSocket connection.
//
// It refuses a request that announces a body (Content-Length other than
// 0, or Transfer-Encoding) with 400 and one that is not HTTP/1.x with 505,
// as the raw path does: the bytes after the request's header would be read
// as WebSocket frames. It then validates r with handshake.ParseRequest,
// applies the origin policy, selects the subprotocol and negotiates
// extensions. When one of these fails it answers through w with the
// status the failure earns (400, 403, 405 with Allow, 426 with
// Sec-WebSocket-Version: 13, 505) and a short plain-text body, and returns
// the *HandshakeError (handshake.Error). Once opts.Connections.Shutdown has begun it
// answers 503 and returns ErrShuttingDown. Otherwise it takes
// the connection over with http.ResponseController.Hijack, so
// ResponseWriters wrapped by middleware work as long as they implement
// Unwrap, writes the 101 Switching Protocols response itself, and hands
// the connection, with any bytes the client sent after its request, to
// conn.New.
//
// A request that arrives over HTTP/2 is served as RFC 8441 describes; see
// "WebSockets over HTTP/2" in the package doc, and what it says about
// the handler's return.
//
// After a successful Accept the handler must not use w or r.Body again.
// Over HTTP/1.1 the returned Conn outlives the handler if the handler
// returns (over HTTP/2 it does not); the
// request's context, however, is not cancelled when the connection ends
// (and is cancelled when the handler returns, so do not pass it to the
// Conn's methods from a goroutine that outlives the handler).
//
// Over HTTP/1.1, a server that holds many connections should serve each
// Conn from a goroutine of its own and return from the handler: until the handler
// returns, net/http keeps the request's read and write buffers (8 KiB)
// and the handler goroutine's stack, which grew through net/http's
// serving path. An idle Conn itself holds no buffers (see conn.Options).
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*conn.Conn, error) {
	o := opts.withDefaults()
	if !o.Connections.begin() {
		shuttingDown().ServeHTTP(w, r)
		return nil, ErrShuttingDown
	}
	if r.ProtoMajor == 2 {
		return o.acceptHTTP2(w, r)
	}
	nc, a, buffered, err := o.hijack(w, r)
	if err != nil {
		o.Connections.abort()
		return nil, err
	}
	return o.open(nc, &a, buffered, nil)
}

// hijack runs Accept's handshake up to the 101 response, and returns the
// connection and what the handshake agreed.
func (o *AcceptOptions) hijack(w http.ResponseWriter, r *http.Request) (net.Conn, agreement, []byte, error) {
	a, he := o.negotiate(r)
	if he != nil {
		he.ServeHTTP(w, r)
		return nil, a, nil, he
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		a.release()
		http.Error(w, "the connection cannot be upgraded to a WebSocket", http.StatusInternalServerError)
		return nil, a, nil, fmt.Errorf("%w: %w", ErrHijack, err)
	}

	if err := nc.SetDeadline(o.deadline()); err != nil {
		a.release()
		nc.Close()
		return nil, a, nil, fmt.Errorf("server: %w", err)
	}
	if err := writeResponse(nc, brw, &a); err != nil {
		a.release()
		nc.Close()
		return nil, a, nil, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	// net/http may have set read and write deadlines of its own
	// (http.Server.ReadTimeout, WriteTimeout); they belong to the HTTP
	// exchange, which is over.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		a.release()
		nc.Close()
		return nil, a, nil, fmt.Errorf("server: %w", err)
	}
	var buffered []byte
	if brw != nil {
		buffered = takeBuffered(brw.Reader)
	}
	return nc, a, buffered, nil
}

// writeResponse writes the 101 response (RFC 6455 §4.2.2 step 5) on a
// hijacked connection, through its buffered writer when there is one.
func writeResponse(nc io.Writer, brw *bufio.ReadWriter, a *agreement) error {
	if brw == nil || brw.Writer == nil {
		return handshake.WriteResponse(nc, a.key, a.protocol, a.extensions)
	}
	if err := handshake.WriteResponse(brw.Writer, a.key, a.protocol, a.extensions); err != nil {
		return err
	}
	return brw.Writer.Flush()
}

// takeBuffered returns a copy of the bytes br holds but nobody has read:
// whatever the client sent after its handshake request, typically its
// first frames. The copy lets br's buffer be reused.
func takeBuffered(br *bufio.Reader) []byte {
	if br == nil || br.Buffered() == 0 {
		return nil
	}
	p, _ := br.Peek(br.Buffered())
	return bytes.Clone(p)
}
