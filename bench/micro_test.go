package bench

import (
	"bytes"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/rfc6455/ws/frame"
)

// Only ours and gobwas/ws export their frame codec, masking and UTF-8
// validation; gorilla, coder and gws keep them unexported or internal, so
// they appear only in the Conn benchmarks.

var headerCases = []struct {
	name string
	h    frame.Header
}{
	{"len=16", frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 16}},
	{"len=1KiB", frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1 << 10}},
	{"len=1MiB", frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 1 << 20}},
}

func gobwasHeader(h frame.Header) ws.Header {
	return ws.Header{Fin: h.Fin, OpCode: ws.OpCode(h.Opcode), Masked: h.Masked, Mask: h.Key, Length: h.Length}
}

// discard is an io.Writer that keeps nothing, for gobwas's writer-based
// header encoder.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkHeaderEncode: ours appends to a byte slice (frame.AppendHeader);
// gobwas writes to an io.Writer through a caller buffer
// (ws.WriteHeaderBuffer), its allocation-free form.
func BenchmarkHeaderEncode(b *testing.B) {
	for _, tc := range headerCases {
		b.Run("lib=ours/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, frame.MaxHeaderSize)
			for b.Loop() {
				buf = frame.AppendHeader(buf[:0], tc.h)
			}
		})
		b.Run("lib=gobwas/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			h := gobwasHeader(tc.h)
			var buf [ws.MaxHeaderSize]byte
			for b.Loop() {
				if err := ws.WriteHeaderBuffer(discard{}, h, buf[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHeaderDecode: ours parses a byte slice (frame.ParseHeader);
// gobwas reads from an io.Reader into a caller buffer
// (ws.ReadHeaderBuffer over a bytes.Reader).
func BenchmarkHeaderDecode(b *testing.B) {
	for _, tc := range headerCases {
		enc := frame.AppendHeader(nil, tc.h)
		b.Run("lib=ours/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, n, err := frame.ParseHeader(enc); n == 0 || err != nil {
					b.Fatal(n, err)
				}
			}
		})
		b.Run("lib=gobwas/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			r := bytes.NewReader(enc)
			var buf [ws.MaxHeaderSize]byte
			for b.Loop() {
				r.Reset(enc)
				if _, err := ws.ReadHeaderBuffer(r, buf[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var maskSizes = []int{16, 128, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}

func sizeLabel(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkMask masks in place. impl=copy is copy() between two buffers of
// the same size: it reads and writes each byte once, as masking does, so it
// is the physical limit (masking in place touches one buffer, so it can
// even beat copy on cache-resident sizes).
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range maskSizes {
		p := make([]byte, n)
		q := make([]byte, n)
		size := "size=" + sizeLabel(n)
		b.Run("impl=ours/"+size, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				frame.Mask(key, 0, p)
			}
		})
		b.Run("impl=gobwas/"+size, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				ws.Cipher(p, key, 0)
			}
		})
		b.Run("impl=copy/"+size, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(q, p)
			}
		})
	}
}

// BenchmarkUTF8 validates whole texts: ours through the incremental
// frame.UTF8Validator, gobwas through wsutil.UTF8Reader (its streaming
// validator, an io.Reader), and unicode/utf8.Valid, which is not
// incremental and is the reference. text=ascii is all one-byte characters
// (the common case, where a fast path matters); text=mixed mixes one-,
// two- and three-byte characters throughout (a worst case for ASCII fast
// paths).
func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "mixed"} {
		for _, n := range []int{16, 1 << 10, 64 << 10} {
			var p []byte
			if kind == "ascii" {
				p = bytes.Repeat([]byte("a"), n)
			} else {
				p = mixedText(n)
			}
			name := fmt.Sprintf("text=%s/size=%s", kind, sizeLabel(n))
			b.Run("impl=ours/"+name, func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				var v frame.UTF8Validator
				for b.Loop() {
					v.Reset()
					if !v.Write(p) || !v.Complete() {
						b.Fatal("invalid")
					}
				}
			})
			b.Run("impl=gobwas/"+name, func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				src := bytes.NewReader(p)
				u := wsutil.NewUTF8Reader(src)
				dst := make([]byte, n)
				for b.Loop() {
					src.Reset(p)
					u.Reset(src)
					if _, err := u.Read(dst); err != nil || !u.Valid() {
						b.Fatal("invalid", err)
					}
				}
			})
			b.Run("impl=stdlib/"+name, func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if !utf8.Valid(p) {
						b.Fatal("invalid")
					}
				}
			})
		}
	}
}

// mixedText returns n bytes of valid UTF-8 cycling through one-, two- and
// three-byte characters, padded with ASCII.
func mixedText(n int) []byte {
	runes := []rune("aé日bü語cñ本")
	p := make([]byte, 0, n)
	for i := 0; ; i++ {
		r := runes[i%len(runes)]
		if len(p)+utf8.RuneLen(r) > n {
			break
		}
		p = utf8.AppendRune(p, r)
	}
	for len(p) < n {
		p = append(p, 'a')
	}
	return p
}
