package deflate

import (
	"fmt"
	"io"
	"sync"
)

// CorruptInputError reports DEFLATE data that cannot be decoded: a
// reserved block type, a bad code, a distance beyond the window or the
// history, truncated data. Offset is the approximate position of the
// problem in the message's compressed bytes (with the 00 00 ff ff that
// RFC 7692 §7.2.2 appends). A connection fails with close code 1007.
type CorruptInputError struct {
	Offset int64
	Reason string
}

func (e *CorruptInputError) Error() string {
	return fmt.Sprintf("deflate: corrupt input at byte %d: %s", e.Offset, e.Reason)
}

// rootBits is the number of bits the first-level decoding tables resolve.
// Codes up to 10 bits take one lookup; longer ones (rare: they belong to
// symbols seen less than about once per thousand) are decoded canonically
// bit by bit, which keeps a table at 2 KiB.
const rootBits = 10

// huffDecoder decodes one Huffman code.
type huffDecoder struct {
	table  [1 << rootBits]uint16 // symbol<<4 | length; 0: longer code or no code
	count  [maxCodeBits + 1]uint16
	sorted [numFixedLit]uint16 // symbols in canonical order
}

// init builds the decoder for the code lengths lens (RFC 1951 §3.2.2). It
// rejects over-subscribed codes and incomplete ones, except the two
// incomplete codes RFC 1951 and zlib allow: no code at all (a block
// without distances) and a single code of one bit.
func (h *huffDecoder) init(lens []uint8) bool {
	clear(h.count[:])
	for _, l := range lens {
		h.count[l]++
	}
	h.count[0] = 0
	left, codes := 1, 0
	for l := 1; l <= maxCodeBits; l++ {
		left = left<<1 - int(h.count[l])
		codes += int(h.count[l])
		if left < 0 {
			return false
		}
	}
	if left > 0 && codes > 1 {
		return false
	}
	if left > 0 && codes == 1 && h.count[1] != 1 {
		return false
	}
	var offs [maxCodeBits + 2]uint16
	for l := 1; l <= maxCodeBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for s, l := range lens {
		if l != 0 {
			h.sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	// The table is indexed by the next rootBits input bits, which hold a
	// code bit-reversed (RFC 1951 §3.1.1), so a code c of length l owns
	// every index j with j mod 2^l = reverse(c). It is built by length:
	// once the first 2^(l-1) entries are right for the codes shorter than
	// l, copying them to the next 2^(l-1) makes the first 2^l right for
	// those codes, and each code of length l then takes its one index
	// below 2^l. Prefixes of no code (and of codes longer than rootBits)
	// stay 0, from the first entry. This moves whole runs instead of
	// storing each entry of each code on its own: the table is rebuilt
	// for every dynamic block, which small messages pay for each time.
	h.table[0] = 0
	code, i := uint16(0), 0
	for l := uint8(1); l <= rootBits; l++ {
		half := 1 << (l - 1)
		copy(h.table[half:2*half], h.table[:half])
		for range h.count[l] {
			h.table[reverseBits(code, l)] = h.sorted[i]<<4 | uint16(l)
			code++
			i++
		}
		code <<= 1
	}
	return true
}

// decodeLong decodes a code longer than rootBits (or finds there is none)
// from the low nbits bits of b, canonically: at each length, the codes of
// that length are consecutive integers starting at first.
func (h *huffDecoder) decodeLong(b uint64, nbits uint) (sym int, n uint, ok bool) {
	code, first, index := 0, 0, 0
	for l := uint(1); l <= maxCodeBits && l <= nbits; l++ {
		code |= int(b>>(l-1)) & 1
		cnt := int(h.count[l])
		if code-first < cnt {
			return int(h.sorted[index+code-first]), l, true
		}
		index += cnt
		first = (first + cnt) << 1
		code <<= 1
	}
	return 0, 0, false
}

// The fixed codes' decoders (RFC 1951 §3.2.6), shared and never modified.
var fixedLitDecoder, fixedDistDecoder = func() (*huffDecoder, *huffDecoder) {
	l, d := new(huffDecoder), new(huffDecoder)
	l.init(fixedLitLens[:])
	d.init(fixedDistLens[:])
	return l, d
}()

// inBufSize is the inflater's input buffer: large enough that a frame's
// compressed payload arrives in few reads (the Conn's frame reader hands
// reads at least as large as its own buffer straight to the socket), small
// against the window. The inflater is pooled, held only while a message
// is being decoded.
const inBufSize = 16 << 10

// Block states of the inflater.
const (
	stHeader = iota // at a block boundary
	stStored        // inside a stored block
	stHuff          // inside a Huffman block
	stCopy          // inside a Huffman block, in the middle of a match
	stDone          // the message's DEFLATE data has ended
)

// syncTail is what RFC 7692 §7.2.2 appends to a message's payload before
// decompressing it: the LEN and NLEN of the empty stored block the sender
// removed.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// inflater is the per-message state of a Decompressor: the input buffer,
// the bit reader, the block state and the current block's decoders (about
// 22 KiB). It comes from inflaterPool when a message starts and goes back
// when it ends.
type inflater struct {
	src     io.Reader
	srcErr  error // error other than io.EOF from src
	srcDone bool  // src has returned io.EOF
	srcAny  bool  // src has returned at least one byte
	tail    bool  // syncTail has been appended
	fetched int64 // bytes taken from src and syncTail
	in      [inBufSize]byte
	inPos   int
	inEnd   int

	bits  uint64 // unconsumed input bits, least significant first
	nbits uint

	state      int
	final      bool // the current block has BFINAL set
	storedLeft int
	copyLen    int
	copyDist   int
	lit, dist  *huffDecoder
	dynLit     huffDecoder
	dynDist    huffDecoder
	lens       [numLitLen + numDist]uint8
}

var inflaterPool = sync.Pool{New: func() any { return new(inflater) }}

func (f *inflater) reset(src io.Reader) {
	f.src, f.srcErr = src, nil
	f.srcDone, f.srcAny, f.tail = false, false, false
	f.fetched, f.inPos, f.inEnd = 0, 0, 0
	f.bits, f.nbits = 0, 0
	f.state, f.final = stHeader, false
	f.storedLeft, f.copyLen, f.copyDist = 0, 0, 0
	f.lit, f.dist = nil, nil
}

// offset is the position of the next unconsumed input byte.
func (f *inflater) offset() int64 {
	return f.fetched - int64(f.inEnd-f.inPos) - int64(f.nbits/8)
}

func (f *inflater) corrupt(reason string) error {
	return &CorruptInputError{Offset: f.offset(), Reason: reason}
}

// truncated is the error for input that ends inside a block: src's error
// if it failed, else corrupt data.
func (f *inflater) truncated() error {
	if f.srcErr != nil {
		return f.srcErr
	}
	return f.corrupt("unexpected end of data")
}

// fill refills the empty input buffer from src, then from syncTail. It
// reports false at the end of the input or when src fails.
func (f *inflater) fill() bool {
	f.inPos, f.inEnd = 0, 0
	if f.srcErr != nil {
		return false
	}
	for tries := 0; !f.srcDone; tries++ {
		n, err := f.src.Read(f.in[:])
		f.inEnd = n
		f.fetched += int64(n)
		if n > 0 {
			f.srcAny = true
		}
		switch {
		case err == io.EOF:
			f.srcDone = true
		case err != nil:
			f.srcErr = err
			return n > 0
		case n == 0 && tries >= 100:
			f.srcErr = io.ErrNoProgress
			return false
		}
		if n > 0 {
			return true
		}
	}
	// An empty payload is an empty message; otherwise append the tail.
	if !f.tail && f.srcAny {
		f.tail = true
		f.inEnd = copy(f.in[:], syncTail[:])
		f.fetched += int64(f.inEnd)
		return true
	}
	return false
}

// refill loads input bytes into the bit buffer until it holds at least 56
// bits or the input buffer is empty; it does not read src. The fast path
// loads 8 bytes at once; the bytes it loads beyond the ones it counts are
// the next input bytes, so loading them again later ORs in the same bits.
func (f *inflater) refill() {
	if f.inEnd-f.inPos >= 8 {
		f.bits |= load64(f.in[:], f.inPos) << f.nbits
		f.inPos += int((63 - f.nbits) >> 3)
		f.nbits |= 56
		return
	}
	for f.nbits <= 56 && f.inPos < f.inEnd {
		f.bits |= uint64(f.in[f.inPos]) << f.nbits
		f.inPos++
		f.nbits += 8
	}
}

// need ensures the bit buffer holds at least n <= 56 bits, reading src as
// needed; false at the end of the input.
func (f *inflater) need(n uint) bool {
	for f.nbits < n {
		if f.inPos == f.inEnd && !f.fill() {
			return false
		}
		f.refill()
	}
	return true
}

func (f *inflater) take(n uint) uint64 {
	v := f.bits & (1<<n - 1)
	f.bits >>= n
	f.nbits -= n
	return v
}

// decodeBuffered decodes one symbol with h from a bit buffer that holds at
// least maxCodeBits bits; false if they start with no code of h.
func (f *inflater) decodeBuffered(h *huffDecoder) (int, bool) {
	if e := h.table[f.bits&(1<<rootBits-1)]; e&15 != 0 {
		f.bits >>= e & 15
		f.nbits -= uint(e & 15)
		return int(e >> 4), true
	}
	sym, l, ok := h.decodeLong(f.bits, f.nbits)
	if ok {
		f.bits >>= l
		f.nbits -= l
	}
	return sym, ok
}

// symbol decodes one symbol with h, reading src as needed.
func (f *inflater) symbol(h *huffDecoder) (int, error) {
	for {
		if f.nbits < maxCodeBits {
			f.refill()
		}
		e := h.table[f.bits&(1<<rootBits-1)]
		if l := uint(e & 15); l != 0 {
			if l <= f.nbits {
				f.bits >>= l
				f.nbits -= l
				return int(e >> 4), nil
			}
		} else if sym, l, ok := h.decodeLong(f.bits, f.nbits); ok {
			f.bits >>= l
			f.nbits -= l
			return sym, nil
		} else if f.nbits >= maxCodeBits {
			return 0, f.corrupt("invalid Huffman code")
		}
		if !f.need(f.nbits + 8) {
			return 0, f.truncated()
		}
	}
}

// readHeader reads a block header and prepares the block (RFC 1951
// §3.2.3). It reports false at the end of the message: the input is
// exhausted at a block boundary, leaving at most the padding of a byte.
//
// A block with BFINAL set ends a DEFLATE stream, and RFC 7692 §7.2.3.4
// lets a sender end a message that way; what follows it, if anything but
// the appended 00 00 ff ff, is decoded as a new stream starting at the
// next byte, sharing the window (the RFC's example follows the final block
// with a 0x00, which with the tail forms an empty stored block).
func (f *inflater) readHeader() (bool, error) {
	if f.final {
		f.final = false
		f.take(f.nbits % 8)
		if f.need(8) && f.srcDone && f.tail && f.offset() == f.fetched-int64(len(syncTail)) {
			return false, nil // only the appended tail is left
		}
	}
	if !f.need(8) {
		// Fewer than 8 bits left: the padding of the last byte.
		if f.srcErr != nil {
			return false, f.srcErr
		}
		return false, nil
	}
	h := f.take(3)
	f.final = h&1 != 0
	switch h >> 1 {
	case 0: // stored (§3.2.4)
		f.take(f.nbits % 8)
		if !f.need(32) {
			return false, f.truncated()
		}
		v := f.take(32)
		if uint16(v) != ^uint16(v>>16) {
			return false, f.corrupt("stored block length does not match its complement")
		}
		f.storedLeft = int(uint16(v))
		f.state = stStored
	case 1: // fixed Huffman codes (§3.2.6)
		f.lit, f.dist = fixedLitDecoder, fixedDistDecoder
		f.state = stHuff
	case 2: // dynamic Huffman codes (§3.2.7)
		if err := f.readDynamic(); err != nil {
			return false, err
		}
		f.lit, f.dist = &f.dynLit, &f.dynDist
		f.state = stHuff
	default:
		return false, f.corrupt("reserved block type 3")
	}
	return true, nil
}

// readDynamic reads the code definitions of a dynamic block.
func (f *inflater) readDynamic() error {
	if !f.need(14) {
		return f.truncated()
	}
	hlit := int(f.take(5)) + 257
	hdist := int(f.take(5)) + 1
	hclen := int(f.take(4)) + 4
	if hlit > numLitLen || hdist > numDist {
		return f.corrupt("too many length or distance codes")
	}
	var clLens [numCodeLen]uint8
	for _, s := range codeLenOrder[:hclen] {
		if !f.need(3) {
			return f.truncated()
		}
		clLens[s] = uint8(f.take(3))
	}
	cl := &f.dynDist // reused: the distance code is built after the lengths are read
	if !cl.init(clLens[:]) {
		return f.corrupt("invalid code length code")
	}
	lens := f.lens[:hlit+hdist]
	for i := 0; i < len(lens); {
		sym, err := f.symbol(cl)
		if err != nil {
			return err
		}
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return f.corrupt("repeat of a code length with none before it")
			}
			if !f.need(2) {
				return f.truncated()
			}
			rep, val = 3+int(f.take(2)), lens[i-1]
		case 17:
			if !f.need(3) {
				return f.truncated()
			}
			rep = 3 + int(f.take(3))
		default:
			if !f.need(7) {
				return f.truncated()
			}
			rep = 11 + int(f.take(7))
		}
		if i+rep > len(lens) {
			return f.corrupt("code length repeat beyond the last code")
		}
		for ; rep > 0; rep-- {
			lens[i] = val
			i++
		}
	}
	if lens[endOfBlock] == 0 {
		return f.corrupt("no end-of-block code")
	}
	if !f.dynLit.init(lens[:hlit]) {
		return f.corrupt("invalid literal/length code")
	}
	if !f.dynDist.init(lens[hlit:]) {
		return f.corrupt("invalid distance code")
	}
	return nil
}
