package engine

import "encoding/binary"

// The suite's own DEFLATE compressor (RFC 1951) for windows below 15 bits,
// where compress/flate cannot be used: it always matches up to 32 KiB
// back, so its output would break a testee's smaller window (RFC 7692
// §7.1.2.1). It is deliberately simple: greedy LZ77 with one candidate per
// hash, every match at most 2^bits back, coded with the fixed Huffman codes
// of RFC 1951 §3.2.6 in a single block. It compresses worse than the
// library's encoder, which does not matter: a verdict depends only on the
// testee echoing what it was sent.

// lengthBase and lengthExtra are RFC 1951 §3.2.5's length codes 257-285.
var lengthBase = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}

// distBase and distExtra are RFC 1951 §3.2.5's distance codes 0-29.
var distBase = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

// codeFor returns the index of the last base not above v.
func codeFor(bases []int, v int) int {
	i := 0
	for i+1 < len(bases) && bases[i+1] <= v {
		i++
	}
	return i
}

// bitWriter packs bits least significant first (RFC 1951 §3.1.1).
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes a Huffman code of n bits, which RFC 1951 §3.1.1 packs
// starting with its most significant bit.
func (w *bitWriter) code(c uint64, n uint) { w.bits(reverseBits(c, n), n) }

// reverseBits returns the n low bits of c in reverse order.
func reverseBits(c uint64, n uint) uint64 {
	var r uint64
	for i := uint(0); i < n; i++ {
		r = r<<1 | c>>i&1
	}
	return r
}

// fixedLitCode returns the fixed code of literal/length symbol sym and
// its length (RFC 1951 §3.2.6).
func fixedLitCode(sym int) (code uint64, n uint) {
	switch {
	case sym <= 143:
		return uint64(0x30 + sym), 8
	case sym <= 255:
		return uint64(0x190 + sym - 144), 9
	case sym <= 279:
		return uint64(sym - 256), 7
	default:
		return uint64(0xc0 + sym - 280), 8
	}
}

// fixedCodes holds, for the hot loop, the fixed literal/length codes
// already bit-reversed, and the length and distance code of each length
// and distance a match can have.
var fixedCodes = func() (t struct {
	lit      [288]uint16
	litBits  [288]uint8
	lenCode  [259]uint8
	distCode [1<<14 + 1]uint8
}) {
	for sym := range t.lit {
		c, n := fixedLitCode(sym)
		t.lit[sym], t.litBits[sym] = uint16(reverseBits(c, n)), uint8(n)
	}
	for l := 3; l <= 258; l++ {
		t.lenCode[l] = uint8(codeFor(lengthBase[:], l))
	}
	for d := 1; d < len(t.distCode); d++ {
		t.distCode[d] = uint8(codeFor(distBase[:], d))
	}
	return t
}()

func (w *bitWriter) lit(sym int) {
	w.bits(uint64(fixedCodes.lit[sym]), uint(fixedCodes.litBits[sym]))
}

func (w *bitWriter) match(length, dist int) {
	lc := int(fixedCodes.lenCode[length])
	w.lit(257 + lc)
	w.bits(uint64(length-lengthBase[lc]), lengthExtra[lc])
	dc := int(fixedCodes.distCode[dist])
	w.code(uint64(dc), 5)
	w.bits(uint64(dist-distBase[dc]), distExtra[dc])
}

// smallWindowCompressor compresses messages for a window of 2^bits bytes,
// keeping the last 2^bits bytes as history when context takeover is on.
type smallWindowCompressor struct {
	window   int
	takeover bool
	hist     []byte
	table    []int32 // hash of 4 bytes -> position + 1 in buf
}

const smallHashBits = 14

func newSmallWindowCompressor(bits int, takeover bool) *smallWindowCompressor {
	return &smallWindowCompressor{window: 1 << bits, takeover: takeover, table: make([]int32, 1<<smallHashBits)}
}

func hash4(b []byte) uint32 {
	return binary.LittleEndian.Uint32(b) * 2654435761 >> (32 - smallHashBits)
}

// compress returns msg as one fixed-Huffman block followed by a sync
// flush whose 00 00 ff ff tail is removed (RFC 7692 §7.2.1).
func (c *smallWindowCompressor) compress(msg []byte) []byte {
	buf := append(c.hist, msg...)
	clear(c.table)
	for p := 0; p+4 <= len(c.hist); p++ {
		c.table[hash4(buf[p:])] = int32(p + 1)
	}
	w := bitWriter{out: make([]byte, 0, len(msg)+len(msg)/8+16)}
	w.bits(0, 1) // BFINAL 0
	w.bits(1, 2) // BTYPE 01: fixed Huffman codes
	for p := len(c.hist); p < len(buf); {
		if p+4 <= len(buf) {
			h := hash4(buf[p:])
			cand := int(c.table[h]) - 1
			c.table[h] = int32(p + 1)
			if d := p - cand; cand >= 0 && d <= c.window && binary.LittleEndian.Uint32(buf[cand:]) == binary.LittleEndian.Uint32(buf[p:]) {
				n := 4
				for n < 258 && p+n < len(buf) && buf[cand+n] == buf[p+n] {
					n++
				}
				w.match(n, d)
				for q := p + 1; q < p+n && q+4 <= len(buf); q++ {
					c.table[hash4(buf[q:])] = int32(q + 1)
				}
				p += n
				continue
			}
		}
		w.lit(int(buf[p]))
		p++
	}
	w.lit(256) // end of block
	// Sync flush: an empty stored block, byte-aligned; its LEN and NLEN
	// (00 00 ff ff) are the tail the sender removes.
	w.bits(0, 3)
	if w.nacc > 0 {
		w.bits(0, 8-w.nacc)
	}
	if c.takeover {
		keep := buf[max(0, len(buf)-c.window):]
		c.hist = append(c.hist[:0:0], keep...)
	} else {
		c.hist = c.hist[:0]
	}
	return w.out
}
