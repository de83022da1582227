package frame

import "encoding/binary"

// maskWideMin is the payload length from which Mask hands the bulk of the
// bytes to maskWide (the AVX2 loop on amd64); below it the call costs more
// than it saves, which the short payloads of chat traffic would pay on
// every message.
const maskWideMin = 64

// Mask XORs p in place with the masking key (RFC 6455 §5.3), starting at
// byte pos of the key (0-3), and returns the key position for the byte that
// follows p. Masking and unmasking are the same operation, so a payload can
// be processed in chunks as it streams:
//
//	pos := 0
//	for chunk := range chunks {
//		pos = frame.Mask(key, pos, chunk)
//	}
//
// Mask does not allocate. On amd64 CPUs with AVX2 it masks 32 bytes per
// instruction (mask_amd64.s); elsewhere, or built with the purego tag, it
// works a machine word at a time in pure Go.
func Mask(key [4]byte, pos int, p []byte) int {
	pos &= 3
	// Byte-wise until the key is aligned to position 0 or p runs out, so
	// the word loop can use the key in its natural order.
	for pos != 0 && len(p) > 0 {
		p[0] ^= key[pos]
		p = p[1:]
		pos = (pos + 1) & 3
	}
	key32 := binary.LittleEndian.Uint32(key[:])
	if len(p) >= maskWideMin {
		p = maskWide(key32, p)
	}
	if len(p) >= 8 {
		k32 := uint64(key32)
		k := k32 | k32<<32
		for len(p) >= 32 {
			v := p[:32:32]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k)
			binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k)
			binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k)
			p = p[32:]
		}
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
			p = p[8:]
		}
	}
	for i := range p {
		p[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}
