package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// DefaultMaxHeaderBytes bounds the start line and header fields that
// ReadRequest and ReadResponse accept when given a limit of zero or less.
// Browsers' handshakes take well under 2 KiB; cookies make up most of
// the rest.
const DefaultMaxHeaderBytes = 8 << 10

// maxHeaderFields bounds the number of header field lines, so that many
// tiny lines cannot cost far more memory than their bytes.
const maxHeaderFields = 128

// maxInformational bounds the 1xx responses ReadResponse skips.
const maxInformational = 8

var (
	// ErrResponseTooLarge is returned by ReadResponse when the status
	// line and header fields exceed the limit.
	ErrResponseTooLarge = errors.New("handshake: response header too large")
	// ErrMalformedResponse is wrapped by ReadResponse's errors for a
	// response that is not valid HTTP/1.x.
	ErrMalformedResponse = errors.New("handshake: malformed HTTP response")
)

// errTooLarge and errMalformed are the internal results of header block
// parsing; ReadRequest and ReadResponse turn them into their own errors.
var (
	errTooLarge  = errors.New("header too large")
	errMalformed = errors.New("malformed")
)

// ReadRequest reads an HTTP/1.x request's start line and header fields
// from br, for servers that accept WebSocket connections on a listener
// without net/http: the client's opening handshake of RFC 6455 §4.2.1,
// which ParseRequest then validates. It consumes br only up to and including the empty
// line that ends the header, so whatever the client sent after it (its
// first WebSocket frames) stays buffered in br for the connection.
//
// The request line and header fields together may take at most
// maxHeaderBytes bytes (DefaultMaxHeaderBytes when maxHeaderBytes <= 0)
// and 128 lines; more earns a 431 *Error (RFC 6585 §5). Input that is not
// a valid request (RFC 7230 §3) earns a 400 *Error, and so does a request
// that announces a body (Transfer-Encoding, or Content-Length other than
// a single 0), since the bytes after an upgrade request's header belong
// to the WebSocket connection. Obsolete line folding and
// whitespace before a colon are rejected (RFC 7230 §3.2.4); bare LF line
// ends are accepted (RFC 7230 §3.5).
//
// Read errors are returned as they are: io.EOF when br ends before the
// first byte, io.ErrUnexpectedEOF when it ends inside the header, and
// the reader's own errors (such as a deadline) otherwise. Setting a
// deadline on the connection, so that a slow client cannot hold it
// forever, is the caller's job.
//
// The result has Body http.NoBody and no Host entry in its Header, like
// the requests a net/http server hands to its handlers; pass it to
// ParseRequest.
func ReadRequest(br *bufio.Reader, maxHeaderBytes int) (*http.Request, error) {
	var scratch [1024]byte
	block, err := readHeaderBlock(br, maxHeaderBytes, scratch[:0])
	switch {
	case err == errTooLarge:
		return nil, &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Message: "request header too large"}
	case err == errMalformed:
		return nil, badRequest("malformed HTTP request")
	case err != nil:
		return nil, err
	}
	return parseRequestBlock(string(block))
}

// parseRequestBlock parses a header block that readHeaderBlock returned.
func parseRequestBlock(s string) (*http.Request, error) {
	line, rest := nextLine(s)
	method, rest1, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest1, " ")
	if !ok1 || !ok2 || !isToken(method) || !validTarget(target) {
		return nil, badRequest("malformed HTTP request line")
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return nil, badRequest("malformed HTTP version")
	}
	if major != 1 {
		return nil, &Error{Status: http.StatusHTTPVersionNotSupported, Message: "only HTTP/1.x is supported here"}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, badRequest("malformed request target")
	}
	h, err := parseHeaderFields(rest)
	if err != nil {
		return nil, badRequest("malformed header field")
	}
	hosts := h["Host"]
	if len(hosts) > 1 {
		return nil, badRequest("more than one Host header")
	}
	// RFC 7230 §5.4: an absolute-form target overrides Host.
	host := u.Host
	if host == "" && len(hosts) == 1 {
		host = hosts[0]
	}
	delete(h, "Host")
	if f := bodyField(h); f != "" {
		return nil, badRequest("a WebSocket handshake has no body (" + f + ")")
	}
	return &http.Request{
		Method:     method,
		URL:        u,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     h,
		Body:       http.NoBody,
		Host:       host,
		RequestURI: target,
		Close: ContainsToken(h[hdrConnection], "close") ||
			minor == 0 && !ContainsToken(h[hdrConnection], "keep-alive"),
	}, nil
}

// validTarget reports whether a request-target (RFC 7230 §5.3) holds only
// visible ASCII, so it contains no whitespace or control characters.
func validTarget(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// bodyField says which header field of h announces a message body (RFC
// 7230 §3.3.3), or returns "" when none does. Neither a
// handshake request nor a 1xx response has a body: the bytes after their
// header are WebSocket frames or the next response, so a message that
// claims otherwise, even with a Content-Length that does not parse, is
// refused rather than guessed at. So is a repeated Content-Length, even of
// 0, which RFC 7230 §3.3.2 lets a recipient refuse.
func bodyField(h http.Header) string {
	if len(h["Transfer-Encoding"]) > 0 {
		return "Transfer-Encoding"
	}
	switch cl := h["Content-Length"]; {
	case len(cl) > 1:
		return "Content-Length, repeated"
	case len(cl) == 1 && cl[0] != "0":
		return "Content-Length"
	}
	return ""
}

// ReadResponse reads the server's response to the opening handshake
// request req from br (RFC 6455 §4.1), for CheckResponse to validate. The status line and header fields together may
// take at most maxHeaderBytes bytes (DefaultMaxHeaderBytes when
// maxHeaderBytes <= 0) and 128 lines, so a hostile server cannot make
// the client buffer an unbounded header; more returns
// ErrResponseTooLarge. Informational responses other than 101 (such as
// 103 Early Hints) are skipped, at most 8 of them.
//
// A 101 response is consumed only up to the empty line ending its
// header: the bytes after it, the server's first WebSocket frames, stay
// buffered in br, and the response's Body is http.NoBody. A 1xx response
// that announces a body (Transfer-Encoding, or Content-Length other than
// a single 0) is malformed, since its end would be ambiguous. Any other
// response gets a Body that reads its content from br, as
// http.ReadResponse would, possibly reading br ahead of the body's end
// (the connection is of no further use); CheckResponse reads a bounded
// prefix of it.
//
// Read errors are returned as they are (io.ErrUnexpectedEOF when br ends
// before the header does); invalid responses return an error wrapping
// ErrMalformedResponse. Deadlines are the caller's job.
func ReadResponse(br *bufio.Reader, req *http.Request, maxHeaderBytes int) (*http.Response, error) {
	var scratch [1024]byte
	for range maxInformational + 1 {
		block, err := readHeaderBlock(br, maxHeaderBytes, scratch[:0])
		switch {
		case err == errTooLarge:
			return nil, ErrResponseTooLarge
		case err == errMalformed:
			return nil, fmt.Errorf("%w: bad line", ErrMalformedResponse)
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
		s := string(block)
		resp, err := parseResponseBlock(s, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 {
			// Let net/http frame the body (Content-Length, chunked, or
			// until the connection closes); the header it parses again
			// is already bounded.
			r := bufio.NewReader(io.MultiReader(strings.NewReader(s), br))
			resp, err := http.ReadResponse(r, req)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
			}
			return resp, nil
		}
		// A 1xx response ends at its empty line (RFC 7230 §3.3.3).
		if f := bodyField(resp.Header); f != "" {
			return nil, fmt.Errorf("%w: a %d response has no body (%s)", ErrMalformedResponse, resp.StatusCode, f)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		// 1xx other than 101: informational, the real response follows
		// (RFC 7231 §6.2).
	}
	return nil, fmt.Errorf("%w: too many informational responses", ErrMalformedResponse)
}

// parseResponseBlock parses a header block that readHeaderBlock returned.
func parseResponseBlock(s string, req *http.Request) (*http.Response, error) {
	line, rest := nextLine(s)
	proto, status, _ := strings.Cut(line, " ")
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok || major != 1 {
		return nil, fmt.Errorf("%w: bad HTTP version %q", ErrMalformedResponse, proto)
	}
	code, reason, hasReason := strings.Cut(status, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '9' || !isDigit(code[1]) || !isDigit(code[2]) ||
		hasReason && !isFieldValue(reason) {
		return nil, fmt.Errorf("%w: bad status line %q", ErrMalformedResponse, line)
	}
	statusCode, _ := strconv.Atoi(code)
	h, err := parseHeaderFields(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: bad header field", ErrMalformedResponse)
	}
	return &http.Response{
		Status:     status,
		StatusCode: statusCode,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     h,
		Body:       http.NoBody,
		Request:    req,
	}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// readHeaderBlock reads from br the start line and header fields of an
// HTTP/1.x message, up to and including the empty line that ends them
// (RFC 7230 §3), appending them to buf. It reads nothing past that empty
// line. It returns errTooLarge when the block exceeds max bytes
// (DefaultMaxHeaderBytes when max <= 0) or maxHeaderFields lines, and
// errMalformed for an empty start line.
func readHeaderBlock(br *bufio.Reader, max int, buf []byte) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	lineStart, lines := len(buf), 0
	start := lineStart
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)-start+len(frag) > max {
			return nil, errTooLarge
		}
		buf = append(buf, frag...)
		switch err {
		case nil:
		case bufio.ErrBufferFull:
			continue // the line goes on
		case io.EOF:
			if len(buf) == start {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
		line := buf[lineStart:]
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			if lines == 0 {
				return nil, errMalformed // RFC 7230 §3.5 lets us refuse this
			}
			return buf[start:], nil
		}
		if lines++; lines > maxHeaderFields+1 {
			return nil, errTooLarge
		}
		lineStart = len(buf)
	}
}

// nextLine splits off the first line of s, without its CRLF or LF.
func nextLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

// parseHeaderFields parses header field lines (RFC 7230 §3.2) ending with
// an empty line, as readHeaderBlock returns them, into an http.Header
// with canonical keys. Values share memory with s. It rejects field names
// that are not tokens (including whitespace before the colon), values
// with control characters and obsolete line folding (RFC 7230 §3.2.4).
func parseHeaderFields(s string) (http.Header, error) {
	n := strings.Count(s, "\n") - 1
	h := make(http.Header, n)
	values := make([]string, n) // one backing array for single values
	for {
		var line string
		line, s = nextLine(s)
		if line == "" {
			return h, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, errMalformed // includes obs-fold: leading SP or HTAB
		}
		value = trimOWS(value)
		if !isFieldValue(value) {
			return nil, errMalformed
		}
		key := canonicalKey(name)
		if vv := h[key]; vv != nil {
			h[key] = append(vv, value)
			continue
		}
		values[0] = value
		h[key], values = values[:1:1], values[1:]
	}
}

// canonicalKey returns the canonical form of a header field name that is
// a token, as textproto.CanonicalMIMEHeaderKey does, but without
// allocating for the fields of a WebSocket handshake, whose usual
// spelling (Sec-WebSocket-Key) is not the canonical one.
func canonicalKey(name string) string {
	for _, k := range [...]string{
		"Host", hdrUpgrade, hdrConnection, hdrOrigin, hdrKey, hdrVersion, hdrProtocol,
		hdrExtensions, hdrAccept, "Content-Length", "Transfer-Encoding",
	} {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return k
		}
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
