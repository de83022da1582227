package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// rfcRequestBytes is the client handshake of RFC 6455 §1.2 on the wire.
const rfcRequestBytes = "GET /chat HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

// maskedHello is the masked "Hello" frame of RFC 6455 §5.7, which a
// client may send right behind its handshake.
const maskedHello = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"

// readers wraps an input in the short-read readers of testing/iotest.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"plain", func(r io.Reader) io.Reader { return r }},
	{"OneByteReader", iotest.OneByteReader},
	{"HalfReader", iotest.HalfReader},
	{"DataErrReader", iotest.DataErrReader},
}

// remaining returns what is left in br and the reader under it.
func remaining(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	b, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadRequestRFC6455(t *testing.T) {
	for _, rd := range readers {
		for _, size := range []int{16, 64, 4096} {
			br := bufio.NewReaderSize(rd.wrap(strings.NewReader(rfcRequestBytes+maskedHello)), size)
			r, err := ReadRequest(br, 0)
			if err != nil {
				t.Fatalf("%s/%d: %v", rd.name, size, err)
			}
			if r.Method != "GET" || r.RequestURI != "/chat" || r.URL.Path != "/chat" || r.Host != "server.example.com" ||
				r.Proto != "HTTP/1.1" || r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Body != http.NoBody || r.Close {
				t.Fatalf("%s/%d: request %+v", rd.name, size, r)
			}
			wantHeader := http.Header{
				"Upgrade":                {"websocket"},
				"Connection":             {"Upgrade"},
				"Sec-Websocket-Key":      {rfcKey},
				"Origin":                 {"http://example.com"},
				"Sec-Websocket-Protocol": {"chat, superchat"},
				"Sec-Websocket-Version":  {"13"},
			}
			if diff := cmp.Diff(wantHeader, r.Header); diff != "" {
				t.Fatalf("%s/%d: header (-want +got):\n%s", rd.name, size, diff)
			}
			// The frame behind the handshake is left for the connection.
			if rest := remaining(t, br); rest != maskedHello {
				t.Fatalf("%s/%d: left %q, want the frame %q", rd.name, size, rest, maskedHello)
			}
			req, err := ParseRequest(r)
			if err != nil {
				t.Fatalf("%s/%d: ParseRequest: %v", rd.name, size, err)
			}
			proto := SelectSubprotocol([]string{"chat"}, req.Protocols)
			if got := AppendResponse(nil, req.Key, proto, nil); string(got) != rfcResponse {
				t.Fatalf("%s/%d: response %q", rd.name, size, got)
			}
		}
	}
}

func TestReadRequestForms(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, r *http.Request)
	}{
		{"bare LF line ends", "GET /a?b=c HTTP/1.1\nHost: h\nX: 1\n\n", func(t *testing.T, r *http.Request) {
			if r.URL.Path != "/a" || r.URL.RawQuery != "b=c" || r.Host != "h" || r.Header.Get("X") != "1" {
				t.Errorf("%+v", r)
			}
		}},
		{"absolute-form target overrides Host", "GET http://real.example/chat HTTP/1.1\r\nHost: other\r\n\r\n",
			func(t *testing.T, r *http.Request) {
				if r.Host != "real.example" || r.URL.Path != "/chat" {
					t.Errorf("Host %q, URL %v", r.Host, r.URL)
				}
			}},
		{"repeated fields and OWS", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nconnection:\t Upgrade \t\r\nX-Empty:\r\n\r\n",
			func(t *testing.T, r *http.Request) {
				if diff := cmp.Diff([]string{"keep-alive", "Upgrade"}, r.Header["Connection"]); diff != "" {
					t.Errorf("Connection (-want +got):\n%s", diff)
				}
				if v, ok := r.Header["X-Empty"]; !ok || v[0] != "" {
					t.Errorf("X-Empty %q, %v", v, ok)
				}
			}},
		{"obs-text in value", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.Header.Get("X") != "caf\xc3\xa9" {
				t.Errorf("X %q", r.Header.Get("X"))
			}
		}},
		{"Content-Length 0", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", nil},
		{"HTTP/1.0 closes", "GET / HTTP/1.0\r\nHost: h\r\n\r\n", func(t *testing.T, r *http.Request) {
			if !r.Close || r.ProtoMinor != 0 {
				t.Errorf("Close %v, minor %d", r.Close, r.ProtoMinor)
			}
		}},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.Host != "" {
				t.Errorf("Host %q", r.Host)
			}
			if _, err := ParseRequest(r); err == nil {
				t.Error("ParseRequest accepted a request without Host")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.input + "rest"))
			r, err := ReadRequest(br, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if rest := remaining(t, br); rest != "rest" {
				t.Errorf("left %q", rest)
			}
		})
	}
}

// TestReadRequestMalformed lists raw requests ReadRequest refuses and
// the status each earns.
func TestReadRequestMalformed(t *testing.T) {
	const ok = "GET / HTTP/1.1\r\nHost: h\r\n"
	tests := []struct {
		name   string
		input  string
		status int
	}{
		{"empty request line", "\r\nGET / HTTP/1.1\r\n\r\n", 400},
		{"no target", "GET HTTP/1.1\r\n\r\n", 400},
		{"double space", "GET  / HTTP/1.1\r\n\r\n", 400},
		{"trailing space", "GET / HTTP/1.1 \r\n\r\n", 400},
		{"lower-case version", "GET / http/1.1\r\n\r\n", 400},
		{"HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", 400},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
		{"bad method", "G(T / HTTP/1.1\r\n\r\n", 400},
		{"tab in request line", "GET\t/ HTTP/1.1\r\n\r\n", 400},
		{"control in target", "GET /\x01 HTTP/1.1\r\n\r\n", 400},
		{"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400},
		{"relative target", "GET chat HTTP/1.1\r\n\r\n", 400},
		{"bare CR in request line", "GET / HTTP/1.1\rX\r\n\r\n", 400},
		{"no colon", ok + "Upgrade websocket\r\n\r\n", 400},
		{"empty name", ok + ": x\r\n\r\n", 400},
		{"space before colon", ok + "Upgrade : websocket\r\n\r\n", 400},
		{"space in name", ok + "Up grade: websocket\r\n\r\n", 400},
		{"obs-fold", ok + "X: a\r\n b\r\n\r\n", 400},
		{"whitespace before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
		{"NUL in value", ok + "X: a\x00b\r\n\r\n", 400},
		{"bare CR in value", ok + "X: a\rb\r\n\r\n", 400},
		{"DEL in value", ok + "X: a\x7fb\r\n\r\n", 400},
		{"two Hosts", ok + "Host: h\r\n\r\n", 400},
		{"Content-Length body", ok + "Content-Length: 5\r\n\r\nhello", 400},
		{"bad Content-Length", ok + "Content-Length: x\r\n\r\n", 400},
		{"Content-Length 0, twice", ok + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400},
		{"chunked body", ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"too many fields", ok + strings.Repeat("X: 1\r\n", 200) + "\r\n", 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadRequest(bufio.NewReader(strings.NewReader(tt.input)), 0)
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status {
				t.Fatalf("ReadRequest(%q) = %+v, %v; want an *Error with status %d", tt.input, r, err, tt.status)
			}
			if r != nil {
				t.Fatal("request returned with the error")
			}
			// What a raw server would answer must itself be valid HTTP.
			if _, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(AppendErrorResponse(nil, e))), nil); err != nil {
				t.Fatalf("error response does not parse: %v", err)
			}
		})
	}
}

func TestReadRequestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"empty", strings.NewReader(""), io.EOF},
		{"cut in request line", strings.NewReader("GET / HT"), io.ErrUnexpectedEOF},
		{"cut in header", strings.NewReader(rfcRequestBytes[:60]), io.ErrUnexpectedEOF},
		{"cut before empty line", strings.NewReader(strings.TrimSuffix(rfcRequestBytes, "\r\n")), io.ErrUnexpectedEOF},
		{"timeout", iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(rfcRequestBytes))), iotest.ErrTimeout},
		{"reader error", iotest.ErrReader(errors.New("boom")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadRequest(bufio.NewReaderSize(tt.r, 16), 0)
			if err == nil || r != nil {
				t.Fatalf("ReadRequest = %v, %v; want an error", r, err)
			}
			var e *Error
			if errors.As(err, &e) {
				t.Fatalf("read error reported as %v", e)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// requestOfSize returns a valid request of exactly n bytes, padded with
// an X-Pad field; requestOfSize(0) is the request with an empty X-Pad.
func requestOfSize(n int) string {
	const head = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: "
	const tail = "\r\n\r\n"
	return head + strings.Repeat("p", max(0, n-len(head)-len(tail))) + tail
}

func TestReadRequestLimit(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		size  int
		valid bool
	}{
		{"default, at the limit", 0, DefaultMaxHeaderBytes, true},
		{"default, one byte over", 0, DefaultMaxHeaderBytes + 1, false},
		{"negative means default", -1, DefaultMaxHeaderBytes, true},
		{"small limit, at it", 100, 100, true},
		{"small limit, over", 100, 101, false},
		{"large limit with long lines", 64 << 10, 60 << 10, true},
		{"large limit, over", 64 << 10, 64<<10 + 1, false},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				in := requestOfSize(tt.size)
				br := bufio.NewReaderSize(rd.wrap(strings.NewReader(in+"rest")), 64)
				r, err := ReadRequest(br, tt.max)
				if tt.valid {
					if err != nil {
						t.Fatal(err)
					}
					if got, want := len(r.Header.Get("X-Pad")), tt.size-len(requestOfSize(0)); got != want {
						t.Fatalf("X-Pad has %d bytes, want %d", got, want)
					}
					if rest := remaining(t, br); rest != "rest" {
						t.Fatalf("left %q", rest)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) || e.Status != http.StatusRequestHeaderFieldsTooLarge {
					t.Fatalf("ReadRequest = %v, %v; want a 431 *Error", r, err)
				}
			})
		}
	}
}

// TestReadRequestStopsReading checks that ReadRequest gives up at the
// limit rather than reading an endless header.
func TestReadRequestStopsReading(t *testing.T) {
	endless := io.MultiReader(strings.NewReader("GET / HTTP/1.1\r\nX: "), neverEnding('a'))
	cr := &countingReader{r: endless}
	_, err := ReadRequest(bufio.NewReaderSize(cr, 4096), 0)
	var e *Error
	if !errors.As(err, &e) || e.Status != 431 {
		t.Fatalf("err = %v, want 431", err)
	}
	if cr.n > DefaultMaxHeaderBytes+4096 {
		t.Fatalf("read %d bytes for a limit of %d", cr.n, DefaultMaxHeaderBytes)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadResponse(t *testing.T) {
	const frame = "\x81\x05Hello" // RFC 6455 §5.7, unmasked "Hello"
	for _, rd := range readers {
		br := bufio.NewReaderSize(rd.wrap(strings.NewReader(rfcResponse+frame)), 16)
		resp, err := ReadResponse(br, nil, 0)
		if err != nil {
			t.Fatalf("%s: %v", rd.name, err)
		}
		if resp.StatusCode != 101 || resp.Status != "101 Switching Protocols" || resp.Proto != "HTTP/1.1" ||
			resp.Body != http.NoBody || resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept {
			t.Fatalf("%s: %+v", rd.name, resp)
		}
		if rest := remaining(t, br); rest != frame {
			t.Fatalf("%s: left %q, want the frame", rd.name, rest)
		}
		got, err := CheckResponse(resp, rfcKey, []string{"chat", "superchat"})
		if err != nil || got.Protocol != "chat" {
			t.Fatalf("%s: CheckResponse = %+v, %v", rd.name, got, err)
		}
	}
}

func TestReadResponseForms(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		status int
		body   string
		rest   string // "-": not checked (br is read ahead past a non-101 header)
	}{
		{"informational responses skipped",
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + rfcResponse + "frames",
			101, "", "frames"},
		{"no reason phrase", "HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\nframes", 101, "", "frames"},
		{"bare LF", "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\nframes", 101, "", "frames"},
		{"101 with Content-Length 0", "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\n\r\nframes", 101, "", "frames"},
		{"error with Content-Length", "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\norigin" + "NEXT", 403, "origin", "-"},
		{"error, chunked", "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n", 400, "bad", ""},
		{"error until close", "HTTP/1.1 500 Oops\r\n\r\nserver broke", 500, "server broke", ""},
		{"redirect", "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", 302, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.input))
			resp, err := ReadResponse(br, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != tt.body {
				t.Fatalf("body %q, %v; want %q", body, err, tt.body)
			}
			if rest := remaining(t, br); tt.rest != "-" && rest != tt.rest {
				t.Fatalf("left %q, want %q", rest, tt.rest)
			}
		})
	}
}

func TestReadResponseMalformed(t *testing.T) {
	tests := []struct {
		name  string
		input string
		max   int
		want  error
	}{
		{"empty", "", 0, io.ErrUnexpectedEOF},
		{"cut", rfcResponse[:40], 0, io.ErrUnexpectedEOF},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, ErrMalformedResponse},
		{"HTTP/2", "HTTP/2.0 101 Switching Protocols\r\n\r\n", 0, ErrMalformedResponse},
		{"short status", "HTTP/1.1 11 Nope\r\n\r\n", 0, ErrMalformedResponse},
		{"status 000", "HTTP/1.1 000 Zero\r\n\r\n", 0, ErrMalformedResponse},
		{"status letters", "HTTP/1.1 1O1 Switching\r\n\r\n", 0, ErrMalformedResponse},
		{"no status", "HTTP/1.1\r\n\r\n", 0, ErrMalformedResponse},
		{"control in reason", "HTTP/1.1 101 Swit\x00ching\r\n\r\n", 0, ErrMalformedResponse},
		{"empty first line", "\r\nHTTP/1.1 101 OK\r\n\r\n", 0, ErrMalformedResponse},
		{"obs-fold", "HTTP/1.1 101 OK\r\nUpgrade: web\r\n socket\r\n\r\n", 0, ErrMalformedResponse},
		{"space before colon", "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n", 0, ErrMalformedResponse},
		{"too large", "HTTP/1.1 101 OK\r\nX: " + strings.Repeat("a", DefaultMaxHeaderBytes) + "\r\n\r\n", 0, ErrResponseTooLarge},
		{"over a small limit", rfcResponse, len(rfcResponse) - 1, ErrResponseTooLarge},
		{"too many fields", "HTTP/1.1 101 OK\r\n" + strings.Repeat("X: 1\r\n", 200) + "\r\n", 0, ErrResponseTooLarge},
		{"error with bad Content-Length", "HTTP/1.1 403 Forbidden\r\nContent-Length: x\r\n\r\n", 0, ErrMalformedResponse},
		{"101 with bad Content-Length", "HTTP/1.0 101 \nContent-Length:A\n\n", 0, ErrMalformedResponse},
		{"101 with a body", "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 5\r\n\r\nhello", 0, ErrMalformedResponse},
		{"101 with Content-Length 0, twice", "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 0, ErrMalformedResponse},
		{"101, chunked", "HTTP/1.1 101 Switching Protocols\r\nTransfer-Encoding: chunked\r\n\r\n", 0, ErrMalformedResponse},
		{"103 with a bad Content-Length", "HTTP/1.1 103 Early Hints\r\nContent-Length: x\r\n\r\n" + rfcResponse, 0, ErrMalformedResponse},
		{"endless informational", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 20), 0, ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ReadResponse(bufio.NewReader(strings.NewReader(tt.input)), nil, tt.max)
			if !errors.Is(err, tt.want) || resp != nil {
				t.Fatalf("ReadResponse = %+v, %v; want %v", resp, err, tt.want)
			}
		})
	}
	if resp, err := ReadResponse(bufio.NewReader(strings.NewReader(rfcResponse)), nil, len(rfcResponse)); err != nil {
		t.Fatalf("response exactly at the limit: %+v, %v", resp, err)
	}
}

func BenchmarkReadRequest(b *testing.B) {
	b.ReportAllocs()
	in := strings.NewReader(rfcRequestBytes)
	br := bufio.NewReader(in)
	b.SetBytes(int64(len(rfcRequestBytes)))
	for b.Loop() {
		in.Reset(rfcRequestBytes)
		br.Reset(in)
		if _, err := ReadRequest(br, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadRequestStdlib(b *testing.B) {
	b.ReportAllocs()
	in := strings.NewReader(rfcRequestBytes)
	br := bufio.NewReader(in)
	b.SetBytes(int64(len(rfcRequestBytes)))
	for b.Loop() {
		in.Reset(rfcRequestBytes)
		br.Reset(in)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReadRequest checks that ReadRequest never panics, respects its
// limit, leaves every byte after the header in the reader, refuses only
// with the statuses it documents, and accepts only what net/http reads
// the same way.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		rfcRequestBytes + maskedHello,
		"GET /a?b HTTP/1.1\nHost: h\nConnection: keep-alive, Upgrade\nconnection: x\n\n",
		"GET http://h/x HTTP/1.0\r\nHost: other\r\nX:\r\nPragma: no-cache\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", // net/http merges the two
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Add([]byte(rfcRequestBytes), uint16(len(rfcRequestBytes)))
	f.Add([]byte(rfcRequestBytes), uint16(len(rfcRequestBytes)-1))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		in := bytes.NewReader(data)
		br := bufio.NewReaderSize(in, 16+int(limit)%256)
		r, err := ReadRequest(br, int(limit))
		if err != nil {
			var e *Error
			switch {
			case errors.As(err, &e):
				if e.Status != 400 && e.Status != 431 && e.Status != 505 {
					t.Fatalf("status %d", e.Status)
				}
			case err != io.EOF && err != io.ErrUnexpectedEOF:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		consumed := len(data) - br.Buffered() - in.Len()
		max := int(limit)
		if max == 0 {
			max = DefaultMaxHeaderBytes
		}
		if consumed > max {
			t.Fatalf("accepted %d bytes with a limit of %d", consumed, max)
		}
		if rest := remaining(t, br); rest != string(data[consumed:]) {
			t.Fatalf("left %q, want %q", rest, data[consumed:])
		}
		if !bytes.HasSuffix(data[:consumed], []byte("\n\n")) && !bytes.HasSuffix(data[:consumed], []byte("\n\r\n")) {
			t.Fatalf("stopped at %d, not after an empty line: %q", consumed, data[:consumed])
		}

		std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:consumed])))
		if err != nil {
			t.Fatalf("accepted %q, which net/http refuses: %v", data[:consumed], err)
		}
		delete(std.Header, "Host")
		if r.Header.Get("Pragma") == "no-cache" && std.Header.Get("Cache-Control") == "no-cache" && r.Header.Get("Cache-Control") == "" {
			delete(std.Header, "Cache-Control") // net/http's fixPragmaCacheControl
		}
		if diff := cmp.Diff(viewRequest(std), viewRequest(r)); diff != "" {
			t.Fatalf("%q (-net/http +ours):\n%s", data[:consumed], diff)
		}

		if req, err := ParseRequest(r); err == nil {
			AppendResponse(nil, req.Key, SelectSubprotocol([]string{"chat"}, req.Protocols), AppendExtensions(nil, req.Extensions))
		}
		(*OriginPolicy)(nil).Verify(r)
	})
}

// FuzzReadResponse checks that ReadResponse never panics, respects its
// limit, leaves every byte after a 101 header in the reader, agrees with
// net/http on what it accepts, and that CheckResponse copes with the
// result.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		rfcResponse + "\x81\x05Hello",
		"HTTP/1.1 100 Continue\r\n\r\n" + rfcResponse,
		"HTTP/1.1 101\nupgrade: WebSocket\nconnection: upgrade\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n",
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\norigin",
		"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n",
		"HTTP/1.1 500 Oops\r\n\r\nserver broke",
		"HTTP/1.0 101 OK\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"10\"\r\n\r\n",
		// 1xx responses announcing a body, which net/http refuses or
		// ignores and ReadResponse refuses.
		"HTTP/1.1 101 \nContent-Length: +5\n\n",
		"HTTP/1.1 101 \nContent-Length: 0\nContent-Length: 0\n\n",
		"HTTP/1.1 101 \nTransfer-Encoding: gzip\n\n",
		"HTTP/1.0 101 \nTransfer-Encoding: chunked\nContent-Length: 5, 5\n\n",
		"HTTP/1.1 103 \nContent-Length: x\n\n" + rfcResponse,
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		in := bytes.NewReader(data)
		br := bufio.NewReaderSize(in, 16+int(limit)%256)
		resp, err := ReadResponse(br, nil, int(limit))
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) && !errors.Is(err, ErrResponseTooLarge) &&
				err != io.ErrUnexpectedEOF {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 999 || resp.StatusCode < 200 && resp.StatusCode != 101 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		_, err = CheckResponse(resp, rfcKey, []string{"chat"})
		if resp.StatusCode != 101 {
			var re *ResponseError
			if !errors.As(err, &re) || len(re.Body) > maxErrorBody {
				t.Fatalf("CheckResponse of a %d: %v", resp.StatusCode, err)
			}
			return
		}
		consumed := len(data) - br.Buffered() - in.Len()
		if rest := remaining(t, br); rest != string(data[consumed:]) {
			t.Fatalf("left %q, want %q", rest, data[consumed:])
		}
		// The last response in data[:consumed] is the 101; compare it
		// with net/http's reading of the same bytes.
		std := bufio.NewReader(bytes.NewReader(data[:consumed]))
		var sr *http.Response
		for sr == nil || sr.StatusCode != 101 {
			if sr, err = http.ReadResponse(std, nil); err != nil {
				t.Fatalf("accepted %q, which net/http refuses: %v", data[:consumed], err)
			}
		}
		if sr.Header.Get("Pragma") == "no-cache" && resp.Header.Get("Cache-Control") == "" {
			delete(sr.Header, "Cache-Control") // net/http's fixPragmaCacheControl
		}
		if diff := cmp.Diff(viewResponse(sr), viewResponse(resp)); diff != "" {
			t.Fatalf("%q (-net/http +ours):\n%s", data[:consumed], diff)
		}
	})
}

// requestView is what ReadRequest must read as net/http does.
type requestView struct {
	Method, RequestURI, URL, Proto string
	ProtoMajor, ProtoMinor         int
	Host                           string
	Close                          bool
	Header                         http.Header
}

func viewRequest(r *http.Request) requestView {
	return requestView{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.ProtoMajor, r.ProtoMinor, r.Host, r.Close, r.Header}
}

// responseView is what ReadResponse must read as net/http does.
type responseView struct {
	Status, Proto          string
	ProtoMajor, ProtoMinor int
	Header                 http.Header
}

func viewResponse(r *http.Response) responseView {
	return responseView{r.Status, r.Proto, r.ProtoMajor, r.ProtoMinor, r.Header}
}
