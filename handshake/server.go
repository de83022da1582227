package handshake

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Header field names in the canonical form net/http and net/textproto
// store them in (textproto.CanonicalMIMEHeaderKey), so lookups in a
// parsed http.Header need no conversion.
const (
	hdrUpgrade    = "Upgrade"
	hdrConnection = "Connection"
	hdrOrigin     = "Origin"
	hdrKey        = "Sec-Websocket-Key"
	hdrVersion    = "Sec-Websocket-Version"
	hdrProtocol   = "Sec-Websocket-Protocol"
	hdrExtensions = "Sec-Websocket-Extensions"
	hdrAccept     = "Sec-Websocket-Accept"
)

// Error is a failed server handshake: the HTTP status to answer with, a
// short plain-text message for the body and any header fields the answer
// needs (RFC 6455 §4.2.1, §4.2.2): Allow with 405, Sec-WebSocket-Version
// with 426 (RFC 6455 §4.4). Every error ParseRequest, OriginPolicy.Verify
// and ReadRequest return for bad input is an *Error; use errors.As.
//
// Status is one of 400 (malformed request), 403 (origin refused), 405
// (not GET), 426 (unsupported version), 431 (header too large, raw path),
// 505 (not HTTP/1.x, raw path) or 500 (a bad OriginPolicy pattern).
type Error struct {
	Status  int
	Message string
	Header  http.Header
}

func (e *Error) Error() string {
	return "handshake: " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": " + e.Message
}

// ServeHTTP answers with the error: its header fields, its status and its
// message as a text/plain body. It makes answering a failed handshake on
// the net/http path one call.
func (e *Error) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = slices.Clone(v)
	}
	http.Error(w, e.Message, e.Status)
}

func badRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg}
}

// Request is a validated WebSocket upgrade request (RFC 6455 §4.2.1).
type Request struct {
	// Key is the Sec-WebSocket-Key value, to be passed to AppendResponse.
	Key string
	// Host is the request's host (Host header field or absolute URI).
	Host string
	// Origin is the Origin header field, empty when absent (non-browser
	// clients, RFC 6455 §4.2.1 item 7).
	Origin string
	// Protocols are the subprotocols the client offers, most preferred
	// first (RFC 6455 §4.1 item 10); see SelectSubprotocol.
	Protocols []string
	// Extensions are the extensions the client offers, in order
	// (RFC 6455 §9.1).
	Extensions []Extension
	// Header is the request's header, for anything else (cookies,
	// authorization).
	Header http.Header
}

// ParseRequest validates an opening handshake request as RFC 6455 §4.2.1
// requires a server to, one step after another:
//
//   - the method is GET, else 405 with "Allow: GET";
//   - the protocol is HTTP/1.1 or later, else 400;
//   - no body is announced (r.ContentLength 0, no r.TransferEncoding),
//     else 400 with "Connection: close";
//   - a Host is present, else 400;
//   - Upgrade holds the token "websocket" and Connection the token
//     "Upgrade" (ASCII case-insensitive, in comma lists, possibly in
//     repeated fields), else 400;
//   - Sec-WebSocket-Version is 13, else 426 with
//     "Sec-WebSocket-Version: 13" (RFC 6455 §4.4) and the Upgrade and
//     Connection fields a 426 needs (RFC 7231 §6.5.15);
//   - there is exactly one Sec-WebSocket-Key, the base64 of 16 bytes,
//     else 400;
//   - there is at most one Origin, else 400;
//   - Sec-WebSocket-Protocol, if present, is a comma list of tokens
//     (RFC 6455 §4.1 item 10), else 400;
//   - Sec-WebSocket-Extensions, if present, follows RFC 6455 §9.1, else
//     400.
//
// The origin is checked separately by OriginPolicy.Verify. Errors are
// *Error. Strings in the result share memory with r.Header.
func ParseRequest(r *http.Request) (*Request, error) {
	if err := checkMethod(r); err != nil {
		return nil, err
	}
	if err := checkProto(r); err != nil {
		return nil, err
	}
	if err := checkNoBody(r); err != nil {
		return nil, err
	}
	if r.Host == "" {
		return nil, badRequest("missing Host header")
	}
	if err := checkUpgradeHeaders(r.Header); err != nil {
		return nil, err
	}
	if err := checkVersion(r.Header); err != nil {
		return nil, err
	}
	key, err := requestKey(r.Header)
	if err != nil {
		return nil, err
	}
	req, err := requestOffers(r)
	if err != nil {
		return nil, err
	}
	req.Key = key
	return req, nil
}

// requestOffers reads what both kinds of opening handshake carry alike
// (RFC 6455 §4.2.1 items 7-10, RFC 8441 §5): the origin, the offered
// subprotocols and extensions, and the host.
func requestOffers(r *http.Request) (*Request, error) {
	origin, err := requestOrigin(r.Header)
	if err != nil {
		return nil, err
	}
	protocols, err := requestProtocols(r.Header)
	if err != nil {
		return nil, err
	}
	extensions, err := requestExtensions(r.Header)
	if err != nil {
		return nil, err
	}
	return &Request{
		Host:       r.Host,
		Origin:     origin,
		Protocols:  protocols,
		Extensions: extensions,
		Header:     r.Header,
	}, nil
}

// checkMethod: RFC 6455 §4.2.1 item 1, "an HTTP/1.1 or higher GET request".
func checkMethod(r *http.Request) error {
	if r.Method == http.MethodGet {
		return nil
	}
	return &Error{
		Status:  http.StatusMethodNotAllowed,
		Message: "a WebSocket handshake must be a GET request",
		Header:  http.Header{"Allow": {http.MethodGet}},
	}
}

// checkProto: RFC 6455 §4.2.1 item 1.
func checkProto(r *http.Request) error {
	if r.ProtoAtLeast(1, 1) {
		return nil
	}
	return badRequest("a WebSocket handshake needs HTTP/1.1 or later")
}

// checkNoBody refuses a request that announces a body: a Content-Length
// other than 0 or any Transfer-Encoding (RFC 7230 §3.3.3), as net/http
// reports them in r.ContentLength and r.TransferEncoding (ReadRequest
// refuses such a request before ParseRequest sees it). The bytes after an
// upgrade request's header are the client's first WebSocket frames, so a
// body would be read as frames: a client, or a proxy that framed the
// request differently, could smuggle frames past whatever inspected the
// HTTP request. The answer asks net/http to close the connection
// (Connection: close) instead of reading the body and waiting for another
// request on it.
func checkNoBody(r *http.Request) error {
	var field string
	switch {
	case len(r.TransferEncoding) > 0:
		field = "Transfer-Encoding"
	case r.ContentLength != 0:
		field = "Content-Length"
	default:
		return nil
	}
	return &Error{
		Status:  http.StatusBadRequest,
		Message: "a WebSocket handshake has no body (" + field + ")",
		Header:  http.Header{"Connection": {"close"}},
	}
}

// checkUpgradeHeaders: RFC 6455 §4.2.1 items 3 and 4.
func checkUpgradeHeaders(h http.Header) error {
	if !ContainsToken(h[hdrUpgrade], "websocket") {
		return badRequest(`the Upgrade header must contain "websocket"`)
	}
	if !ContainsToken(h[hdrConnection], "upgrade") {
		return badRequest(`the Connection header must contain "Upgrade"`)
	}
	return nil
}

// checkVersion: RFC 6455 §4.2.1 item 6 and §4.4.
func checkVersion(h http.Header) error {
	if v := h[hdrVersion]; len(v) == 1 && trimOWS(v[0]) == "13" {
		return nil
	}
	return &Error{
		Status:  http.StatusUpgradeRequired,
		Message: "unsupported Sec-WebSocket-Version; this server speaks version 13",
		// RFC 7231 §6.5.15: a 426 names the protocol to upgrade to, and
		// RFC 7230 §6.7: Upgrade goes with "Connection: Upgrade".
		Header: http.Header{
			hdrVersion:    {"13"},
			hdrUpgrade:    {"websocket"},
			hdrConnection: {"Upgrade"},
		},
	}
}

// requestKey: RFC 6455 §4.2.1 item 5.
func requestKey(h http.Header) (string, error) {
	v := h[hdrKey]
	if len(v) != 1 {
		return "", badRequest("there must be exactly one Sec-WebSocket-Key")
	}
	key := trimOWS(v[0])
	if !validKey(key) {
		return "", badRequest("Sec-WebSocket-Key must be the base64 of 16 bytes")
	}
	return key, nil
}

// requestOrigin: RFC 6455 §4.2.1 item 7; RFC 6454 §7.3 allows a single
// Origin field, and two would let a policy check one and a proxy log the
// other.
func requestOrigin(h http.Header) (string, error) {
	switch v := h[hdrOrigin]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", badRequest("more than one Origin header")
}

// requestProtocols: RFC 6455 §4.2.1 item 8 and §4.1 item 10 (1#token).
func requestProtocols(h http.Header) ([]string, error) {
	list, ok := parseTokenList(h[hdrProtocol])
	if !ok {
		return nil, badRequest("malformed Sec-WebSocket-Protocol: subprotocols must be tokens")
	}
	return list, nil
}

// requestExtensions: RFC 6455 §4.2.1 item 9 and §9.1.
func requestExtensions(h http.Header) ([]Extension, error) {
	exts, err := ParseExtensions(h[hdrExtensions])
	if err != nil {
		return nil, badRequest("malformed Sec-WebSocket-Extensions")
	}
	return exts, nil
}

// OriginPolicy decides which browser origins may open a WebSocket
// (RFC 6455 §4.2.2 step 4, §10.2). Browsers send Origin on every
// WebSocket handshake; checking it is what keeps a page on another site
// from using a visitor's cookies to talk to this server (cross-site
// WebSocket hijacking). A nil or zero OriginPolicy accepts requests
// without an Origin (non-browser clients, RFC 6455 §4.2.1 item 7) and
// requests whose Origin host equals the request's Host.
type OriginPolicy struct {
	// Patterns are further allowed origin hosts, matched with path.Match
	// against the host[:port] of the Origin, ASCII case-insensitively:
	// "example.com", "*.example.com", "localhost:8080". The scheme is not
	// considered.
	Patterns []string
	// Check, if not nil, is asked about an origin that neither Host nor
	// Patterns allow; returning true allows it.
	Check func(r *http.Request) bool
	// AllowAll allows every origin. It disables the protection against
	// cross-site WebSocket hijacking; use it only for servers that do not
	// rely on ambient credentials (cookies, client certificates), or for
	// tests.
	AllowAll bool
}

// Verify applies the policy to r (RFC 6455 §4.2.2 step 4, /origin/). It
// returns nil when the origin is allowed, a 403 *Error when it is not or
// the Origin header is malformed or repeated, and a 500 *Error when one
// of p.Patterns is not a valid path.Match pattern.
func (p *OriginPolicy) Verify(r *http.Request) error {
	origins := r.Header[hdrOrigin]
	switch {
	case len(origins) == 0:
		return nil
	case len(origins) > 1:
		return forbidden("more than one Origin header")
	case p != nil && p.AllowAll:
		return nil
	}
	u, err := url.Parse(origins[0])
	if err != nil || u.Host == "" {
		// Includes the opaque origin "null" (RFC 6454 §7.3).
		if p != nil && p.Check != nil && p.Check(r) {
			return nil
		}
		return forbidden("origin not allowed")
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	if p != nil {
		host := strings.ToLower(u.Host)
		for _, pattern := range p.Patterns {
			ok, err := path.Match(strings.ToLower(pattern), host)
			if err != nil {
				return &Error{Status: http.StatusInternalServerError, Message: "bad origin pattern in server configuration"}
			}
			if ok {
				return nil
			}
		}
		if p.Check != nil && p.Check(r) {
			return nil
		}
	}
	return forbidden("origin not allowed")
}

func forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Message: msg}
}

// SelectSubprotocol returns the first of the server's subprotocols, in
// the server's order of preference, that the client offered, or "" when
// there is none; "" means the response carries no Sec-WebSocket-Protocol
// (RFC 6455 §4.2.2 step 4, /subprotocol/). Names are compared exactly.
func SelectSubprotocol(serverPrefs, clientOffers []string) string {
	for _, p := range serverPrefs {
		if p != "" && slices.Contains(clientOffers, p) {
			return p
		}
	}
	return ""
}

// AppendResponse appends the server's opening handshake (RFC 6455
// §4.2.2 step 5) to dst:
//
//	HTTP/1.1 101 Switching Protocols
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Accept: <AcceptKey(key)>
//	Sec-WebSocket-Protocol: <protocol>      (when protocol != "")
//	Sec-WebSocket-Extensions: <extensions>  (when len(extensions) > 0)
//
// followed by the empty line. key is Request.Key; protocol should come
// from SelectSubprotocol and extensions from AppendExtensions, since
// AppendResponse writes them as they are (WriteResponse checks them). It
// does not allocate when dst has room for the result.
func AppendResponse(dst []byte, key, protocol string, extensions []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = AppendAcceptKey(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// errBadResponseValue is returned by WriteResponse and SetResponseHeader.
var errBadResponseValue = errors.New("handshake: subprotocol must be a token and extensions a header field value")

// checkResponseValues keeps callers from writing a response with a
// header field RFC 6455 §4.3 does not allow, or one that ends the header.
func checkResponseValues(protocol string, extensions []byte) error {
	if protocol != "" && !isToken(protocol) || !isFieldValue(extensions) {
		return errBadResponseValue
	}
	return nil
}

// WriteResponse writes the server's opening handshake (RFC 6455 §4.2.2
// step 5), as AppendResponse builds it, to w, after
// checking that protocol is empty or a token and that extensions cannot
// break the header. When w has an AvailableBuffer method
// (bufio.Writer, e.g. the writer of a hijacked connection) the response
// is built in its buffer, without allocating.
func WriteResponse(w io.Writer, key, protocol string, extensions []byte) error {
	if err := checkResponseValues(protocol, extensions); err != nil {
		return err
	}
	var buf []byte
	if ab, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		buf = ab.AvailableBuffer()
	}
	_, err := w.Write(AppendResponse(buf, key, protocol, extensions))
	return err
}

// SetResponseHeader sets on h the header fields of the server's opening
// handshake (RFC 6455 §4.2.2 step 5), for servers that answer through
// http.ResponseWriter.WriteHeader(http.StatusSwitchingProtocols) rather
// than writing AppendResponse's bytes to a hijacked connection.
func SetResponseHeader(h http.Header, key, protocol string, extensions []byte) error {
	if err := checkResponseValues(protocol, extensions); err != nil {
		return err
	}
	h[hdrUpgrade] = []string{"websocket"}
	h[hdrConnection] = []string{"Upgrade"}
	h[hdrAccept] = []string{AcceptKey(key)}
	delete(h, hdrProtocol)
	delete(h, hdrExtensions)
	if protocol != "" {
		h[hdrProtocol] = []string{protocol}
	}
	if len(extensions) > 0 {
		h[hdrExtensions] = []string{string(extensions)}
	}
	return nil
}

// AppendErrorResponse appends to dst a complete HTTP/1.1 response for a
// failed handshake (RFC 6455 §4.2.1: "an HTTP response with an
// appropriate error code"), for the raw path where no net/http server
// writes it:
// the status line, Content-Type: text/plain, Content-Length,
// "Connection: close", e's header fields (sorted; fields that would
// conflict with these, or that are not valid, are left out) and the
// message as the body. The connection should be closed once it is
// written.
func AppendErrorResponse(dst []byte, e *Error) []byte {
	if e == nil {
		e = &Error{Status: http.StatusInternalServerError, Message: "internal error"}
	}
	status := e.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	body := e.Message + "\n"
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"X-Content-Type-Options: nosniff\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	// RFC 7230 §6.7: a response with Upgrade names it in Connection.
	if len(e.Header[hdrUpgrade]) > 0 {
		dst = append(dst, "\r\nConnection: Upgrade, close\r\n"...)
	} else {
		dst = append(dst, "\r\nConnection: close\r\n"...)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Header)) {
		if !isToken(k) || ownedErrorHeader(k) {
			continue
		}
		for _, v := range e.Header[k] {
			if !isFieldValue(v) {
				continue
			}
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// ownedErrorHeader reports whether AppendErrorResponse writes the header
// field k itself.
func ownedErrorHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Content-Type", "Content-Length", "Connection", "Transfer-Encoding", "X-Content-Type-Options":
		return true
	}
	return false
}
