package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/h2stream"
)

// GODEBUGSetting is what GODEBUG must contain in the environment when the
// process starts for net/http's HTTP/2 server to accept WebSockets
// (RFC 8441): "http2xconnect=1". net/http reads it once, at
// initialisation; a //go:debug directive does not know the setting and
// os.Setenv in main is too late.
const GODEBUGSetting = h2stream.GODEBUGSetting

// ExtendedConnectEnabled reports whether this process started with
// GODEBUGSetting in its environment, so that net/http's HTTP/2 server
// advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) and hands
// extended CONNECT requests to handlers. Without it, browsers and
// package client open WebSockets over HTTP/1.1 even on a server that
// speaks HTTP/2, which works, one TCP connection per WebSocket.
func ExtendedConnectEnabled() bool { return h2stream.ServerEnabled() }

// ErrHandlerReturned is the error of a Conn's writes over HTTP/2 once
// the handler that accepted it has returned: net/http ended the stream.
var ErrHandlerReturned = errors.New("server: the handler of this HTTP/2 WebSocket returned, which ended its stream")

// acceptHTTP2 is Accept for an HTTP/2 request: an extended CONNECT
// (RFC 8441 §4-5), answered 200 with the negotiated subprotocol and
// extensions, then a Conn over the stream.
//
// HandshakeTimeout covers, over HTTP/2, the time from Accept's call to
// the 200's HEADERS frame handed to the connection's writer: net/http has
// read the request already (its header is bounded by
// http.Server.ReadHeaderTimeout and MaxHeaderBytes), and HEADERS are not
// subject to flow control, so the 200 is late only when the whole
// connection cannot write. Past the deadline net/http resets the stream
// (RST_STREAM INTERNAL_ERROR) and Accept returns an error wrapping
// os.ErrDeadlineExceeded. Once the 200 is out, Accept clears the stream's
// read and write deadlines, those of HandshakeTimeout and those
// http.Server.ReadTimeout and WriteTimeout set for every stream, as the
// HTTP/1.1 path clears them on the connection it takes over: they belong
// to the HTTP exchange, and firing later they would end the WebSocket.
func (o *AcceptOptions) acceptHTTP2(w http.ResponseWriter, r *http.Request) (*conn.Conn, error) {
	deadline := o.deadline()
	a, he := o.negotiateHTTP2(r)
	if he != nil {
		o.Connections.abort()
		he.ServeHTTP(w, r)
		return nil, he
	}
	if err := handshake.SetExtendedConnectHeader(w.Header(), a.protocol, a.extensions); err != nil {
		a.release()
		o.Connections.abort()
		http.Error(w, "bad handshake response", http.StatusInternalServerError)
		return nil, fmt.Errorf("server: %w", err)
	}
	rc := http.NewResponseController(w)
	if err := o.writeHTTP2Response(rc, w, deadline); err != nil {
		a.release()
		o.Connections.abort()
		return nil, err
	}
	stream := h2stream.New(h2stream.Config{
		In:  r.Body,
		Out: &streamWriter{w: w, rc: rc},
		// The handler's return sends END_STREAM (RFC 8441 §6); closing
		// the body ends the reading goroutine and returns the flow
		// control credit of anything still arriving.
		OnClose:        func(<-chan struct{}) { r.Body.Close() },
		LocalAddr:      localAddr(r),
		RemoteAddr:     remoteAddr(r),
		ReadBufferSize: readBufferSize(o.Conn),
	})
	return o.open(stream, &a, nil, nil)
}

// writeHTTP2Response sends the 200 (RFC 8441 §5) by deadline (none when
// zero), then clears the stream's deadlines. A ResponseWriter wrapped by
// middleware that hides the deadline methods (no Unwrap) is served as
// before: without the deadline, and with net/http's timers left running.
func (o *AcceptOptions) writeHTTP2Response(rc *http.ResponseController, w http.ResponseWriter, deadline time.Time) error {
	if !deadline.IsZero() {
		if time.Now().After(deadline) {
			// net/http would reset the stream; say why in the error.
			rc.SetWriteDeadline(pastDeadline)
			return fmt.Errorf("server: writing the handshake response: HandshakeTimeout (%v) passed: %w", o.HandshakeTimeout, os.ErrDeadlineExceeded)
		}
		if err := rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("server: %w", err)
		}
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			err = fmt.Errorf("HandshakeTimeout (%v) passed: %w (%w)", o.HandshakeTimeout, os.ErrDeadlineExceeded, err)
		}
		return fmt.Errorf("server: writing the handshake response: %w", err)
	}
	// Zero deadlines stop net/http's timers; a timer that has fired
	// already has reset the stream, and the Conn's first read or write
	// reports it.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("server: %w", err)
	}
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// negotiateHTTP2 checks an HTTP/2 request as RFC 8441 §5 asks and runs
// the negotiation HTTP/1.1 has too.
func (o *AcceptOptions) negotiateHTTP2(r *http.Request) (agreement, *handshake.Error) {
	if !handshake.IsExtendedConnect(r) {
		return agreement{}, notExtendedConnect()
	}
	req, err := handshake.ParseExtendedConnect(r)
	if err != nil {
		return agreement{}, asHandshakeError(err, http.StatusBadRequest)
	}
	return o.agree(r, req)
}

// notExtendedConnect answers an HTTP/2 request that is not an extended
// CONNECT: 505, so that the client retries over HTTP/1.1, with a message
// that says what is missing.
func notExtendedConnect() *handshake.Error {
	msg := "a WebSocket over HTTP/2 is an extended CONNECT request with :protocol websocket (RFC 8441); over HTTP/1.1 it is a GET with Upgrade"
	if !ExtendedConnectEnabled() {
		msg = "this server takes WebSockets over HTTP/1.1 only: net/http accepts them over HTTP/2 (RFC 8441 extended CONNECT) only when the process starts with GODEBUG=" + GODEBUGSetting + " in its environment"
	}
	return &handshake.Error{Status: http.StatusHTTPVersionNotSupported, Message: msg}
}

// streamWriter is the server's outgoing half of the stream: the
// ResponseWriter, flushed after every write so that each of the Conn's
// writes leaves as DATA frames at once.
type streamWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// Write writes p and flushes it. net/http panics when a ResponseWriter
// is used after its handler returned; that misuse (a Conn kept after the
// handler's return) becomes ErrHandlerReturned.
func (s *streamWriter) Write(p []byte) (n int, err error) {
	defer func() {
		if recover() != nil {
			err = ErrHandlerReturned
		}
	}()
	n, err = s.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, s.rc.Flush()
}

// Abort resets the stream: net/http's HTTP/2 server does so when a write
// deadline passes, which is the only way to free a handler blocked by
// flow control.
func (s *streamWriter) Abort() {
	defer func() { recover() }()
	s.rc.SetWriteDeadline(time.Unix(1, 0))
}

// localAddr returns the address of the connection that carried r, as
// net/http records it.
func localAddr(r *http.Request) net.Addr {
	a, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return a
}

// remoteAddr parses r.RemoteAddr, or returns nil.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// readBufferSize is the stream's read buffer: the Conn's read buffer
// size when set, the stream's default otherwise.
func readBufferSize(o *conn.Options) int {
	if o != nil && o.ReadBufferSize > 0 && o.ReadBufferSize < h2stream.DefaultReadBufferSize {
		return o.ReadBufferSize
	}
	return 0
}
