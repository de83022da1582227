package frame

import (
	"encoding/binary"
	"math"
)

// Bits of the first header byte that RFC 6455 §5.2 reserves for extensions.
// Header.RSV holds them in these positions.
const (
	RSV1 byte = 0x40
	RSV2 byte = 0x20
	RSV3 byte = 0x10
)

// MaxHeaderSize is the longest encoded header: 2 fixed bytes, an 8-byte
// extended length and a 4-byte masking key (RFC 6455 §5.2).
const MaxHeaderSize = 14

// Header is a decoded frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool
	RSV    byte // RSV1|RSV2|RSV3 in their wire positions
	Opcode Opcode
	Masked bool
	Key    [4]byte // masking key, meaningful when Masked
	Length int64   // payload length
}

// Size returns the number of bytes AppendHeader writes for h.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > math.MaxUint16:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire encoding of h to dst, using the shortest of
// the three length encodings (RFC 6455 §5.2). It does not validate h; a
// negative Length is encoded as zero.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := h.firstByte()
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	n := max(h.Length, 0)
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= math.MaxUint16:
		dst = append(dst, b0, b1|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if h.Masked {
		dst = append(dst, h.Key[:]...)
	}
	return dst
}

// firstByte returns the first byte of h's encoding: FIN, RSV1-3, opcode.
func (h Header) firstByte() byte {
	b0 := byte(h.Opcode&0xF) | h.RSV&(RSV1|RSV2|RSV3)
	if h.Fin {
		b0 |= 0x80
	}
	return b0
}

// ParseHeader decodes the frame header at the front of b and returns it with
// its encoded size. When b holds only part of a header, ParseHeader returns
// n == 0 and a nil error: call it again with more bytes.
//
// ParseHeader enforces the rules that hold for every frame whoever receives
// it and returns a *ProtocolError when one is broken: reserved opcodes,
// control frames that are fragmented or longer than 125 bytes, 64-bit
// lengths with the most significant bit set, and lengths not in their
// minimal encoding (RFC 6455 §5.2: "the minimal number of bytes MUST be
// used to encode the length"). Violations visible in the first two bytes
// are reported from those two bytes. Rules that depend on the receiver
// are left to [Header.Check].
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 0, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.RSV = b0 & (RSV1 | RSV2 | RSV3)
	h.Opcode = Opcode(b0 & 0xF)
	h.Masked = b1&0x80 != 0
	if h.Opcode.IsReserved() {
		return Header{}, 0, ErrReservedOpcode
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return Header{}, 0, ErrControlFragmented
		}
		// A 7-bit length of 126 or 127 announces more than 125 bytes,
		// or is not minimal: wrong either way.
		if b1&0x7F > MaxControlPayload {
			return Header{}, 0, ErrControlTooLong
		}
	}
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return Header{}, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		if h.Length < 126 {
			return Header{}, 0, ErrNonMinimalLength
		}
		n = 4
	case 127:
		if len(b) < 10 {
			return Header{}, 0, nil
		}
		v := binary.BigEndian.Uint64(b[2:])
		if v > math.MaxInt64 {
			return Header{}, 0, ErrLengthOverflow
		}
		if v <= math.MaxUint16 {
			return Header{}, 0, ErrNonMinimalLength
		}
		h.Length = int64(v)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return Header{}, 0, nil
		}
		copy(h.Key[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// Check applies the header rules that depend on the receiving endpoint.
// server tells whether the receiver is a server: servers require masked
// frames and clients require unmasked ones (RFC 6455 §5.1). rsv holds the
// reserved bits that negotiated extensions own; any other reserved bit set
// is a protocol error (§5.2).
func (h Header) Check(server bool, rsv byte) error {
	if h.RSV&^rsv != 0 {
		return ErrReservedBits
	}
	if server && !h.Masked {
		return ErrUnmaskedFrame
	}
	if !server && h.Masked {
		return ErrMaskedFrame
	}
	return nil
}
