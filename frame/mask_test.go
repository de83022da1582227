package frame

import (
	"bytes"
	"fmt"
	"testing"
)

// maskReference is the byte-at-a-time definition from RFC 6455 §5.3.
func maskReference(key [4]byte, pos int, p []byte) int {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
	return (pos + len(p)) & 3
}

func TestMaskMatchesReference(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for n := 0; n <= len(src); n++ {
		for pos := range 4 {
			got, want := bytes.Clone(src[:n]), bytes.Clone(src[:n])
			gp, wp := Mask(key, pos, got), maskReference(key, pos, want)
			if !bytes.Equal(got, want) || gp != wp {
				t.Fatalf("len %d pos %d: Mask differs from reference", n, pos)
			}
		}
	}
}

// Masking a payload in arbitrary chunks equals masking it at once.
func TestMaskChunked(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	src := bytes.Repeat([]byte("chunked masking "), 40)
	want := bytes.Clone(src)
	Mask(key, 0, want)
	for _, chunk := range []int{1, 2, 3, 5, 7, 8, 13, 31, 33, 64, 100} {
		got := bytes.Clone(src)
		pos := 0
		for i := 0; i < len(got); i += chunk {
			pos = Mask(key, pos, got[i:min(i+chunk, len(got))])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("chunk %d: chunked masking differs", chunk)
		}
	}
}

func TestMaskAllocs(t *testing.T) {
	p := make([]byte, 1024)
	if n := testing.AllocsPerRun(100, func() { Mask([4]byte{1, 2, 3, 4}, 1, p) }); n != 0 {
		t.Errorf("Mask allocs = %v, want 0", n)
	}
}

var benchSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkMask sits beside BenchmarkCopy: copy() of the same size is the
// physical limit a masking loop can approach.
func BenchmarkMask(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			p := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Mask([4]byte{1, 2, 3, 4}, 0, p)
			}
		})
	}
}

func BenchmarkCopy(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			src, dst := make([]byte, n), make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}
