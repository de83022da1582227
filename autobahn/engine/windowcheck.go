package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// checkWindow walks a DEFLATE stream (RFC 1951) that compress/flate has
// already inflated without error, and fails if a match reaches further
// back than window bytes. compress/flate keeps a 32 KiB window and cannot
// tell a testee that broke a smaller negotiated one (RFC 7692 §7.1.2.1:
// the peer "MUST NOT" use a larger LZ77 window than it was given), so the
// suite decodes the symbols itself for that one check. It only reads:
// literals and lengths are skipped, the output is not rebuilt.
//
// stream is the message's payload; tail follows it (the suite passes the
// empty final block that ends a permessage-deflate message, RFC 7692
// §7.2.2). scratch keeps the decoding tables between calls.
func checkWindow(stream, tail []byte, window int, scratch *windowScratch) error {
	r := bitReader{in: stream, tail: tail}
	lit, dist := &scratch.lit, &scratch.dist
	for {
		final := r.bits(1)
		switch r.bits(2) {
		case 0: // stored (RFC 1951 §3.2.4)
			r.alignToByte()
			n := int(r.bits(16))
			if r.bits(16) != uint64(^uint16(n)) {
				return errors.New("deflate: stored block length check fails")
			}
			r.skipBytes(n)
		case 1:
			if err := r.checkBlock(&fixedLitTable, &fixedDistTable, window); err != nil {
				return err
			}
		case 2:
			if err := r.readDynamicTables(lit, dist, &scratch.codeLen, &scratch.lengths); err != nil {
				return err
			}
			if err := r.checkBlock(lit, dist, window); err != nil {
				return err
			}
		default:
			return errors.New("deflate: reserved block type")
		}
		if r.overrun() {
			return errors.New("deflate: stream ends inside a block")
		}
		if final == 1 {
			return nil
		}
	}
}

// windowScratch holds checkWindow's tables from one message to the next.
type windowScratch struct {
	lit, dist, codeLen huffTable
	lengths            []uint8
}

// bitReader reads bits least significant first (RFC 1951 §3.1.1) from in
// and then tail; reads past the end give zero bits and are reported by
// overrun.
type bitReader struct {
	in, tail []byte
	pos      int // next byte of in to load
	acc      uint64
	nacc     uint
	extra    int // zero bytes loaded past the end
}

func (r *bitReader) fill() {
	if r.pos+8 <= len(r.in) {
		// Eight bytes at once: the whole bytes that fit go in; the bits
		// above them are the next bytes, ORed in again at the same place
		// by the next fill.
		r.acc |= binary.LittleEndian.Uint64(r.in[r.pos:]) << r.nacc
		n := (63 - r.nacc) / 8
		r.pos += int(n)
		r.nacc += n * 8
		return
	}
	for r.nacc <= 56 {
		if r.pos == len(r.in) && len(r.tail) > 0 {
			r.in, r.tail, r.pos = r.tail, nil, 0
		}
		var b byte
		if r.pos < len(r.in) {
			b = r.in[r.pos]
			r.pos++
		} else {
			r.extra++
		}
		r.acc |= uint64(b) << r.nacc
		r.nacc += 8
	}
}

func (r *bitReader) peek(n uint) uint64 {
	if r.nacc < n {
		r.fill()
	}
	return r.acc & (1<<n - 1)
}

func (r *bitReader) drop(n uint) { r.acc >>= n; r.nacc -= n }

func (r *bitReader) bits(n uint) uint64 {
	v := r.peek(n)
	r.drop(n)
	return v
}

// overrun reports whether a bit past the end of the input was consumed.
func (r *bitReader) overrun() bool { return int(r.nacc) < 8*r.extra }

func (r *bitReader) alignToByte() { r.drop(r.nacc % 8) }

func (r *bitReader) skipBytes(n int) {
	for ; n > 0 && r.nacc >= 8; n-- {
		r.drop(8)
	}
	if n > 0 {
		r.acc = 0 // drop the look-ahead bits of the bytes skipped
	}
	for n > 0 {
		if r.pos == len(r.in) && len(r.tail) > 0 {
			r.in, r.tail, r.pos = r.tail, nil, 0
		}
		k := min(n, len(r.in)-r.pos)
		if k == 0 {
			r.extra += n
			return
		}
		r.pos += k
		n -= k
	}
}

// maxHuffBits is the longest Huffman code DEFLATE allows.
const maxHuffBits = 15

// huffTable decodes a canonical Huffman code (RFC 1951 §3.2.2) by looking
// up maxBits stream bits at once: entry = symbol<<4 | code length, 0 where
// no code matches.
type huffTable struct {
	maxBits uint
	entries []uint16
}

func (t *huffTable) build(lengths []uint8) error {
	var count [16]int
	t.maxBits = 0
	for _, l := range lengths {
		count[l]++
		t.maxBits = max(t.maxBits, uint(l))
	}
	count[0] = 0
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
		if count[l] > 1<<l {
			return errors.New("deflate: oversubscribed Huffman code")
		}
	}
	if cap(t.entries) < 1<<t.maxBits {
		t.entries = make([]uint16, 1<<maxHuffBits)
	}
	t.entries = t.entries[:1<<t.maxBits]
	clear(t.entries)
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if c >= 1<<l {
			return errors.New("deflate: oversubscribed Huffman code")
		}
		for k := int(reverseBits(uint64(c), uint(l))); k < len(t.entries); k += 1 << l {
			t.entries[k] = uint16(sym)<<4 | uint16(l)
		}
	}
	return nil
}

func (r *bitReader) decode(t *huffTable) (int, error) {
	if t.maxBits == 0 {
		return 0, errors.New("deflate: symbol from an empty Huffman code")
	}
	e := t.entries[r.peek(t.maxBits)]
	if e == 0 {
		return 0, errors.New("deflate: invalid Huffman code")
	}
	r.drop(uint(e & 15))
	return int(e >> 4), nil
}

var fixedLitTable, fixedDistTable = func() (lit, dist huffTable) {
	var l [288]uint8
	for sym := range l {
		_, n := fixedLitCode(sym)
		l[sym] = uint8(n)
	}
	lit.build(l[:])
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	dist.build(d[:])
	return lit, dist
}()

// codeLengthOrder is the order of the code length code lengths (RFC 1951
// §3.2.7).
var codeLengthOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (r *bitReader) readDynamicTables(lit, dist, clTable *huffTable, lengthsBuf *[]uint8) error {
	nlit := int(r.bits(5)) + 257
	ndist := int(r.bits(5)) + 1
	nclen := int(r.bits(4)) + 4
	var clen [19]uint8
	for i := 0; i < nclen; i++ {
		clen[codeLengthOrder[i]] = uint8(r.bits(3))
	}
	if err := clTable.build(clen[:]); err != nil {
		return err
	}
	lengths := (*lengthsBuf)[:0]
	defer func() { *lengthsBuf = lengths }()
	for len(lengths) < nlit+ndist {
		sym, err := r.decode(clTable)
		if err != nil {
			return err
		}
		var rep int
		var v uint8
		switch {
		case sym < 16:
			lengths = append(lengths, uint8(sym))
			continue
		case sym == 16:
			if len(lengths) == 0 {
				return errors.New("deflate: repeat with no previous length")
			}
			v, rep = lengths[len(lengths)-1], 3+int(r.bits(2))
		case sym == 17:
			rep = 3 + int(r.bits(3))
		default:
			rep = 11 + int(r.bits(7))
		}
		if len(lengths)+rep > nlit+ndist {
			return errors.New("deflate: code lengths overflow")
		}
		for ; rep > 0; rep-- {
			lengths = append(lengths, v)
		}
	}
	if err := lit.build(lengths[:nlit]); err != nil {
		return err
	}
	return dist.build(lengths[nlit:])
}

// checkBlock reads the symbols of one Huffman-coded block up to its end,
// failing on a distance above window. One symbol with its length and
// distance takes at most 15+5+15+13 = 48 bits, so one fill per symbol
// suffices and the loop reads the bit buffer directly.
func (r *bitReader) checkBlock(lit, dist *huffTable, window int) error {
	litMask := uint64(1)<<lit.maxBits - 1
	distMask := uint64(1)<<dist.maxBits - 1
	for {
		if r.nacc < 48 {
			r.fill()
		}
		e := lit.entries[r.acc&litMask]
		if e == 0 {
			return errors.New("deflate: invalid literal/length code")
		}
		r.drop(uint(e & 15))
		sym := int(e >> 4)
		switch {
		case sym < 256:
			continue
		case sym == 256:
			if r.overrun() {
				return errors.New("deflate: stream ends inside a block")
			}
			return nil
		case sym > 285:
			return errors.New("deflate: invalid length symbol")
		}
		r.drop(lengthExtra[sym-257]) // the length does not matter here
		if dist.maxBits == 0 {
			return errors.New("deflate: a match in a block without distance codes")
		}
		e = dist.entries[r.acc&distMask]
		if e == 0 {
			return errors.New("deflate: invalid distance code")
		}
		r.drop(uint(e & 15))
		dsym := int(e >> 4)
		if dsym >= 30 {
			return errors.New("deflate: invalid distance symbol")
		}
		n := distExtra[dsym]
		d := distBase[dsym] + int(r.acc&(1<<n-1))
		r.drop(n)
		if d > window {
			return fmt.Errorf("deflate: match %d bytes back, beyond the negotiated window of %d bytes", d, window)
		}
		if r.overrun() {
			return errors.New("deflate: stream ends inside a block")
		}
	}
}
