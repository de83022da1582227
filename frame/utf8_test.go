package frame

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// completable is the brute-force definition of "a prefix that can still
// become valid": some continuation of up to three bytes makes it valid.
func completable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	probe := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	buf := make([]byte, 0, len(p)+3)
	var try func(depth int) bool
	try = func(depth int) bool {
		if utf8.Valid(buf) {
			return true
		}
		if depth == 3 {
			return false
		}
		for _, b := range probe {
			buf = append(buf, b)
			ok := try(depth + 1)
			buf = buf[:len(buf)-1]
			if ok {
				return true
			}
		}
		return false
	}
	buf = append(buf, p...)
	return try(0)
}

// firstFailure returns the length of the shortest prefix of p that cannot be
// completed, or -1 when every prefix can.
func firstFailure(p []byte) int {
	for i := 1; i <= len(p); i++ {
		if !completable(p[:i]) {
			return i
		}
	}
	return -1
}

var utf8Cases = []string{
	"", "Hello", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff",
	"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd",
	// Invalid: Autobahn 6.x style inputs.
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
	"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xed\xa0\x80", "\xed\xbf\xbf",
	"\xf8\x88\x80\x80\x80", "\xfe", "\xff", "\x80", "\xbf", "\xc2", "\xe1\x80", "\xf1\x80\x80",
	"a\xc2a", "\xe1\x80a", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64",
}

// Fed in any split, the validator fails exactly at the first byte whose
// prefix cannot be completed, and otherwise agrees with utf8.Valid.
func TestUTF8ValidatorFailsFast(t *testing.T) {
	for _, s := range utf8Cases {
		p := []byte(s)
		wantFail := firstFailure(p)
		// Byte at a time: the failing byte is exactly located.
		var v UTF8Validator
		got := -1
		for i := range p {
			if !v.Write(p[i : i+1]) {
				got = i + 1
				break
			}
		}
		if got != wantFail {
			t.Errorf("%q: failed after %d bytes, want %d", s, got, wantFail)
		}
		if got == -1 && v.Complete() != utf8.ValidString(s) {
			t.Errorf("%q: Complete = %v, want %v", s, v.Complete(), utf8.ValidString(s))
		}
		// Every two-way split agrees on the final verdict and fails no later
		// than the piece holding the first bad byte.
		for cut := 0; cut <= len(p); cut++ {
			v.Reset()
			ok1 := v.Write(p[:cut])
			if wantFail != -1 && cut >= wantFail && ok1 {
				t.Errorf("%q split at %d: first piece accepted past failure at %d", s, cut, wantFail)
			}
			ok := ok1 && v.Write(p[cut:])
			if want := wantFail == -1; ok != want {
				t.Errorf("%q split at %d: Write = %v, want %v", s, cut, ok, want)
			}
		}
	}
}

func TestUTF8ValidatorRandomSplits(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	alphabet := []string{"a", "é", "€", "𝄞", "\xed\xa0\x80", "\xc0", "\x80", "\xf4\x90"}
	for range 2000 {
		var b []byte
		for range rng.IntN(20) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		var v UTF8Validator
		ok := true
		for rest := b; len(rest) > 0 && ok; {
			n := 1 + rng.IntN(len(rest))
			ok = v.Write(rest[:n])
			rest = rest[n:]
		}
		if got := ok && v.Complete(); got != utf8.Valid(b) {
			t.Fatalf("% x: validator %v, utf8.Valid %v", b, got, !got)
		}
	}
}

func TestUTF8ValidatorAllocs(t *testing.T) {
	p := []byte("Hello, κόσμε, 𝄞 and more ASCII text that takes the fast path")
	var v UTF8Validator
	if n := testing.AllocsPerRun(100, func() { v.Reset(); v.Write(p) }); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
}

func benchText(n int) []byte {
	unit := []byte("Hello, world! Grüße, κόσμε, 日本語 — 𝄞. ")
	b := make([]byte, 0, n+len(unit))
	for len(b) < n {
		b = append(b, unit...)
	}
	return b[:n-n%len(unit)+len(unit)][:len(b)]
}

func BenchmarkUTF8Validator(b *testing.B) {
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		p := benchText(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				v.Write(p)
			}
		})
	}
}

func BenchmarkUTF8Valid(b *testing.B) {
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		p := benchText(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				utf8.Valid(p)
			}
		})
	}
}
