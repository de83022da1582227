package event

import (
	"math/bits"
	"sync"

	"github.com/rfc6455/ws/conn"
)

type messageType = conn.MessageType

// Message buffers come from pools by power-of-two size, 512 B to 1 MiB;
// larger ones are allocated and left to the garbage collector.
const (
	minPooled = 9  // 512 B
	maxPooled = 20 // 1 MiB
)

var bufPools [maxPooled + 1]sync.Pool

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) *[]byte {
	class := max(bits.Len(uint(max(n, 1)-1)), minPooled)
	if class > maxPooled {
		b := make([]byte, 0, n)
		return &b
	}
	if p, ok := bufPools[class].Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 1<<class)
	return &b
}

// putBuf gives a buffer back to its pool.
func putBuf(p *[]byte) {
	c := cap(*p)
	if c == 0 || c&(c-1) != 0 {
		return // grown past its class by append: let it go
	}
	class := bits.Len(uint(c)) - 1
	if class < minPooled || class > maxPooled {
		return
	}
	*p = (*p)[:0]
	bufPools[class].Put(p)
}
