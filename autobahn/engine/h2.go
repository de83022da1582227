package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// WebSockets over HTTP/2 (RFC 8441) for the suite, with no change to the
// Session: a Session speaks the HTTP/1.1 opening handshake, and an
// HTTP/2 transport (package autobahn's) translates it to and from an
// extended CONNECT, then carries the frames on the stream as they are.
// The translation is pure text, here; the transport does the I/O.
//
// What the Session checks of the testee's handshake (extensions,
// subprotocol, version, host) it still checks, on the translated values.
// What only HTTP/2 has (the :protocol pseudo-header, the 200 status) the
// transport checks, with H2Request and H2ResponseHead.

// H2Request is an extended CONNECT request: the pseudo-header fields and
// the regular ones (canonical keys), as the suite sends or receives it.
type H2Request struct {
	Path      string // :path, with the query
	Authority string // :authority
	Header    map[string][]string
}

// hopByHop are the HTTP/1.1 handshake's fields that have no place in an
// HTTP/2 request (RFC 9113 §8.2.2; RFC 8441 §5 drops the key).
var hopByHop = map[string]bool{
	"Upgrade": true, "Connection": true, "Sec-Websocket-Key": true, "Host": true,
	"Pragma": true, "Cache-Control": true,
}

// H2RequestFromHandshake turns the suite's own HTTP/1.1 opening
// handshake request (Session.startHandshake's bytes, head only) into an
// extended CONNECT, and returns the key it carried, from which the
// translated response's Sec-WebSocket-Accept is computed.
func H2RequestFromHandshake(head string) (req H2Request, key string, err error) {
	line, hdr := splitHead(head)
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "GET" {
		return req, "", fmt.Errorf("not a handshake request: %q", line)
	}
	req.Path = f[1]
	req.Header = map[string][]string{}
	for k, vv := range hdr {
		switch {
		case k == "Host":
			req.Authority = vv[0]
		case k == "Sec-Websocket-Key":
			key = vv[0]
		}
		if !hopByHop[k] {
			req.Header[k] = vv
		}
	}
	return req, key, nil
}

// HandshakeFromH2Response is the HTTP/1.1 response the Session reads in
// place of the testee's answer to an extended CONNECT: a 2xx becomes 101
// with Upgrade, Connection and the Sec-WebSocket-Accept of key, and the
// testee's Sec-WebSocket-Extensions, Sec-WebSocket-Protocol and Server
// fields; any other status stays what it was, so the Session fails the
// handshake as it would over HTTP/1.1.
func HandshakeFromH2Response(status int, header map[string][]string, key string) string {
	var b strings.Builder
	if status < 200 || status > 299 {
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n\r\n", status, statusText(status))
		return b.String()
	}
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", acceptKey(key))
	for _, k := range []string{"Server", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"} {
		for _, v := range header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// h2Key is the Sec-WebSocket-Key put in translated requests: RFC 8441
// has none, and the Session's checks need a valid one.
const h2Key = "dGhlIHNhbXBsZSBub25jZQ=="

// HandshakeFromH2Request is the HTTP/1.1 opening handshake the Session
// (suite as server) reads in place of a testee's extended CONNECT:
// a GET for the same path with Host, Upgrade, Connection and a key
// added, and the testee's other fields as they came. The caller has
// checked that :protocol is "websocket".
func HandshakeFromH2Request(req H2Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n", req.Path, req.Authority, h2Key)
	for k, vv := range req.Header {
		if hopByHop[k] || strings.HasPrefix(k, ":") {
			continue
		}
		for _, v := range vv {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// H2ResponseHead turns the Session's HTTP/1.1 answer (head only) into the
// answer to the extended CONNECT: 101 becomes 200 (RFC 8441 §5) with the
// extensions, subprotocol and Server fields; another status stays, with
// its fields less the hop-by-hop ones.
func H2ResponseHead(head string) (status int, header map[string][]string, err error) {
	line, hdr := splitHead(head)
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(f[1]); err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	header = map[string][]string{}
	for k, vv := range hdr {
		if hopByHop[k] || k == "Sec-Websocket-Accept" || k == "Content-Length" {
			continue
		}
		header[k] = vv
	}
	if status == 101 {
		status = 200
	}
	return status, header, nil
}

// splitHead splits an HTTP/1.1 head into its first line and its fields,
// with canonical keys.
func splitHead(head string) (string, map[string][]string) {
	lines := strings.Split(strings.TrimRight(head, "\r\n"), "\r\n")
	hdr := map[string][]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = canonicalKey(strings.TrimSpace(k))
		hdr[k] = append(hdr[k], strings.TrimSpace(v))
	}
	return lines[0], hdr
}

// canonicalKey writes a field name as net/http keys it: each word's
// first letter upper case, the rest lower case ("Sec-Websocket-Key").
func canonicalKey(k string) string {
	b := []byte(strings.ToLower(k))
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// statusText names the statuses a testee may refuse a handshake with.
func statusText(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 426:
		return "Upgrade Required"
	case 431:
		return "Request Header Fields Too Large"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Error"
}
