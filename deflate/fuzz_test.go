package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// FuzzRoundTrip compresses data as up to three messages, written in
// random chunks, with a random window, level and context takeover, and
// checks that our decompressor, compress/flate and the reference decoder
// all return the data, and that no match reaches beyond the window.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), uint8(15), uint8(1), true, uint64(1))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 200), uint8(8), uint8(4), true, uint64(2))
	f.Add(corpusMessages(f, "chat.jsonl")[1], uint8(12), uint8(1), false, uint64(3))
	f.Add(corpusMessages(f, "random.bin")[0][:10000], uint8(9), uint8(0), true, uint64(4))
	f.Fuzz(func(t *testing.T, data []byte, wbits, level uint8, takeover bool, seed uint64) {
		w := MinWindowBits + int(wbits)%(MaxWindowBits-MinWindowBits+1)
		lvl := int(level) % (BestCompression + 1)
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		var msgs [][]byte
		for rest := data; ; {
			n := len(rest)
			if len(msgs) < 2 && n > 0 {
				n = rng.IntN(n + 1)
			}
			msgs = append(msgs, rest[:n])
			rest = rest[n:]
			if len(rest) == 0 {
				break
			}
		}
		// Between some messages the compressor drops its history, as
		// Session.ReleaseIdle does on a quiet connection: the peer, which
		// keeps its window, must decode the rest all the same.
		c := NewCompressor(w, lvl, takeover)
		var payloads [][]byte
		for i := range msgs {
			payloads = append(payloads, compressAll(t, c, msgs[i:i+1], rng)...)
			if rng.IntN(3) == 0 {
				c.Release()
			}
		}
		equalMessages(t, "ours", decompressAll(t, NewDecompressor(w, takeover), payloads, rng), msgs)
		lens := make([]int, len(msgs))
		for i, m := range msgs {
			lens[i] = len(m)
		}
		equalMessages(t, "compress/flate", inflateWithFlate(t, payloads, lens, takeover), msgs)
		checkWithRef(t, payloads, msgs, w, takeover)
		if !takeover {
			for i, m := range msgs {
				if got := AppendCompressed(nil, m, w, lvl); !bytes.Equal(got, payloads[i]) {
					t.Fatalf("message %d: AppendCompressed differs from Compressor", i)
				}
			}
		}
	})
}

// FuzzDecompress feeds arbitrary bytes to the decompressor as two
// messages. It must not panic or exceed the limit, every error must map
// to a close code, and when the reference decoder accepts a message
// without meeting a final block (after which ours goes on decoding, see
// inflater.readHeader), the outputs must agree.
func FuzzDecompress(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, 3, true)
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00}, 7, true)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, 0, false)
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, 100, true)
	f.Add(append(bomb(), make([]byte, 64)...), 0, false)
	f.Add(AppendCompressed(nil, corpusMessages(f, "doc.json")[0][:5000], 15, BestSpeed), 2000, true)
	var fl bytes.Buffer
	fw, _ := flate.NewWriter(&fl, flate.BestCompression)
	fw.Write(corpusMessages(f, "log.txt")[0])
	fw.Flush()
	f.Add(fl.Bytes()[:fl.Len()-4], 50, false)
	f.Fuzz(func(t *testing.T, data []byte, split int, takeover bool) {
		const limit = 1 << 20
		if split < 0 || split > len(data) {
			split = len(data)
		}
		d := NewDecompressor(15, takeover)
		var hist []byte
		for _, p := range [][]byte{data[:split], data[split:]} {
			d.Reset(bytes.NewReader(p), limit)
			got, err := io.ReadAll(d)
			if len(got) > limit {
				t.Fatalf("%d bytes returned, limit %d", len(got), limit)
			}
			if err != nil {
				if CloseCode(err) == 0 {
					t.Fatalf("error without a close code: %v", err)
				}
				return
			}
			if !takeover {
				hist = hist[:0]
			}
			if len(p) == 0 {
				continue
			}
			start := len(hist)
			out, st, rerr := refInflate(append(bytes.Clone(p), syncTail[:]...), hist)
			if rerr == nil && !st.final && !bytes.Equal(out[start:], got) {
				t.Fatalf("output differs from the reference decoder: %d vs %d bytes", len(got), len(out)-start)
			}
			hist = append(hist[:start], got...)
		}
	})
}
