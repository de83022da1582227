package deflate

import "math/bits"

// Constants of the DEFLATE format (RFC 1951 §3.2.5, §3.2.6, §3.2.7).
const (
	maxMatch     = 258 // longest match a length code can express
	endOfBlock   = 256 // literal/length symbol that ends a block
	numLitLen    = 286 // literal/length symbols in use (286 and 287 never occur)
	numFixedLit  = 288 // literal/length symbols of the fixed code
	numDist      = 30  // distance symbols in use (30 and 31 never occur)
	numCodeLen   = 19  // code length alphabet
	maxCodeBits  = 15  // longest literal/length or distance code
	maxCLBits    = 7   // longest code length code
	maxStoredLen = 65535
)

// lengthBase and lengthExtra give the base length and the number of extra
// bits of length symbols 257..285 (RFC 1951 §3.2.5).
var lengthBase = [29]uint16{
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
}

var lengthExtra = [29]uint8{
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
}

// distBase and distExtra give the base distance and the number of extra
// bits of distance symbols 0..29 (RFC 1951 §3.2.5). distExtra has two
// more entries, 0, for the symbols 30 and 31 that never occur, so that a
// symbol masked to 5 bits indexes it without a bounds check.
var distBase = [30]uint16{
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
}

var distExtra = [32]uint8{
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
}

// codeLenOrder is the order in which the code lengths of the code length
// alphabet are sent in a dynamic block header (RFC 1951 §3.2.7).
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// lengthCodeExtra maps a match length minus 3 to its length symbol minus
// 257 (bits 0-7), that symbol's number of extra bits (8-15) and the mask
// of those bits (16-23).
var lengthCodeExtra = func() (t [256]uint32) {
	for code := range lengthBase {
		x := uint32(lengthExtra[code])
		lo := int(lengthBase[code]) - 3
		for l := lo; l < lo+1<<x && l < 256; l++ {
			t[l] = uint32(code) | x<<8 | (1<<x-1)<<16
		}
	}
	return t // the last symbol, 285 (length 258), overwrites 284's top entry
}()

// distCode returns the distance symbol of a distance minus one.
func distCode(off uint32) uint32 {
	if off < 4 {
		return off
	}
	n := uint32(bits.Len32(off)) // >= 3
	return 2*(n-1) + (off>>(n-2))&1
}

// fixedLitLen returns the length of literal/length symbol s in the fixed
// code (RFC 1951 §3.2.6).
func fixedLitLen(s int) uint8 {
	switch {
	case s < 144:
		return 8
	case s < 256:
		return 9
	case s < 280:
		return 7
	}
	return 8
}

// fixedLitLens and fixedDistLens are the code lengths of the fixed code.
var fixedLitLens = func() (t [numFixedLit]uint8) {
	for s := range t {
		t[s] = fixedLitLen(s)
	}
	return t
}()

var fixedDistLens = func() (t [32]uint8) {
	for s := range t {
		t[s] = 5
	}
	return t
}()

// reverseBits reverses the low n bits of v: DEFLATE packs Huffman codes
// starting with their most significant bit (RFC 1951 §3.1.1), and our bit
// writer and reader work from the least significant end.
func reverseBits(v uint16, n uint8) uint16 {
	return bits.Reverse16(v) >> (16 - n)
}

// canonicalCodes assigns the canonical codes of RFC 1951 §3.2.2 to the
// code lengths lens and stores them bit-reversed in codes.
func canonicalCodes(lens []uint8, codes []uint16) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			codes[s] = reverseBits(next[l], l)
			next[l]++
		}
	}
}
