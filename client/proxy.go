package client

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/proxy"

	"github.com/rfc6455/ws/handshake"
)

// dialProxy opens a tunnel to addr (host:port) through the proxy at
// proxyURL.
func (o *DialOptions) dialProxy(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	switch proxyURL.Scheme {
	case "http", "https":
		return o.dialConnect(ctx, proxyURL, addr)
	case "socks5", "socks5h":
		return o.dialSOCKS(ctx, proxyURL, addr)
	}
	return nil, fmt.Errorf("client: unsupported proxy scheme %q", proxyURL.Scheme)
}

// dialConnect asks an HTTP proxy for a tunnel to addr with CONNECT
// (RFC 9110 §9.3.6), over TLS when the proxy's scheme is https.
func (o *DialOptions) dialConnect(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	nc, err := o.netDial(ctx, "tcp", hostPort(proxyURL))
	if err != nil {
		return nil, err
	}
	if proxyURL.Scheme == "https" {
		tc, err := o.startTLS(ctx, nc, proxyURL.Hostname())
		if err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	interrupt := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = o.connectTunnel(nc, proxyURL, addr)
	if !interrupt() && err == nil {
		err = fmt.Errorf("client: %w", ctx.Err())
	}
	if err == nil {
		err = nc.SetDeadline(time.Time{})
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// connectTunnel sends CONNECT addr on nc and reads the proxy's answer.
func (o *DialOptions) connectTunnel(nc net.Conn, proxyURL *url.URL, addr string) error {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: make(http.Header),
	}
	if u := proxyURL.User; u != nil {
		pass, _ := u.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + pass))
		req.Header.Set("Proxy-Authorization", "Basic "+cred)
	}
	// Written by hand: Request.Write would add a User-Agent and turns a
	// CONNECT target into a path.
	msg := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if v := req.Header.Get("Proxy-Authorization"); v != "" {
		msg += "Proxy-Authorization: " + v + "\r\n"
	}
	msg += "\r\n"
	if _, err := io.WriteString(nc, msg); err != nil {
		return fmt.Errorf("client: sending CONNECT to proxy: %w", err)
	}

	// The proxy's answer is bounded like a server's response. Its body,
	// if any, is never read: a proxy that refuses gets its connection
	// closed, one that accepts has no body (RFC 9110 §9.3.6).
	br := bufio.NewReaderSize(nc, 1024)
	resp, err := handshake.ReadResponse(br, req, o.MaxHeaderBytes)
	if err != nil {
		return fmt.Errorf("client: reading the proxy's CONNECT response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &ProxyError{
			Proxy:      redacted(proxyURL),
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			Header:     resp.Header,
		}
	}
	if br.Buffered() > 0 {
		return ErrBufferedAfterConnect
	}
	return nil
}

// dialSOCKS opens a tunnel to addr through a SOCKS5 proxy (RFC 1928),
// with username/password authentication (RFC 1929) when proxyURL carries
// a user. socks5h and socks5 both let the proxy resolve the host name.
func (o *DialOptions) dialSOCKS(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	d, err := proxy.FromURL(proxyURL, forwardDialer{o})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok { // never: the SOCKS5 dialer of x/net/proxy has DialContext
		return nil, fmt.Errorf("client: SOCKS5 dialer without DialContext")
	}
	nc, err := cd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: SOCKS5 proxy %s: %w", redacted(proxyURL).Redacted(), err)
	}
	return nc, nil
}

// forwardDialer lets x/net/proxy reach the SOCKS5 proxy with
// DialOptions.NetDialContext.
type forwardDialer struct{ o *DialOptions }

func (f forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, addr)
}

func (f forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f.o.netDial(ctx, network, addr)
}

// redacted returns proxyURL without its user information.
func redacted(proxyURL *url.URL) *url.URL {
	u := *proxyURL
	u.User = nil
	return &u
}
