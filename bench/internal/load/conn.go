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

	"github.com/rfc6455/ws/handshake"
)

// maxResponse bounds the handshake response.
const maxResponse = 8 << 10

// dial opens the transport connection (TCP, then TLS for wss://) for
// connection id and runs the opening handshake (RFC 6455 §4.1). Bytes read
// past the response are left in buf[:n].
func dial(ctx context.Context, cfg *Config, u *url.URL, id int, buf []byte) (net.Conn, int, error) {
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
		return nil, 0, &runError{kind: errDial, err: err}
	}
	if u.Scheme == "wss" {
		tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.Insecure, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, 0, &runError{kind: errHandshake, err: err}
		}
		nc = tc
	}
	n, err := upgrade(ctx, nc, u, buf)
	if err != nil {
		nc.Close()
		return nil, 0, &runError{kind: errHandshake, err: err}
	}
	return nc, n, nil
}

// upgrade sends the opening handshake request and checks the response: 101
// and the right Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2).
func upgrade(ctx context.Context, nc net.Conn, u *url.URL, buf []byte) (int, error) {
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
		"\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wsbench\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		return 0, err
	}
	if len(buf) > maxResponse {
		buf = buf[:maxResponse]
	}
	n := 0
	for {
		if n == len(buf) {
			return 0, errors.New("handshake response too long")
		}
		m, err := nc.Read(buf[n:])
		n += m
		if end := bytes.Index(buf[:n], []byte("\r\n\r\n")); end >= 0 {
			head := string(buf[:end])
			rest := copy(buf, buf[end+4:n])
			return rest, checkResponse(head, key)
		}
		if err != nil {
			return 0, err
		}
	}
}

func checkResponse(head, key string) error {
	lines := strings.Split(head, "\r\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || status[1] != "101" {
		return fmt.Errorf("server answered %q, not 101", lines[0])
	}
	want := handshake.AcceptKey(key)
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Accept") {
			if strings.TrimSpace(value) != want {
				return errors.New("wrong Sec-WebSocket-Accept")
			}
			return nil
		}
		if ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") && strings.TrimSpace(value) != "" {
			return fmt.Errorf("server accepted extensions that were not offered: %s", strings.TrimSpace(value))
		}
	}
	return errors.New("no Sec-WebSocket-Accept in the response")
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
