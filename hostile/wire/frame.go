// Package wire builds and parses the bytes of WebSocket handshakes and
// frames (RFC 6455 §4, §5) for the hostile-peer tool. It is deliberately
// independent of the project's frame, handshake and deflate packages: the
// tool judges those, so it must not share their code or their bugs. The
// code is small and written for obviousness, not speed, and it never
// refuses to build a malformed frame: building malformed frames is its job.
package wire

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Bits of the first header byte (RFC 6455 §5.2). RSV1 is the "compressed"
// bit of permessage-deflate (RFC 7692 §6).
const (
	RSV1 byte = 0x40
	RSV2 byte = 0x20
	RSV3 byte = 0x10
)

// Header is a frame header as it goes on the wire. Length is the declared
// payload length, which need not match any payload: declaring lengths a
// peer will never send is one of the attacks.
type Header struct {
	Fin    bool
	RSV    byte // RSV1|RSV2|RSV3 bits, in their first-byte positions
	Opcode byte // 4 bits; reserved values are allowed
	Masked bool
	Key    [4]byte // masking key, used when Masked
	Length uint64
}

// ErrShort is returned by ParseHeader when b does not hold a whole header.
var ErrShort = errors.New("wire: need more bytes")

// NewMaskKey returns a masking key from crypto/rand, as RFC 6455 §5.3
// requires of clients.
func NewMaskKey() [4]byte {
	var k [4]byte
	rand.Read(k[:])
	return k
}

// AppendHeader appends h in the shortest length encoding (RFC 6455 §5.2:
// 7 bits up to 125, 16 bits up to 65535, 64 bits beyond).
func AppendHeader(dst []byte, h Header) []byte {
	b0 := h.Opcode&0x0f | h.RSV&0x70
	if h.Fin {
		b0 |= 0x80
	}
	var maskBit byte
	if h.Masked {
		maskBit = 0x80
	}
	switch {
	case h.Length <= 125:
		dst = append(dst, b0, maskBit|byte(h.Length))
	case h.Length <= 0xffff:
		dst = append(dst, b0, maskBit|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, maskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, h.Length)
	}
	if h.Masked {
		dst = append(dst, h.Key[:]...)
	}
	return dst
}

// AppendFrame appends a whole frame: h with Length set to len(payload),
// then payload, masked with h.Key when h.Masked (RFC 6455 §5.3).
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.Length = uint64(len(payload))
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(h.Key, 0, dst[start:])
	}
	return dst
}

// ClientFrame appends a frame as a client sends it: masked with a fresh
// key from crypto/rand. rsv is added to the first byte as is.
func ClientFrame(dst []byte, opcode byte, fin bool, rsv byte, payload []byte) []byte {
	return AppendFrame(dst, Header{Fin: fin, RSV: rsv, Opcode: opcode, Masked: true, Key: NewMaskKey()}, payload)
}

// Mask XORs b in place with key, b being the payload bytes from offset
// pos (RFC 6455 §5.3: octet i is XORed with key[i mod 4]). It returns the
// offset after b, for masking a payload in pieces.
func Mask(key [4]byte, pos uint64, b []byte) uint64 {
	for i := range b {
		b[i] ^= key[(pos+uint64(i))&3]
	}
	return pos + uint64(len(b))
}

// ParseHeader parses the header at the start of b and returns it with its
// size in bytes, or ErrShort when b is too short to hold it. It accepts
// every bit pattern: judging them is the caller's business.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShort
	}
	h := Header{
		Fin:    b[0]&0x80 != 0,
		RSV:    b[0] & 0x70,
		Opcode: b[0] & 0x0f,
		Masked: b[1]&0x80 != 0,
	}
	n := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < n+2 {
			return Header{}, 0, ErrShort
		}
		h.Length = uint64(binary.BigEndian.Uint16(b[n:]))
		n += 2
	case 127:
		if len(b) < n+8 {
			return Header{}, 0, ErrShort
		}
		h.Length = binary.BigEndian.Uint64(b[n:])
		n += 8
	default:
		h.Length = uint64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return Header{}, 0, ErrShort
		}
		copy(h.Key[:], b[n:])
		n += 4
	}
	return h, n, nil
}

// ClosePayload returns the payload of a close frame with code and reason
// (RFC 6455 §5.5.1: a 2-byte code in network order, then the reason).
func ClosePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// ParseClose returns the code and reason of a close payload; an empty
// payload has code 1005 (RFC 6455 §7.1.5) and a 1-byte payload, which is
// invalid, reports ok false.
func ParseClose(p []byte) (code int, reason string, ok bool) {
	switch len(p) {
	case 0:
		return 1005, "", true
	case 1:
		return 0, "", false
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:]), true
}
