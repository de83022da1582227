//go:build linux

package event

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps the Conn, what an idle connection costs the process
// besides its socket and its table entry, within 416 bytes (its size class).
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 416 {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d, want at most 416", n)
	} else {
		t.Logf("unsafe.Sizeof(Conn{}) = %d", n)
	}
}
