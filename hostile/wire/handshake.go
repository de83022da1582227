package wire

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Request is an opening handshake request (RFC 6455 §4.1) as the tool
// writes it: every field is written as given, so a request may be as
// malformed as an attack needs.
type Request struct {
	Host       string   // Host header value
	Path       string   // request target, "/" when empty
	Key        string   // Sec-WebSocket-Key
	Extensions string   // Sec-WebSocket-Extensions offer, none when empty
	Extra      []string // more header lines ("Name: value"), in order
	Body       []byte   // bytes written after the header, as they are
}

// NewKey returns a Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455
// §4.1, client requirement 7).
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// AcceptKey returns the Sec-WebSocket-Accept value a server must answer to
// key: base64 of SHA-1 of key and the protocol's GUID (RFC 6455 §4.2.2,
// step 5.4).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// AppendRequest appends r as an HTTP/1.1 GET request with the header
// fields RFC 6455 §4.1 requires, then r.Extra, an empty line and r.Body.
func AppendRequest(dst []byte, r Request) []byte {
	path := r.Path
	if path == "" {
		path = "/"
	}
	dst = append(dst, "GET "+path+" HTTP/1.1\r\nHost: "+r.Host+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+r.Key+
		"\r\nSec-WebSocket-Version: 13\r\n"...)
	if r.Extensions != "" {
		dst = append(dst, "Sec-WebSocket-Extensions: "+r.Extensions+"\r\n"...)
	}
	for _, line := range r.Extra {
		dst = append(dst, line+"\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, r.Body...)
}

// Response is a server's answer to the opening handshake: status and
// header fields, names in lower case, repeated fields joined with ", ".
type Response struct {
	Status int
	Header map[string]string
}

// ErrTooLong is returned by ReadResponse for a response header larger
// than its limit.
var ErrTooLong = errors.New("wire: response header too long")

// ReadResponse reads a status line and header fields (not the body) from
// br, reading at most max bytes.
func ReadResponse(br *bufio.Reader, max int) (Response, error) {
	var resp Response
	line, err := readLine(br, &max)
	if err != nil {
		return resp, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 {
		return resp, fmt.Errorf("wire: malformed status line %q", trim(line))
	}
	if resp.Status, err = strconv.Atoi(code); err != nil {
		return resp, fmt.Errorf("wire: malformed status line %q", trim(line))
	}
	resp.Header = map[string]string{}
	for {
		line, err := readLine(br, &max)
		if err != nil {
			return resp, err
		}
		if line == "" {
			return resp, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return resp, fmt.Errorf("wire: malformed header line %q", trim(line))
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if old, dup := resp.Header[name]; dup {
			value = old + ", " + value
		}
		resp.Header[name] = value
	}
}

// CheckUpgrade reports why resp does not accept the handshake made with
// key (RFC 6455 §4.1, the client's checks of the server's response), or
// nil when it does.
func CheckUpgrade(resp Response, key string) error {
	switch {
	case resp.Status != 101:
		return fmt.Errorf("wire: status %d, not 101", resp.Status)
	case !strings.EqualFold(resp.Header["upgrade"], "websocket"):
		return fmt.Errorf("wire: Upgrade %q", resp.Header["upgrade"])
	case !HasToken(resp.Header["connection"], "upgrade"):
		return fmt.Errorf("wire: Connection %q", resp.Header["connection"])
	case resp.Header["sec-websocket-accept"] != AcceptKey(key):
		return fmt.Errorf("wire: Sec-WebSocket-Accept %q, want %q", resp.Header["sec-websocket-accept"], AcceptKey(key))
	}
	return nil
}

// HasToken reports whether the comma-separated list v holds token, in
// any case, ignoring parameters after ';'.
func HasToken(v, token string) bool {
	for _, item := range strings.Split(v, ",") {
		item, _, _ = strings.Cut(item, ";")
		if strings.EqualFold(strings.TrimSpace(item), token) {
			return true
		}
	}
	return false
}

// readLine reads a CRLF- or LF-terminated line, charging it to *budget.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var b []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		if *budget--; *budget < 0 {
			return "", ErrTooLong
		}
		if c == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		b = append(b, c)
	}
}

func trim(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
