package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"
)

// RFC 6455 §1.3 and §4.2.2: the example key and the accept value it earns.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

func TestAcceptKeyRFC6455(t *testing.T) {
	if got := AcceptKey(rfcKey); got != rfcAccept {
		t.Fatalf("AcceptKey(%q) = %q, want %q", rfcKey, got, rfcAccept)
	}
	// RFC 6455 §4.2.2 also lists the SHA-1 bytes before base64.
	want := []byte{0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
		0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea}
	got, err := base64.StdEncoding.DecodeString(AcceptKey(rfcKey))
	if err != nil || string(got) != string(want) {
		t.Fatalf("decoded accept = %x, %v; want %x", got, err, want)
	}
}

// acceptReference computes the accept value the obvious way.
func acceptReference(key string) string {
	sum := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestAppendAcceptKey(t *testing.T) {
	for _, key := range []string{
		rfcKey,
		"",
		"AQIDBAUGBwgJCgsMDQ4PEC==",
		strings.Repeat("k", 92),  // longest key hashed from the stack buffer
		strings.Repeat("k", 93),  // first key that takes the fallback
		strings.Repeat("x", 500), // not a valid key, still the right hash
	} {
		dst := AppendAcceptKey([]byte("prefix:"), key)
		if want := "prefix:" + acceptReference(key); string(dst) != want {
			t.Errorf("AppendAcceptKey(prefix, %.20q...) = %q, want %q", key, dst, want)
		}
	}
}

func TestAppendAcceptKeyAllocs(t *testing.T) {
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendAcceptKey(dst[:0], rfcKey)
	})
	if allocs != 0 {
		t.Fatalf("AppendAcceptKey allocates %v times per run, want 0", allocs)
	}
	if string(dst) != rfcAccept {
		t.Fatalf("got %q", dst)
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 16 {
		k, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 16 {
			t.Fatalf("NewKey() = %q: decodes to %d bytes, %v; want 16", k, len(b), err)
		}
		if !validKey(k) {
			t.Fatalf("validKey(NewKey() = %q) = false", k)
		}
		if seen[k] {
			t.Fatalf("NewKey repeated %q", k)
		}
		seen[k] = true
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{rfcKey, true},
		{"AQIDBAUGBwgJCgsMDQ4PEC==", true}, // RFC 6455 §4.1 item 7, non-zero trailing bits
		{"AQIDBAUGBwgJCgsMDQ4PEA==", true},
		{"++++++++++++++++++++//==", true},
		{"", false},
		{"AQIDBAUGBwgJCgsMDQ4PEA", false},     // no padding (RawStdEncoding)
		{"AQIDBAUGBwgJCgsMDQ4PEA=", false},    // short padding
		{"AQIDBAUGBwgJCgsMDQ4PEBE=", false},   // 17 bytes
		{"AQIDBAUGBwgJCgsMDQ4PEBES", false},   // 18 bytes
		{"AQIDBAUGBwgJCgsMDQ4P", false},       // 15 bytes
		{"AQIDBAUGBwgJCgsMDQ4PE===", false},   // padding too early
		{"AQIDBAUGBwgJCgsMDQ4P-_==", false},   // URL-safe alphabet
		{"AQIDBAUGBwgJCgsMDQ4P E==", false},   // space
		{" AQIDBAUGBwgJCgsMDQ4PEA==", false},  // trimmed by callers, not here
		{"AQIDBAUGBwgJCgsMDQ4PEA==\n", false}, // base64 decoders skip newlines; we do not
		{"AQIDBAUGBwgJCgsMDQ4PEAAAAAAAAAAAAAAAAAA=", false},
	}
	for _, tt := range tests {
		if got := validKey(tt.key); got != tt.want {
			t.Errorf("validKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

// TestValidKeyMatchesDecoder checks validKey against encoding/base64 for
// every single-byte substitution of a valid key.
func TestValidKeyMatchesDecoder(t *testing.T) {
	reference := func(k string) bool {
		if len(k) != keyLen || strings.ContainsAny(k, "\r\n") {
			return false
		}
		b, err := base64.StdEncoding.DecodeString(k)
		return err == nil && len(b) == 16
	}
	for i := range keyLen {
		for c := range 256 {
			k := []byte(rfcKey)
			k[i] = byte(c)
			if got, want := validKey(string(k)), reference(string(k)); got != want {
				t.Errorf("validKey(%q) = %v, base64 says %v", k, got, want)
			}
		}
	}
}

func BenchmarkAppendAcceptKey(b *testing.B) {
	b.ReportAllocs()
	dst := make([]byte, 0, acceptLen)
	for b.Loop() {
		dst = AppendAcceptKey(dst[:0], rfcKey)
	}
}
