package deflate

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rfc6455/ws/frame"
)

// bitBuilder writes DEFLATE fields for hand-made test streams.
type bitBuilder struct {
	out []byte
	n   uint
}

// bits writes the low n bits of v, least significant first.
func (b *bitBuilder) bits(v uint64, n uint) *bitBuilder {
	for i := range n {
		if b.n%8 == 0 {
			b.out = append(b.out, 0)
		}
		b.out[len(b.out)-1] |= byte(v>>i&1) << (b.n % 8)
		b.n++
	}
	return b
}

// code writes a Huffman code of n bits, most significant first.
func (b *bitBuilder) code(c uint64, n uint) *bitBuilder {
	for i := n; i > 0; i-- {
		b.bits(c>>(i-1)&1, 1)
	}
	return b
}

// dynamicHeader starts a dynamic block with the given code length code
// lengths (symbol -> length, sent for all 19 symbols).
func (b *bitBuilder) dynamicHeader(hlit, hdist int, cl map[int]uint64) *bitBuilder {
	b.bits(0b100, 3).bits(uint64(hlit-257), 5).bits(uint64(hdist-1), 5).bits(15, 4)
	for _, s := range codeLenOrder {
		b.bits(cl[int(s)], 3)
	}
	return b
}

func TestMalformedInput(t *testing.T) {
	// A code length code for the rows that need one: 18 -> "0",
	// 0 -> "10", 1 -> "11" (lengths 1, 2, 2).
	cl := map[int]uint64{18: 1, 0: 2, 1: 2}
	sym18 := func(b *bitBuilder, zeros int) *bitBuilder { return b.code(0, 1).bits(uint64(zeros-11), 7) }

	tests := []struct {
		name    string
		payload []byte
		reason  string // substring of the CorruptInputError's reason
	}{
		{"reserved block type", []byte{0x07}, "reserved block type"},
		{"stored length vs complement", []byte{0x00, 0x01, 0x00, 0x00, 0x00}, "does not match its complement"},
		{"too many length codes", (&bitBuilder{}).bits(0b100, 3).bits(30, 5).bits(0, 9).out, "too many length or distance codes"},
		{"too many distance codes", (&bitBuilder{}).bits(0b100, 3).bits(0, 5).bits(30, 5).bits(0, 4).out, "too many length or distance codes"},
		{"over-subscribed code length code", (&bitBuilder{}).dynamicHeader(257, 1, map[int]uint64{0: 1, 1: 1, 2: 1}).out, "invalid code length code"},
		{"incomplete code length code", (&bitBuilder{}).dynamicHeader(257, 1, map[int]uint64{0: 2, 1: 2}).out, "invalid code length code"},
		{"repeat with nothing before", (&bitBuilder{}).dynamicHeader(257, 1, map[int]uint64{16: 1, 0: 1}).code(1, 1).bits(0, 2).out, "repeat of a code length with none before it"},
		{"repeat beyond the last code", sym18(sym18((&bitBuilder{}).dynamicHeader(257, 1, cl), 138), 138).out, "code length repeat beyond the last code"},
		{"no end-of-block code", sym18(sym18((&bitBuilder{}).dynamicHeader(257, 1, cl).code(3, 2).code(3, 2), 138), 117).code(3, 2).out, "no end-of-block code"},
		{"over-subscribed literal/length code", sym18(sym18((&bitBuilder{}).dynamicHeader(257, 1, cl).code(3, 2).code(3, 2), 138), 116).code(3, 2).code(3, 2).out, "invalid literal/length code"},
		{"invalid length symbol 286", (&bitBuilder{}).bits(0b010, 3).code(0b11000110, 8).out, "invalid length symbol"},
		{"invalid distance symbol 30", (&bitBuilder{}).bits(0b010, 3).code(0b0000001, 7).code(30, 5).out, "invalid distance symbol"},
		{"distance before the start of the data", (&bitBuilder{}).bits(0b010, 3).code(0b0000001, 7).code(0, 5).out, "distance beyond the window or the history"},
		{"distance beyond the window", (&bitBuilder{}).bits(0b010, 3).code(0x30+'a', 8).code(0b0000001, 7).code(29, 5).bits(0, 13).out, "distance beyond the window or the history"},
		{"truncated Huffman block", []byte{0xf2, 0x48, 0xcd}, "unexpected end of data"},
		{"truncated stored block", []byte{0x00, 0x0a, 0x00, 0xf5, 0xff, 0x48, 0x65}, "unexpected end of data"},
		{"truncated header", (&bitBuilder{}).bits(0b100, 3).bits(0, 10).out, ""},
		{"garbage", []byte("this is not DEFLATE data at all"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, one := range []bool{false, true} {
				d := NewDecompressor(9, false)
				var src io.Reader = bytes.NewReader(tc.payload)
				if one {
					src = iotest.OneByteReader(src)
				}
				d.Reset(src, 0)
				_, err := io.ReadAll(d)
				var ce *CorruptInputError
				if !errors.As(err, &ce) {
					t.Fatalf("error %v, want a *CorruptInputError", err)
				}
				if !strings.Contains(ce.Reason, tc.reason) {
					t.Errorf("reason %q, want %q", ce.Reason, tc.reason)
				}
				if got := CloseCode(err); got != frame.StatusInvalidPayloadData {
					t.Errorf("close code %v, want 1007", got)
				}
				// The failure does not leak into the next message
				// without context takeover.
				d.Reset(bytes.NewReader([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 0)
				if got, err := io.ReadAll(d); err != nil || string(got) != "Hello" {
					t.Errorf("next message: %q, %v", got, err)
				}
			}
		})
	}
}

// TestNoHistoryLeak checks that without context takeover a message cannot
// read the previous message's bytes from the recycled window, and that a
// pooled window never shows another stream's data.
func TestNoHistoryLeak(t *testing.T) {
	secret := []byte("secret secret secret")
	// "Hello" then a back-reference of 20 bytes at distance 20 + 5.
	ref := (&bitBuilder{}).bits(0b010, 3)
	for _, c := range []byte("Hello") {
		ref.code(0x30+uint64(c), 8)
	}
	ref.code(0b0001010, 7).bits(1, 1) // length 21..22: symbol 266, extra 1 -> 22
	ref.code(9, 5).bits(0, 3)         // distance 25..32: symbol 9, extra 0 -> 25
	ref.code(0, 7)                    // end of block
	ref.bits(0, 3)                    // empty stored block header

	for _, takeover := range []bool{false, true} {
		d := NewDecompressor(15, takeover)
		c := NewCompressor(15, BestSpeed, false)
		var first bytes.Buffer
		c.Reset(&first)
		c.Write(secret)
		c.Close()
		d.Reset(bytes.NewReader(first.Bytes()), 0)
		if got, _ := io.ReadAll(d); !bytes.Equal(got, secret) {
			t.Fatal("first message")
		}
		d.Reset(bytes.NewReader(ref.out), 0)
		got, err := io.ReadAll(d)
		if takeover {
			if err != nil || !strings.HasPrefix(string(got), "Hello") {
				t.Errorf("with takeover: %q, %v", got, err)
			}
			continue
		}
		var ce *CorruptInputError
		if !errors.As(err, &ce) || bytes.Contains(got, []byte("secret")) {
			t.Errorf("without takeover: %q, %v; want a corrupt-input error and no secret", got, err)
		}
	}
	// A fresh decompressor given a recycled window: same check.
	d := NewDecompressor(15, true)
	d.Reset(bytes.NewReader(ref.out), 0)
	if got, err := io.ReadAll(d); err == nil || bytes.Contains(got, []byte("secret")) {
		t.Errorf("fresh decompressor: %q, %v", got, err)
	}
}

// bomb returns the start of a DEFLATE stream that inflates without end:
// a dynamic block whose codes make each (length 258, distance 1) pair two
// zero bits, so that the rest of the stream is zero bytes, 1032 output
// bytes per input byte.
func bomb() []byte {
	e := getScratch(nil, nil)
	defer putScratch(e)
	clear(e.litFreq[:])
	clear(e.distFreq[:])
	e.litFreq['a'] = 1
	e.litFreq[endOfBlock] = 1
	e.litFreq[285] = 1000
	e.distFreq[0] = 1000
	e.buildDynamic()
	e.writeDynamicHeader()
	if e.litLens[285] != 1 || e.distLens[0] != 1 || e.litCodes[285] != 0 || e.distCodes[0] != 0 {
		panic("unexpected codes")
	}
	e.bw.writeBits(uint64(e.litCodes['a']), uint(e.litLens['a']))
	e.bw.alignByte()
	return bytes.Clone(e.bw.out)
}

type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.n))
	clear(p[:n])
	z.n -= int64(n)
	return n, nil
}

func TestDecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	prefix := bomb()
	// 1 MiB of input inflating to 1 GiB (1032 bytes per byte); a 1 KiB
	// prefix alone is worth 1 MiB.
	z := &zeros{n: 1 << 20}
	src := io.MultiReader(bytes.NewReader(prefix), z)
	d := NewDecompressor(15, true)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d.Reset(src, limit)
	buf := make([]byte, 4096)
	total := 0
	var err error
	for err == nil {
		var n int
		n, err = d.Read(buf)
		total += n
	}
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMessageTooBig) || CloseCode(err) != frame.StatusMessageTooBig {
		t.Fatalf("error %v, want ErrMessageTooBig", err)
	}
	if total > limit {
		t.Errorf("read %d bytes, more than the limit %d", total, limit)
	}
	consumed := (1 << 20) - z.n
	if consumed > 2*inBufSize {
		t.Errorf("consumed %d bytes of input to produce the limit of %d bytes", consumed, limit)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
		t.Errorf("allocated %d bytes inflating a bomb with a limit of %d", alloc, limit)
	}
	t.Logf("read %d bytes, consumed %d input bytes, allocated %d bytes, heap in use grew by %d",
		total, consumed, after.TotalAlloc-before.TotalAlloc, int64(after.HeapInuse)-int64(before.HeapInuse))

	// Exactly at the limit is fine; one more byte is not.
	msg := bytes.Repeat([]byte("limit "), 1000)
	payload := AppendCompressed(nil, msg, 15, BestSpeed)
	for _, tc := range []struct {
		limit int64
		err   error
	}{{int64(len(msg)), nil}, {int64(len(msg)) - 1, ErrMessageTooBig}, {0, nil}, {-1, nil}} {
		d := NewDecompressor(15, false)
		d.Reset(bytes.NewReader(payload), tc.limit)
		got, err := io.ReadAll(d)
		if !errors.Is(err, tc.err) || (err == nil && !bytes.Equal(got, msg)) {
			t.Errorf("limit %d: %d bytes, %v; want %v", tc.limit, len(got), err, tc.err)
		}
	}
}

func TestDecompressorLifecycle(t *testing.T) {
	msgs := [][]byte{[]byte(strings.Repeat("abc", 5000)), []byte("abcabcabc"), []byte(strings.Repeat("xyz", 20000))}
	payloads := compressAll(t, NewCompressor(15, BestSpeed, true), msgs, nil)

	// Read before Reset is the end of an empty stream.
	d := NewDecompressor(15, true)
	if n, err := d.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read before Reset: %d, %v", n, err)
	}
	// A message read only in part is finished by the next Reset, so
	// that the following message's references still resolve.
	for i, p := range payloads {
		d.Reset(bytes.NewReader(p), 0)
		if i == 0 {
			if _, err := d.Read(make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := io.ReadAll(d)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d after a partly read one: %d bytes, %v", i, len(got), err)
		}
	}
	// With context takeover, an error is permanent.
	d = NewDecompressor(15, true)
	d.Reset(bytes.NewReader([]byte{0x07}), 0)
	if _, err := io.ReadAll(d); CloseCode(err) != frame.StatusInvalidPayloadData {
		t.Fatalf("corrupt message: %v", err)
	}
	d.Reset(bytes.NewReader(payloads[0]), 0)
	if _, err := io.ReadAll(d); !errors.Is(err, errHistoryLost) || CloseCode(err) != frame.StatusInvalidPayloadData {
		t.Errorf("message after a failure with context takeover: %v", err)
	}
	// Errors of the source are passed through.
	boom := errors.New("boom")
	d = NewDecompressor(15, false)
	d.Reset(iotest.ErrReader(boom), 0)
	if _, err := io.ReadAll(d); !errors.Is(err, boom) || CloseCode(err) != 0 {
		t.Errorf("source error: %v", err)
	}
	d.Reset(io.MultiReader(bytes.NewReader(payloads[0][:10]), iotest.ErrReader(boom)), 0)
	if _, err := io.ReadAll(d); !errors.Is(err, boom) {
		t.Errorf("source error mid-message: %v", err)
	}
}
