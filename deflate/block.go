package deflate

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
)

// Tokens. The LZ77 parse of a block is a list of uint32 tokens whose
// literals are implicit: they are the bytes of the block's input between
// matches, so a token costs 4 bytes per match rather than per byte.
//
//	match:       0 | lits(8) | length-3 (8) | distance-1 (15)
//	literal run: 1 | count(31)
//
// A match token carries the number of literals (up to 255) that precede
// it; longer runs get a literal-run token of their own. Literals after the
// last token run to the end of the block.
const (
	tokLitRun   = 1 << 31
	tokLitShift = 23
	tokLenShift = 15
	tokDistMask = 1<<15 - 1
	maxTokLits  = 255

	// maxTokens bounds a block's token list; a block is written when it
	// fills. Every token covers at least 4 input bytes except literal-run
	// tokens, which cover at least 256.
	maxTokens = 1 << 12

	// minDynamicBlock is the smallest block input for which a dynamic
	// Huffman code is considered. A dynamic code pays for its header
	// surprisingly early: on the chat corpus it beats the fixed code for
	// three quarters of the messages under 256 bytes. Below 32 bytes it
	// cannot (its header alone is over 3 bytes), and the fixed code is
	// free to choose.
	minDynamicBlock = 32
)

// tokLits returns the number of literals token t covers: those before its
// match, or a literal run's count. The second value overwrites the first,
// which compiles to a conditional move; with an early return instead the
// compressed 64 KiB echo took 0.9% more instructions.
func tokLits(t uint32) int {
	n := int(t >> tokLitShift)
	if t&tokLitRun != 0 {
		n = int(t &^ tokLitRun)
	}
	return n
}

// encScratch is an encoder's per-message working space: the current
// block's tokens, the output buffer and everything needed to build and
// write Huffman codes (about 25 KiB). Encoders take one from scratchPool
// when a message starts and return it when the message ends, so idle
// connections do not hold one.
type encScratch struct {
	tokens []uint32
	bw     bitWriter
	own    []byte // the streaming output buffer

	litFreq   [numLitLen]uint32
	distFreq  [numDist]uint32
	litLens   [numLitLen]uint8
	distLens  [32]uint8 // numDist in use; 32 so that any 5-bit symbol indexes it
	litCodes  [numLitLen]uint16
	distCodes [32]uint16 // as distLens

	clFreq  [numCodeLen]uint32
	clLens  [numCodeLen]uint8
	clCodes [numCodeLen]uint16
	clSyms  [numLitLen + numDist]uint16 // run-length coded code lengths: symbol | extra<<8
	nclSyms int
	hlit    int // header counts of the dynamic code built last
	hdist   int
	hclen   int
	lensBuf [numLitLen + numDist]uint8

	byteCounts [4][256]uint16 // looksIncompressible's sample counts

	huff huffScratch
}

var scratchPool = sync.Pool{New: func() any {
	return &encScratch{
		tokens: make([]uint32, 0, maxTokens),
		own:    make([]byte, 0, flushSize+512),
	}
}}

// getScratch returns a scratch whose bit writer writes to dst or, for a
// nil dst, appends to out.
func getScratch(dst io.Writer, out []byte) *encScratch {
	e := scratchPool.Get().(*encScratch)
	e.tokens = e.tokens[:0]
	e.bw = bitWriter{dst: dst, out: out}
	if dst != nil {
		e.bw.out = e.own[:0]
	}
	return e
}

func putScratch(e *encScratch) {
	if e.bw.dst != nil {
		e.own = e.bw.out[:0] // keep the buffer if it grew
	}
	e.bw = bitWriter{} // drop references to the caller's writer or slice
	scratchPool.Put(e)
}

// Fixed Huffman codes (RFC 1951 §3.2.6), bit-reversed for writing.
var fixedLitCodes, fixedDistCodes = func() (lit [numFixedLit]uint16, dist [32]uint16) {
	canonicalCodes(fixedLitLens[:], lit[:])
	canonicalCodes(fixedDistLens[:], dist[:])
	return
}()

// writeBlock writes one non-final block holding src, whose LZ77 parse is
// toks, with whichever of the stored, fixed and dynamic encodings is
// smallest (RFC 1951 §3.2.3). matched is the number of bytes of src that
// matches cover; it lets incompressible input skip the histogram.
func (e *encScratch) writeBlock(src []byte, toks []uint32, matched int) {
	if len(src) == 0 {
		return
	}
	if matched*32 < len(src) && len(src) >= 1024 && e.looksIncompressible(src) {
		e.writeStored(src)
		return
	}
	extra, tail := e.histogram(src, toks)
	if tail < len(src) {
		// The literals after the last token get a token of their own,
		// so that writeTokens has nothing to do after its loop. The
		// list has room: the parser leaves two entries spare.
		toks = append(toks, tokLitRun|uint32(len(src)-tail))
	}

	stored := storedBits(e.bw.nbits, len(src))
	fixed := 3 + extra
	// The frequency arrays are ranged over as slices: a range over an
	// array value copies it (1.1 KiB here) into the stack frame.
	for s, f := range e.litFreq[:] {
		fixed += uint64(f) * uint64(fixedLitLens[s])
	}
	for _, f := range e.distFreq[:] {
		fixed += uint64(f) * 5
	}
	dynamic := uint64(math.MaxUint64)
	if len(src) >= minDynamicBlock {
		dynamic = e.buildDynamic() + extra
	}
	switch {
	case stored <= fixed && stored <= dynamic:
		e.writeStored(src)
	case fixed <= dynamic:
		e.bw.writeBits(0b010, 3) // BFINAL 0, BTYPE 01
		e.writeTokens(src, toks, fixedLitCodes[:], fixedLitLens[:], fixedDistCodes[:], fixedDistLens[:])
	default:
		e.writeDynamicHeader()
		e.writeTokens(src, toks, e.litCodes[:], e.litLens[:], e.distCodes[:], e.distLens[:])
	}
}

// storedBits is the size in bits of src stored in blocks of at most 65535
// bytes, starting at bit offset nbits within a byte.
func storedBits(nbits uint, n int) uint64 {
	var total uint64
	pad := (8 - (nbits+3)%8) % 8
	for {
		chunk := min(n, maxStoredLen)
		total += 3 + uint64(pad) + 32 + 8*uint64(chunk)
		n -= chunk
		pad = 5
		if n == 0 {
			return total
		}
	}
}

// writeStored writes src as stored blocks (RFC 1951 §3.2.4).
func (e *encScratch) writeStored(src []byte) {
	for len(src) > 0 {
		chunk := min(len(src), maxStoredLen)
		e.bw.writeBits(0, 3) // BFINAL 0, BTYPE 00
		e.bw.alignByte()
		e.bw.writeBits(uint64(chunk)|uint64(^uint16(chunk))<<16, 32)
		e.bw.writeRaw(src[:chunk])
		src = src[chunk:]
	}
}

// histogram counts the symbols of the block and returns the number of
// extra bits its length and distance codes need, and where the literals
// after the last token start.
func (e *encScratch) histogram(src []byte, toks []uint32) (extra uint64, tail int) {
	clear(e.litFreq[:])
	clear(e.distFreq[:])
	lit := &e.litFreq
	dist := &e.distFreq
	pos := 0
	for _, t := range toks {
		if n := tokLits(t); n > 0 {
			for _, b := range src[pos : pos+n] {
				lit[b]++
			}
			pos += n
		}
		if t&tokLitRun != 0 {
			continue
		}
		l := (t >> tokLenShift) & 0xff
		ce := lengthCodeExtra[l]
		lit[257+int(ce&0xff)]++
		dc := distCode(t&tokDistMask) & 31
		dist[dc]++
		extra += uint64(ce>>8&0xff) + uint64(distExtra[dc])
		pos += int(l) + 3
	}
	for _, b := range src[pos:] {
		lit[b]++
	}
	lit[endOfBlock] = 1
	return extra, pos
}

// buildDynamic computes the code lengths of the dynamic Huffman codes for
// the current histogram and the run-length coded header, and returns the
// size of the block in bits, excluding extra bits. The codes themselves
// are assigned by writeDynamicHeader, if the block is written this way.
func (e *encScratch) buildDynamic() uint64 {
	if e.distFreq == [numDist]uint32{} {
		// A block without matches still sends one distance code
		// (RFC 1951 §3.2.7); give it symbol 0.
		e.distFreq[0] = 1
		defer func() { e.distFreq[0] = 0 }()
	}
	e.huff.buildLengths(e.litFreq[:], e.litLens[:], maxCodeBits)
	e.huff.buildLengths(e.distFreq[:], e.distLens[:numDist], maxCodeBits)

	hlit := numLitLen
	for hlit > 257 && e.litLens[hlit-1] == 0 {
		hlit--
	}
	hdist := numDist
	for hdist > 1 && e.distLens[hdist-1] == 0 {
		hdist--
	}
	lens := e.lensBuf[:0]
	lens = append(lens, e.litLens[:hlit]...)
	lens = append(lens, e.distLens[:hdist]...)
	e.runLengthCode(lens)
	e.huff.buildLengths(e.clFreq[:], e.clLens[:], maxCLBits)
	hclen := numCodeLen
	for hclen > 4 && e.clLens[codeLenOrder[hclen-1]] == 0 {
		hclen--
	}
	e.hlit, e.hdist, e.hclen = hlit, hdist, hclen
	size := uint64(3 + 5 + 5 + 4 + 3*hclen) // block and dynamic headers
	size += uint64(e.clFreq[16])*2 + uint64(e.clFreq[17])*3 + uint64(e.clFreq[18])*7
	for s, f := range e.clFreq[:] {
		size += uint64(f) * uint64(e.clLens[s])
	}
	for s, f := range e.litFreq[:] {
		size += uint64(f) * uint64(e.litLens[s])
	}
	for s, f := range e.distFreq[:] {
		size += uint64(f) * uint64(e.distLens[s])
	}
	return size
}

// runLengthCode codes the code lengths lens with the code length alphabet
// of RFC 1951 §3.2.7 (16: repeat the previous length 3-6 times, 17: 3-10
// zeros, 18: 11-138 zeros) into clSyms and counts the symbols in clFreq.
func (e *encScratch) runLengthCode(lens []uint8) {
	clear(e.clFreq[:])
	n := 0
	put := func(sym, extra int) {
		e.clSyms[n] = uint16(sym | extra<<8)
		e.clFreq[sym]++
		n++
	}
	for i := 0; i < len(lens); {
		l := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				put(18, r-11)
				run -= r
			}
			if run >= 3 {
				put(17, run-3)
				run = 0
			}
		} else {
			put(int(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				put(16, r-3)
				run -= r
			}
		}
		for ; run > 0; run-- {
			put(int(l), 0)
		}
	}
	e.nclSyms = n
}

// writeDynamicHeader writes the header of a dynamic block (RFC 1951
// §3.2.7) built by buildDynamic.
func (e *encScratch) writeDynamicHeader() {
	canonicalCodes(e.litLens[:], e.litCodes[:])
	canonicalCodes(e.distLens[:numDist], e.distCodes[:numDist])
	canonicalCodes(e.clLens[:], e.clCodes[:])
	hlit, hdist, hclen := e.hlit, e.hdist, e.hclen
	w := &e.bw
	w.writeBits(0b100|uint64(hlit-257)<<3|uint64(hdist-1)<<8|uint64(hclen-4)<<13, 17)
	for _, s := range codeLenOrder[:hclen] {
		w.writeBits(uint64(e.clLens[s]), 3)
	}
	for _, cs := range e.clSyms[:e.nclSyms] {
		sym, extra := cs&0xff, uint64(cs>>8)
		code, n := uint64(e.clCodes[sym]), uint(e.clLens[sym])
		switch sym {
		case 16:
			w.writeBits(code|extra<<n, n+2)
		case 17:
			w.writeBits(code|extra<<n, n+3)
		case 18:
			w.writeBits(code|extra<<n, n+7)
		default:
			w.writeBits(code, n)
		}
	}
}

// writeTokens writes the symbols of the block and its end-of-block code.
//
// The bit buffer lives in local variables for the whole loop, which the
// compiler keeps in registers; writing each symbol through the bitWriter
// would load and store it every time. Literals are written in pairs: with
// fewer than 32 bits pending, two codes of at most 15 bits still fit the
// 64-bit buffer before it is emptied. Output goes to the destination every
// 2 KiB of literals and after every match, as maybeFlush does, so a long
// run does not grow the output buffer.
//
// The extra bits of a length or distance are its low bits: every base
// minus 3 (lengths) or minus 1 (distances) is a multiple of 2^extra (RFC
// 1951 §3.2.5), so no base is looked up. Shift counts are masked to 63,
// which spares the compiler's code for counts of 64 and more.
func (e *encScratch) writeTokens(src []byte, toks []uint32, litCodes []uint16, litLens []uint8, distCodes []uint16, distLens []uint8) {
	w := &e.bw
	bits, nbits, out := w.bits, w.nbits, w.out
	lc := (*[numLitLen]uint16)(litCodes)
	ll := (*[numLitLen]uint8)(litLens)
	dc := (*[32]uint16)(distCodes)
	dl := (*[32]uint8)(distLens)
	pos := 0
	for _, t := range toks {
		if n := tokLits(t); n > 0 {
			lits := src[pos : pos+n]
			pos += n
			for len(lits) > 0 {
				chunk := lits[:min(len(lits), 2048)]
				lits = lits[len(chunk):]
				for ; len(chunk) >= 2; chunk = chunk[2:] {
					b0, b1 := chunk[0], chunk[1]
					bits |= uint64(lc[b0]) << (nbits & 63)
					nbits += uint(ll[b0])
					bits |= uint64(lc[b1]) << (nbits & 63)
					nbits += uint(ll[b1])
					bits, nbits, out = drain32(bits, nbits, out)
				}
				if len(chunk) == 1 {
					bits |= uint64(lc[chunk[0]]) << (nbits & 63)
					nbits += uint(ll[chunk[0]])
				}
				bits, nbits, out = drain32(bits, nbits, out)
				out = w.handOff(out)
			}
		}
		if t&tokLitRun != 0 {
			continue
		}
		l := t >> tokLenShift & 0xff
		ce := lengthCodeExtra[l]
		sym := 257 + int(ce&0xff)
		xb := uint(ce >> 8 & 0xff)
		cl := uint(ll[sym])
		bits |= (uint64(lc[sym]) | uint64(l&(ce>>16))<<(cl&63)) << (nbits & 63)
		nbits += cl + xb
		bits, nbits, out = drain32(bits, nbits, out)
		off := t & tokDistMask
		code := distCode(off) & 31
		xb = uint(distExtra[code])
		cl = uint(dl[code])
		bits |= (uint64(dc[code]) | uint64(off&(1<<(xb&31)-1))<<(cl&63)) << (nbits & 63)
		nbits += cl + xb
		bits, nbits, out = drain32(bits, nbits, out)
		pos += int(l) + 3
		out = w.handOff(out)
	}
	w.bits, w.nbits, w.out = bits, nbits, out
	w.writeBits(uint64(lc[endOfBlock]), uint(ll[endOfBlock]))
	w.maybeFlush()
}

// drain32 moves 32 bits from the bit buffer to out when it holds that
// many.
func drain32(bits uint64, nbits uint, out []byte) (uint64, uint, []byte) {
	if nbits >= 32 {
		out = binary.LittleEndian.AppendUint32(out, uint32(bits))
		bits >>= 32
		nbits -= 32
	}
	return bits, nbits, out
}

// log2Q16 holds log2(i) in 16.16 fixed point for i in 0..incompressSample.
const incompressSample = 1024

var log2Q16 = func() (t [incompressSample + 1]uint32) {
	for i := 1; i < len(t); i++ {
		t[i] = uint32(math.Log2(float64(i)) * 65536)
	}
	return t
}()

// looksIncompressible estimates the order-0 entropy of src, len(src) >=
// 1024, from a sample of 1 KiB (32 runs of 32 bytes spread evenly) and
// reports whether Huffman coding its literals would save less than about
// 5%. Random and already compressed data is then stored without a full
// histogram, or without being parsed at all. The sample's entropy
// underestimates the source's (by about 0.2 bit for uniform bytes), so
// the threshold errs towards trying Huffman coding.
//
// The four count tables (2 KiB) live in the pooled scratch rather than on
// the stack, which would otherwise grow for every goroutine that sends a
// compressed message.
func (e *encScratch) looksIncompressible(src []byte) bool {
	const runs, runLen = 32, incompressSample / 32
	// Four count tables break the dependency between neighbouring
	// increments of the same byte value.
	clear(e.byteCounts[:])
	c0, c1, c2, c3 := &e.byteCounts[0], &e.byteCounts[1], &e.byteCounts[2], &e.byteCounts[3]
	stride := len(src) / runs
	for k := range runs {
		b := src[k*stride : k*stride+runLen]
		for i := 0; i+4 <= len(b); i += 4 {
			c0[b[i]]++
			c1[b[i+1]]++
			c2[b[i+2]]++
			c3[b[i+3]]++
		}
	}
	// bits = sum c*(log2 n - log2 c), in 16.16 fixed point
	var bits uint64
	ln := uint64(log2Q16[incompressSample])
	for v := range c0 {
		if c := c0[v] + c1[v] + c2[v] + c3[v]; c != 0 {
			bits += uint64(c) * (ln - uint64(log2Q16[c]))
		}
	}
	// Incompressible if bits/n >= 7.6.
	return bits*10 >= incompressSample*76*65536
}
