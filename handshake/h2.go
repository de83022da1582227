package handshake

import (
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ProtocolHeader is the key under which net/http presents the :protocol
// pseudo-header field of an HTTP/2 extended CONNECT request (RFC 8441
// §4): the server sets it in Request.Header, and the client's transport
// sends the value it finds there.
const ProtocolHeader = ":protocol"

// NewExtendedConnectRequest builds the client's opening handshake for a
// WebSocket over HTTP/2 (RFC 8441 §4, §5): a CONNECT request with
// ":protocol: websocket", the URI's scheme and path (net/http's HTTP/2
// transport sends them as :scheme and :path, its host as :authority),
// "Sec-WebSocket-Version: 13" and, when given, Sec-WebSocket-Protocol and
// Sec-WebSocket-Extensions, formatted and checked as NewClientRequest
// does. There is no Sec-WebSocket-Key and no Upgrade or Connection field:
// RFC 8441 §5 replaces them with the stream itself.
//
// header adds header fields as in NewClientRequest, with the same
// restrictions. The request has no body yet: the caller sets Body to the
// stream's outgoing half.
func NewExtendedConnectRequest(u *url.URL, protocols []string, extensions []byte, header http.Header) (*http.Request, error) {
	target, err := requestURL(u)
	if err != nil {
		return nil, err
	}
	if err := checkProtocolOffers(protocols); err != nil {
		return nil, err
	}
	if len(extensions) > 0 {
		if _, err := ParseExtensions([]string{string(extensions)}); err != nil {
			return nil, err
		}
	}
	if target.Path == "" {
		target.Path = "/"
	}
	req := &http.Request{
		Method:     http.MethodConnect,
		URL:        target,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     make(http.Header, len(header)+4),
		Host:       target.Host,
	}
	if err := copyExtraHeader(req, header); err != nil {
		return nil, err
	}
	h := req.Header
	h[ProtocolHeader] = []string{"websocket"}
	h[hdrVersion] = []string{"13"}
	if len(protocols) > 0 {
		h[hdrProtocol] = []string{strings.Join(protocols, ", ")}
	}
	if len(extensions) > 0 {
		h[hdrExtensions] = []string{string(extensions)}
	}
	return req, nil
}

// IsExtendedConnect reports whether r is an HTTP/2 (or later) extended
// CONNECT request, whatever protocol its :protocol names (RFC 8441 §4).
func IsExtendedConnect(r *http.Request) bool {
	return r.ProtoMajor >= 2 && r.Method == http.MethodConnect && len(r.Header[ProtocolHeader]) > 0
}

// ParseExtendedConnect validates the opening handshake of a WebSocket
// over HTTP/2 (RFC 8441 §5), one step after another:
//
//   - the method is CONNECT with a :protocol, else 405 with
//     "Allow: CONNECT";
//   - :protocol is "websocket" (RFC 8441 §4; the token is the one
//     registered for RFC 6455's Upgrade), else 400;
//   - an :authority (Host) is present, else 400;
//   - Sec-WebSocket-Version is 13, else 426 with
//     "Sec-WebSocket-Version: 13" (RFC 6455 §4.4; an HTTP/2 answer has no
//     Upgrade or Connection field, RFC 9113 §8.2.2);
//   - there is at most one Origin, else 400;
//   - Sec-WebSocket-Protocol and Sec-WebSocket-Extensions, when present,
//     are well formed, as in ParseRequest, else 400.
//
// Upgrade, Connection and Sec-WebSocket-Key are not looked at: RFC 8441
// §5 says they are not used. The returned Request has an empty Key.
// Errors are *Error.
func ParseExtendedConnect(r *http.Request) (*Request, error) {
	if r.Method != http.MethodConnect || len(r.Header[ProtocolHeader]) == 0 {
		return nil, &Error{
			Status:  http.StatusMethodNotAllowed,
			Message: "a WebSocket over HTTP/2 is an extended CONNECT request (RFC 8441)",
			Header:  http.Header{"Allow": {http.MethodConnect}},
		}
	}
	if p := r.Header[ProtocolHeader]; len(p) != 1 || p[0] != "websocket" {
		return nil, badRequest(`the :protocol pseudo-header must be "websocket"`)
	}
	if r.Host == "" {
		return nil, badRequest("missing :authority")
	}
	if err := checkVersion(r.Header); err != nil {
		e := err.(*Error)
		e.Header = http.Header{hdrVersion: {"13"}}
		return nil, e
	}
	return requestOffers(r)
}

// SetExtendedConnectHeader sets on h the header fields of a server's
// successful answer to an extended CONNECT (RFC 8441 §5): the selected
// subprotocol and the accepted extensions, when there are any. The
// status, 200, is the caller's to write.
func SetExtendedConnectHeader(h http.Header, protocol string, extensions []byte) error {
	if err := checkResponseValues(protocol, extensions); err != nil {
		return err
	}
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

// CheckExtendedConnectResponse validates the server's answer to an
// extended CONNECT (RFC 8441 §5), one step after another:
//
//  1. the status is 2xx (RFC 9110 §9.3.6: any 2xx accepts a CONNECT);
//  2. Sec-WebSocket-Extensions, if present, follows RFC 6455 §9.1;
//  3. Sec-WebSocket-Protocol, if present, is one of offeredProtocols.
//
// There is no Sec-WebSocket-Accept to check. A failure is a
// *ResponseError; for a status other than 2xx it holds a prefix of the
// body, at most 1 KiB, so the caller must bound the read (a context on
// the request).
func CheckExtendedConnectResponse(resp *http.Response, offeredProtocols []string) (*Response, error) {
	if resp == nil {
		return nil, &ResponseError{Reason: "no response"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &ResponseError{Response: resp, Reason: "the server refused the extended CONNECT"}
		if resp.Body != nil {
			e.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		}
		return nil, e
	}
	return responseAgreement(resp, offeredProtocols)
}
