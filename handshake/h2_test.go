package handshake

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rfc8441Request is the extended CONNECT of RFC 8441 §5.1's example, as
// net/http's HTTP/2 server hands it to a handler.
func rfc8441Request() *http.Request {
	return &http.Request{
		Method:     http.MethodConnect,
		URL:        &url.URL{Path: "/chat"},
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Host:       "server.example.com",
		Header: http.Header{
			ProtocolHeader:             {"websocket"},
			"Sec-Websocket-Protocol":   {"chat, superchat"},
			"Sec-Websocket-Extensions": {"permessage-deflate"},
			"Sec-Websocket-Version":    {"13"},
			"Origin":                   {"http://www.example.com"},
		},
	}
}

func TestParseExtendedConnectRFC8441(t *testing.T) {
	r := rfc8441Request()
	if !IsExtendedConnect(r) {
		t.Fatal("IsExtendedConnect(RFC 8441 §5.1 example) = false")
	}
	got, err := ParseExtendedConnect(r)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		Host:       "server.example.com",
		Origin:     "http://www.example.com",
		Protocols:  []string{"chat", "superchat"},
		Extensions: []Extension{{Name: "permessage-deflate"}},
		Header:     r.Header,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseExtendedConnect (-want +got):\n%s", d)
	}
}

// TestParseExtendedConnectErrors: each malformed request, the status it
// earns and the header fields the answer needs.
func TestParseExtendedConnectErrors(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(r *http.Request)
		status     int
		wantHeader http.Header
	}{
		{"GET", func(r *http.Request) { r.Method = http.MethodGet }, 405, http.Header{"Allow": {"CONNECT"}}},
		{"CONNECT without :protocol", func(r *http.Request) { delete(r.Header, ProtocolHeader) }, 405, http.Header{"Allow": {"CONNECT"}}},
		{"other :protocol", func(r *http.Request) { r.Header[ProtocolHeader] = []string{"webtransport"} }, 400, nil},
		{"two :protocol", func(r *http.Request) { r.Header[ProtocolHeader] = []string{"websocket", "websocket"} }, 400, nil},
		{"no authority", func(r *http.Request) { r.Host = "" }, 400, nil},
		{"no version", func(r *http.Request) { delete(r.Header, "Sec-Websocket-Version") }, 426, http.Header{"Sec-Websocket-Version": {"13"}}},
		{"version 8", func(r *http.Request) { r.Header["Sec-Websocket-Version"] = []string{"8"} }, 426, http.Header{"Sec-Websocket-Version": {"13"}}},
		{"two origins", func(r *http.Request) { r.Header["Origin"] = []string{"a", "b"} }, 400, nil},
		{"bad subprotocols", func(r *http.Request) { r.Header["Sec-Websocket-Protocol"] = []string{"a b"} }, 400, nil},
		{"bad extensions", func(r *http.Request) { r.Header["Sec-Websocket-Extensions"] = []string{";"} }, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rfc8441Request()
			tt.edit(r)
			_, err := ParseExtendedConnect(r)
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if he.Status != tt.status {
				t.Errorf("status %d, want %d (%v)", he.Status, tt.status, err)
			}
			if d := cmp.Diff(tt.wantHeader, he.Header); d != "" {
				t.Errorf("header fields (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseExtendedConnectIgnoresKey: RFC 8441 §5 does not use
// Sec-WebSocket-Key, Upgrade or Connection; their presence, valid or not,
// changes nothing.
func TestParseExtendedConnectIgnoresKey(t *testing.T) {
	r := rfc8441Request()
	r.Header["Sec-Websocket-Key"] = []string{"not base64"}
	if _, err := ParseExtendedConnect(r); err != nil {
		t.Errorf("ParseExtendedConnect with a bogus key: %v", err)
	}
}

func TestNewExtendedConnectRequest(t *testing.T) {
	u, _ := url.Parse("wss://server.example.com/chat?room=1")
	req, err := NewExtendedConnectRequest(u, []string{"chat", "superchat"}, []byte("permessage-deflate"),
		http.Header{"Origin": {"http://www.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodConnect || req.URL.String() != "https://server.example.com/chat?room=1" || req.Host != "server.example.com" {
		t.Errorf("request %s %s (Host %s)", req.Method, req.URL, req.Host)
	}
	want := http.Header{
		ProtocolHeader:             {"websocket"},
		"Sec-Websocket-Version":    {"13"},
		"Sec-Websocket-Protocol":   {"chat, superchat"},
		"Sec-Websocket-Extensions": {"permessage-deflate"},
		"Origin":                   {"http://www.example.com"},
	}
	if d := cmp.Diff(want, req.Header); d != "" {
		t.Errorf("header (-want +got):\n%s", d)
	}
	// What the client sends, the server accepts.
	req.ProtoMajor = 2
	if _, err := ParseExtendedConnect(req); err != nil {
		t.Errorf("ParseExtendedConnect(NewExtendedConnectRequest(...)): %v", err)
	}

	for _, h := range []http.Header{
		{"Sec-Websocket-Version": {"12"}}, {"Upgrade": {"websocket"}}, {"Content-Length": {"3"}}, {"Bad Name": {"x"}},
	} {
		if _, err := NewExtendedConnectRequest(u, nil, nil, h); err == nil {
			t.Errorf("NewExtendedConnectRequest with extra header %v: no error", h)
		}
	}
	bad, _ := url.Parse("ftp://server.example.com/")
	if _, err := NewExtendedConnectRequest(bad, nil, nil, nil); err == nil {
		t.Error("NewExtendedConnectRequest(ftp://...): no error")
	}
}

func TestCheckExtendedConnectResponse(t *testing.T) {
	resp := func(status int, h http.Header, body string) *http.Response {
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	got, err := CheckExtendedConnectResponse(resp(200, http.Header{
		"Sec-Websocket-Protocol":   {"chat"},
		"Sec-Websocket-Extensions": {"permessage-deflate; server_no_context_takeover"},
	}, ""), []string{"superchat", "chat"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Response{Protocol: "chat", Extensions: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "server_no_context_takeover"}}}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}

	tests := []struct {
		name     string
		resp     *http.Response
		wantBody string
	}{
		{"403", resp(403, http.Header{}, "origin refused"), "origin refused"},
		{"101 is not an answer to CONNECT", resp(101, http.Header{}, ""), ""},
		{"subprotocol not offered", resp(200, http.Header{"Sec-Websocket-Protocol": {"other"}}, ""), ""},
		{"bad extensions", resp(200, http.Header{"Sec-Websocket-Extensions": {";;"}}, ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckExtendedConnectResponse(tt.resp, []string{"chat"})
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a *ResponseError", err)
			}
			if string(re.Body) != tt.wantBody {
				t.Errorf("body prefix %q, want %q", re.Body, tt.wantBody)
			}
		})
	}
}
