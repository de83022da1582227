package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/handshake"
)

// maxResponse bounds the handshake response.
const maxResponse = 8 << 10

// offer is what wsbench offers with Config.Compress: permessage-deflate
// with client_no_context_takeover, so that one pre-compressed frame is
// valid as every message of every connection (RFC 7692 §7.1.1.2), and
// client_max_window_bits without a value, so the server may also choose
// our window (§7.1.2.2; the frames are compressed once per window a
// server picks). The server's own parameters are whatever it answers.
var offer = deflate.ClientOptions{ClientNoContextTakeover: true}

// negotiated is the outcome of the permessage-deflate negotiation of one
// connection: its configuration and the server's answer as sent.
type negotiated struct {
	cfg deflate.Config
	ext string
}

// dial opens the transport connection (TCP, then TLS for wss://) for
// connection id and runs the opening handshake (RFC 6455 §4.1). Bytes read
// past the response are left in buf[:n].
func dial(ctx context.Context, cfg *Config, u *url.URL, id int, buf []byte) (net.Conn, int, *negotiated, error) {
	d := net.Dialer{}
	if cfg.Sources > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+id%cfg.Sources))}
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "wss" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, 0, nil, &runError{kind: errDial, err: err}
	}
	if u.Scheme == "wss" {
		tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.Insecure, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, 0, nil, &runError{kind: errHandshake, err: err}
		}
		nc = tc
	}
	n, neg, err := upgrade(ctx, nc, u, buf, cfg.Compress)
	if err != nil {
		nc.Close()
		var re *runError
		if !errors.As(err, &re) {
			err = &runError{kind: errHandshake, err: err}
		}
		return nil, 0, nil, err
	}
	return nc, n, neg, nil
}

// upgrade sends the opening handshake request, with the permessage-deflate
// offer when compress is set, and checks the response: 101 and the right
// Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2), and the extensions the
// server accepted (see checkResponse).
func upgrade(ctx context.Context, nc net.Conn, u *url.URL, buf []byte, compress bool) (int, *negotiated, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
		defer nc.SetDeadline(time.Time{})
	}
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	path := u.RequestURI()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wsbench\r\n"
	if compress {
		req += "Sec-WebSocket-Extensions: " + string(handshake.AppendExtensions(nil, []handshake.Extension{deflate.Offer(&offer)})) + "\r\n"
	}
	req += "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		return 0, nil, err
	}
	if len(buf) > maxResponse {
		buf = buf[:maxResponse]
	}
	n := 0
	for {
		if n == len(buf) {
			return 0, nil, errors.New("handshake response too long")
		}
		m, err := nc.Read(buf[n:])
		n += m
		if end := bytes.Index(buf[:n], []byte("\r\n\r\n")); end >= 0 {
			head := string(buf[:end])
			rest := copy(buf, buf[end+4:n])
			neg, err := checkResponse(head, key, compress)
			return rest, neg, err
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// checkResponse checks the head of the handshake response. Without
// compress, the server may accept no extension. With it, the server must
// accept permessage-deflate on terms the offer allows: the answer is
// validated with the deflate package's client-side negotiation (RFC 7692
// §7.1), and an answer that declines compression or breaks §7.1 is an
// errNegotiation, since a run that offered compression would otherwise
// measure something else.
func checkResponse(head, key string, compress bool) (*negotiated, error) {
	lines := strings.Split(head, "\r\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || status[1] != "101" {
		return nil, fmt.Errorf("server answered %q, not 101", lines[0])
	}
	want := handshake.AcceptKey(key)
	accepted := false
	var exts []string
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Sec-WebSocket-Accept"):
			if value != want {
				return nil, errors.New("wrong Sec-WebSocket-Accept")
			}
			accepted = true
		case strings.EqualFold(name, "Sec-WebSocket-Extensions") && value != "":
			exts = append(exts, value)
		}
	}
	if !accepted {
		return nil, errors.New("no Sec-WebSocket-Accept in the response")
	}
	if !compress {
		if len(exts) > 0 {
			return nil, fmt.Errorf("server accepted extensions that were not offered: %s", strings.Join(exts, ", "))
		}
		return nil, nil
	}
	return negotiate(exts)
}

// negotiate validates the server's Sec-WebSocket-Extensions values against
// offer.
func negotiate(values []string) (*negotiated, error) {
	fail := func(err error) (*negotiated, error) { return nil, &runError{kind: errNegotiation, err: err} }
	exts, err := handshake.ParseExtensions(values)
	if err != nil {
		return fail(err)
	}
	if err := handshake.VerifyExtensions(exts, []handshake.Extension{deflate.Offer(&offer)}); err != nil {
		return fail(err)
	}
	cfg, ok, err := deflate.AcceptResponse(exts, &offer)
	if err != nil {
		return fail(err)
	}
	if !ok {
		return fail(errDeclined)
	}
	if cfg.CompressContextTakeover {
		// AcceptResponse never allows it after our offer.
		return fail(errors.New("server requires client context takeover"))
	}
	return &negotiated{cfg: cfg, ext: string(handshake.AppendExtensions(nil, exts))}, nil
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
