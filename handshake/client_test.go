package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewClientRequestRFC6455(t *testing.T) {
	u := mustURL(t, "ws://server.example.com/chat")
	req, err := NewClientRequest(u, rfcKey, []string{"chat", "superchat"}, nil,
		http.Header{"Origin": {"http://example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.URL.String() != "http://server.example.com/chat" || req.Host != "server.example.com" ||
		req.Proto != "HTTP/1.1" {
		t.Fatalf("request %+v", req)
	}
	want := http.Header{
		"Upgrade":                {"websocket"},
		"Connection":             {"Upgrade"},
		"Sec-Websocket-Key":      {rfcKey},
		"Origin":                 {"http://example.com"},
		"Sec-Websocket-Protocol": {"chat, superchat"},
		"Sec-Websocket-Version":  {"13"},
	}
	if diff := cmp.Diff(want, req.Header); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if u.Scheme != "ws" {
		t.Fatal("NewClientRequest modified its URL")
	}

	// On the wire it is the RFC's request, which our server accepts.
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRequest(bufio.NewReader(&wire), 0)
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", wire.String(), err)
	}
	sreq, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := (*OriginPolicy)(nil).Verify(r); err == nil {
		t.Fatal("origin http://example.com accepted for host server.example.com by default")
	}
	wantReq := &Request{
		Key:       rfcKey,
		Host:      "server.example.com",
		Origin:    "http://example.com",
		Protocols: []string{"chat", "superchat"},
		Header:    r.Header,
	}
	if diff := cmp.Diff(wantReq, sreq); diff != "" {
		t.Fatalf("server saw (-want +got):\n%s", diff)
	}
	if r.URL.Path != "/chat" {
		t.Fatalf("server saw path %q, want /chat", r.URL.Path)
	}
}

func TestNewClientRequestURLs(t *testing.T) {
	tests := []struct {
		in, url, host string
	}{
		{"ws://example.com", "http://example.com", "example.com"},
		{"wss://example.com/", "https://example.com/", "example.com"},
		{"WSS://Example.com:8443/a/b?c=d&e", "https://Example.com:8443/a/b?c=d&e", "Example.com:8443"},
		{"http://127.0.0.1:9001/", "http://127.0.0.1:9001/", "127.0.0.1:9001"},
		{"https://[::1]:443/x", "https://[::1]:443/x", "[::1]:443"},
		{"ws://example.com/a%23b", "http://example.com/a%23b", "example.com"},
	}
	for _, tt := range tests {
		req, err := NewClientRequest(mustURL(t, tt.in), rfcKey, nil, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if req.URL.String() != tt.url || req.Host != tt.host {
			t.Errorf("%s: URL %s, Host %s; want %s, %s", tt.in, req.URL, req.Host, tt.url, tt.host)
		}
		if _, ok := req.Header["Sec-Websocket-Protocol"]; ok {
			t.Errorf("%s: Sec-WebSocket-Protocol without protocols", tt.in)
		}
	}
}

func TestNewClientRequestOptions(t *testing.T) {
	u := mustURL(t, "wss://example.com/")
	ext := AppendExtensions(nil, []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}})
	req, err := NewClientRequest(u, rfcKey, []string{"v1"}, ext, http.Header{
		"Host":          {"virtual.example"},
		"authorization": {"Bearer x"},
		"X-Multi":       {"a", "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if req.Host != "virtual.example" || req.Header.Get("Authorization") != "Bearer x" ||
		!reflect.DeepEqual(req.Header["X-Multi"], []string{"a", "b"}) || req.Header["Host"] != nil ||
		req.Header.Get("Sec-WebSocket-Extensions") != "permessage-deflate; client_max_window_bits" {
		t.Fatalf("request %+v", req)
	}
}

func TestNewClientRequestErrors(t *testing.T) {
	ok := mustURL(t, "ws://example.com/")
	tests := []struct {
		name       string
		url        *url.URL
		key        string
		protocols  []string
		extensions string
		header     http.Header
	}{
		{"nil URL", nil, rfcKey, nil, "", nil},
		{"ftp scheme", mustURL(t, "ftp://example.com/"), rfcKey, nil, "", nil},
		{"no scheme", mustURL(t, "//example.com/"), rfcKey, nil, "", nil},
		{"no host", mustURL(t, "ws:///path"), rfcKey, nil, "", nil},
		{"port only", mustURL(t, "ws://:80/"), rfcKey, nil, "", nil},
		{"opaque", mustURL(t, "ws:example.com"), rfcKey, nil, "", nil},
		{"fragment", mustURL(t, "ws://example.com/#frag"), rfcKey, nil, "", nil},
		{"bad key", ok, "not a key", nil, "", nil},
		{"empty key", ok, "", nil, "", nil},
		{"protocol not a token", ok, rfcKey, []string{"a b"}, "", nil},
		{"protocol with comma", ok, rfcKey, []string{"a,b"}, "", nil},
		{"empty protocol", ok, rfcKey, []string{""}, "", nil},
		{"duplicate protocol", ok, rfcKey, []string{"a", "b", "a"}, "", nil},
		{"malformed extensions", ok, rfcKey, nil, "permessage-deflate;", nil},
		{"extensions with CRLF", ok, rfcKey, nil, "a\r\nX-Evil: 1", nil},
		{"override Upgrade", ok, rfcKey, nil, "", http.Header{"Upgrade": {"h2c"}}},
		{"override Connection", ok, rfcKey, nil, "", http.Header{"Connection": {"close"}}},
		{"override key", ok, rfcKey, nil, "", http.Header{"Sec-WebSocket-Key": {rfcKey}}},
		{"override key, lower case", ok, rfcKey, nil, "", http.Header{"sec-websocket-key": {rfcKey}}},
		{"override version", ok, rfcKey, nil, "", http.Header{"Sec-Websocket-Version": {"8"}}},
		{"override protocol", ok, rfcKey, nil, "", http.Header{"Sec-Websocket-Protocol": {"x"}}},
		{"override extensions", ok, rfcKey, nil, "", http.Header{"Sec-Websocket-Extensions": {"x"}}},
		{"body", ok, rfcKey, nil, "", http.Header{"Content-Length": {"5"}}},
		{"two Hosts", ok, rfcKey, nil, "", http.Header{"Host": {"a", "b"}}},
		{"bad field name", ok, rfcKey, nil, "", http.Header{"X Y": {"1"}}},
		{"CRLF in value", ok, rfcKey, nil, "", http.Header{"X": {"1\r\nX-Evil: 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := NewClientRequest(tt.url, tt.key, tt.protocols, []byte(tt.extensions), tt.header)
			if err == nil || req != nil {
				t.Fatalf("NewClientRequest = %+v, %v; want an error", req, err)
			}
			if !strings.HasPrefix(err.Error(), "handshake: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// response builds a *http.Response as ReadResponse would.
func response(t *testing.T, raw string) *http.Response {
	t.Helper()
	resp, err := ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestCheckResponse(t *testing.T) {
	resp := response(t, rfcResponse)
	got, err := CheckResponse(resp, rfcKey, []string{"chat", "superchat"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Response{Protocol: "chat"}, got); diff != "" {
		t.Fatalf("CheckResponse (-want +got):\n%s", diff)
	}

	// RFC 6455 §4.1: the accept value is compared "ignoring any leading
	// and trailing whitespace".
	resp = response(t, rfc101(""))
	resp.Header["Sec-Websocket-Accept"] = []string{" \t" + rfcAccept + "\t "}
	if _, err := CheckResponse(resp, rfcKey, nil); err != nil {
		t.Fatalf("accept with whitespace: %v", err)
	}

	const ok101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	tests := []struct {
		name  string
		extra string
		want  Response
	}{
		{"no protocol, no extensions", "", Response{}},
		{"token lists and case", "Upgrade: h2c\r\nconnection: keep-alive\r\n", Response{}},
		{"extensions", "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\nSec-WebSocket-Extensions: x\r\n",
			Response{Extensions: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "server_no_context_takeover"}}}, {Name: "x"}}}},
		{"second offered protocol", "Sec-WebSocket-Protocol: superchat\r\n", Response{Protocol: "superchat"}},
	}
	for _, tt := range tests {
		got, err := CheckResponse(response(t, ok101+tt.extra+"\r\n"), rfcKey, []string{"chat", "superchat"})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, *got); diff != "" {
			t.Errorf("%s: CheckResponse (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestCheckResponseFailures lists the responses a client must fail
// (RFC 6455 §4.1) and what the ResponseError exposes.
func TestCheckResponseFailures(t *testing.T) {
	long := strings.Repeat("0123456789", 500)
	tests := []struct {
		name   string
		raw    string
		status int
		reason string // substring of Reason
		body   string
		header [2]string // a header field the error must expose
	}{
		{"forbidden with body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 17\r\nX-Why: origin\r\n\r\norigin not allowed",
			403, "switch", "origin not allowe", [2]string{"X-Why", "origin"}},
		{"unauthorized", "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\nContent-Length: 0\r\n\r\n",
			401, "switch", "", [2]string{"Www-Authenticate", `Basic realm="ws"`}},
		{"long body is cut", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5000\r\n\r\n" + long,
			500, "switch", long[:maxErrorBody], [2]string{}},
		{"chunked body", "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbad \r\n7\r\nrequest\r\n0\r\n\r\n",
			400, "switch", "bad request", [2]string{}},
		{"200 OK", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 200, "switch", "hi", [2]string{}},
		{"redirect", "HTTP/1.1 301 Moved Permanently\r\nLocation: wss://example.com/\r\nContent-Length: 0\r\n\r\n",
			301, "switch", "", [2]string{"Location", "wss://example.com/"}},
		{"missing Upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n",
			101, "Upgrade", "", [2]string{}},
		{"wrong Upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n",
			101, "Upgrade", "", [2]string{"Upgrade", "h2c"}},
		{"missing Connection", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n",
			101, "Connection", "", [2]string{}},
		{"missing accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			101, "Accept", "", [2]string{}},
		{"wrong accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			AcceptKey("AQIDBAUGBwgJCgsMDQ4PEC==") + "\r\n\r\n", 101, "Accept", "", [2]string{}},
		{"accept is the key", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			rfcKey + "\r\n\r\n", 101, "Accept", "", [2]string{}},
		{"two accepts", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			rfcAccept + "\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n", 101, "Accept", "", [2]string{}},
		{"unoffered protocol", rfc101("Sec-WebSocket-Protocol: mqtt\r\n"), 101, `"mqtt"`, "", [2]string{"Sec-Websocket-Protocol", "mqtt"}},
		{"protocol list", rfc101("Sec-WebSocket-Protocol: chat, superchat\r\n"), 101, "Protocol", "", [2]string{}},
		{"two protocols", rfc101("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"), 101, "Protocol", "", [2]string{}},
		{"empty protocol", rfc101("Sec-WebSocket-Protocol: \r\n"), 101, "Protocol", "", [2]string{}},
		{"protocol case differs", rfc101("Sec-WebSocket-Protocol: Chat\r\n"), 101, `"Chat"`, "", [2]string{}},
		{"malformed extensions", rfc101("Sec-WebSocket-Extensions: permessage-deflate; x=\"a b\"\r\n"), 101, "Extensions", "", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := response(t, tt.raw)
			got, err := CheckResponse(resp, rfcKey, []string{"chat", "superchat"})
			var re *ResponseError
			if !errors.As(err, &re) || got != nil {
				t.Fatalf("CheckResponse = %+v, %v; want a *ResponseError", got, err)
			}
			if re.Response != resp || re.Response.StatusCode != tt.status {
				t.Errorf("Response %+v, want status %d", re.Response, tt.status)
			}
			if !strings.Contains(re.Reason, tt.reason) {
				t.Errorf("Reason %q does not mention %q", re.Reason, tt.reason)
			}
			if string(re.Body) != tt.body {
				t.Errorf("Body %q, want %q", re.Body, tt.body)
			}
			if tt.header[0] != "" && re.Response.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("header %s = %q, want %q", tt.header[0], re.Response.Header.Get(tt.header[0]), tt.header[1])
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "handshake: ") || !strings.Contains(msg, resp.Status) {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

// rfc101 is the RFC 6455 §1.2 response without its protocol, plus extra.
func rfc101(extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + rfcAccept + "\r\n" + extra + "\r\n"
}

// TestCheckResponseNoOffers: a server may not pick a subprotocol when
// the client offered none.
func TestCheckResponseNoOffers(t *testing.T) {
	_, err := CheckResponse(response(t, rfcResponse), rfcKey, nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if _, err := CheckResponse(nil, rfcKey, nil); !errors.As(err, &re) || err.Error() != "handshake: no response" {
		t.Fatalf("nil response: %v", err)
	}
}

// blockingBody fails the test if read: the body of a 101 response is the
// WebSocket connection and must not be read.
type blockingBody struct{ t *testing.T }

func (b blockingBody) Read([]byte) (int, error) {
	b.t.Error("body of a 101 response was read")
	return 0, io.EOF
}
func (blockingBody) Close() error { return nil }

func TestCheckResponseDoesNotRead101Body(t *testing.T) {
	resp := response(t, rfc101(""))
	resp.Header.Set("Sec-Websocket-Accept", "wrong")
	resp.Body = blockingBody{t}
	var re *ResponseError
	if _, err := CheckResponse(resp, rfcKey, nil); !errors.As(err, &re) || re.Body != nil {
		t.Fatalf("err = %v", err)
	}
}

// TestHandshakeRoundTrip runs a whole handshake through bytes: client
// request, raw server, server response, client check, with frames on
// both sides staying in their readers.
func TestHandshakeRoundTrip(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	offer := []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}}
	creq, err := NewClientRequest(mustURL(t, "ws://127.0.0.1:9001/echo"), key, []string{"v2", "v1"},
		AppendExtensions(nil, offer), http.Header{"Origin": {"http://127.0.0.1:9001"}})
	if err != nil {
		t.Fatal(err)
	}
	var c2s bytes.Buffer
	if err := creq.Write(&c2s); err != nil {
		t.Fatal(err)
	}
	c2s.WriteString(maskedHello)

	// Server.
	sbr := bufio.NewReader(&c2s)
	r, err := ReadRequest(sbr, 0)
	if err != nil {
		t.Fatal(err)
	}
	sreq, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&OriginPolicy{}).Verify(r); err != nil {
		t.Fatal(err)
	}
	accepted := []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits", Value: "15", HasValue: true}}}}
	proto := SelectSubprotocol([]string{"v1", "v2"}, sreq.Protocols)
	s2c := bytes.NewBuffer(AppendResponse(nil, sreq.Key, proto, AppendExtensions(nil, accepted)))
	s2c.WriteString("\x81\x05Hello")
	if rest := remaining(t, sbr); rest != maskedHello {
		t.Fatalf("server left %q", rest)
	}

	// Client.
	cbr := bufio.NewReader(s2c)
	resp, err := ReadResponse(cbr, creq, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CheckResponse(resp, key, []string{"v2", "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyExtensions(got.Extensions, offer); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Response{Protocol: "v1", Extensions: accepted}, got); diff != "" {
		t.Fatalf("client got (-want +got):\n%s", diff)
	}
	if rest := remaining(t, cbr); rest != "\x81\x05Hello" {
		t.Fatalf("client left %q", rest)
	}
}

// TestStdlibInterop checks the package against net/http's own parsers:
// ParseRequest on a request http.ReadRequest read, CheckResponse on a
// response http.ReadResponse read.
func TestStdlibInterop(t *testing.T) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rfcRequestBytes)))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.Key != rfcKey || req.Host != "server.example.com" {
		t.Fatalf("%+v", req)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(rfcResponse)), r)
	if err != nil {
		t.Fatal(err)
	}
	res, err := CheckResponse(resp, rfcKey, []string{"chat"})
	if err != nil || res.Protocol != "chat" {
		t.Fatalf("%+v, %v", res, err)
	}
}
