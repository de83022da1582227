package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The example frames of RFC 6455 §5.7, and the smuggled frame of the
// upgrade-with-body attacks, as exact bytes.
func TestAppendFrame(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name    string
		h       Header
		payload []byte
		want    []byte
	}{
		{"unmasked Hello", Header{Fin: true, Opcode: OpText}, []byte("Hello"),
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked Hello", Header{Fin: true, Opcode: OpText, Masked: true, Key: key}, []byte("Hello"),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment Hel", Header{Opcode: OpText}, []byte("Hel"), []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"last fragment lo", Header{Fin: true, Opcode: OpContinuation}, []byte("lo"), []byte{0x80, 0x02, 0x6c, 0x6f}},
		{"unmasked ping Hello", Header{Fin: true, Opcode: OpPing}, []byte("Hello"),
			[]byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"256 bytes binary", Header{Fin: true, Opcode: OpBinary}, make([]byte, 256),
			append([]byte{0x82, 0x7e, 0x01, 0x00}, make([]byte, 256)...)},
		{"65536 bytes binary", Header{Fin: true, Opcode: OpBinary}, make([]byte, 65536),
			append([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 65536)...)},
		{"smuggled", Header{Fin: true, Opcode: OpText, Masked: true, Key: key}, []byte("smuggled"),
			append([]byte{0x81, 0x88, 0x37, 0xfa, 0x21, 0x3d}, maskedCopy(key, "smuggled")...)},
		{"RSV bits and reserved opcode kept", Header{Fin: true, RSV: RSV1 | RSV2 | RSV3, Opcode: 0xB}, nil, []byte{0xfb, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendFrame(nil, tt.h, tt.payload)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("AppendFrame = % x\nwant          % x", got, tt.want)
			}
			h, n, err := ParseHeader(got)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.h
			want.Length = uint64(len(tt.payload))
			if h != want {
				t.Errorf("ParseHeader = %+v, want %+v", h, want)
			}
			if n != len(got)-len(tt.payload) {
				t.Errorf("ParseHeader size %d, want %d", n, len(got)-len(tt.payload))
			}
		})
	}
}

func maskedCopy(key [4]byte, s string) []byte {
	b := []byte(s)
	for i := range b {
		b[i] ^= key[i%4]
	}
	return b
}

func TestHugeLength(t *testing.T) {
	b := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: 1 << 62})
	want := []byte{0x82, 0x7f, 0x40, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("header % x, want % x", b, want)
	}
}

func TestParseHeaderShort(t *testing.T) {
	full := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000})
	for n := range len(full) {
		if _, _, err := ParseHeader(full[:n]); !errors.Is(err, ErrShort) {
			t.Errorf("%d of %d bytes: err %v, want ErrShort", n, len(full), err)
		}
	}
}

func TestMaskInPieces(t *testing.T) {
	key := NewMaskKey()
	whole := []byte("a payload masked in pieces of odd sizes")
	want := maskedCopy(key, string(whole))
	var pos uint64
	for _, piece := range [][]byte{whole[:3], whole[3:4], whole[4:17], whole[17:]} {
		pos = Mask(key, pos, piece)
	}
	if !bytes.Equal(whole, want) {
		t.Errorf("masked in pieces % x, want % x", whole, want)
	}
}

func TestReader(t *testing.T) {
	var stream []byte
	stream = AppendFrame(stream, Header{Fin: true, Opcode: OpText}, []byte("hi"))
	stream = AppendFrame(stream, Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte("masked"))
	stream = AppendFrame(stream, Header{Fin: true, Opcode: OpBinary}, make([]byte, 100))
	stream = AppendFrame(stream, Header{Fin: true, Opcode: OpClose}, ClosePayload(1002, "bad"))
	r := &Reader{R: bufio.NewReader(iotest.OneByteReader(bytes.NewReader(stream))), MaxPayload: 50}
	var got []string
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(f.Payload)+map[bool]string{true: "<discarded>"}[f.Discarded])
	}
	want := []string{"hi", "masked", "<discarded>", string(ClosePayload(1002, "bad"))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	// A frame cut short is an unexpected EOF, not a clean end.
	r = NewReader(bufio.NewReader(bytes.NewReader(stream[:7])))
	if f, err := r.ReadFrame(); err != nil || string(f.Payload) != "hi" {
		t.Fatalf("first frame %q, %v", f.Payload, err)
	}
	if _, err := r.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Errorf("cut frame: err %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestParseClose(t *testing.T) {
	tests := []struct {
		payload []byte
		code    int
		reason  string
		ok      bool
	}{
		{nil, 1005, "", true},
		{[]byte{3}, 0, "", false},
		{ClosePayload(1000, ""), 1000, "", true},
		{ClosePayload(1009, "too big"), 1009, "too big", true},
	}
	for _, tt := range tests {
		code, reason, ok := ParseClose(tt.payload)
		if code != tt.code || reason != tt.reason || ok != tt.ok {
			t.Errorf("ParseClose(% x) = %d %q %v, want %d %q %v", tt.payload, code, reason, ok, tt.code, tt.reason, tt.ok)
		}
	}
}

// RFC 6455 §1.3's example key and answer.
func TestAcceptKey(t *testing.T) {
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey = %q, want %q", got, want)
	}
}

func TestAppendRequest(t *testing.T) {
	got := string(AppendRequest(nil, Request{Host: "h:1", Path: "/p?q", Key: "k", Extensions: "permessage-deflate",
		Extra: []string{"Content-Length: 2"}, Body: []byte("xy")}))
	want := "GET /p?q HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\nContent-Length: 2\r\n\r\nxy"
	if got != want {
		t.Errorf("request:\n%q\nwant\n%q", got, want)
	}
}

func TestReadResponse(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct {
		name       string
		in         string
		max        int
		status     int
		err        string // substring of the error; "" for none
		upgradeErr string // substring of CheckUpgrade's error; "" for none
	}{
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nrest", 1000, 101, "", ""},
		{"wrong accept", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n", 1000, 101, "", "Accept"},
		{"431", "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n", 1000, 431, "", "status 431"},
		{"LF only", "HTTP/1.0 400 Bad\nX: y\n\n", 1000, 400, "", "status 400"},
		{"too long", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n", 50, 200, "too long", ""},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 1000, 0, "malformed status", ""},
		{"cut", "HTTP/1.1 101 Switching", 1000, 0, "EOF", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ReadResponse(bufio.NewReader(strings.NewReader(tt.in)), tt.max)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status {
				t.Errorf("status %d, want %d", resp.Status, tt.status)
			}
			err = CheckUpgrade(resp, key)
			if (tt.upgradeErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.upgradeErr) {
				t.Errorf("CheckUpgrade: %v, want error with %q", err, tt.upgradeErr)
			}
		})
	}
}
