package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/h2stream"
)

// HTTP2Mode says whether Dial carries the WebSocket over HTTP/2, as an
// extended CONNECT stream (RFC 8441), or over an HTTP/1.1 Upgrade
// (RFC 6455 §4).
type HTTP2Mode int

const (
	// HTTP2Never, the default, always dials HTTP/1.1, as Dial did before
	// HTTP/2 support: the same TCP connection per WebSocket, proxies,
	// and a 101 response.
	HTTP2Never HTTP2Mode = iota
	// HTTP2Prefer tries HTTP/2 first (TLS with ALPN "h2" for wss://,
	// prior knowledge for ws://) and falls back to HTTP/1.1 when the
	// server does not speak HTTP/2, does not allow extended CONNECT in
	// its SETTINGS (RFC 8441 §3), or when a proxy is to be used. A server
	// that answers the extended CONNECT with an error status is not
	// retried: its answer is the result.
	HTTP2Prefer
	// HTTP2Require dials over HTTP/2 or fails.
	HTTP2Require
)

// String returns the mode's name.
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Never:
		return "never"
	case HTTP2Prefer:
		return "prefer"
	case HTTP2Require:
		return "require"
	}
	return fmt.Sprintf("HTTP2Mode(%d)", int(m))
}

// ErrHTTP2Unavailable is the error, wrapped, of a Dial with HTTP2Require
// when the server does not offer what RFC 8441 needs: HTTP/2 itself (ALPN
// "h2" or prior knowledge), or SETTINGS_ENABLE_CONNECT_PROTOCOL. A Go
// server built on net/http offers the setting only when started with
// GODEBUG=http2xconnect=1 in its environment.
var ErrHTTP2Unavailable = errors.New("client: the server does not take WebSockets over HTTP/2")

// HTTP2Pool holds HTTP/2 connections that WebSockets dialled with it share:
// each WebSocket is one stream, and one TCP (and TLS) connection to a
// server carries as many as the server allows at once (its
// SETTINGS_MAX_CONCURRENT_STREAMS; net/http's default is 250), opening
// another beyond that. Give the same pool to many Dials through
// DialOptions.HTTP2Pool. A connection without streams is closed after
// IdleTimeout. The zero HTTP2Pool is not usable; call NewHTTP2Pool.
type HTTP2Pool struct {
	opts  DialOptions // TLSConfig and NetDialContext
	once  [2]sync.Once
	trans [2]*http2.Transport // [0] cleartext (prior knowledge), [1] TLS
}

// HTTP2IdleTimeout is how long an HTTP2Pool keeps a connection that
// carries no stream.
const HTTP2IdleTimeout = 90 * time.Second

// NewHTTP2Pool returns an empty pool whose connections are opened with
// opts' NetDialContext and, for wss://, TLSConfig, and which bound the
// header fields of a server's answers by opts' MaxHeaderBytes (see
// DialOptions); the rest of opts is ignored. nil means the defaults.
func NewHTTP2Pool(opts *DialOptions) *HTTP2Pool {
	p := new(HTTP2Pool)
	if opts != nil {
		p.opts.TLSConfig = opts.TLSConfig
		p.opts.NetDialContext = opts.NetDialContext
		p.opts.MaxHeaderBytes = opts.MaxHeaderBytes
	}
	return p
}

// CloseIdleConnections closes the pool's connections that carry no
// stream.
func (p *HTTP2Pool) CloseIdleConnections() {
	for i := range p.trans {
		p.once[i].Do(func() { p.trans[i] = p.newTransport(i == 1) })
		p.trans[i].CloseIdleConnections()
	}
}

// transport returns the pool's transport for TLS or cleartext.
func (p *HTTP2Pool) transport(useTLS bool) *http2.Transport {
	i := 0
	if useTLS {
		i = 1
	}
	p.once[i].Do(func() { p.trans[i] = p.newTransport(useTLS) })
	return p.trans[i]
}

func (p *HTTP2Pool) newTransport(useTLS bool) *http2.Transport {
	maxHeader := p.opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = handshake.DefaultMaxHeaderBytes
	}
	t := &http2.Transport{
		DisableCompression: true, // no Accept-Encoding on a CONNECT
		IdleConnTimeout:    HTTP2IdleTimeout,
		// The server's answer is as small as an HTTP/1.1 one; the
		// transport's default would take 10 MiB of header fields.
		MaxHeaderListSize: uint32(maxHeader),
	}
	if useTLS {
		t.DialTLSContext = func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
			nc, err := p.opts.netDial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			tc, err := p.opts.startTLSH2(ctx, nc, host)
			if err != nil {
				nc.Close()
				return nil, err
			}
			return tc, nil
		}
		return t
	}
	t.AllowHTTP = true
	t.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return p.opts.netDial(ctx, network, addr)
	}
	return t
}

// startTLSH2 runs a TLS client handshake on nc that offers only "h2" in
// ALPN (RFC 9113 §3.2), and fails with ErrHTTP2Unavailable when the server
// does not choose it.
func (o *DialOptions) startTLSH2(ctx context.Context, nc net.Conn, serverName string) (*tls.Conn, error) {
	cfg := o.tlsConfig(serverName)
	cfg.NextProtos = []string{"h2"}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if strings.Contains(err.Error(), "no application protocol") {
			err = fmt.Errorf("%w: %w", ErrHTTP2Unavailable, err)
		}
		return nil, fmt.Errorf("client: TLS handshake with %s: %w", serverName, err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		tc.Close()
		return nil, fmt.Errorf("%w: TLS with %s agreed on %q, not \"h2\"", ErrHTTP2Unavailable, serverName, p)
	}
	return tc, nil
}

// dialAny dials as o.HTTP2 says.
func (o *DialOptions) dialAny(ctx context.Context, rawURL string) (*conn.Conn, *http.Response, error) {
	switch o.HTTP2 {
	case HTTP2Prefer:
		c, resp, err := o.dialHTTP2(ctx, rawURL)
		if err != nil && errors.Is(err, ErrHTTP2Unavailable) && ctx.Err() == nil {
			return o.dial(ctx, rawURL)
		}
		return c, resp, err
	case HTTP2Require:
		return o.dialHTTP2(ctx, rawURL)
	}
	return o.dial(ctx, rawURL)
}

// offers returns the extensions o offers, as a list and as the header
// value.
func (o *DialOptions) offers() ([]handshake.Extension, []byte) {
	if o.Extensions == nil && o.Compression != nil {
		o.Extensions = deflateOffer{o.Compression}
	}
	if o.Extensions == nil {
		return nil, nil
	}
	offers := o.Extensions.Offer()
	if len(offers) == 0 {
		return nil, nil
	}
	return offers, handshake.AppendExtensions(nil, offers)
}

// dialHTTP2 opens the WebSocket as an extended CONNECT stream (RFC 8441
// §4-5) on a connection of o.HTTP2Pool, or of a pool of its own that is
// emptied when the WebSocket closes.
func (o *DialOptions) dialHTTP2(ctx context.Context, rawURL string) (*conn.Conn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	offers, offerHeader := o.offers()
	req, err := handshake.NewExtendedConnectRequest(u, o.Subprotocols, offerHeader, o.Header)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	if err := o.checkNoProxy(req); err != nil {
		return nil, nil, err
	}
	pool, ownPool := o.HTTP2Pool, false
	if pool == nil {
		pool, ownPool = NewHTTP2Pool(o), true
	}
	t := pool.transport(req.URL.Scheme == "https")

	// The stream lives as long as the WebSocket, so its context is not
	// ctx: ctx bounds only the handshake, through stop.
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var local, remote net.Addr
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		local, remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
	}}
	body := h2stream.NewPipe()
	req = req.WithContext(httptrace.WithClientTrace(streamCtx, trace))
	req.Body = body
	stop := context.AfterFunc(ctx, cancel)
	fail := func(resp *http.Response, err error) (*conn.Conn, *http.Response, error) {
		stop()
		cancel()
		if resp != nil {
			resp.Body.Close()
		}
		if ownPool {
			pool.CloseIdleConnections()
		}
		return nil, resp, err
	}

	resp, err := t.RoundTrip(req)
	if err != nil {
		if ctx.Err() == nil && http2Unavailable(err) {
			err = fmt.Errorf("%w: %w", ErrHTTP2Unavailable, err)
		}
		return fail(nil, fmt.Errorf("client: HTTP/2: %w", err))
	}
	hs, err := handshake.CheckExtendedConnectResponse(resp, o.Subprotocols)
	if err != nil {
		return fail(resp, err)
	}
	ext, err := o.acceptExtensions(resp, hs, offers)
	if err != nil {
		return fail(resp, err)
	}
	if !stop() {
		if ext != nil {
			ext.Close()
		}
		return fail(resp, fmt.Errorf("client: %w", ctx.Err()))
	}

	stream := h2stream.New(h2stream.Config{
		In:             resp.Body,
		Out:            body,
		LocalAddr:      local,
		RemoteAddr:     remote,
		ReadBufferSize: streamBufferSize(o.Conn),
		OnClose: func(pumpDone <-chan struct{}) {
			// RFC 8441 §6: END_STREAM after the close handshake; reset
			// only a stream the server has not ended within CloseWait.
			body.CloseWrite()
			go func() {
				timer := time.NewTimer(h2stream.CloseWait)
				defer timer.Stop()
				select {
				case <-pumpDone:
				case <-timer.C:
				}
				select {
				case <-body.Done():
				case <-timer.C:
				}
				resp.Body.Close()
				cancel()
				if ownPool {
					pool.CloseIdleConnections()
				}
			}()
		},
	})
	return conn.New(stream, conn.Setup{
		Role:        conn.Client,
		Subprotocol: hs.Protocol,
		Extension:   ext,
		Options:     o.Conn,
	}), resp, nil
}

// acceptExtensions checks the extensions of the server's answer against
// the offers and hands them to o.Extensions.
func (o *DialOptions) acceptExtensions(resp *http.Response, hs *handshake.Response, offers []handshake.Extension) (conn.Extension, error) {
	if len(hs.Extensions) == 0 {
		return nil, nil
	}
	if err := handshake.VerifyExtensions(hs.Extensions, offers); err != nil {
		return nil, &handshake.ResponseError{Response: resp, Reason: err.Error()}
	}
	if o.Extensions == nil { // unreachable: VerifyExtensions refuses what was not offered
		return nil, &handshake.ResponseError{Response: resp, Reason: "server accepted an extension that was not offered"}
	}
	ext, err := o.Extensions.Accept(hs.Extensions)
	if err != nil {
		return nil, &handshake.ResponseError{Response: resp, Reason: err.Error()}
	}
	return ext, nil
}

// checkNoProxy refuses HTTP/2 when a proxy is to be used: the HTTP/2
// transport connects directly, and a WebSocket must not silently bypass
// the proxy it was configured with.
func (o *DialOptions) checkNoProxy(req *http.Request) error {
	proxyFunc := o.Proxy
	if proxyFunc == nil {
		proxyFunc = http.ProxyFromEnvironment
	}
	proxyURL, err := proxyFunc(req)
	if err != nil {
		return fmt.Errorf("client: choosing a proxy: %w", err)
	}
	if proxyURL != nil {
		return fmt.Errorf("%w: a proxy (%s) is configured, and HTTP/2 WebSockets connect directly", ErrHTTP2Unavailable, redacted(proxyURL).Redacted())
	}
	return nil
}

// http2Unavailable reports whether err, from the HTTP/2 transport, means
// that the server does not offer WebSockets over HTTP/2 rather than that
// it could not be reached at all: its SETTINGS lack
// SETTINGS_ENABLE_CONNECT_PROTOCOL, TLS did not agree on "h2", or the
// server did not speak HTTP/2 on a cleartext connection. The transport
// has no exported errors for these, so its messages are matched.
func http2Unavailable(err error) bool {
	if errors.Is(err, ErrHTTP2Unavailable) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{
		"extended connect not supported by peer",
		"no application protocol",
		"unexpected ALPN protocol",
		"client conn could not be established",
		"client conn not usable",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// streamBufferSize is the stream's read buffer: the Conn's read buffer
// size when it is set and smaller than the stream's default.
func streamBufferSize(o *conn.Options) int {
	if o != nil && o.ReadBufferSize > 0 && o.ReadBufferSize < h2stream.DefaultReadBufferSize {
		return o.ReadBufferSize
	}
	return 0
}
