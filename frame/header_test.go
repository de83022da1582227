package frame

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// RFC 6455 §5.7 examples, byte for byte.
var rfcVectors = []struct {
	name    string
	h       Header
	payload string // unmasked payload
	wire    []byte // header followed by the (masked) payload
}{
	{"unmasked Hello", Header{Fin: true, Opcode: OpText, Length: 5}, "Hello",
		[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
	{"masked Hello", Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}, "Hello",
		[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
	{"fragment Hel", Header{Opcode: OpText, Length: 3}, "Hel",
		[]byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
	{"fragment lo", Header{Fin: true, Opcode: OpContinuation, Length: 2}, "lo",
		[]byte{0x80, 0x02, 0x6c, 0x6f}},
	{"unmasked ping", Header{Fin: true, Opcode: OpPing, Length: 5}, "Hello",
		[]byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
	{"masked pong", Header{Fin: true, Opcode: OpPong, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}, "Hello",
		[]byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
}

func TestRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			got := AppendHeader(nil, v.h)
			payload := []byte(v.payload)
			if v.h.Masked {
				Mask(v.h.Key, 0, payload)
			}
			got = append(got, payload...)
			if !bytes.Equal(got, v.wire) {
				t.Fatalf("encode = % x, want % x", got, v.wire)
			}
			h, n, err := ParseHeader(v.wire)
			if err != nil || n != len(v.wire)-len(v.payload) {
				t.Fatalf("ParseHeader = %d, %v; want %d, nil", n, err, len(v.wire)-len(v.payload))
			}
			if diff := cmp.Diff(v.h, h); diff != "" {
				t.Fatalf("ParseHeader (-want +got):\n%s", diff)
			}
			p := bytes.Clone(v.wire[n:])
			if h.Masked {
				Mask(h.Key, 0, p)
			}
			if string(p) != v.payload {
				t.Fatalf("payload = %q, want %q", p, v.payload)
			}
		})
	}
}

// RFC 6455 §5.7: 256 bytes and 64 KiB binary messages in a single unmasked frame.
func TestRFCLengthEncodings(t *testing.T) {
	tests := []struct {
		length int64
		wire   []byte
	}{
		{256, []byte{0x82, 0x7E, 0x01, 0x00}},
		{65536, []byte{0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}},
		{125, []byte{0x82, 0x7D}},
		{126, []byte{0x82, 0x7E, 0x00, 0x7E}},
		{65535, []byte{0x82, 0x7E, 0xFF, 0xFF}},
		{1<<63 - 1, []byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
	}
	for _, tt := range tests {
		h := Header{Fin: true, Opcode: OpBinary, Length: tt.length}
		if got := AppendHeader(nil, h); !bytes.Equal(got, tt.wire) {
			t.Errorf("AppendHeader(len %d) = % x, want % x", tt.length, got, tt.wire)
		}
		if h.Size() != len(tt.wire) {
			t.Errorf("Size(len %d) = %d, want %d", tt.length, h.Size(), len(tt.wire))
		}
		got, n, err := ParseHeader(tt.wire)
		if err != nil || n != len(tt.wire) {
			t.Errorf("ParseHeader(% x) = %d, %v; want %d, nil", tt.wire, n, err, len(tt.wire))
		}
		if diff := cmp.Diff(h, got); diff != "" {
			t.Errorf("ParseHeader(% x) (-want +got):\n%s", tt.wire, diff)
		}
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		err  error
		code StatusCode
	}{
		{"reserved opcode 3", []byte{0x83, 0x00}, ErrReservedOpcode, StatusProtocolError},
		{"reserved opcode 7", []byte{0x87, 0x00}, ErrReservedOpcode, StatusProtocolError},
		{"reserved opcode B", []byte{0x8B, 0x00}, ErrReservedOpcode, StatusProtocolError},
		{"reserved opcode F", []byte{0x8F, 0x00}, ErrReservedOpcode, StatusProtocolError},
		{"ping of 126 bytes", []byte{0x89, 0x7E, 0x00, 0x7E}, ErrControlTooLong, StatusProtocolError},
		{"close with 64-bit length 126", []byte{0x88, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7E}, ErrControlTooLong, StatusProtocolError},
		{"fragmented ping", []byte{0x09, 0x00}, ErrControlFragmented, StatusProtocolError},
		{"fragmented close", []byte{0x08, 0x00}, ErrControlFragmented, StatusProtocolError},
		{"length top bit set", []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthOverflow, StatusProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := ParseHeader(tt.wire)
			if !errors.Is(err, tt.err) || n != 0 {
				t.Fatalf("ParseHeader = %d, %v; want 0, %v", n, err, tt.err)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.code {
				t.Fatalf("close code = %v, want %v", pe, tt.code)
			}
		})
	}
}

func TestHeaderCheck(t *testing.T) {
	tests := []struct {
		name   string
		h      Header
		server bool
		rsv    byte
		err    error
	}{
		{"server gets masked", Header{Masked: true}, true, 0, nil},
		{"server gets unmasked", Header{}, true, 0, ErrUnmaskedFrame},
		{"client gets unmasked", Header{}, false, 0, nil},
		{"client gets masked", Header{Masked: true}, false, 0, ErrMaskedFrame},
		{"RSV1 not negotiated", Header{RSV: RSV1}, false, 0, ErrReservedBits},
		{"RSV1 negotiated", Header{RSV: RSV1}, false, RSV1, nil},
		{"RSV2 with RSV1 negotiated", Header{RSV: RSV2}, false, RSV1, ErrReservedBits},
		{"RSV3", Header{RSV: RSV3, Masked: true}, true, RSV1, ErrReservedBits},
	}
	for _, tt := range tests {
		if err := tt.h.Check(tt.server, tt.rsv); !errors.Is(err, tt.err) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.err)
		}
	}
}

// Every proper prefix of a header asks for more bytes; the whole parses.
func TestParseHeaderIncomplete(t *testing.T) {
	for _, h := range []Header{
		{Fin: true, Opcode: OpText, Length: 5},
		{Fin: true, Opcode: OpBinary, Length: 300, Masked: true, Key: [4]byte{1, 2, 3, 4}},
		{Opcode: OpBinary, Length: 1 << 40, Masked: true, Key: [4]byte{5, 6, 7, 8}},
	} {
		wire := AppendHeader(nil, h)
		for i := range len(wire) {
			if got, n, err := ParseHeader(wire[:i]); n != 0 || err != nil {
				t.Fatalf("ParseHeader(%d of %d bytes) = %+v, %d, %v; want need more", i, len(wire), got, n, err)
			}
		}
		got, n, err := ParseHeader(wire)
		if err != nil || n != len(wire) {
			t.Fatalf("ParseHeader = %d, %v; want %d, nil", n, err, len(wire))
		}
		if diff := cmp.Diff(h, got); diff != "" {
			t.Fatalf("ParseHeader (-want +got):\n%s", diff)
		}
	}
}

// Lengths must use their minimal encoding (RFC 6455 §5.2); the smallest
// length of each extended form is accepted. A control frame's 7-bit length
// of 126 or 127 is refused from the first two bytes.
func TestParseHeaderMinimalLength(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		want error
		len  int64
	}{
		{"5 in 16 bits", []byte{0x82, 0x7E, 0x00, 0x05}, ErrNonMinimalLength, 0},
		{"125 in 16 bits", []byte{0x82, 0x7E, 0x00, 0x7D}, ErrNonMinimalLength, 0},
		{"126 in 16 bits", []byte{0x82, 0x7E, 0x00, 0x7E}, nil, 126},
		{"65535 in 64 bits", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, ErrNonMinimalLength, 0},
		{"5 in 64 bits", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5}, ErrNonMinimalLength, 0},
		{"65536 in 64 bits", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, nil, 65536},
		{"close, 48 in 16 bits", []byte{0x88, 0xFE, 0x00, 0x30, 1, 2, 3, 4}, ErrControlTooLong, 0},
		{"ping, 16-bit form, first two bytes only", []byte{0x89, 0x7E}, ErrControlTooLong, 0},
		{"pong, 64-bit form, first two bytes only", []byte{0x8A, 0x7F}, ErrControlTooLong, 0},
	} {
		h, _, err := ParseHeader(tt.in)
		if err != tt.want || (err == nil && h.Length != tt.len) {
			t.Errorf("%s: ParseHeader = length %d, %v; want %d, %v", tt.name, h.Length, err, tt.len, tt.want)
		}
	}
}

func TestHeaderAllocs(t *testing.T) {
	buf := make([]byte, 0, MaxHeaderSize)
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 70000}
	wire := AppendHeader(nil, h)
	if n := testing.AllocsPerRun(100, func() { buf = AppendHeader(buf[:0], h) }); n != 0 {
		t.Errorf("AppendHeader allocs = %v, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = ParseHeader(wire) }); n != 0 {
		t.Errorf("ParseHeader allocs = %v, want 0", n)
	}
}

func TestOpcodeString(t *testing.T) {
	for op, want := range map[Opcode]string{OpText: "text", OpPong: "pong", 0x3: "opcode(3)"} {
		if got := op.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", op, got, want)
		}
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	buf := make([]byte, 0, MaxHeaderSize)
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1024}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], h)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1024})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseHeader(wire); err != nil {
			b.Fatal(err)
		}
	}
}
