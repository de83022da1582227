package deflate

import (
	"encoding/binary"
	"io"
)

// flushSize is how much output a streaming encoder gathers before it
// writes to its destination.
const flushSize = 4096

// bitWriter packs DEFLATE bits, least significant bit first (RFC 1951
// §3.1.1), into out. A streaming writer (dst != nil) hands out to dst once
// it holds flushSize bytes; a one-shot writer appends to the caller's
// slice.
type bitWriter struct {
	out   []byte
	bits  uint64
	nbits uint
	dst   io.Writer
	err   error
}

// writeBits writes the low n bits of v, n <= 32.
func (w *bitWriter) writeBits(v uint64, n uint) {
	w.bits |= v << w.nbits
	w.nbits += n
	if w.nbits >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.bits))
		w.bits >>= 32
		w.nbits -= 32
	}
}

// alignByte pads with zero bits to a byte boundary and moves every whole
// byte to out.
func (w *bitWriter) alignByte() {
	w.nbits = (w.nbits + 7) &^ 7
	for w.nbits > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= 8
	}
}

// writeRaw writes p after aligning to a byte boundary. A streaming writer
// sends p to dst without copying it.
func (w *bitWriter) writeRaw(p []byte) {
	w.alignByte()
	if w.dst == nil {
		w.out = append(w.out, p...)
		return
	}
	w.flush()
	if w.err == nil {
		_, w.err = w.dst.Write(p)
	}
}

// maybeFlush writes out to dst if it holds at least flushSize bytes.
func (w *bitWriter) maybeFlush() {
	if w.dst != nil && len(w.out) >= flushSize {
		w.flush()
	}
}

// handOff is maybeFlush for a caller that keeps the output slice in a
// local variable: it takes the slice and returns the one to go on with.
func (w *bitWriter) handOff(out []byte) []byte {
	if w.dst == nil || len(out) < flushSize {
		return out
	}
	w.out = out
	w.flush()
	return w.out
}

// flush writes out to dst (streaming writers only).
func (w *bitWriter) flush() {
	if w.dst == nil || len(w.out) == 0 {
		return
	}
	if w.err == nil {
		_, w.err = w.dst.Write(w.out)
	}
	w.out = w.out[:0]
}
