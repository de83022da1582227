package payload

import (
	"bytes"
	"compress/flate"
	"testing"
	"unicode/utf8"
)

func TestNew(t *testing.T) {
	for _, n := range []int{0, 1, 16, 100, 1 << 10, 64 << 10} {
		p := New(n)
		if len(p) != n {
			t.Errorf("New(%d): %d bytes", n, len(p))
		}
		if !utf8.Valid(p) {
			t.Errorf("New(%d) is not valid UTF-8", n)
		}
		if !bytes.Equal(p, New(n)) {
			t.Errorf("New(%d) differs between calls", n)
		}
	}
	for _, n := range []int{1, 5, 16, 1000} {
		s := Series(n, 50)
		for i, p := range s {
			if len(p) != n || !utf8.Valid(p) {
				t.Fatalf("Series(%d, 50)[%d] = %q", n, i, p)
			}
		}
		if n > 4 && bytes.Equal(s[0], s[1]) {
			t.Errorf("Series(%d): first two bodies equal", n)
		}
		if !bytes.Equal(s[0], New(n)) {
			t.Errorf("Series(%d)[0] is not New(%d)", n, n)
		}
	}
	if p := New(1 << 10); utf8.RuneCount(p) == len(p) {
		t.Error("1 KiB body has no multi-byte character")
	}
}

// TestCompressible checks the body is neither incompressible nor trivial:
// DEFLATE at BestSpeed should shrink 64 KiB to between 1/8 and 2/3.
func TestCompressible(t *testing.T) {
	p := New(64 << 10)
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(p)
	w.Close()
	r := float64(b.Len()) / float64(len(p))
	t.Logf("64 KiB body compresses to %.2f", r)
	if r < 1.0/8 || r > 2.0/3 {
		t.Fatalf("compression ratio %.2f out of range", r)
	}
}
