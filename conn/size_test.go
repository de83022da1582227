package conn

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps the Conn struct in the 1 KiB allocation size class:
// every idle connection pays for it (see TestIdleMemoryPerConnection in
// package client). State that most connections never use (the masking
// keys of a server, the queued pong of a connection never pinged, the
// writev arguments of one that never sends a large frame) is allocated
// when first needed.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 1024 {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d, want at most 1024", n)
	}
}
