package engine

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// RFC 6455 §5.7's example frames, byte for byte, and the length encoding
// boundaries of §5.2.
func TestAppendFrameHeader(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name   string
		fin    bool
		rsv    byte
		op     byte
		masked bool
		length uint64
		want   []byte
	}{
		{"unmasked Hello", true, 0, 1, false, 5, []byte{0x81, 0x05}},
		{"masked Hello", true, 0, 1, true, 5, []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{"first fragment", false, 0, 1, false, 3, []byte{0x01, 0x03}},
		{"continuation", true, 0, 0, false, 2, []byte{0x80, 0x02}},
		{"RSV1", true, 4, 1, false, 0, []byte{0xc1, 0x00}},
		{"RSV2 RSV3", true, 3, 2, false, 0, []byte{0xb2, 0x00}},
		{"125", true, 0, 2, false, 125, []byte{0x82, 125}},
		{"126", true, 0, 2, false, 126, []byte{0x82, 126, 0x00, 126}},
		{"256 bytes", true, 0, 2, false, 256, []byte{0x82, 0x7e, 0x01, 0x00}},
		{"65535", true, 0, 2, false, 65535, []byte{0x82, 126, 0xff, 0xff}},
		{"64 KiB", true, 0, 2, false, 65536, []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"masked 64 KiB", true, 0, 2, true, 65536, []byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xfa, 0x21, 0x3d}},
	}
	for _, tt := range tests {
		if got := appendFrameHeader(nil, tt.fin, tt.rsv, tt.op, tt.masked, key, tt.length); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: % x, want % x", tt.name, got, tt.want)
		}
	}
}

// maskBytes agrees with the definition, octet i XOR key[i mod 4], for
// every start position and length around the word size.
func TestMaskBytesMatchesDefinition(t *testing.T) {
	key := [4]byte{0x01, 0x23, 0x45, 0x67}
	for pos := uint64(0); pos < 8; pos++ {
		for n := 0; n < 40; n++ {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i * 7)
			}
			got := bytes.Clone(p)
			if end := maskBytes(key, pos, got); end != pos+uint64(n) {
				t.Fatalf("pos %d, %d bytes: returned %d", pos, n, end)
			}
			for i := range p {
				if want := p[i] ^ key[(pos+uint64(i))%4]; got[i] != want {
					t.Fatalf("pos %d, %d bytes: byte %d is %#x, want %#x", pos, n, i, got[i], want)
				}
			}
		}
	}
}

// RFC 6455 §5.7's masked "Hello", masked whole and in every split.
func TestMaskBytes(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	for split := 0; split <= 5; split++ {
		p := []byte("Hello")
		pos := maskBytes(key, 0, p[:split])
		if pos = maskBytes(key, pos, p[split:]); pos != 5 || !bytes.Equal(p, want) {
			t.Errorf("split at %d: % x (pos %d), want % x", split, p, pos, want)
		}
	}
}

func TestUTF8Stream(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		failAt int // index of the first byte after which Write fails; -1 valid
		whole  bool
	}{
		{"ascii", "Hello", -1, true},
		{"greek", "κόσμε", -1, true},
		{"4-byte", "\U0001F600x", -1, true},
		{"max code point", "\U0010FFFF", -1, true},
		{"U+FFFD itself", "\uFFFD", -1, true},
		{"truncated 3-byte", "\xe2\x82", -1, false},
		{"truncated 4-byte", "a\xf0\x9f\x98", -1, false},
		{"surrogate", "a\xed\xa0\x80", 2, false},
		{"low surrogate", "\xed\xbf\xbf", 1, false},
		{"overlong 2-byte", "\xc0\x80", 0, false},
		{"overlong 3-byte", "\xe0\x80\x80", 1, false},
		{"above U+10FFFF", "\xf4\x90\x80\x80", 1, false},
		{"lead 0xf5", "\xf5", 0, false},
		{"lone continuation", "ab\x80", 2, false},
		{"cut short by ascii", "\xe2\x82x", 2, false},
	}
	for _, tt := range tests {
		// Whole, then one byte at a time.
		var v utf8Stream
		if got := v.Write([]byte(tt.in)) && v.Complete(); got != tt.whole {
			t.Errorf("%s whole: valid %v, want %v", tt.name, got, tt.whole)
		}
		v.Reset()
		failAt := -1
		for i := range len(tt.in) {
			if !v.Write([]byte{tt.in[i]}) {
				failAt = i
				break
			}
		}
		if failAt != tt.failAt {
			t.Errorf("%s byte by byte: fails at %d, want %d", tt.name, failAt, tt.failAt)
		}
		if failAt < 0 && v.Complete() != tt.whole {
			t.Errorf("%s byte by byte: complete %v, want %v", tt.name, v.Complete(), tt.whole)
		}
	}
}

// Split anywhere, the stream agrees with utf8.Valid on the whole text.
func TestUTF8StreamSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "é", "€", "\U0001F600", "\xed\xa0\x80", "\xc0", "\x80", "\xf4\x90", "\xef\xbf\xbd"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		in := []byte(b.String())
		i, j := rng.IntN(len(in)+1), rng.IntN(len(in)+1)
		i, j = min(i, j), max(i, j)
		var v utf8Stream
		got := v.Write(in[:i]) && v.Write(in[i:j]) && v.Write(in[j:]) && v.Complete()
		if want := utf8.Valid(in); got != want {
			t.Fatalf("% x split at %d, %d: valid %v, want %v", in, i, j, got, want)
		}
	}
}

func inflate(t *testing.T, dict, compressed []byte) []byte {
	t.Helper()
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(compressed), bytes.NewReader(finalEmpty)), dict)
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("compress/flate: %v", err)
	}
	return out
}

// The suite's small-window encoder produces what compress/flate inflates
// back, never matching further back than its window, also across messages
// with context takeover; and it does use matches up to the full window.
func TestSmallWindowCompressor(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for bits := 8; bits < 15; bits++ {
		window := 1 << bits
		// Random bytes repeated at distance window (matchable) and then
		// at window+1 (not), and some text.
		block := make([]byte, window)
		for i := range block {
			block[i] = byte(rng.Uint32())
		}
		atWindow := append(bytes.Clone(block), block...)
		beyond := append(append(bytes.Clone(block), 'x'), block...)
		text := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 100))
		msgs := [][]byte{atWindow, {}, beyond, text, text, []byte("a")}
		for _, takeover := range []bool{false, true} {
			c := newSmallWindowCompressor(bits, takeover)
			var hist []byte
			for i, m := range msgs {
				out := c.compress(m)
				if got := inflate(t, hist, out); !bytes.Equal(got, m) {
					t.Fatalf("bits %d takeover %v message %d: inflates to %d bytes, want %d", bits, takeover, i, len(got), len(m))
				}
				if err := checkWindow(out, finalEmpty, window, new(windowScratch)); err != nil {
					t.Fatalf("bits %d takeover %v message %d: %v", bits, takeover, i, err)
				}
				if i == 0 && len(out) > len(m)*3/4 {
					t.Errorf("bits %d: a block repeated at distance %d was not matched (%d bytes from %d)", bits, window, len(out), len(m))
				}
				if takeover {
					hist = append(hist, m...)
				}
			}
		}
	}
}

// checkWindow finds a match one byte beyond the window in what
// compress/flate (32 KiB window) produces, and accepts one at the window.
func TestCheckWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	block := make([]byte, 600)
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	compress := func(p []byte, level int) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, level)
		w.Write(p)
		w.Flush()
		return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	}
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		for _, tt := range []struct {
			gap    int // bytes between the block and its repetition
			window int
			ok     bool
		}{
			{0, 600, true},
			{0, 599, false},
			{1, 600, false},
			{1, 601, true},
			{100, 1024, true},
			{500, 1024, false},
		} {
			in := append(append(bytes.Clone(block), bytes.Repeat([]byte{'-'}, tt.gap)...), block...)
			out := compress(in, level)
			if got := inflate(t, nil, out); !bytes.Equal(got, in) {
				t.Fatal("compress/flate round trip differs")
			}
			err := checkWindow(out, finalEmpty, tt.window, new(windowScratch))
			if (err == nil) != tt.ok {
				t.Errorf("level %d, distance %d, window %d: %v", level, 600+tt.gap, tt.window, err)
			}
		}
	}
	// Stored blocks and a stream cut short.
	stored := compress(block, flate.NoCompression)
	if err := checkWindow(stored, finalEmpty, 256, new(windowScratch)); err != nil {
		t.Errorf("stored: %v", err)
	}
	if err := checkWindow(compress(block, flate.BestSpeed)[:10], nil, 1<<15, new(windowScratch)); err == nil {
		t.Error("a truncated stream passed")
	}
}

// BenchmarkCheckWindow is the cost of the window check per byte of
// inflated text, against compress/flate's inflate of the same stream.
func BenchmarkCheckWindow(b *testing.B) {
	text := bytes.Repeat([]byte(`{"id": 12345, "name": "permessage-deflate", "values": [1, 2, 3, 4.5e6], "ok": true}, `), 1600)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(text)
	w.Flush()
	stream := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var s windowScratch
		for b.Loop() {
			if err := checkWindow(stream, finalEmpty, 1<<15, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inflate", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			r := flate.NewReader(io.MultiReader(bytes.NewReader(stream), bytes.NewReader(finalEmpty)))
			io.Copy(io.Discard, r)
		}
	})
}

// checkWindow reads every stream compress/flate writes, at every level,
// for text, random and repetitive data of many sizes: a misread bit would
// end in an invalid code or a stream that runs out.
func TestCheckWindowReadsAnyStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var s windowScratch
	for i := range 300 {
		n := rng.IntN(70000)
		msg := make([]byte, n)
		for j := range msg {
			switch i % 3 {
			case 0:
				msg[j] = byte(rng.Uint32())
			case 1:
				msg[j] = "abcdefgh  \n{}"[rng.IntN(13)]
			default:
				msg[j] = byte(j / 100)
			}
		}
		level := []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression}[i%5]
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, level)
		w.Write(msg)
		w.Flush()
		out := bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
		if err := checkWindow(out, finalEmpty, 1<<15, &s); err != nil {
			t.Fatalf("message %d (%d bytes, level %d): %v", i, n, level, err)
		}
	}
}
