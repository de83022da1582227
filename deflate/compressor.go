package deflate

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Compression levels accepted by NewCompressor and AppendCompressed.
const (
	// NoCompression sends every message as stored blocks: valid
	// permessage-deflate data that costs no CPU to produce and no
	// history to keep.
	NoCompression = 0
	// BestSpeed (levels 1 to 3) probes one hash candidate per position
	// and skims input that does not match, like compress/flate's
	// BestSpeed.
	BestSpeed = 1
	// Levels 4 to 9 probe every position and take a match one byte later
	// when it is longer (lazy matching): on the test corpus 4-5% smaller
	// output for 10-30% less speed. Levels 5 to 9 currently behave as 4.
	BestCompression = 9
	// DefaultCompression selects BestSpeed, the right trade for a server
	// sending many small messages.
	DefaultCompression = -1
)

// Window sizes (RFC 7692 §7.1.2: server_max_window_bits and
// client_max_window_bits range over 8..15).
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// ErrClosed is returned by Write after Close and before the next Reset.
var ErrClosed = errors.New("deflate: write outside a message (call Reset first)")

// Buffer geometry. A compressor's buffer holds the window (2^W bytes of
// history) followed by room for new input. The retained buffer has
// smallExtra(W) bytes of room (2^W/8, at least 1 KiB): a message that fits
// there costs no copy beyond the one into the buffer, and the buffer
// slides (moves its last smallKeep(W) bytes to the front) once per
// smallExtra bytes. A message of more than max(2^W/4, smallExtra) bytes
// borrows a buffer with bigExtra bytes of room from a pool for its
// duration (see bigThreshold), so that sliding costs half a copy per
// input byte at W=15 rather than seven.
const bigExtra = 64 << 10

func smallExtra(wbits int) int { return max(1<<wbits/8, 1024) }

// smallKeep is how much history the retained buffer keeps when it slides:
// the whole window, except at W=15, where it keeps 28 KiB (7/8 of the
// window) so that window and room fit one 32 KiB allocation. (The Go
// allocator rounds allocations above 32 KiB up to whole 8 KiB pages, so
// 32 KiB + 4 KiB would cost 40 KiB.) RFC 7692 §7.1.2 makes the window
// bits a maximum: a compressor may always refer less far back.
func smallKeep(wbits int) int {
	if wbits == MaxWindowBits {
		return 1<<wbits - smallExtra(wbits)
	}
	return 1 << wbits
}

// bigThreshold is the message size from which a message borrows a big
// buffer. Borrowing costs about two windows of copying (the history in,
// and back at the end); staying costs smallKeep/smallExtra bytes of
// copying per input byte (7 at W=15). They break even near a quarter of
// the window.
func bigThreshold(wbits int) int { return max(smallExtra(wbits), 1<<wbits/4) }

// smallSize is the size of the retained buffer.
func smallSize(wbits int) int { return smallKeep(wbits) + smallExtra(wbits) }

// Pools, indexed by window bits (buffers) or hash bits (tables). Entries
// are pointers so that Put does not allocate.
var (
	smallBufPool [MaxWindowBits + 1]sync.Pool
	bigBufPool   [MaxWindowBits + 1]sync.Pool
	tablePool    [maxHashBits + 1]sync.Pool
)

type byteBuf struct{ b []byte }

type hashTable struct{ t []uint16 }

func getBuf(p *sync.Pool, size int) *byteBuf {
	if b, _ := p.Get().(*byteBuf); b != nil {
		b.b = b.b[:0]
		return b
	}
	return &byteBuf{b: make([]byte, 0, size)}
}

func getTable(hb uint) *hashTable {
	if t, _ := tablePool[hb].Get().(*hashTable); t != nil {
		return t
	}
	return &hashTable{t: make([]uint16, 1<<hb)}
}

// Compressor compresses the messages of one direction of a connection for
// permessage-deflate (RFC 7692 §7.2.1): each message is DEFLATE data ended
// by a sync flush whose final four bytes 00 00 ff ff are not emitted.
//
// With context takeover, the LZ77 window persists from one message to the
// next, so a message may refer to the previous ones (RFC 7692 §7.2.3.2);
// between messages the compressor keeps its buffer, 2^W + max(2^W/8,
// 1 KiB) bytes of window and room (32 KiB at W=15, see smallKeep), and a
// hash table of 2^min(W+1, 12) uint16 entries: 40 KiB in all at W=15,
// 13 KiB at W=12. Without it, a compressor keeps nothing between
// messages: buffers come from pools when a message starts and go back
// when it ends.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	wbits    int
	level    int
	takeover bool
	m        matcher

	dst io.Writer   // destination of the current message; nil outside one
	e   *encScratch // per-message scratch; nil outside a message
	err error       // sticky error of the current message

	sb    *byteBuf   // retained buffer (the window between messages)
	bb    *byteBuf   // borrowed big buffer, if the message needed one
	table *hashTable // hash table

	buf     []byte // sb.b or bb.b: window, then pending input
	base    uint32 // absolute stream position of buf[0], modulo 2^32
	scan    int    // next position the parser starts at
	emit    int    // first byte not yet covered by a token
	block   int    // first input byte of the current block
	matched int    // bytes of the current block covered by matches
	msgLen  int    // bytes written in the current message
}

// NewCompressor returns a compressor for windows of 2^windowBits bytes
// (8..15; values outside are clamped) at the given level (see the level
// constants; values outside -1..9 are clamped). The window bits are
// server_max_window_bits for a server and client_max_window_bits for a
// client (RFC 7692 §7.1.2); unlike zlib, which cannot use a window of 256
// bytes and silently uses 512, the compressor honours 8 exactly. With
// contextTakeover false (the peer asked for *_no_context_takeover, RFC 7692
// §7.1.1), every message is compressed on its own.
//
// No memory is allocated until the first message.
func NewCompressor(windowBits, level int, contextTakeover bool) *Compressor {
	windowBits = min(max(windowBits, MinWindowBits), MaxWindowBits)
	if level < 0 {
		level = BestSpeed
	}
	level = min(level, BestCompression)
	return &Compressor{
		wbits:    windowBits,
		level:    level,
		takeover: contextTakeover,
		m: matcher{
			shift:  32 - uint32(hashBits(windowBits)),
			window: 1 << windowBits,
			lazy:   level >= 4,
		},
	}
}

// Reset begins a message whose compressed bytes go to dst. If the previous
// message was not closed, it is abandoned, and with context takeover so is
// the history (the peer may not have seen all of it); the connection
// should then be closed, since the peer's view of the stream is broken.
func (c *Compressor) Reset(dst io.Writer) {
	if c.e != nil {
		c.abandon()
	}
	c.dst = dst
	c.err = nil
	c.msgLen = 0
}

// Write compresses p as the next part of the current message. Compressed
// bytes reach dst in chunks of about 4 KiB as blocks complete; most are
// written by Close.
func (c *Compressor) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.dst == nil {
		return 0, ErrClosed
	}
	c.begin()
	n := 0
	for len(p) > 0 {
		seg := p[:min(len(p), rawSegment)]
		if len(seg) >= rawMin && c.level != NoCompression && c.e.looksIncompressible(seg) {
			c.writeIncompressible(seg)
			c.msgLen += len(seg)
		} else {
			c.copyIn(seg)
		}
		p = p[len(seg):]
		n += len(seg)
		if c.err != nil {
			return n, c.err
		}
	}
	return n, nil
}

// Large writes are examined in segments of rawSegment bytes; one that
// looks incompressible (random or already compressed data) is written as
// stored blocks straight from the caller's slice, without being parsed.
// Smaller writes, and data written in small pieces, go through the parser,
// whose skipping and the per-block check find incompressible data too,
// only less cheaply.
const (
	rawSegment = 64 << 10
	rawMin     = 8 << 10
)

// copyIn appends p to the buffer, compressing as the buffer fills.
func (c *Compressor) copyIn(p []byte) {
	for len(p) > 0 {
		if len(c.buf) == cap(c.buf) {
			c.makeRoom(len(p))
			if c.err = c.e.bw.err; c.err != nil {
				return
			}
		}
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf = c.buf[:len(c.buf)+k]
		p = p[k:]
		c.msgLen += k
	}
}

// writeIncompressible ends the current block and writes p as stored
// blocks, then appends p to the history: later data may refer to it, and
// the peer's window holds it too.
func (c *Compressor) writeIncompressible(p []byte) {
	c.parseTo(len(c.buf))
	c.flushBlock()
	c.e.writeStored(p)
	c.err = c.e.bw.err
	keep := smallKeep(c.wbits)
	if c.bb != nil {
		keep = 1 << c.wbits
	}
	end := c.base + uint32(len(c.buf)+len(p)) // stream position after p
	if len(p) >= keep {
		c.buf = append(c.buf[:0], p[len(p)-keep:]...)
	} else {
		if drop := len(c.buf) + len(p) - cap(c.buf); drop > 0 {
			n := copy(c.buf, c.buf[drop:])
			c.buf = c.buf[:n]
		}
		c.buf = append(c.buf, p...)
	}
	c.base = end - uint32(len(c.buf))
	c.scan, c.emit, c.block, c.matched = len(c.buf), len(c.buf), len(c.buf), 0
}

// Close ends the message: it compresses the pending input, ends the
// DEFLATE data with a sync flush (an empty stored block, RFC 7692 §7.2.1)
// of which it writes everything but the trailing 00 00 ff ff, and writes
// all remaining bytes to dst. An empty message becomes the single byte
// 0x00 (RFC 7692 §7.2.3.6).
//
// Without context takeover, Close returns the buffers to their pools.
func (c *Compressor) Close() error {
	if c.dst == nil {
		return ErrClosed
	}
	if c.err == nil {
		c.begin()
		c.parseTo(len(c.buf))
		c.flushBlock()
		w := &c.e.bw
		w.writeBits(0, 3) // BFINAL 0, BTYPE 00: the empty stored block
		w.alignByte()     // its LEN and NLEN (00 00 ff ff) are left out
		w.flush()
		c.err = w.err
	}
	err := c.err
	if err != nil {
		c.abandon()
	} else {
		c.endMessage()
	}
	c.dst = nil
	return err
}

// Release returns the compressor's buffers to their pools: call it when
// the connection closes. With context takeover the history is dropped, so
// the next message is compressed without reference to earlier ones (which
// the peer can always decode). Without context takeover Release is not
// needed; Close already released everything.
func (c *Compressor) Release() {
	if c.e != nil {
		c.abandon()
	}
	c.releaseBuffers()
}

// begin acquires what a message needs.
func (c *Compressor) begin() {
	if c.e == nil {
		c.e = getScratch(c.dst, nil)
	}
	if c.sb == nil {
		c.sb = getBuf(&smallBufPool[c.wbits], smallSize(c.wbits))
		c.table = getTable(hashBits(c.wbits))
		c.m.table = c.table.t
		c.buf = c.sb.b[:0]
		c.base, c.scan, c.emit, c.block, c.matched = 0, 0, 0, 0, 0
		// Without history, stale entries could only offer candidates that
		// fail verification or lie in this message; clearing the table
		// (8 KiB at most) makes the output independent of the pool.
		clear(c.m.table)
	}
}

// makeRoom makes room in a full buffer for pending more bytes.
func (c *Compressor) makeRoom(pending int) {
	window := 1 << c.wbits
	if c.bb == nil && c.msgLen+pending > bigThreshold(c.wbits) {
		// A large message: move to a big buffer for its duration.
		c.bb = getBuf(&bigBufPool[c.wbits], window+bigExtra)
		c.bb.b = append(c.bb.b, c.buf...)
		c.buf = c.bb.b
		return
	}
	// Parse all but the last maxMatch bytes, so that matches can extend
	// into the input that follows.
	c.parseTo(len(c.buf) - maxMatch)
	keep := window
	if c.bb == nil {
		keep = smallKeep(c.wbits)
	}
	slide := c.scan - keep
	if c.level == NoCompression {
		slide = c.scan
	}
	if c.block < slide {
		c.flushBlock()
	}
	n := copy(c.buf, c.buf[slide:])
	c.buf = c.buf[:n]
	c.base += uint32(slide)
	c.scan -= slide
	c.emit -= slide
	c.block -= slide
}

// parseTo runs the parser over the start positions up to end, writing
// blocks whenever the token list fills.
func (c *Compressor) parseTo(end int) {
	if c.level == NoCompression {
		c.scan = max(c.scan, end)
		c.emit = c.scan
		return
	}
	for c.scan < end {
		var matched int
		c.scan, c.emit, c.e.tokens, matched = c.m.parse(c.buf, c.base, c.scan, c.emit, end, c.e.tokens)
		c.matched += matched
		if len(c.e.tokens) >= cap(c.e.tokens)-2 {
			c.flushBlock()
		}
	}
}

// flushBlock writes the current block, which ends at the parse position.
func (c *Compressor) flushBlock() {
	if c.block < c.scan {
		if c.level == NoCompression {
			c.e.writeStored(c.buf[c.block:c.scan])
		} else {
			c.e.writeBlock(c.buf[c.block:c.scan], c.e.tokens, c.matched)
		}
	}
	c.e.tokens = c.e.tokens[:0]
	c.block, c.emit, c.matched = c.scan, c.scan, 0
}

// endMessage returns the per-message resources after a successful Close.
func (c *Compressor) endMessage() {
	putScratch(c.e)
	c.e = nil
	if !c.takeover {
		c.releaseBuffers()
		return
	}
	if c.bb != nil {
		// Keep the last window bytes in the retained buffer.
		keep := min(len(c.buf), smallKeep(c.wbits))
		c.sb.b = append(c.sb.b[:0], c.buf[len(c.buf)-keep:]...)
		c.base += uint32(len(c.buf) - keep)
		bigBufPool[c.wbits].Put(c.bb)
		c.bb = nil
		c.buf = c.sb.b
	}
	c.scan, c.emit, c.block, c.matched = len(c.buf), len(c.buf), len(c.buf), 0
}

// abandon drops an unfinished message and, with it, the history.
func (c *Compressor) abandon() {
	if c.e != nil {
		putScratch(c.e)
		c.e = nil
	}
	c.releaseBuffers()
}

func (c *Compressor) releaseBuffers() {
	if c.bb != nil {
		bigBufPool[c.wbits].Put(c.bb)
		c.bb = nil
	}
	if c.sb != nil {
		smallBufPool[c.wbits].Put(c.sb)
		tablePool[hashBits(c.wbits)].Put(c.table)
		c.sb, c.table, c.m.table = nil, nil, nil
	}
	c.buf = nil
}

// AppendCompressed appends msg compressed as one permessage-deflate message
// without context takeover (sync flush, trailing 00 00 ff ff removed) to
// dst and returns the extended slice. It compresses straight from msg,
// without copying it, and uses pooled scratch: it is the form for a
// message prepared once and sent to many connections that negotiated the
// same window bits and no context takeover on our side.
func AppendCompressed(dst, msg []byte, windowBits, level int) []byte {
	windowBits = min(max(windowBits, MinWindowBits), MaxWindowBits)
	if level < 0 {
		level = BestSpeed
	}
	e := getScratch(nil, dst)
	if level == NoCompression {
		e.writeStored(msg)
	} else if len(msg) > 0 {
		t := getTable(hashBits(windowBits))
		clear(t.t)
		m := matcher{table: t.t, shift: 32 - uint32(hashBits(windowBits)), window: 1 << windowBits, lazy: level >= 4}
		s, emit, block, matched := 0, 0, 0, 0
		flush := func() {
			e.writeBlock(msg[block:s], e.tokens, matched)
			e.tokens = e.tokens[:0]
			block, emit, matched = s, s, 0
		}
		for s < len(msg) {
			end := min(len(msg), s+rawSegment)
			if end-s >= rawMin && e.looksIncompressible(msg[s:end]) {
				flush()
				e.writeStored(msg[s:end])
				s, block, emit = end, end, end
				continue
			}
			for s < end {
				var mt int
				s, emit, e.tokens, mt = m.parse(msg, 0, s, emit, end, e.tokens)
				matched += mt
				if len(e.tokens) >= cap(e.tokens)-2 {
					flush()
				}
			}
		}
		flush()
		tablePool[hashBits(windowBits)].Put(t)
	}
	e.bw.writeBits(0, 3)
	e.bw.alignByte()
	out := e.bw.out
	e.bw.out = nil
	putScratch(e)
	return out
}

func (c *Compressor) String() string {
	return fmt.Sprintf("deflate.Compressor(W=%d, level=%d, takeover=%t)", c.wbits, c.level, c.takeover)
}
