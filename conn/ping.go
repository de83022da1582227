package conn

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/rfc6455/ws/frame"
)

// Ping sends a ping and waits for the matching pong, returning the round
// trip time (RFC 6455 §5.5.2). Pongs are seen by the reading goroutine, so
// another goroutine must be reading from the Conn. Ping may be called from
// any goroutine.
//
// A net.Conn that cannot carry pings, such as package client's adapter
// over a browser's WebSocket under js/wasm, makes Ping fail at once with
// the error of its RefusePing method; the Conn stays usable.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	if r, ok := c.nc.(interface{ RefusePing() error }); ok {
		return 0, r.RefusePing()
	}
	id, done := c.pings.add()
	defer c.pings.remove(id)
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], id)
	start := time.Now()
	if err := c.writeControl(frame.OpPing, p[:], 0); err != nil {
		return 0, err
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.closed:
		return 0, c.endErrOr(ErrClosed)
	}
}

// pingWaiters matches pongs to the pings sent by Ping, by an 8-byte id.
type pingWaiters struct {
	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan struct{}
}

func (w *pingWaiters) add() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = make(map[uint64]chan struct{})
	}
	w.next++
	ch := make(chan struct{})
	w.waiting[w.next] = ch
	return w.next, ch
}

func (w *pingWaiters) remove(id uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiting, id)
}

// pong wakes the Ping waiting for payload p, if any. An unsolicited pong
// (RFC 6455 §5.5.3) matches nothing and is ignored.
func (w *pingWaiters) pong(p []byte) {
	if len(p) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[id]; ok {
		close(ch)
		delete(w.waiting, id)
	}
}
