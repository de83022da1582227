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

// maskImpls runs f once with the assembly loop (where this machine has it)
// and once with the pure-Go loop, so both are checked on every machine
// that runs the tests.
func maskImpls(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	detected := useAVX2
	defer func() { useAVX2 = detected }()
	for _, asm := range []bool{true, false} {
		if asm && !detected {
			continue // no assembly here: the pure-Go run below covers Mask
		}
		useAVX2 = asm
		name := "purego"
		if asm {
			name = "avx2"
		}
		t.Run(name, f)
	}
}

func TestMaskMatchesReference(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 1100)
	for i := range src {
		src[i] = byte(i * 7)
	}
	maskImpls(t, func(t *testing.T) {
		// Every length up to 300 (the word loops' and the 32- and 128-byte
		// assembly loops' edges), then a longer stretch, each at every key
		// position and at every start offset modulo 32.
		for n := 0; n <= len(src)-32; n++ {
			if n > 300 && n%61 != 0 {
				continue
			}
			for off := range 32 {
				if n > 300 && off%7 != 0 {
					continue
				}
				for pos := range 4 {
					got, want := bytes.Clone(src[:off+n]), bytes.Clone(src[:off+n])
					gp, wp := Mask(key, pos, got[off:]), maskReference(key, pos, want[off:])
					if !bytes.Equal(got, want) || gp != wp {
						t.Fatalf("len %d offset %d pos %d: Mask differs from reference", n, off, pos)
					}
				}
			}
		}
	})
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
	maskImpls(t, func(t *testing.T) {
		if n := testing.AllocsPerRun(100, func() { Mask([4]byte{1, 2, 3, 4}, 1, p) }); n != 0 {
			t.Errorf("Mask allocs = %v, want 0", n)
		}
	})
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
// BenchmarkMaskPureGo is the fallback loop on the same machine, for
// comparison with BenchmarkMask where the assembly is in use.
func BenchmarkMask(b *testing.B) { benchmarkMask(b, useAVX2) }

func BenchmarkMaskPureGo(b *testing.B) { benchmarkMask(b, false) }

func benchmarkMask(b *testing.B, asm bool) {
	detected := useAVX2
	defer func() { useAVX2 = detected }()
	useAVX2 = asm
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
