package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// smuggledFrame is a masked text frame carrying "smuggled" (RFC 6455
// §5.2, §5.3): FIN and text, mask bit and length 8, the masking key
// 37 fa 21 3d, then the payload XORed with it: 14 bytes in all.
var smuggledFrame = func() []byte {
	key := []byte{0x37, 0xfa, 0x21, 0x3d}
	b := append([]byte{0x81, 0x88}, key...)
	for i, c := range []byte("smuggled") {
		b = append(b, c^key[i%4])
	}
	return b
}()

// TestUpgradeWithBody sends upgrade requests that carry a body, the
// frame above, as exact bytes over loopback TCP to both server modes. An
// upgrade request has no body (RFC 6455 §4.1, RFC 7230 §3.3.3), and the
// bytes after its header are read as WebSocket frames: through net/http
// Accept used to answer 101 and echo "smuggled" to a request with
// "Content-Length: 14", and answer 101 then fail with 1002 to a chunked
// one. Both modes must answer 400 before any 101 and close the
// connection at once. The rows without a body are the control: the same
// frame after the header is a first frame, and is echoed.
func TestUpgradeWithBody(t *testing.T) {
	chunked := append(append([]byte("e\r\n"), smuggledFrame...), "\r\n0\r\n\r\n"...)
	tests := []struct {
		name   string
		fields string // header fields after the valid ones
		after  []byte // bytes after the header
		status int
	}{
		{"no body, frame after the header", "", smuggledFrame, http.StatusSwitchingProtocols},
		{"Content-Length: 0, frame after the header", "Content-Length: 0\r\n", smuggledFrame, http.StatusSwitchingProtocols},
		{"Content-Length: 14", "Content-Length: 14\r\n", smuggledFrame, http.StatusBadRequest},
		{"Transfer-Encoding: chunked", "Transfer-Encoding: chunked\r\n", chunked, http.StatusBadRequest},
		{"Transfer-Encoding: chunked, empty body", "Transfer-Encoding: chunked\r\n", []byte("0\r\n\r\n"), http.StatusBadRequest},
	}
	for _, mode := range serverModes {
		t.Run(mode.name, func(t *testing.T) {
			addr := mode.start(t, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					nc := dialRaw(t, addr)
					req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
						"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + tt.fields + "\r\n"
					if _, err := nc.Write(append([]byte(req), tt.after...)); err != nil {
						t.Fatal(err)
					}
					br := bufio.NewReader(nc)
					resp := readStatus(t, br)
					if resp.StatusCode != tt.status {
						t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
					}
					if tt.status == http.StatusSwitchingProtocols {
						// The echo of the frame: unmasked, from the server.
						want := append([]byte{0x81, 0x08}, "smuggled"...)
						got := make([]byte, len(want))
						if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, want) {
							t.Fatalf("echo % x (%v), want % x", got, err, want)
						}
						return
					}
					body, _ := io.ReadAll(resp.Body)
					if !strings.Contains(string(body), "no body") {
						t.Errorf("body %q does not say why", body)
					}
					d := awaitEOF(t, nc, br)
					t.Logf("answered %d and closed %v after the answer", resp.StatusCode, d)
				})
			}
		})
	}
}
