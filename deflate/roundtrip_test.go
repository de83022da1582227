package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// compressAll compresses msgs as consecutive messages, writing each in
// chunks of random sizes (or whole, for rng == nil).
func compressAll(t testing.TB, c *Compressor, msgs [][]byte, rng *rand.Rand) [][]byte {
	t.Helper()
	var out [][]byte
	for i, m := range msgs {
		var buf bytes.Buffer
		c.Reset(&buf)
		for len(m) > 0 {
			k := len(m)
			if rng != nil {
				k = min(k, 1+rng.IntN(3000))
			}
			if n, err := c.Write(m[:k]); err != nil || n != k {
				t.Fatalf("message %d: Write = %d, %v", i, n, err)
			}
			m = m[k:]
		}
		if err := c.Close(); err != nil {
			t.Fatalf("message %d: Close: %v", i, err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// decompressAll decompresses consecutive payloads with d, reading through
// readers that return short reads.
func decompressAll(t testing.TB, d *Decompressor, payloads [][]byte, rng *rand.Rand) [][]byte {
	t.Helper()
	var out [][]byte
	for i, p := range payloads {
		var src io.Reader = bytes.NewReader(p)
		if rng != nil && rng.IntN(3) == 0 {
			src = iotest.OneByteReader(src)
		}
		d.Reset(src, 0)
		var got []byte
		buf := make([]byte, 1+rng.IntN(5000))
		for {
			n, err := d.Read(buf[:1+rng.IntN(len(buf))])
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("message %d: Read: %v", i, err)
			}
		}
		out = append(out, got)
	}
	return out
}

// inflateWithFlate decodes payloads with compress/flate: with context
// takeover as one stream (each payload followed by 00 00 ff ff), without
// it one stream per message.
func inflateWithFlate(t testing.TB, payloads [][]byte, lens []int, takeover bool) [][]byte {
	t.Helper()
	var out [][]byte
	var stream bytes.Buffer
	r := flate.NewReader(&stream)
	for i, p := range payloads {
		if !takeover {
			stream.Reset()
			r.(flate.Resetter).Reset(&stream, nil)
		}
		stream.Write(p)
		stream.Write(syncTail[:])
		got := make([]byte, lens[i])
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("compress/flate, message %d: %v", i, err)
		}
		out = append(out, got)
	}
	return out
}

// checkWithRef decodes payloads with the test-only reference decoder and
// checks that no match reaches further back than 2^wbits.
func checkWithRef(t testing.TB, payloads [][]byte, msgs [][]byte, wbits int, takeover bool) refStats {
	t.Helper()
	var hist []byte
	var total refStats
	for i, p := range payloads {
		if !takeover {
			hist = hist[:0]
		}
		start := len(hist)
		out, st, err := refInflate(append(bytes.Clone(p), syncTail[:]...), hist)
		if err != nil {
			t.Fatalf("reference decoder, message %d: %v", i, err)
		}
		if !bytes.Equal(out[start:], msgs[i]) {
			t.Fatalf("reference decoder, message %d: output differs", i)
		}
		if st.maxDist > 1<<wbits {
			t.Fatalf("message %d: match distance %d exceeds the window of %d bytes", i, st.maxDist, 1<<wbits)
		}
		hist = out
		total.maxDist = max(total.maxDist, st.maxDist)
		total.stored += st.stored
		total.fixed += st.fixed
		total.dynamic += st.dynamic
		total.matches += st.matches
	}
	return total
}

func equalMessages(t testing.TB, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: message %d differs (%d bytes, want %d)", what, i, len(got[i]), len(want[i]))
		}
	}
}

// mixedMessages interleaves the corpus so that messages refer back to
// earlier ones of every kind, and repeats some so that history matters.
func mixedMessages(t testing.TB) [][]byte {
	chat := corpusMessages(t, "chat.jsonl")
	logs := corpusMessages(t, "log.txt")
	doc := corpusMessages(t, "doc.json")[0]
	rnd := corpusMessages(t, "random.bin")[0]
	var msgs [][]byte
	for i := range 40 {
		msgs = append(msgs, chat[i], logs[i])
	}
	msgs = append(msgs, doc[:20000], rnd[:3000], []byte{}, doc[20000:], chat[3], chat[3], rnd[3000:40000])
	for i := range 20 {
		msgs = append(msgs, chat[i*3], logs[i*2])
	}
	return msgs
}

func TestRoundTrip(t *testing.T) {
	corpora := map[string][][]byte{"mixed": mixedMessages(t)}
	for _, name := range corpusFiles {
		corpora[name] = corpusMessages(t, name)
	}
	levels := []int{NoCompression, BestSpeed, 4, BestCompression}
	for name, msgs := range corpora {
		lens := make([]int, len(msgs))
		for i, m := range msgs {
			lens[i] = len(m)
		}
		for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
			for _, level := range levels {
				for _, takeover := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s/W=%d/level=%d/takeover=%t", name, wbits, level, takeover), func(t *testing.T) {
						if testing.Short() && wbits%3 != 0 {
							t.Skip("short")
						}
						rng := rand.New(rand.NewPCG(uint64(wbits), uint64(level+10)))
						payloads := compressAll(t, NewCompressor(wbits, level, takeover), msgs, rng)
						equalMessages(t, "ours", decompressAll(t, NewDecompressor(wbits, takeover), payloads, rng), msgs)
						equalMessages(t, "compress/flate", inflateWithFlate(t, payloads, lens, takeover), msgs)
						st := checkWithRef(t, payloads, msgs, wbits, takeover)
						if level == NoCompression && (st.fixed+st.dynamic != 0 || st.matches != 0) {
							t.Errorf("level 0 produced Huffman blocks: %+v", st)
						}
					})
				}
			}
		}
	}
}

// TestHistoryIsUsed checks that context takeover lets a message refer to
// the previous one, and that without it (or beyond the window) it cannot.
func TestHistoryIsUsed(t *testing.T) {
	msg := corpusMessages(t, "chat.jsonl")[1]
	for _, tc := range []struct {
		wbits    int
		takeover bool
		pad      int // bytes of random data between the two copies
		shrinks  bool
	}{
		{15, true, 0, true},
		{15, false, 0, false},
		{8, true, 0, len(msg) <= 256},
		{9, true, 100, len(msg)+100 <= 512},
		{9, true, 600, false},   // the first copy is more than 512 bytes back
		{15, true, 20000, true}, // within 32 KiB
		{12, true, 5000, false}, // beyond 4 KiB
	} {
		pad := make([]byte, tc.pad)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range pad {
			pad[i] = byte(rng.Uint32())
		}
		msgs := [][]byte{msg, pad, msg}
		payloads := compressAll(t, NewCompressor(tc.wbits, BestSpeed, tc.takeover), msgs, nil)
		st := checkWithRef(t, payloads, msgs, tc.wbits, tc.takeover)
		shrank := len(payloads[2]) < len(payloads[0])/4
		if shrank != tc.shrinks {
			t.Errorf("W=%d takeover=%t pad=%d: repeat is %d bytes, first %d (stats %+v); want shrink=%t",
				tc.wbits, tc.takeover, tc.pad, len(payloads[2]), len(payloads[0]), st, tc.shrinks)
		}
		got := decompressAll(t, NewDecompressor(tc.wbits, tc.takeover), payloads, rand.New(rand.NewPCG(2, 2)))
		equalMessages(t, "ours", got, msgs)
	}
}

// TestFlateToOurs decodes what compress/flate produces for
// permessage-deflate: sync-flushed messages with the tail removed.
func TestFlateToOurs(t *testing.T) {
	msgs := mixedMessages(t)
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		for _, takeover := range []bool{true, false} {
			var payloads [][]byte
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, level)
			for _, m := range msgs {
				if !takeover {
					w.Reset(&buf)
				}
				buf.Reset()
				w.Write(m)
				w.Flush()
				p := buf.Bytes()
				if !bytes.HasSuffix(p, syncTail[:]) {
					t.Fatalf("flate output does not end with the sync marker")
				}
				payloads = append(payloads, bytes.Clone(p[:len(p)-4]))
			}
			got := decompressAll(t, NewDecompressor(15, takeover), payloads, rand.New(rand.NewPCG(uint64(level+5), 1)))
			equalMessages(t, fmt.Sprintf("flate level %d takeover=%t", level, takeover), got, msgs)
		}
	}
}

// TestFlateFinalBlock decodes messages that end with a BFINAL block
// (RFC 7692 §7.2.3.4 allows it) followed by more messages that refer back
// to them.
func TestFlateFinalBlock(t *testing.T) {
	msgs := [][]byte{[]byte("Hello, Hello, permessage-deflate"), []byte("permessage-deflate, Hello")}
	var payloads [][]byte
	var hist []byte
	for i, m := range msgs {
		var buf bytes.Buffer
		w, _ := flate.NewWriterDict(&buf, flate.BestCompression, hist)
		w.Write(m)
		w.Close() // final block, no sync flush
		p := buf.Bytes()
		if i == 1 {
			p = append(p, 0x00) // like §7.2.3.4: a byte after the final block
		}
		payloads = append(payloads, bytes.Clone(p))
		hist = append(hist, m...)
	}
	got := decompressAll(t, NewDecompressor(15, true), payloads, rand.New(rand.NewPCG(1, 1)))
	equalMessages(t, "final blocks", got, msgs)
}

func TestRFC7692Examples(t *testing.T) {
	hello := []byte("Hello")
	// §7.2.3.1 and §7.2.3.2: "Hello" twice with context takeover.
	payloads := compressAll(t, NewCompressor(15, BestSpeed, true), [][]byte{hello, hello}, nil)
	if want := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}; !bytes.Equal(payloads[0], want) {
		t.Errorf("§7.2.3.1: got % x, want % x", payloads[0], want)
	}
	// The RFC's second message (f2 00 11 00 00, from zlib) is a literal
	// 'H' and a match of 4 at distance 5; ours is one match of 5, a byte
	// shorter. Both decode to "Hello" with the first message as history.
	if want := []byte{0x02, 0x13, 0x00, 0x00}; !bytes.Equal(payloads[1], want) {
		t.Errorf("§7.2.3.2: got % x, want % x", payloads[1], want)
	}
	if st := checkWithRef(t, payloads, [][]byte{hello, hello}, 15, true); st.matches != 1 || st.maxDist != 5 {
		t.Errorf("§7.2.3.2: %+v, want one match at distance 5", st)
	}
	// Without context takeover the second message is like the first.
	payloads = compressAll(t, NewCompressor(15, BestSpeed, false), [][]byte{hello, hello}, nil)
	if !bytes.Equal(payloads[0], payloads[1]) {
		t.Errorf("no context takeover: % x then % x", payloads[0], payloads[1])
	}
	// §7.2.3.6: an empty message.
	payloads = compressAll(t, NewCompressor(15, BestSpeed, false), [][]byte{{}}, nil)
	if want := []byte{0x00}; !bytes.Equal(payloads[0], want) {
		t.Errorf("§7.2.3.6: got % x, want % x", payloads[0], want)
	}
	if got := AppendCompressed(nil, hello, 15, BestSpeed); !bytes.Equal(got, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}) {
		t.Errorf("AppendCompressed: got % x", got)
	}

	decode := []struct {
		section  string
		payloads [][]byte
		want     []string
	}{
		{"7.2.3.1", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, []string{"Hello"}},
		{"7.2.3.2", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}}, []string{"Hello", "Hello"}},
		{"7.2.3.3", [][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}, []string{"Hello"}},
		{"7.2.3.4", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}, []string{"Hello"}},
		{"7.2.3.4 then 7.2.3.2", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}}, []string{"Hello", "Hello"}},
		{"7.2.3.4 without the extra byte", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, []string{"Hello"}},
		{"7.2.3.5", [][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}, []string{"Hello"}},
		{"7.2.3.6", [][]byte{{0x00}}, []string{""}},
		{"empty payload", [][]byte{{}}, []string{""}},
	}
	for _, tc := range decode {
		for _, one := range []bool{false, true} {
			d := NewDecompressor(15, true)
			for i, p := range tc.payloads {
				var src io.Reader = bytes.NewReader(p)
				if one {
					src = iotest.OneByteReader(src)
				}
				d.Reset(src, 0)
				got, err := io.ReadAll(d)
				if err != nil || string(got) != tc.want[i] {
					t.Errorf("§%s message %d: got %q, %v; want %q", tc.section, i, got, err, tc.want[i])
				}
			}
		}
	}
}

func TestAppendCompressed(t *testing.T) {
	msgs := mixedMessages(t)
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		for _, level := range []int{NoCompression, BestSpeed, 4} {
			var payloads [][]byte
			for _, m := range msgs {
				prefix := []byte("hdr")
				out := AppendCompressed(prefix, m, wbits, level)
				if string(out[:3]) != "hdr" {
					t.Fatal("AppendCompressed overwrote dst")
				}
				payloads = append(payloads, out[3:])
			}
			// Same bytes as a Compressor without context takeover.
			want := compressAll(t, NewCompressor(wbits, level, false), msgs, nil)
			equalMessages(t, "AppendCompressed vs Compressor", payloads, want)
			checkWithRef(t, payloads, msgs, wbits, false)
			got := decompressAll(t, NewDecompressor(wbits, false), payloads, rand.New(rand.NewPCG(3, 3)))
			equalMessages(t, "AppendCompressed", got, msgs)
		}
	}
}

func TestCompressorErrors(t *testing.T) {
	c := NewCompressor(15, BestSpeed, true)
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write before Reset: %v, want ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("Close before Reset: %v, want ErrClosed", err)
	}
	boom := errors.New("boom")
	c.Reset(errWriter{boom})
	big := corpusMessages(t, "random.bin")[0]
	_, err := c.Write(big)
	if err == nil {
		err = c.Close()
	} else if cerr := c.Close(); !errors.Is(cerr, boom) {
		t.Errorf("Close after a failed Write: %v", cerr)
	}
	if !errors.Is(err, boom) {
		t.Errorf("writing to a failing destination: %v, want %v", err, boom)
	}
	// The compressor recovers for the next message, without history.
	var buf bytes.Buffer
	c.Reset(&buf)
	c.Write([]byte("Hello"))
	if err := c.Close(); err != nil || !bytes.Equal(buf.Bytes(), []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}) {
		t.Errorf("after an error: % x, %v", buf.Bytes(), err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

// TestShortMatches decodes streams full of matches of 3 to 20 bytes at
// distances 1 to 40, with an 8-bit window, so that many of them end at,
// start at or cross the end of the 256-byte window ring: the decoder
// copies short matches that do not wrap with two word moves and hands
// the rest to its general copy. The stream comes from compress/flate at
// its best level, which takes every match it finds.
func TestShortMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var data []byte
	for len(data) < 20000 {
		if len(data) < 40 || rng.IntN(3) == 0 {
			data = append(data, byte(rng.IntN(256)))
			continue
		}
		dist, n := 1+rng.IntN(40), 3+rng.IntN(18)
		for range n {
			data = append(data, data[len(data)-dist])
		}
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	var msgs, payloads [][]byte
	for m := range slices.Chunk(data, 200) {
		// flate's window is 32 KiB; with an 8-bit window on our side the
		// stream must stay within 256 bytes, so each message starts over.
		buf.Reset()
		w.Reset(&buf)
		w.Write(m)
		w.Flush()
		msgs = append(msgs, m)
		payloads = append(payloads, bytes.Clone(bytes.TrimSuffix(buf.Bytes(), syncTail[:])))
	}
	got := decompressAll(t, NewDecompressor(8, false), payloads, rand.New(rand.NewPCG(8, 8)))
	equalMessages(t, "short matches, 8-bit window", got, msgs)
}
