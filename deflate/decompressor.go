package deflate

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/rfc6455/ws/frame"
)

// ErrMessageTooBig is returned by Decompressor.Read once a message
// decompresses to more bytes than the limit given to Reset. A connection
// fails with close code 1009 (RFC 6455 §7.4.1).
var ErrMessageTooBig = errors.New("deflate: decompressed message exceeds the read limit")

// errHistoryLost is returned for every message after one that failed while
// context takeover was in effect: the window no longer matches the peer's.
var errHistoryLost = errors.New("deflate: a previous message failed; the shared window is lost")

var ringPool [MaxWindowBits + 1]sync.Pool

// minRingBits is the smallest window the decompressor keeps. RFC 7692
// allows 8 bits, but zlib cannot compress with a 256-byte window and
// silently uses 512 bytes when asked for 8 (permessage-deflate
// implementations built on it may then produce distances up to 512), so
// the decompressor keeps 512 bytes for window bits 8 at a cost of 256
// bytes.
const minRingBits = 9

// Decompressor decompresses the messages of one direction of a connection
// for permessage-deflate (RFC 7692 §7.2.2). It is its own inflater (RFC
// 1951) with a circular window of 2^W bytes, which is both the LZ77
// history and the output buffer: decoding stops when the window holds as
// many unread bytes as it can, so memory does not depend on the size of a
// message, and a message that inflates beyond the read limit fails as soon
// as the limit is passed, having cost at most the window.
//
// With context takeover the window is kept between messages (2^W bytes,
// at least 512); without it nothing is kept: the window comes from a pool
// for the duration of a message. During a message a decompressor also
// uses about 22 KiB of pooled state (a 16 KiB input buffer, Huffman tables).
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	wbits    int
	takeover bool

	ring *byteBuf // the window; nil when released
	mask int64
	wr   int64 // bytes ever written to the window
	rd   int64 // bytes ever read from it
	hist int64 // window bytes before this position are not history

	f        *inflater // per-message state; nil outside a message
	src      io.Reader
	limit    int64
	produced int64
	err      error
	eof      bool // the message's data has ended (it may still be unread)
	active   bool // Reset was called and the message has not been read to its end
}

// NewDecompressor returns a decompressor for windows of 2^windowBits bytes
// (8..15, clamped): server_max_window_bits for a client and
// client_max_window_bits for a server (RFC 7692 §7.1.2). With
// contextTakeover false (we asked for, or accepted, *_no_context_takeover
// for the peer's direction, RFC 7692 §7.1.1), every message is
// decompressed on its own. For window bits 8 the window is 512 bytes (see
// minRingBits).
//
// No memory is allocated until the first message.
func NewDecompressor(windowBits int, contextTakeover bool) *Decompressor {
	windowBits = min(max(windowBits, minRingBits), MaxWindowBits)
	return &Decompressor{wbits: windowBits, takeover: contextTakeover, eof: true}
}

// Reset begins a message: src yields its compressed payload (the payloads
// of all its frames, RSV1 set on the first) and then io.EOF; the
// decompressor appends the 00 00 ff ff that the sender removed (RFC 7692
// §7.2.2). limit bounds the decompressed size (<= 0: no limit).
//
// With context takeover, a message not read to its end is first decoded
// and discarded, since the next message may refer to it; after a message
// that failed, every later one fails too.
func (d *Decompressor) Reset(src io.Reader, limit int64) {
	if d.active && d.err == nil && !d.eof && d.takeover {
		d.discard()
	}
	if d.f != nil {
		d.putInflater()
	}
	if d.err != nil && d.takeover {
		d.err = errHistoryLost
	} else {
		d.err = nil
	}
	d.src, d.limit, d.produced = src, limit, 0
	d.rd = d.wr
	d.eof, d.active = false, true
	if !d.takeover {
		d.hist = d.wr
	}
}

// Read reads decompressed bytes of the current message. It returns
// io.EOF at the end of the message, ErrMessageTooBig once the message
// exceeds the limit (discarding what was decoded but not read), a
// *CorruptInputError for invalid data, and src's errors other than io.EOF.
//
// When the end of the message has been read, the per-message state goes
// back to its pool, and without context takeover so does the window.
func (d *Decompressor) Read(p []byte) (int, error) {
	for {
		if d.err != nil {
			return 0, d.err
		}
		if d.rd < d.wr {
			n := d.copyOut(p)
			if d.eof && d.rd == d.wr {
				d.finish()
			}
			return n, nil
		}
		if d.eof {
			d.finish()
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		d.decode()
	}
}

// Release returns the window and any per-message state to their pools;
// call it when the connection closes. With context takeover the history
// is dropped, so a later message that refers to it fails.
func (d *Decompressor) Release() {
	if d.f != nil {
		d.putInflater()
	}
	if d.ring != nil {
		ringPool[d.wbits].Put(d.ring)
		d.ring = nil
	}
	d.rd = d.wr
	d.hist = d.wr
}

// finish ends a fully read message.
func (d *Decompressor) finish() {
	d.active = false
	if d.f != nil {
		d.putInflater()
	}
	if !d.takeover && d.ring != nil {
		ringPool[d.wbits].Put(d.ring)
		d.ring = nil
	}
}

func (d *Decompressor) putInflater() {
	d.f.src = nil
	inflaterPool.Put(d.f)
	d.f = nil
}

// discard decodes the rest of the message without returning it.
func (d *Decompressor) discard() {
	for d.err == nil && !d.eof {
		d.rd = d.wr
		d.decode()
	}
	d.rd = d.wr
}

func (d *Decompressor) fail(err error) {
	d.err = err
	d.rd = d.wr
	if d.f != nil {
		d.putInflater()
	}
}

// copyOut copies unread window bytes to p.
func (d *Decompressor) copyOut(p []byte) int {
	ring := d.ring.b
	n := 0
	for n < len(p) && d.rd < d.wr {
		i := int(d.rd & d.mask)
		k := copy(p[n:], ring[i:min(len(ring), i+int(d.wr-d.rd))])
		n += k
		d.rd += int64(k)
	}
	return n
}

// decode inflates as much as the free window and the limit allow.
func (d *Decompressor) decode() {
	if d.ring == nil {
		size := 1 << d.wbits
		d.ring = getBuf(&ringPool[d.wbits], size)
		d.ring.b = d.ring.b[:size]
		d.mask = int64(size - 1)
		d.hist = d.wr // whatever the pooled buffer holds is not history
	}
	if d.f == nil {
		d.f = inflaterPool.Get().(*inflater)
		d.f.reset(d.src)
	}
	budget := int64(len(d.ring.b)) - (d.wr - d.rd)
	if d.limit > 0 {
		budget = min(budget, d.limit-d.produced+1)
	}
	start := d.wr
	err := d.inflate(d.wr + budget)
	d.produced += d.wr - start
	switch {
	case err != nil:
		d.fail(err)
	case d.limit > 0 && d.produced > d.limit:
		d.fail(ErrMessageTooBig)
	case d.f.state == stDone:
		d.eof = true
		d.putInflater()
	}
}

// inflate decodes until the window position reaches stop or the data ends.
func (d *Decompressor) inflate(stop int64) error {
	f := d.f
	for d.wr < stop {
		switch f.state {
		case stHeader:
			more, err := f.readHeader()
			if err != nil {
				return err
			}
			if !more {
				f.state = stDone
				return nil
			}
		case stStored:
			if err := d.stored(stop); err != nil {
				return err
			}
		case stHuff:
			if err := d.huffman(stop); err != nil {
				return err
			}
		case stCopy:
			n := int(min(int64(f.copyLen), stop-d.wr))
			d.copyMatch(f.copyDist, n)
			f.copyLen -= n
			if f.copyLen == 0 {
				f.state = stHuff
			}
		case stDone:
			return nil
		}
	}
	return nil
}

// stored copies stored-block bytes to the window.
func (d *Decompressor) stored(stop int64) error {
	f := d.f
	ring := d.ring.b
	// Whole bytes already in the bit buffer come first.
	for f.storedLeft > 0 && f.nbits >= 8 && d.wr < stop {
		ring[d.wr&d.mask] = byte(f.take(8))
		d.wr++
		f.storedLeft--
	}
	if f.nbits == 0 {
		f.bits = 0 // drop the look-ahead; the bytes are read from f.in
	}
	for f.storedLeft > 0 && d.wr < stop {
		if f.inPos == f.inEnd && !f.fill() {
			return f.truncated()
		}
		i := int(d.wr & d.mask)
		n := min(f.storedLeft, f.inEnd-f.inPos, len(ring)-i, int(stop-d.wr))
		copy(ring[i:i+n], f.in[f.inPos:f.inPos+n])
		f.inPos += n
		d.wr += int64(n)
		f.storedLeft -= n
	}
	if f.storedLeft == 0 {
		f.state = stHeader
	}
	return nil
}

// copyMatch copies n bytes from dist bytes back in the window to its end.
// The caller has checked dist against the history and n against the free
// space.
func (d *Decompressor) copyMatch(dist, n int) {
	d.wr = copyMatch(d.ring.b, d.mask, d.wr, dist, n)
}

// copyMatch copies n bytes from dist bytes back in the circular window
// ring, whose end is at position wr, and returns the new end.
func copyMatch(ring []byte, mask, wr int64, dist, n int) int64 {
	size := len(ring)
	for n > 0 {
		w := int(wr & mask)
		r := (w - dist) & int(mask)
		k := min(n, size-w, size-r)
		if dist >= k {
			copy(ring[w:w+k], ring[r:r+k])
		} else {
			// Overlapping: the match repeats its last dist bytes.
			// Then r < w, and each copy doubles what is available.
			for i := 0; i < k; {
				i += copy(ring[w+i:w+k], ring[r:w+i])
			}
		}
		wr += int64(k)
		n -= k
	}
	return wr
}

// huffman decodes the symbols of a Huffman block (RFC 1951 §3.2.5).
//
// This is the decompressor's inner loop. It keeps the bit buffer, the
// input position and the window position in local variables, which the
// compiler can hold in registers across the stores into the window, and
// stores them back only when it leaves the loop. It decodes literals and
// length/distance pairs whose codes the first-level tables resolve; a
// pair is decoded from a copy of the bit buffer (at most 15+5+15+13 = 48
// bits) and taken only once it is valid. Anything else, rare by
// construction (a code longer than rootBits, an invalid symbol), is left
// to huffmanStep, one symbol at a time, and the input's last bytes to
// huffmanSlow.
func (d *Decompressor) huffman(stop int64) error {
	f := d.f
	ring := d.ring.b
	mask := d.mask
	lit, dists := f.lit, f.dist
	in := f.in[:f.inEnd]
	bits, nbits, pos, wr := f.bits, f.nbits, f.inPos, d.wr
	for wr < stop {
		if nbits < 48 {
			if len(in)-pos < 8 {
				f.bits, f.nbits, f.inPos, d.wr = bits, nbits, pos, wr
				f.refill()
				if f.nbits < 48 {
					return d.huffmanSlow(stop)
				}
				bits, nbits, pos = f.bits, f.nbits, f.inPos
			} else {
				bits |= load64(in, pos) << nbits
				pos += int((63 - nbits) >> 3)
				nbits |= 56
			}
		}
		e := lit.table[bits&(1<<rootBits-1)]
		n, sym := uint(e&15), int(e>>4)
		switch {
		case n != 0 && sym < 256:
			bits >>= n
			nbits -= n
			ring[wr&mask] = byte(sym)
			wr++
			continue
		case n != 0 && sym == endOfBlock:
			f.bits, f.nbits, f.inPos, d.wr = bits>>n, nbits-n, pos, wr
			f.state = stHeader
			return nil
		case n != 0 && sym <= 285:
			// A pair, from a copy of the bits: taken only if its distance
			// code resolves here too and the distance is valid (a break
			// leaves it all to huffmanStep).
			b := bits >> n
			lc := sym - 257
			lb := uint(lengthExtra[lc])
			length := int(lengthBase[lc]) + int(b&(1<<lb-1))
			b >>= lb
			de := dists.table[b&(1<<rootBits-1)]
			dn, dsym := uint(de&15), int(de>>4)
			if dn == 0 || dsym >= numDist {
				break
			}
			b >>= dn
			db := uint(distExtra[dsym])
			dist := int(distBase[dsym]) + int(b&(1<<db-1))
			if int64(dist) > wr-d.hist || dist > len(ring) {
				break
			}
			bits, nbits = b>>db, nbits-(n+lb+dn+db)
			k := int(min(int64(length), stop-wr))
			if w, r := int(wr&mask), int(wr&mask)-dist; 4 <= k && k <= 16 && dist >= 8 && r >= 0 && w+k <= len(ring) {
				// A short match that does not wrap around the window,
				// the usual kind: two moves of 8 (or 4) bytes that
				// overlap in the middle cover it, without a call. With
				// dist >= 8, every byte the second move reads lies
				// before w or among those the first move wrote.
				if k >= 8 {
					binary.LittleEndian.PutUint64(ring[w:], load64(ring, r))
					binary.LittleEndian.PutUint64(ring[w+k-8:], load64(ring, r+k-8))
				} else {
					binary.LittleEndian.PutUint32(ring[w:], load32(ring, r))
					binary.LittleEndian.PutUint32(ring[w+k-4:], load32(ring, r+k-4))
				}
				wr += int64(k)
			} else {
				wr = copyMatch(ring, mask, wr, dist, k)
			}
			if k < length {
				f.bits, f.nbits, f.inPos, d.wr = bits, nbits, pos, wr
				f.copyLen, f.copyDist = length-k, dist
				f.state = stCopy
				return nil
			}
			continue
		}
		// Not resolved here: one symbol the general way, which also
		// reports whatever is wrong with it.
		f.bits, f.nbits, f.inPos, d.wr = bits, nbits, pos, wr
		if err := d.huffmanStep(stop); err != nil || f.state != stHuff {
			return err
		}
		bits, nbits, pos, wr = f.bits, f.nbits, f.inPos, d.wr
	}
	f.bits, f.nbits, f.inPos, d.wr = bits, nbits, pos, wr
	return nil
}

// huffmanStep decodes one symbol of a Huffman block, and the rest of its
// match if it is a length, with the bit buffer holding at least 48 bits.
func (d *Decompressor) huffmanStep(stop int64) error {
	f := d.f
	sym, ok := f.decodeBuffered(f.lit)
	if !ok {
		return f.corrupt("invalid literal/length code")
	}
	if sym < 256 {
		d.ring.b[d.wr&d.mask] = byte(sym)
		d.wr++
		return nil
	}
	if sym == endOfBlock {
		f.state = stHeader
		return nil
	}
	return d.match(sym, stop)
}

// huffmanSlow decodes one symbol at a time near the end of the input,
// where the bit buffer cannot always be filled.
func (d *Decompressor) huffmanSlow(stop int64) error {
	f := d.f
	for d.wr < stop {
		sym, err := f.symbol(f.lit)
		if err != nil {
			return err
		}
		if sym < 256 {
			d.ring.b[d.wr&d.mask] = byte(sym)
			d.wr++
			continue
		}
		if sym == endOfBlock {
			f.state = stHeader
			return nil
		}
		if !f.need(uint(lengthExtra[min(sym-257, 28)])) {
			return f.truncated()
		}
		if err := d.match(sym, stop); err != nil {
			return err
		}
		if f.state != stHuff {
			return nil
		}
		if f.nbits >= 48 || f.inEnd-f.inPos >= 8 {
			return nil // back to the fast path
		}
	}
	return nil
}

// match decodes the length extra bits and the distance of length symbol
// sym and copies the match, or as much of it as fits before stop.
func (d *Decompressor) match(sym int, stop int64) error {
	f := d.f
	if sym > 285 {
		return f.corrupt("invalid length symbol")
	}
	lc := sym - 257
	length := int(lengthBase[lc]) + int(f.take(uint(lengthExtra[lc])))
	var dsym int
	if f.nbits >= maxCodeBits+13 {
		var ok bool
		if dsym, ok = f.decodeBuffered(f.dist); !ok {
			return f.corrupt("invalid distance code")
		}
	} else {
		var err error
		if dsym, err = f.symbol(f.dist); err != nil {
			return err
		}
	}
	if dsym >= numDist {
		return f.corrupt("invalid distance symbol")
	}
	if !f.need(uint(distExtra[dsym])) {
		return f.truncated()
	}
	dist := int(distBase[dsym]) + int(f.take(uint(distExtra[dsym])))
	if int64(dist) > d.wr-d.hist || dist > len(d.ring.b) {
		return f.corrupt("distance beyond the window or the history")
	}
	n := int(min(int64(length), stop-d.wr))
	d.copyMatch(dist, n)
	if n < length {
		f.copyLen, f.copyDist = length-n, dist
		f.state = stCopy
	}
	return nil
}

// CloseCode returns the status code with which a connection fails when a
// Decompressor returns err (RFC 6455 §7.4.1): 1009 for ErrMessageTooBig,
// 1007 for corrupt data (the payload is not valid for the negotiated
// extension), and 0 for other errors, such as those of the source, which
// the connection handles as I/O errors.
func CloseCode(err error) frame.StatusCode {
	var ce *CorruptInputError
	switch {
	case errors.Is(err, ErrMessageTooBig):
		return frame.StatusMessageTooBig
	case errors.As(err, &ce), errors.Is(err, errHistoryLost):
		return frame.StatusInvalidPayloadData
	}
	return 0
}
