//go:build amd64 && !purego

package frame

// useAVX2 reports whether the CPU and the operating system support AVX2
// (the OS must save the YMM registers: OSXSAVE and XCR0 bits 1 and 2).
// Tests clear it to run the pure-Go loop on the same machine.
var useAVX2 = detectAVX2()

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// maskWide masks the longest prefix of p whose length is a multiple of 32
// with the key already in word order (pos 0), and returns the rest of p.
func maskWide(key32 uint32, p []byte) []byte {
	if !useAVX2 || len(p) < maskWideMin {
		return p
	}
	n := len(p) &^ 31
	maskAVX2(&p[0], n, key32)
	return p[n:]
}

// maskAVX2 XORs n bytes at p (n a positive multiple of 32) with key32
// repeated. Implemented in mask_amd64.s.
//
//go:noescape
func maskAVX2(p *byte, n int, key32 uint32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)
