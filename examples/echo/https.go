package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
)

// serveConfig is how serve serves.
type serveConfig struct {
	opts  *server.AcceptOptions
	raw   bool
	grace time.Duration
	tls   *tls.Config // nil: cleartext
	h2    bool        // also HTTP/2 (ALPN h2 with TLS, prior knowledge without)
	// wrap, when set, wraps the net/http handler (tests observe requests
	// with it).
	wrap func(http.Handler) http.Handler
}

// protocols returns what the http.Server speaks: HTTP/1.1, and HTTP/2
// when h2 is set (over TLS with ALPN, or cleartext with prior knowledge,
// RFC 9113 §3.3).
func protocols(useTLS, h2 bool) *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	if h2 {
		if useTLS {
			p.SetHTTP2(true)
		} else {
			p.SetUnencryptedHTTP2(true)
		}
	}
	return p
}

// tlsConfig loads the certificate and key files, or generates a
// self-signed certificate when both are empty.
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if certFile == "" && keyFile == "" {
		cert, err = selfSigned()
	} else {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// selfSigned generates, in memory, a certificate for 127.0.0.1, ::1 and
// localhost, valid for a day: enough for a test server, which clients
// reach with verification off (-insecure, a browser's
// --ignore-certificate-errors).
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "ws echo (self-signed)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// page is what a plain GET receives: a page of the server's origin, from
// which a browser can open WebSockets to it.
const page = `<!doctype html>
<meta charset="utf-8">
<title>ws echo</title>
<p>WebSocket echo server: every message sent to a WebSocket opened on this
address comes back. Try <code>new WebSocket(location.href.replace(/^http/, "ws"))</code>.
`

// pageOr serves page to requests that are not WebSocket handshakes (a GET
// without "Upgrade: websocket" on HTTP/1.1, anything but an extended
// CONNECT on HTTP/2), and hands the others to ws.
func pageOr(ws http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isWebSocket := handshake.IsExtendedConnect(r) ||
			r.ProtoMajor == 1 && handshake.ContainsToken(r.Header["Upgrade"], "websocket")
		if r.Method == http.MethodGet && !isWebSocket {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
			return
		}
		ws.ServeHTTP(w, r)
	})
}
