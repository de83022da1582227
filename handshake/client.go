package handshake

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxErrorBody bounds the prefix of a failed handshake's response body
// that CheckResponse keeps in a ResponseError.
const maxErrorBody = 1 << 10

// NewClientRequest builds the client's opening handshake request
// (RFC 6455 §4.1) for the WebSocket URI u: a GET for u's resource name
// with Host, "Upgrade: websocket", "Connection: Upgrade",
// Sec-WebSocket-Key, "Sec-WebSocket-Version: 13" and, when given,
// Sec-WebSocket-Protocol (protocols, most preferred first) and
// Sec-WebSocket-Extensions (extensions, as AppendExtensions formats
// them).
//
// u's scheme is ws or wss (RFC 6455 §3), or http or https; the request's
// URL carries the matching http or https scheme, so the caller knows
// whether to use TLS. A URI with a fragment is refused (RFC 6455 §3). key
// should come from NewKey; protocols must be distinct tokens.
//
// header adds header fields, for example Origin, Cookie or
// Authorization; a Host entry sets the request's Host. It may not set
// the fields the handshake itself defines (Upgrade, Connection, the
// Sec-WebSocket-* fields) or a body (Content-Length,
// Transfer-Encoding), nor hold invalid names or values.
func NewClientRequest(u *url.URL, key string, protocols []string, extensions []byte, header http.Header) (*http.Request, error) {
	target, err := requestURL(u)
	if err != nil {
		return nil, err
	}
	if !validKey(key) {
		return nil, errors.New("handshake: Sec-WebSocket-Key must be the base64 of 16 bytes (see NewKey)")
	}
	if err := checkProtocolOffers(protocols); err != nil {
		return nil, err
	}
	if len(extensions) > 0 {
		if _, err := ParseExtensions([]string{string(extensions)}); err != nil {
			return nil, err
		}
	}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        target,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(header)+6),
		Host:       target.Host,
	}
	if err := copyExtraHeader(req, header); err != nil {
		return nil, err
	}
	h := req.Header
	h[hdrUpgrade] = []string{"websocket"}
	h[hdrConnection] = []string{"Upgrade"}
	h[hdrKey] = []string{key}
	h[hdrVersion] = []string{"13"}
	if len(protocols) > 0 {
		h[hdrProtocol] = []string{strings.Join(protocols, ", ")}
	}
	if len(extensions) > 0 {
		h[hdrExtensions] = []string{string(extensions)}
	}
	return req, nil
}

// requestURL maps a WebSocket URI to the http or https URL of its
// handshake request (RFC 6455 §3, §4.1 client step 1).
func requestURL(u *url.URL) (*url.URL, error) {
	if u == nil {
		return nil, errors.New("handshake: nil URL")
	}
	t := *u
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		t.Scheme = "http"
	case "wss", "https":
		t.Scheme = "https"
	default:
		return nil, fmt.Errorf("handshake: URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("handshake: URL %q has no host", u.Redacted())
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return nil, errors.New("handshake: WebSocket URIs have no fragment (RFC 6455 §3)")
	}
	return &t, nil
}

// checkProtocolOffers: RFC 6455 §4.1 item 10, distinct tokens.
func checkProtocolOffers(protocols []string) error {
	for i, p := range protocols {
		if !isToken(p) {
			return fmt.Errorf("handshake: subprotocol %q is not a token", p)
		}
		if slices.Contains(protocols[:i], p) {
			return fmt.Errorf("handshake: subprotocol %q offered twice", p)
		}
	}
	return nil
}

// copyExtraHeader copies the caller's header fields into req, refusing
// those the handshake owns.
func copyExtraHeader(req *http.Request, header http.Header) error {
	for k, vv := range header {
		if !isToken(k) {
			return fmt.Errorf("handshake: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !isFieldValue(v) {
				return fmt.Errorf("handshake: invalid value for header field %q", k)
			}
		}
		ck := http.CanonicalHeaderKey(k)
		switch ck {
		case hdrUpgrade, hdrConnection, hdrKey, hdrVersion, hdrProtocol, hdrExtensions, hdrAccept,
			"Content-Length", "Transfer-Encoding":
			return fmt.Errorf("handshake: header field %q is set by the handshake and may not be overridden", k)
		case "Host":
			if len(vv) != 1 || vv[0] == "" {
				return errors.New("handshake: a Host header field needs exactly one non-empty value")
			}
			req.Host = vv[0]
			continue
		}
		req.Header[ck] = append(req.Header[ck], vv...)
	}
	return nil
}

// ResponseError is a server response that failed the client's checks of
// RFC 6455 §4.1. It keeps the response, so the caller can see the status
// and header fields (for example a 401 with WWW-Authenticate, or a
// redirect's Location), and a bounded prefix of its body.
type ResponseError struct {
	// Response is the server's response. Its Body may have been partly
	// read into Body; closing it is the caller's job.
	Response *http.Response
	// Body is at most the first 1 KiB of the response body. It is read
	// only for statuses other than 101.
	Body []byte
	// Reason says which check failed.
	Reason string
}

func (e *ResponseError) Error() string {
	if e.Response == nil {
		return "handshake: " + e.Reason
	}
	return "handshake: " + e.Reason + " (HTTP " + e.Response.Status + ")"
}

// Response is what a valid server handshake establishes (RFC 6455 §4.1):
// the subprotocol in use ("" for none) and the extensions in use, in the
// order the server listed them.
type Response struct {
	Protocol   string
	Extensions []Extension
}

// CheckResponse validates the server's opening handshake response
// against the request that carried key and offered offeredProtocols,
// following RFC 6455 §4.1, one step after another:
//
//  1. the status is 101;
//  2. Upgrade holds the token "websocket";
//  3. Connection holds the token "Upgrade";
//  4. there is one Sec-WebSocket-Accept, equal to AcceptKey(key);
//  5. Sec-WebSocket-Extensions, if present, follows RFC 6455 §9.1;
//  6. Sec-WebSocket-Protocol, if present, is one of offeredProtocols.
//
// Whether each accepted extension was offered, and with acceptable
// parameters, is for the caller to check, with VerifyExtensions and the
// extension's own rules. A failure is a *ResponseError. For a status
// other than 101 it holds a prefix of the body, at most 1 KiB: reading
// it waits for that much or for the body's end, so the caller's
// handshake deadline on the connection must bound it.
func CheckResponse(resp *http.Response, key string, offeredProtocols []string) (*Response, error) {
	if resp == nil {
		return nil, &ResponseError{Reason: "no response"}
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	if !ContainsToken(resp.Header[hdrUpgrade], "websocket") {
		return nil, &ResponseError{Response: resp, Reason: `the Upgrade header does not contain "websocket"`}
	}
	if !ContainsToken(resp.Header[hdrConnection], "upgrade") {
		return nil, &ResponseError{Response: resp, Reason: `the Connection header does not contain "Upgrade"`}
	}
	if err := checkAccept(resp, key); err != nil {
		return nil, err
	}
	return responseAgreement(resp, offeredProtocols)
}

// checkStatus: RFC 6455 §4.1, response step 1. The body of a 101
// response is the WebSocket connection, so only other statuses have a
// prefix read.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	e := &ResponseError{Response: resp, Reason: "the server did not switch protocols"}
	if resp.Body != nil {
		e.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	return e
}

// checkAccept: RFC 6455 §4.1, response step 4, "ignoring any leading and
// trailing whitespace".
func checkAccept(resp *http.Response, key string) error {
	v := resp.Header[hdrAccept]
	var buf [acceptLen]byte
	if len(v) != 1 || trimOWS(v[0]) != string(AppendAcceptKey(buf[:0], key)) {
		return &ResponseError{Response: resp, Reason: "missing or wrong Sec-WebSocket-Accept"}
	}
	return nil
}

// responseProtocol: RFC 6455 §4.1, response step 6, and §4.2.2 step 4
// (/subprotocol/ is a single token, never the empty string).
func responseProtocol(resp *http.Response, offered []string) (string, error) {
	v := resp.Header[hdrProtocol]
	if len(v) == 0 {
		return "", nil
	}
	p := trimOWS(v[0])
	if len(v) > 1 || !isToken(p) {
		return "", &ResponseError{Response: resp, Reason: "malformed Sec-WebSocket-Protocol"}
	}
	if !slices.Contains(offered, p) {
		return "", &ResponseError{Response: resp, Reason: fmt.Sprintf("the server chose subprotocol %q, which was not offered", p)}
	}
	return p, nil
}

// responseAgreement reads what a server's successful answer agrees to in
// both kinds of handshake (RFC 6455 §4.1, RFC 8441 §5): the extensions it
// accepted and the subprotocol it chose among those offered.
func responseAgreement(resp *http.Response, offeredProtocols []string) (*Response, error) {
	exts, err := ParseExtensions(resp.Header[hdrExtensions])
	if err != nil {
		return nil, &ResponseError{Response: resp, Reason: err.Error()}
	}
	protocol, err := responseProtocol(resp, offeredProtocols)
	if err != nil {
		return nil, err
	}
	return &Response{Protocol: protocol, Extensions: exts}, nil
}
