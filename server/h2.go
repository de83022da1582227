package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
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
func (o *AcceptOptions) acceptHTTP2(w http.ResponseWriter, r *http.Request) (*conn.Conn, error) {
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
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		a.release()
		o.Connections.abort()
		return nil, fmt.Errorf("server: writing the handshake response: %w", err)
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
