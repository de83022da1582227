package autobahn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/rfc6455/ws/autobahn/engine"
)

// The suite over HTTP/2 (RFC 8441). A Session speaks the HTTP/1.1
// handshake; the net.Conns here translate it to and from an extended
// CONNECT (engine.H2RequestFromHandshake and its siblings) and carry the
// frames on the stream, so that runSession and the Session are the same
// as over TCP. The HTTP/2 layer is golang.org/x/net/http2's client and
// net/http's server, not this project's, which the suite judges.

// h2ClientTransport opens the suite's streams to a testee server: every
// case of a Client shares one connection per server while the server's
// concurrent-stream limit allows.
type h2ClientTransport struct {
	once sync.Once
	t    *http2.Transport
}

func (h *h2ClientTransport) get(timeout time.Duration) *http2.Transport {
	h.once.Do(func() {
		d := &net.Dialer{Timeout: timeout}
		h.t = &http2.Transport{
			AllowHTTP:          true,
			DisableCompression: true,
			// Like the HTTP/1.1 path, the suite does not verify the
			// testee's certificate: it tests WebSocket, not the PKI.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				if h2Cleartext(ctx) {
					return d.DialContext(ctx, network, addr)
				}
				td := tls.Dialer{NetDialer: d, Config: cfg}
				return td.DialContext(ctx, network, addr)
			},
		}
	})
	return h.t
}

// cleartextKey marks a dial for a ws:// testee (prior knowledge, RFC 9113
// §3.3) in the context the transport dials with.
type cleartextKey struct{}

func h2Cleartext(ctx context.Context) bool { v, _ := ctx.Value(cleartextKey{}).(bool); return v }

// h2ClientConn is the suite-as-client's side of one stream. The Session's
// first writes are its handshake request: once the head is complete, it
// is sent as an extended CONNECT, and the answer is turned into the
// HTTP/1.1 response the Session reads first. Then bytes pass through.
type h2ClientConn struct {
	t      *http2.Transport
	u      wsURL
	ctx    context.Context
	cancel context.CancelFunc

	head    []byte // the Session's request head, as it is written
	sent    bool
	pw      *io.PipeWriter
	ready   chan struct{} // closed once resp or err is set
	resp    *http.Response
	err     error
	pending []byte // translated response head, not yet read

	local, remote atomic.Value // net.Addr
	closeOnce     sync.Once
	closed        chan struct{}
}

func newH2ClientConn(t *http2.Transport, u wsURL) *h2ClientConn {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), cleartextKey{}, !u.secure))
	return &h2ClientConn{t: t, u: u, ctx: ctx, cancel: cancel, ready: make(chan struct{}), closed: make(chan struct{})}
}

func (c *h2ClientConn) Write(p []byte) (int, error) {
	if c.sent {
		return c.pw.Write(p)
	}
	c.head = append(c.head, p...)
	end := bytes.Index(c.head, []byte("\r\n\r\n"))
	if end < 0 {
		return len(p), nil
	}
	rest := c.head[end+4:]
	c.sent = true
	c.roundTrip(string(c.head[:end+4]))
	if len(rest) > 0 && c.pw != nil {
		if _, err := c.pw.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// roundTrip sends the extended CONNECT for the Session's request head and
// sets what Read returns first.
func (c *h2ClientConn) roundTrip(head string) {
	defer close(c.ready)
	req, key, err := engine.H2RequestFromHandshake(head)
	if err != nil {
		c.err = err
		return
	}
	scheme := "http"
	if c.u.secure {
		scheme = "https"
	}
	target, err := url.Parse(scheme + "://" + net.JoinHostPort(c.u.dialHost, strconv.Itoa(c.u.port)) + req.Path)
	if err != nil {
		c.err = err
		return
	}
	h := http.Header(req.Header)
	h.Set(":protocol", "websocket")
	pr, pw := io.Pipe()
	c.pw = pw
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		c.local.Store(i.Conn.LocalAddr())
		c.remote.Store(i.Conn.RemoteAddr())
	}}
	hreq := (&http.Request{Method: http.MethodConnect, URL: target, Host: req.Authority, Header: h, Body: pr}).
		WithContext(httptrace.WithClientTrace(c.ctx, trace))
	resp, err := c.t.RoundTrip(hreq)
	if err != nil {
		c.err = err
		return
	}
	c.resp = resp
	c.pending = []byte(engine.HandshakeFromH2Response(resp.StatusCode, resp.Header, key))
}

func (c *h2ClientConn) Read(p []byte) (int, error) {
	select {
	case <-c.ready:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.resp.Body.Read(p)
}

// Close ends the stream: END_STREAM on the suite's side, then the
// response is released, which resets the stream (RST_STREAM, the TCP
// reset of RFC 8441 §6) if the testee has not ended it.
func (c *h2ClientConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		if c.pw != nil {
			c.pw.Close()
		}
		select {
		case <-c.ready:
			if c.resp != nil {
				c.resp.Body.Close()
			}
		default:
		}
		c.cancel()
	})
	return nil
}

func (c *h2ClientConn) LocalAddr() net.Addr              { return loadAddr(&c.local) }
func (c *h2ClientConn) RemoteAddr() net.Addr             { return loadAddr(&c.remote) }
func (c *h2ClientConn) SetDeadline(time.Time) error      { return nil }
func (c *h2ClientConn) SetReadDeadline(time.Time) error  { return nil }
func (c *h2ClientConn) SetWriteDeadline(time.Time) error { return nil }

func loadAddr(v *atomic.Value) net.Addr {
	if a, ok := v.Load().(net.Addr); ok {
		return a
	}
	return &net.TCPAddr{}
}

// ServeHTTP2 is Serve for testee clients that come over HTTP/2: an
// http.Server on ln that speaks HTTP/2, over TLS with ALPN when tc is not
// nil and cleartext with prior knowledge otherwise, and hands each
// extended CONNECT with :protocol websocket to a Session through a
// translating net.Conn. net/http takes extended CONNECT only when the
// process started with GODEBUG=http2xconnect=1 in its environment.
// Other requests are answered 400.
func (s *Server) ServeHTTP2(ln net.Listener, tc *tls.Config) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	protos := new(http.Protocols)
	if tc != nil {
		protos.SetHTTP2(true)
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	hs := &http.Server{Handler: http.HandlerFunc(s.serveStream), Protocols: protos, TLSConfig: tc}
	var err error
	if tc != nil {
		err = hs.ServeTLS(ln, "", "")
	} else {
		err = hs.Serve(ln)
	}
	s.mu.Lock()
	down := s.shutdown
	s.mu.Unlock()
	if down || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// serveStream runs a Session on one extended CONNECT stream; the
// handler's return ends the stream (END_STREAM, RFC 8441 §6).
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 || r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
		http.Error(w, "this fuzzing server takes WebSockets over HTTP/2 only: an extended CONNECT with :protocol websocket (RFC 8441)", http.StatusBadRequest)
		return
	}
	h := map[string][]string(r.Header.Clone())
	delete(h, ":protocol")
	c := &h2ServerConn{
		w:       w,
		rc:      http.NewResponseController(w),
		body:    r.Body,
		pending: []byte(engine.HandshakeFromH2Request(engine.H2Request{Path: r.URL.RequestURI(), Authority: r.Host, Header: h})),
		local:   localAddrOf(r),
		remote:  remoteAddrOf(r),
	}
	s.serveConn(c)
	c.Close()
}

// h2ServerConn is the suite-as-server's side of one stream: Read returns
// the translated request first, then the stream's data; the Session's
// first writes are its response head, sent as the stream's response, and
// the rest goes out as DATA, flushed at once.
type h2ServerConn struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	body    io.ReadCloser
	pending []byte
	head    []byte
	started bool

	mu      sync.Mutex // held by Write while it uses w
	writing atomic.Bool
	closing atomic.Bool
	closed  bool
	local   net.Addr
	remote  net.Addr
}

func (c *h2ServerConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.body.Read(p)
}

func (c *h2ServerConn) Write(p []byte) (int, error) {
	c.writing.Store(true)
	defer c.writing.Store(false)
	if c.closing.Load() {
		return 0, net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.started {
		return c.send(p)
	}
	c.head = append(c.head, p...)
	end := bytes.Index(c.head, []byte("\r\n\r\n"))
	if end < 0 {
		return len(p), nil
	}
	status, hdr, err := engine.H2ResponseHead(string(c.head[:end+4]))
	if err != nil {
		return 0, err
	}
	for k, vv := range hdr {
		c.w.Header()[k] = vv
	}
	c.w.WriteHeader(status)
	c.started = true
	rest := c.head[end+4:]
	if _, err := c.send(rest); err != nil {
		return 0, err
	}
	return len(p), nil
}

// send writes p (possibly empty) and flushes it.
func (c *h2ServerConn) send(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

// Close stops the Conn's use of the ResponseWriter before the handler
// returns: a write blocked by flow control is ended by resetting the
// stream (net/http's write deadline), and later writes fail.
func (c *h2ServerConn) Close() error {
	// Write sets writing before it looks at closing, and Close sets
	// closing before it looks at writing: a Write that goes on is seen.
	c.closing.Store(true)
	if c.writing.Load() {
		c.rc.SetWriteDeadline(time.Unix(1, 0))
	}
	c.body.Close()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *h2ServerConn) LocalAddr() net.Addr              { return c.local }
func (c *h2ServerConn) RemoteAddr() net.Addr             { return c.remote }
func (c *h2ServerConn) SetDeadline(time.Time) error      { return nil }
func (c *h2ServerConn) SetReadDeadline(time.Time) error  { return nil }
func (c *h2ServerConn) SetWriteDeadline(time.Time) error { return nil }

func localAddrOf(r *http.Request) net.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a
	}
	return &net.TCPAddr{}
}

func remoteAddrOf(r *http.Request) net.Addr {
	if a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		return a
	}
	return &net.TCPAddr{}
}
