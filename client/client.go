package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/handshake"
)

// DefaultHandshakeTimeout bounds Dial, from the first connection attempt to
// the end of the server's response, when DialOptions.HandshakeTimeout is
// zero.
const DefaultHandshakeTimeout = 30 * time.Second

// DialOptions configures Dial. A nil *DialOptions and the zero value mean
// the defaults; Dial copies the options, so one value can serve many
// dials.
type DialOptions struct {
	// TLSConfig configures TLS for wss:// URLs and for https:// proxies.
	// nil means a zero tls.Config. Dial works on a clone, with ServerName
	// set to the host being reached when it is empty.
	TLSConfig *tls.Config

	// Header holds extra header fields for the handshake request, such as
	// Origin, Cookie, Authorization or User-Agent; a Host entry overrides
	// the Host header. The fields the handshake defines itself (Upgrade,
	// Connection, Sec-WebSocket-*) may not be set here.
	Header http.Header

	// Subprotocols are the application protocols offered to the server,
	// most preferred first (RFC 6455 §4.1 item 10). The one the server
	// selects is reported by Conn.Subprotocol.
	Subprotocols []string

	// Extensions, when set, offers extensions such as permessage-deflate
	// (RFC 7692) and accepts the server's answer. It is the seam the
	// deflate package plugs into; nil offers none.
	Extensions ExtensionOffer

	// Compression, when set and Extensions is nil, offers
	// permessage-deflate (RFC 7692) on these terms and validates the
	// server's answer strictly (§7.1); nil offers no compression. The zero
	// deflate.ClientOptions offers "permessage-deflate;
	// client_max_window_bits", as browsers do. Memory per connection is
	// stated in the server package's AcceptOptions.Compression.
	Compression *deflate.ClientOptions

	// HandshakeTimeout bounds the whole of Dial: the TCP connection, any
	// proxy negotiation, TLS and the opening handshake
	// (DefaultHandshakeTimeout when zero, no bound other than ctx when
	// negative).
	HandshakeTimeout time.Duration

	// NetDialContext opens the TCP connection, to the server or to the
	// proxy. nil means a zero net.Dialer's DialContext.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the proxy to reach the server through, given the
	// handshake request (whose URL has the scheme http for ws:// and https
	// for wss://), or a nil URL for a direct connection. nil means
	// http.ProxyFromEnvironment, like net/http: HTTP_PROXY for ws://,
	// HTTPS_PROXY for wss://, NO_PROXY exceptions, and never for
	// localhost and loopback addresses. Use NoProxy to connect directly
	// whatever the environment says.
	//
	// Proxies with the http and https schemes are asked to open a tunnel
	// with CONNECT (RFC 9110 §9.3.6), for ws:// and wss:// alike, with
	// Basic Proxy-Authorization when the URL carries a user; socks5 and
	// socks5h proxies are reached through golang.org/x/net/proxy.
	Proxy func(*http.Request) (*url.URL, error)

	// MaxHeaderBytes bounds the status line and header fields of the
	// server's response and of a proxy's CONNECT response
	// (handshake.DefaultMaxHeaderBytes, 8 KiB, when zero).
	MaxHeaderBytes int

	// Conn configures the connection once it is established: buffer sizes,
	// read limit, frame size, close timeout, keepalive. nil means the
	// conn package's defaults.
	Conn *conn.Options

	// HTTP2 decides whether the WebSocket is carried by an HTTP/2 stream
	// (RFC 8441) or by an HTTP/1.1 connection of its own: HTTP2Never (the
	// default), HTTP2Prefer or HTTP2Require. Over HTTP/2, Proxy must
	// choose no proxy (Prefer falls back to HTTP/1.1 when it does), and
	// the response is a 200 whose Body is the stream.
	HTTP2 HTTP2Mode

	// HTTP2Pool, when set, holds the HTTP/2 connections that WebSockets
	// dialled with it share (one TCP connection carries many WebSockets);
	// nil opens a connection for this WebSocket alone, closed with it.
	// TLSConfig and NetDialContext of the pool's NewHTTP2Pool options
	// apply to its connections, not this DialOptions'.
	HTTP2Pool *HTTP2Pool
}

// ExtensionOffer negotiates extensions on behalf of the client
// (RFC 6455 §9.1).
//
// Offer returns the extensions to list in the request's
// Sec-WebSocket-Extensions header, most preferred first. Accept is called
// with the extensions the server's response lists, in its order, after
// Dial has checked that each was offered; it returns the conn.Extension
// that implements them (nil when accepted is empty), or an error when the
// server's choice is not acceptable, which fails the connection as RFC
// 6455 §9.1 requires.
type ExtensionOffer interface {
	Offer() []handshake.Extension
	Accept(accepted []handshake.Extension) (conn.Extension, error)
}

// deflateOffer offers permessage-deflate through package deflate.
type deflateOffer struct{ opts *deflate.ClientOptions }

func (d deflateOffer) Offer() []handshake.Extension {
	return []handshake.Extension{deflate.Offer(d.opts)}
}

func (d deflateOffer) Accept(accepted []handshake.Extension) (conn.Extension, error) {
	cfg, ok, err := deflate.AcceptResponse(accepted, d.opts)
	if err != nil || !ok {
		return nil, err
	}
	return deflate.NewSession(cfg), nil
}

// NoProxy is a DialOptions.Proxy function that never uses a proxy.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

// ErrBufferedAfterConnect is returned when a proxy sends bytes after its
// answer to CONNECT and before the client has spoken through the tunnel:
// they cannot belong to the server.
var ErrBufferedAfterConnect = errors.New("client: proxy sent data before the tunnel was used")

// ProxyError is a proxy's refusal to open a tunnel.
type ProxyError struct {
	Proxy      *url.URL // the proxy, without credentials
	StatusCode int      // the proxy's HTTP status, 0 for SOCKS
	Status     string
	Header     http.Header
}

func (e *ProxyError) Error() string {
	return "client: proxy " + e.Proxy.Redacted() + " refused the tunnel: " + e.Status
}

// Dial opens a WebSocket connection to the ws://, wss://, http:// or
// https:// URL u (RFC 6455 §3; http and https are taken as ws and wss) and
// runs the client side of the opening handshake (RFC 6455 §4.1).
//
// It connects (through a proxy when opts.Proxy names one), starts TLS for
// wss://, sends the handshake request and reads the server's response
// with bounded header size. The response is checked with
// handshake.CheckResponse: status 101, Upgrade and Connection tokens, the
// Sec-WebSocket-Accept value, and a subprotocol and extensions that were
// offered. Bytes the server sent right after its response are handed to
// the Conn.
//
// The returned *http.Response is the server's response, also on most
// failures; its Body needs no closing. When the server answered with
// anything but a valid 101, the error is a *ResponseError, holding the
// response (status, header fields) and the first bytes of its body; a
// proxy that refused the tunnel gives a *ProxyError. ctx bounds Dial only,
// never the Conn; when it is done during Dial, the error wraps ctx.Err().
// Check them with errors.As and errors.Is.
func Dial(ctx context.Context, u string, opts *DialOptions) (*conn.Conn, *http.Response, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	var c *conn.Conn
	var resp *http.Response
	var err error
	if inBrowser {
		c, resp, err = o.dialBrowser(ctx, u) // browser_js.go: js/wasm
	} else {
		c, resp, err = o.dialAny(ctx, u) // h2.go: HTTP/1.1 or HTTP/2 as o.HTTP2 says
	}
	if err != nil {
		err = contextError(ctx, err)
	}
	return c, resp, err
}

// ResponseError is the error of a Dial whose server answered with
// anything but a valid 101 response: the status, header fields and the
// start of the body of what it sent. It is handshake.ResponseError, named
// here so that a client checks it without importing handshake:
//
//	var re *client.ResponseError
//	if errors.As(err, &re) { log.Print(re.Response.Status) }
type ResponseError = handshake.ResponseError

// contextError makes err, from a handshake step, wrap the context's error
// when the context ended the step: either ctx is done, or err is the
// timeout of the connection deadline that follows ctx's deadline, which
// can fire a moment before ctx's own timer.
func contextError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil {
		var ne net.Error
		d, ok := ctx.Deadline()
		if !ok || !errors.As(err, &ne) || !ne.Timeout() || time.Now().Before(d) {
			return err
		}
		cerr = context.DeadlineExceeded
	}
	if errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w (%w)", cerr, err)
}

func (o *DialOptions) dial(ctx context.Context, rawURL string) (*conn.Conn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	key, err := handshake.NewKey()
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	var offers []handshake.Extension
	var offerHeader []byte
	if o.Extensions == nil && o.Compression != nil {
		o.Extensions = deflateOffer{o.Compression}
	}
	if o.Extensions != nil {
		offers = o.Extensions.Offer()
		if len(offers) > 0 {
			offerHeader = handshake.AppendExtensions(nil, offers)
		}
	}
	req, err := handshake.NewClientRequest(u, key, o.Subprotocols, offerHeader, o.Header)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	req = req.WithContext(ctx)

	nc, err := o.connect(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	// From here on the deadline of nc follows ctx, so that every read and
	// write of the handshake stops when ctx is done.
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	interrupt := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, resp, err := o.handshake(nc, req, key, offers)
	if !interrupt() && err == nil {
		c.CloseNow()
		return nil, resp, fmt.Errorf("client: %w", ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// connect opens the byte stream to the server for req: TCP, directly or
// through a proxy, then TLS for https (wss).
func (o *DialOptions) connect(ctx context.Context, req *http.Request) (net.Conn, error) {
	proxyFunc := o.Proxy
	if proxyFunc == nil {
		proxyFunc = http.ProxyFromEnvironment
	}
	proxyURL, err := proxyFunc(req)
	if err != nil {
		return nil, fmt.Errorf("client: choosing a proxy: %w", err)
	}
	addr := hostPort(req.URL)
	var nc net.Conn
	if proxyURL == nil {
		nc, err = o.netDial(ctx, "tcp", addr)
	} else {
		nc, err = o.dialProxy(ctx, proxyURL, addr)
	}
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme != "https" {
		return nc, nil
	}
	tc, err := o.startTLS(ctx, nc, req.URL.Hostname())
	if err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// netDial opens a connection with the configured dialer.
func (o *DialOptions) netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nc net.Conn
	var err error
	if o.NetDialContext != nil {
		nc, err = o.NetDialContext(ctx, network, addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return nc, nil
}

// tlsConfig is a copy of o.TLSConfig (or an empty config) that names
// serverName unless the caller named a server already.
func (o *DialOptions) tlsConfig(serverName string) *tls.Config {
	cfg := new(tls.Config)
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	return cfg
}

// startTLS runs a TLS client handshake on nc for the host serverName.
func (o *DialOptions) startTLS(ctx context.Context, nc net.Conn, serverName string) (*tls.Conn, error) {
	cfg := o.tlsConfig(serverName)
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("client: TLS handshake with %s: %w", serverName, err)
	}
	return tc, nil
}

// handshake sends req on nc, reads and checks the server's response
// (RFC 6455 §4.1) and returns the established Conn.
func (o *DialOptions) handshake(nc net.Conn, req *http.Request, key string, offers []handshake.Extension) (*conn.Conn, *http.Response, error) {
	bw := bufio.NewWriterSize(nc, 1024)
	if err := req.Write(bw); err != nil {
		return nil, nil, fmt.Errorf("client: sending the handshake request: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, fmt.Errorf("client: sending the handshake request: %w", err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := handshake.ReadResponse(br, req, o.MaxHeaderBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("client: reading the handshake response: %w", err)
	}
	hs, err := handshake.CheckResponse(resp, key, o.Subprotocols)
	if err != nil {
		return nil, resp, err
	}
	var ext conn.Extension
	if len(hs.Extensions) > 0 {
		if err := handshake.VerifyExtensions(hs.Extensions, offers); err != nil {
			return nil, resp, &handshake.ResponseError{Response: resp, Reason: err.Error()}
		}
		if o.Extensions == nil { // unreachable: nothing was offered
			return nil, resp, &handshake.ResponseError{Response: resp, Reason: "server accepted an extension that was not offered"}
		}
		ext, err = o.Extensions.Accept(hs.Extensions)
		if err != nil {
			return nil, resp, &handshake.ResponseError{Response: resp, Reason: err.Error()}
		}
	}
	var buffered []byte
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		buffered = bytes.Clone(p)
	}
	// Clear the handshake deadline. It fails only when the connection is
	// already gone, and then the server may still have said everything it
	// meant to (a message and a close, already in buffered): the Conn
	// delivers that first and reports the broken connection after.
	nc.SetDeadline(time.Time{})
	return conn.New(nc, conn.Setup{
		Role:        conn.Client,
		Subprotocol: hs.Protocol,
		Extension:   ext,
		Buffered:    buffered,
		Options:     o.Conn,
	}), resp, nil
}

// hostPort returns the host:port of an http or https URL, with the
// scheme's default port when u has none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
