package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rfcRequest is the client handshake of RFC 6455 §1.2, as net/http hands
// it to a handler.
func rfcRequest() *http.Request {
	return &http.Request{
		Method:     "GET",
		URL:        &url.URL{Path: "/chat"},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       "server.example.com",
		RequestURI: "/chat",
		Header: http.Header{
			"Upgrade":                {"websocket"},
			"Connection":             {"Upgrade"},
			"Sec-Websocket-Key":      {rfcKey},
			"Origin":                 {"http://example.com"},
			"Sec-Websocket-Protocol": {"chat, superchat"},
			"Sec-Websocket-Version":  {"13"},
		},
	}
}

// rfcResponse is the server handshake of RFC 6455 §1.2.
const rfcResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"\r\n"

func TestParseRequestRFC6455(t *testing.T) {
	r := rfcRequest()
	req, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		Key:       rfcKey,
		Host:      "server.example.com",
		Origin:    "http://example.com",
		Protocols: []string{"chat", "superchat"},
		Header:    r.Header,
	}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Fatalf("ParseRequest (-want +got):\n%s", diff)
	}
	proto := SelectSubprotocol([]string{"chat"}, req.Protocols)
	if got := AppendResponse(nil, req.Key, proto, nil); string(got) != rfcResponse {
		t.Fatalf("response:\n got %q\nwant %q", got, rfcResponse)
	}
}

func TestParseRequestAccepts(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *http.Request)
		check  func(t *testing.T, req *Request)
	}{
		{"no origin, protocol or extensions", func(r *http.Request) {
			r.Header.Del("Origin")
			r.Header.Del("Sec-Websocket-Protocol")
		}, func(t *testing.T, req *Request) {
			if req.Origin != "" || req.Protocols != nil || req.Extensions != nil {
				t.Errorf("got %#v", req)
			}
		}},
		{"HTTP/1.2", func(r *http.Request) { r.Proto, r.ProtoMinor = "HTTP/1.2", 2 }, nil},
		{"token lists and case", func(r *http.Request) {
			r.Header["Upgrade"] = []string{"h2c, WebSocket"}
			r.Header["Connection"] = []string{"keep-alive", "UPGRADE"}
		}, nil},
		{"whitespace around values", func(r *http.Request) {
			r.Header["Sec-Websocket-Key"] = []string{" " + rfcKey + "\t"}
			r.Header["Sec-Websocket-Version"] = []string{" 13 "}
		}, func(t *testing.T, req *Request) {
			if req.Key != rfcKey {
				t.Errorf("Key = %q", req.Key)
			}
		}},
		{"repeated protocol fields, empty elements", func(r *http.Request) {
			r.Header["Sec-Websocket-Protocol"] = []string{"a,, b", "", "c"}
		}, func(t *testing.T, req *Request) {
			if diff := cmp.Diff([]string{"a", "b", "c"}, req.Protocols); diff != "" {
				t.Errorf("Protocols (-want +got):\n%s", diff)
			}
		}},
		{"extensions", func(r *http.Request) {
			r.Header["Sec-Websocket-Extensions"] = []string{"permessage-deflate; client_max_window_bits", "x"}
		}, func(t *testing.T, req *Request) {
			want := []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}, {Name: "x"}}
			if diff := cmp.Diff(want, req.Extensions); diff != "" {
				t.Errorf("Extensions (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rfcRequest()
			tt.modify(r)
			req, err := ParseRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, req)
			}
		})
	}
}

// TestParseRequestMalformed lists requests a server must refuse
// (RFC 6455 §4.2.1) and the status each earns.
func TestParseRequestMalformed(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *http.Request)
		status int
		header http.Header // must be part of the error's header
	}{
		{"POST", func(r *http.Request) { r.Method = "POST" }, 405, http.Header{"Allow": {"GET"}}},
		{"lower-case get", func(r *http.Request) { r.Method = "get" }, 405, http.Header{"Allow": {"GET"}}},
		{"CONNECT", func(r *http.Request) { r.Method = "CONNECT" }, 405, nil},
		{"HTTP/1.0", func(r *http.Request) { r.Proto, r.ProtoMinor = "HTTP/1.0", 0 }, 400, nil},
		{"HTTP/0.9", func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/0.9", 0, 9 }, 400, nil},
		{"no Host", func(r *http.Request) { r.Host = "" }, 400, nil},
		{"no Upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, 400, nil},
		{"Upgrade without websocket", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, 400, nil},
		{"Upgrade websocket/13", func(r *http.Request) { r.Header.Set("Upgrade", "websocket/13") }, 400, nil},
		{"no Connection", func(r *http.Request) { r.Header.Del("Connection") }, 400, nil},
		{"Connection keep-alive", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, 400, nil},
		{"Connection upgraded", func(r *http.Request) { r.Header.Set("Connection", "upgraded") }, 400, nil},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-Websocket-Version") }, 426,
			http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-Websocket-Version", "8") }, 426,
			http.Header{"Sec-Websocket-Version": {"13"}}},
		{"version 013", func(r *http.Request) { r.Header.Set("Sec-Websocket-Version", "013") }, 426, nil},
		{"version list", func(r *http.Request) { r.Header.Set("Sec-Websocket-Version", "13, 8") }, 426, nil},
		{"two versions", func(r *http.Request) { r.Header["Sec-Websocket-Version"] = []string{"13", "13"} }, 426, nil},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-Websocket-Key") }, 400, nil},
		{"empty key", func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "") }, 400, nil},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-Websocket-Key", rfcKey) }, 400, nil},
		{"key of 15 bytes", func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "AQIDBAUGBwgJCgsMDQ4P") }, 400, nil},
		{"key of 17 bytes", func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "AQIDBAUGBwgJCgsMDQ4PEBE=") }, 400, nil},
		{"key not base64", func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ!!") }, 400, nil},
		{"key without padding", func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ") }, 400, nil},
		{"two origins", func(r *http.Request) { r.Header.Add("Origin", "http://evil.example") }, 400, nil},
		{"protocol not a token", func(r *http.Request) { r.Header.Set("Sec-Websocket-Protocol", "chat, super chat") }, 400, nil},
		{"protocol with slash", func(r *http.Request) { r.Header.Set("Sec-Websocket-Protocol", "chat/1") }, 400, nil},
		{"protocol quoted", func(r *http.Request) { r.Header.Set("Sec-Websocket-Protocol", `"chat"`) }, 400, nil},
		{"extension trailing semicolon", func(r *http.Request) { r.Header.Set("Sec-Websocket-Extensions", "permessage-deflate;") }, 400, nil},
		{"extension quoted non-token", func(r *http.Request) {
			r.Header.Set("Sec-Websocket-Extensions", `permessage-deflate; client_max_window_bits="1 0"`)
		}, 400, nil},
		{"extension in second field", func(r *http.Request) {
			r.Header["Sec-Websocket-Extensions"] = []string{"ok", "bad bad"}
		}, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rfcRequest()
			tt.modify(r)
			req, err := ParseRequest(r)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseRequest = %#v, %v; want an *Error", req, err)
			}
			if req != nil {
				t.Errorf("ParseRequest returned a request with its error")
			}
			if e.Status != tt.status {
				t.Errorf("status %d (%s), want %d", e.Status, e.Message, tt.status)
			}
			if e.Message == "" {
				t.Error("empty message")
			}
			for k, v := range tt.header {
				if diff := cmp.Diff(v, e.Header[k]); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			if !strings.HasPrefix(err.Error(), "handshake: ") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestOriginPolicy(t *testing.T) {
	allowAPI := func(r *http.Request) bool { return r.Header.Get("Origin") == "https://api.example.net" }
	tests := []struct {
		name   string
		policy *OriginPolicy
		origin []string // nil: no Origin header
		host   string
		status int // 0: allowed
	}{
		{"nil policy, no origin", nil, nil, "example.com", 0},
		{"nil policy, same host", nil, []string{"http://example.com"}, "example.com", 0},
		{"nil policy, same host, case", nil, []string{"https://EXAMPLE.com"}, "example.COM", 0},
		{"nil policy, same host and port", nil, []string{"http://example.com:8080"}, "example.com:8080", 0},
		{"nil policy, other port", nil, []string{"http://example.com:8081"}, "example.com:8080", 403},
		{"nil policy, other host", nil, []string{"http://evil.example"}, "example.com", 403},
		{"nil policy, suffix trick", nil, []string{"http://example.com.evil.example"}, "example.com", 403},
		{"nil policy, null origin", nil, []string{"null"}, "example.com", 403},
		{"nil policy, garbage", nil, []string{"%%%"}, "example.com", 403},
		{"nil policy, two origins", nil, []string{"http://example.com", "http://example.com"}, "example.com", 403},
		{"zero policy, other host", &OriginPolicy{}, []string{"http://evil.example"}, "example.com", 403},
		{"pattern wildcard", &OriginPolicy{Patterns: []string{"*.example.com"}},
			[]string{"https://app.example.com"}, "ws.example.net", 0},
		{"pattern wildcard, case", &OriginPolicy{Patterns: []string{"*.Example.com"}},
			[]string{"https://APP.example.com"}, "ws.example.net", 0},
		{"pattern wildcard, not the apex", &OriginPolicy{Patterns: []string{"*.example.com"}},
			[]string{"https://example.com"}, "ws.example.net", 403},
		{"pattern wildcard, port not matched", &OriginPolicy{Patterns: []string{"*.example.com"}},
			[]string{"https://app.example.com:8443"}, "ws.example.net", 403},
		{"pattern with port", &OriginPolicy{Patterns: []string{"localhost:8080"}},
			[]string{"http://localhost:8080"}, "ws.example.net", 0},
		{"pattern suffix trick", &OriginPolicy{Patterns: []string{"*.example.com"}},
			[]string{"https://app.example.com.evil.example"}, "ws.example.net", 403},
		{"bad pattern", &OriginPolicy{Patterns: []string{"[a-"}}, []string{"https://x.example"}, "ws.example.net", 500},
		{"check allows", &OriginPolicy{Check: allowAPI}, []string{"https://api.example.net"}, "ws.example.net", 0},
		{"check refuses", &OriginPolicy{Check: allowAPI}, []string{"https://evil.example"}, "ws.example.net", 403},
		{"check sees null", &OriginPolicy{Check: func(*http.Request) bool { return true }}, []string{"null"}, "x", 0},
		{"allow all", &OriginPolicy{AllowAll: true}, []string{"https://evil.example"}, "example.com", 0},
		{"allow all, null", &OriginPolicy{AllowAll: true}, []string{"null"}, "example.com", 0},
		{"allow all, two origins", &OriginPolicy{AllowAll: true}, []string{"a", "b"}, "example.com", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rfcRequest()
			r.Host = tt.host
			r.Header["Origin"] = tt.origin
			if tt.origin == nil {
				delete(r.Header, "Origin")
			}
			err := tt.policy.Verify(r)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status {
				t.Fatalf("Verify = %v, want an *Error with status %d", err, tt.status)
			}
		})
	}
}

func TestSelectSubprotocol(t *testing.T) {
	tests := []struct {
		server, client []string
		want           string
	}{
		{nil, nil, ""},
		{[]string{"chat"}, nil, ""},
		{nil, []string{"chat"}, ""},
		{[]string{"chat"}, []string{"chat", "superchat"}, "chat"},
		{[]string{"superchat", "chat"}, []string{"chat", "superchat"}, "superchat"}, // server's order wins
		{[]string{"mqtt"}, []string{"chat"}, ""},
		{[]string{"Chat"}, []string{"chat"}, ""}, // exact comparison
		{[]string{"", "chat"}, []string{"", "chat"}, "chat"},
	}
	for _, tt := range tests {
		if got := SelectSubprotocol(tt.server, tt.client); got != tt.want {
			t.Errorf("SelectSubprotocol(%q, %q) = %q, want %q", tt.server, tt.client, got, tt.want)
		}
	}
}

func TestAppendResponse(t *testing.T) {
	got := AppendResponse([]byte("x"), rfcKey, "", []byte("permessage-deflate; server_no_context_takeover"))
	want := "x" +
		"HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n" +
		"\r\n"
	if string(got) != want {
		t.Fatalf("AppendResponse:\n got %q\nwant %q", got, want)
	}
}

func TestAppendResponseAllocs(t *testing.T) {
	dst := make([]byte, 0, 512)
	ext := []byte("permessage-deflate; server_no_context_takeover")
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendResponse(dst[:0], rfcKey, "chat", ext)
	})
	if allocs != 0 {
		t.Fatalf("AppendResponse allocates %v times per run, want 0", allocs)
	}
}

func TestWriteResponse(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 512)
	if err := WriteResponse(bw, rfcKey, "chat", nil); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	if out.String() != rfcResponse {
		t.Fatalf("WriteResponse wrote %q, want %q", out.String(), rfcResponse)
	}
	allocs := testing.AllocsPerRun(100, func() {
		out.Reset()
		bw.Reset(&out)
		WriteResponse(bw, rfcKey, "chat", nil)
	})
	if allocs != 0 {
		t.Errorf("WriteResponse to a bufio.Writer allocates %v times per run, want 0", allocs)
	}
	out.Reset()
	if err := WriteResponse(&out, rfcKey, "chat", nil); err != nil || out.String() != rfcResponse {
		t.Fatalf("WriteResponse to a bytes.Buffer: %q, %v", out.String(), err)
	}
	for _, bad := range []struct {
		protocol string
		ext      string
	}{
		{"chat\r\nX-Evil: 1", ""},
		{"two words", ""},
		{"", "permessage-deflate\r\nX-Evil: 1"},
	} {
		out.Reset()
		if err := WriteResponse(&out, rfcKey, bad.protocol, []byte(bad.ext)); err == nil || out.Len() != 0 {
			t.Errorf("WriteResponse(%q, %q) = %v, wrote %q; want an error and nothing written", bad.protocol, bad.ext, err, out.String())
		}
		if err := SetResponseHeader(http.Header{}, rfcKey, bad.protocol, []byte(bad.ext)); err == nil {
			t.Errorf("SetResponseHeader(%q, %q) = nil, want an error", bad.protocol, bad.ext)
		}
	}
}

func TestSetResponseHeader(t *testing.T) {
	h := http.Header{"Sec-Websocket-Protocol": {"stale"}, "Set-Cookie": {"a=b"}}
	if err := SetResponseHeader(h, rfcKey, "", []byte("x; y=1")); err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"Upgrade":                  {"websocket"},
		"Connection":               {"Upgrade"},
		"Sec-Websocket-Accept":     {rfcAccept},
		"Sec-Websocket-Extensions": {"x; y=1"},
		"Set-Cookie":               {"a=b"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if err := SetResponseHeader(h, rfcKey, "chat", nil); err != nil {
		t.Fatal(err)
	}
	if h.Get("Sec-WebSocket-Protocol") != "chat" || h["Sec-Websocket-Extensions"] != nil {
		t.Fatalf("header = %#v", h)
	}
}

func TestAppendErrorResponse(t *testing.T) {
	req := rfcRequest()
	req.Header.Set("Sec-Websocket-Version", "8")
	_, err := ParseRequest(req)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	got := string(AppendErrorResponse(nil, e))
	want := "HTTP/1.1 426 Upgrade Required\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Content-Length: 65\r\n" +
		"Connection: Upgrade, close\r\n" +
		"Sec-Websocket-Version: 13\r\n" +
		"Upgrade: websocket\r\n" +
		"\r\n" +
		"unsupported Sec-WebSocket-Version; this server speaks version 13\n"
	if got != want {
		t.Fatalf("AppendErrorResponse:\n got %q\nwant %q", got, want)
	}

	// Fields it writes itself, invalid names and values that would end
	// the header are left out.
	e = &Error{Status: 403, Message: "no", Header: http.Header{
		"Content-Length": {"999"},
		"connection":     {"keep-alive"},
		"X-Ok":           {"1", "bad\r\nX-Injected: 1"},
		"Bad Name":       {"1"},
	}}
	got = string(AppendErrorResponse(nil, e))
	want = "HTTP/1.1 403 Forbidden\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Content-Length: 3\r\n" +
		"Connection: close\r\n" +
		"X-Ok: 1\r\n" +
		"\r\n" +
		"no\n"
	if got != want {
		t.Fatalf("AppendErrorResponse:\n got %q\nwant %q", got, want)
	}

	// Whatever the input, net/http reads back one well-framed response.
	for _, e := range []*Error{
		{Status: 431, Message: "request header too large"},
		{Status: 0, Message: ""},
		{Status: 799, Message: "odd"},
		nil,
		{Status: 405, Message: "x", Header: http.Header{"Allow": {"GET"}}},
	} {
		b := AppendErrorResponse(nil, e)
		b = append(b, "TRAILING"...)
		if e == nil {
			e = &Error{Status: 500, Message: "internal error"}
		}
		br := bufio.NewReader(bytes.NewReader(b))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%+v: %q does not parse: %v", e, b, err)
		}
		body := new(bytes.Buffer)
		body.ReadFrom(resp.Body)
		if body.String() != e.Message+"\n" || !resp.Close {
			t.Errorf("%+v: body %q, close %v", e, body, resp.Close)
		}
		if rest, _ := br.Peek(br.Buffered()); string(rest) != "TRAILING" {
			t.Errorf("%+v: %q left after the response", e, rest)
		}
		want := e.Status
		if want < 100 {
			want = 500
		}
		if resp.StatusCode != want {
			t.Errorf("%+v: status %d, want %d", e, resp.StatusCode, want)
		}
	}
}

func TestErrorServeHTTP(t *testing.T) {
	e := &Error{Status: 405, Message: "use GET", Header: http.Header{"Allow": {"GET"}}}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, rfcRequest())
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET" || rec.Body.String() != "use GET\n" {
		t.Fatalf("got %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	if got := e.Error(); got != "handshake: 405 Method Not Allowed: use GET" {
		t.Fatalf("Error() = %q", got)
	}
}

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	r := rfcRequest()
	r.Header.Set("Sec-Websocket-Extensions", "permessage-deflate; client_max_window_bits")
	for b.Loop() {
		if _, err := ParseRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	b.ReportAllocs()
	dst := make([]byte, 0, 256)
	for b.Loop() {
		dst = AppendResponse(dst[:0], rfcKey, "chat", nil)
	}
	b.SetBytes(int64(len(dst)))
}

// A request that announces a body is refused, and its answer closes the
// connection: what net/http lets through (the raw path's ReadRequest
// refuses it earlier), since the bytes after the header are frames.
func TestParseRequestRefusesBody(t *testing.T) {
	for _, tt := range []struct {
		name          string
		contentLength int64
		te            []string
		want          int // 0: accepted
	}{
		{"no body", 0, nil, 0},
		{"Content-Length: 14", 14, nil, http.StatusBadRequest},
		{"length unknown", -1, nil, http.StatusBadRequest},
		{"chunked", -1, []string{"chunked"}, http.StatusBadRequest},
		{"identity transfer coding", 0, []string{"identity"}, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rfcRequest()
			r.ContentLength, r.TransferEncoding = tt.contentLength, tt.te
			_, err := ParseRequest(r)
			var he *Error
			switch {
			case tt.want == 0 && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != 0 && (!errors.As(err, &he) || he.Status != tt.want):
				t.Errorf("got %v, want a %d", err, tt.want)
			case tt.want == http.StatusBadRequest && he.Header.Get("Connection") != "close":
				t.Errorf("the answer does not close the connection: %v", he.Header)
			}
		})
	}
}
