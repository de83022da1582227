package frame

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// FuzzMaskChunks masks a payload that starts at an arbitrary offset inside
// a larger buffer (so the word and 32-byte loops meet every alignment), in chunks of
// random sizes that carry the key position from one call to the next, and
// compares the result with the byte-at-a-time definition of RFC 6455 §5.3
// applied to the whole payload at once. The bytes around the payload must
// stay untouched, and masking twice must give the input back.
func FuzzMaskChunks(f *testing.F) {
	f.Add([]byte("Hello, world"), uint32(0x37fa213d), uint8(0), uint8(1), uint64(1))
	f.Add(bytes.Repeat([]byte{0xAA}, 100), uint32(0x01020304), uint8(3), uint8(7), uint64(2))
	f.Add(make([]byte, 300), uint32(0xffffffff), uint8(2), uint8(5), uint64(3))
	f.Fuzz(func(t *testing.T, p []byte, k uint32, pos, offset uint8, seed uint64) {
		// The same checks on the assembly loop (where this machine has one)
		// and on the pure-Go loop.
		detected := useAVX2
		defer func() { useAVX2 = detected }()
		for _, asm := range []bool{detected, false} {
			useAVX2 = asm
			key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
			off := int(offset % 32)
			const guard = 32
			buf := make([]byte, off+len(p)+guard)
			for i := range buf {
				buf[i] = byte(i*31 + 7)
			}
			copy(buf[off:], p)
			orig := bytes.Clone(buf)

			want := bytes.Clone(p)
			wantPos := maskReference(key, int(pos&3), want)

			rng := rand.New(rand.NewPCG(seed, uint64(len(p))))
			got := buf[off : off+len(p)]
			kp := int(pos)
			for rest := got; len(rest) > 0; {
				n := 1 + rng.IntN(len(rest))
				if rng.IntN(2) == 0 {
					n = min(n, 1+rng.IntN(9)) // mostly short chunks around the word size
				}
				kp = Mask(key, kp, rest[:n])
				rest = rest[n:]
			}
			if len(p) == 0 {
				kp = Mask(key, kp, got) // an empty chunk keeps the position, reduced to 0..3
			}
			if kp != wantPos {
				t.Fatalf("key position after %d bytes from %d: got %d, want %d", len(p), pos, kp, wantPos)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("offset %d, key % x, pos %d: chunked Mask differs from the reference\n got % x\nwant % x", off, key, pos, got, want)
			}
			if !bytes.Equal(buf[:off], orig[:off]) || !bytes.Equal(buf[off+len(p):], orig[off+len(p):]) {
				t.Fatalf("Mask wrote outside the payload")
			}
			Mask(key, int(pos), got)
			if !bytes.Equal(buf, orig) {
				t.Fatalf("masking twice does not give the input back")
			}
		}
	})
}
