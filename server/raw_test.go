package server_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
)

const validRaw = "GET /chat HTTP/1.1\r\nHost: server.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// memConn is a net.Conn whose reads come from a fixed input, then io.EOF,
// and whose writes are recorded: a client that sends input, half-closes
// and listens.
type memConn struct {
	in  *strings.Reader
	out strings.Builder
}

func (c *memConn) Read(p []byte) (int, error)         { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)        { return c.out.Write(p) }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// upgradeInput runs Upgrade on a connection that delivers input and then
// ends, and returns what the server wrote and Upgrade's error.
func upgradeInput(input string) (string, error) {
	nc := &memConn{in: strings.NewReader(input)}
	c, _, err := server.Upgrade(nc, nil)
	if err == nil {
		c.CloseNow()
	}
	return nc.out.String(), err
}

// TestUpgradeMalformed: requests the raw path must refuse, each with the
// status it earns; none may panic or hang.
func TestUpgradeMalformed(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		status int // 0: no answer (nothing to answer)
	}{
		{"binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", http.StatusBadRequest},
		{"empty line first", "\r\n" + validRaw, http.StatusBadRequest},
		{"HTTP/1.0", strings.Replace(validRaw, "HTTP/1.1", "HTTP/1.0", 1), http.StatusBadRequest},
		{"HTTP/2.0 request line", strings.Replace(validRaw, "HTTP/1.1", "HTTP/2.0", 1), http.StatusHTTPVersionNotSupported},
		{"obsolete line folding", strings.Replace(validRaw, "Upgrade: websocket\r\n", "Upgrade:\r\n websocket\r\n", 1), http.StatusBadRequest},
		{"space before colon", strings.Replace(validRaw, "Upgrade: ", "Upgrade : ", 1), http.StatusBadRequest},
		{"body announced", strings.Replace(validRaw, "\r\n\r\n", "\r\nContent-Length: 5\r\n\r\nhello", 1), http.StatusBadRequest},
		{"two keys", strings.Replace(validRaw, "\r\n\r\n", "\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC==\r\n\r\n", 1), http.StatusBadRequest},
		{"no Host", strings.Replace(validRaw, "Host: server.example\r\n", "", 1), http.StatusBadRequest},
		{"too many header lines", strings.Replace(validRaw, "\r\n\r\n", "\r\n"+strings.Repeat("X: y\r\n", 200)+"\r\n", 1), http.StatusRequestHeaderFieldsTooLarge},
		{"one endless line", "GET /" + strings.Repeat("a", 20000), http.StatusRequestHeaderFieldsTooLarge},
		{"closed before the end", validRaw[:40], 0},
		{"nothing", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := upgradeInput(tt.input)
			if err == nil {
				t.Fatal("Upgrade accepted the request")
			}
			if tt.status == 0 {
				if answer != "" {
					t.Errorf("answered %q to an incomplete request", answer)
				}
				return
			}
			var he *handshake.Error
			if !errors.As(err, &he) || he.Status != tt.status {
				t.Errorf("Upgrade: %v, want a *handshake.Error with %d", err, tt.status)
			}
			resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(answer)), nil)
			if rerr != nil || resp.StatusCode != tt.status {
				t.Errorf("answer %q (%v), want status %d", answer, rerr, tt.status)
			}
		})
	}
}

func TestUpgradeValidPipe(t *testing.T) {
	answer, err := upgradeInput(validRaw)
	if err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	if !strings.HasPrefix(answer, want) {
		t.Errorf("answer %q, want it to start with the RFC 6455 §1.3 response %q", answer, want)
	}
}

// FuzzUpgrade feeds arbitrary bytes to the raw handshake: it must never
// panic or hang, and it answers 101 exactly when it succeeds, with a
// parseable HTTP response otherwise (or nothing for an incomplete
// request).
func FuzzUpgrade(f *testing.F) {
	f.Add(validRaw)
	f.Add(strings.Replace(validRaw, "13", "8", 1))
	f.Add("GET / HTTP/1.1\r\n\r\n")
	f.Add("\x00\x01\x02")
	f.Fuzz(func(t *testing.T, input string) {
		answer, err := upgradeInput(input)
		if err == nil {
			if !strings.HasPrefix(answer, "HTTP/1.1 101 ") {
				t.Fatalf("accepted with answer %q", answer)
			}
			return
		}
		if answer == "" {
			return
		}
		resp, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(answer)), nil)
		if rerr != nil || resp.StatusCode < 400 {
			t.Fatalf("refused with answer %q (%v)", answer, rerr)
		}
	})
}
