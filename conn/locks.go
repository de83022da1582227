package conn

import (
	"sync/atomic"
	"time"
)

// writeLocks holds the two locks of a Conn's write side in one atomic word:
// the message lock, held by the writer of a message from its first frame
// to its last, and the wire lock, held while frames go onto the wire
// (control frames take only the wire, between the frames of a message). A
// message written as one frame takes and releases both with one atomic
// operation each; taking them in turn would cost four.
//
// A goroutine can wait for either lock while it also watches a context, a
// timer and the connection's end, as it could with a channel of capacity
// one; but uncontended, taking and releasing are single atomic operations,
// where channel operations take a runtime lock. The channel waiters sleep
// on is made at the first contention, so a connection whose locks are
// never contended never pays for it.
type writeLocks struct {
	// state holds the lock bits (lockMessage, lockWire) and, above them,
	// the number of goroutines waiting for each lock.
	state atomic.Uint64
	wake  [2]atomic.Pointer[chan struct{}] // per lock, capacity 1: "the lock may be free"
}

// The locks of writeLocks, as bits of its state; a set of locks is their
// union.
const (
	lockMessage uint64 = 1 << 0
	lockWire    uint64 = 1 << 1
)

// Each lock's waiter count has 31 bits above the two lock bits: a count
// cannot overflow into its neighbour, since each waiter is a goroutine.
const (
	waiterBits  = 31
	waiterShift = 2 // the message lock's count; the wire lock's follows it
)

// lockIndex returns the position of the single lock l: 0 or 1.
func lockIndex(l uint64) int { return int(l >> 1) }

// waiterUnit is one waiter for the single lock l, counted in the state.
func waiterUnit(l uint64) uint64 { return 1 << (waiterShift + waiterBits*lockIndex(l)) }

// waiterCount returns the number of waiters for the single lock l in state.
func waiterCount(state, l uint64) uint64 {
	return state >> (waiterShift + waiterBits*lockIndex(l)) & (1<<waiterBits - 1)
}

// tryLock takes every lock in set if all are free, without waiting.
func (w *writeLocks) tryLock(set uint64) bool {
	for {
		s := w.state.Load()
		if s&set != 0 {
			return false
		}
		if w.state.CompareAndSwap(s, s|set) {
			return true
		}
		// Only a waiter count changed; try again.
	}
}

// lock takes the single lock l, or gives up and returns false as soon as
// done, closed or expired is ready (nil channels never are).
//
// A waiter registers before its last attempt and unlock releases before it
// looks for waiters, so either the attempt succeeds or unlock sees the
// waiter and leaves a token in the lock's wake channel. Tokens are hints:
// whoever wakes tries again, and a token left by a waiter that gave up
// costs one spurious wake-up.
func (w *writeLocks) lock(l uint64, done, closed <-chan struct{}, expired <-chan time.Time) bool {
	unit := waiterUnit(l)
	for {
		if w.tryLock(l) {
			return true
		}
		wake := w.wakeChan(l)
		w.state.Add(unit)
		if w.tryLock(l) {
			w.state.Add(-unit)
			return true
		}
		select {
		case <-wake:
			w.state.Add(-unit)
		case <-done:
			w.state.Add(-unit)
			return false
		case <-closed:
			w.state.Add(-unit)
			return false
		case <-expired:
			w.state.Add(-unit)
			return false
		}
	}
}

// unlock releases every lock in set, which the caller holds, and wakes a
// waiter of each.
func (w *writeLocks) unlock(set uint64) {
	s := w.state.Add(-set)
	if s>>waiterShift == 0 {
		return // no waiters: the common case
	}
	for _, l := range [...]uint64{lockMessage, lockWire} {
		if set&l != 0 && waiterCount(s, l) > 0 {
			select {
			case *w.wake[lockIndex(l)].Load() <- struct{}{}:
			default: // a token is already there
			}
		}
	}
}

// waiters returns the number of goroutines waiting for lock l.
func (w *writeLocks) waiters(l uint64) int { return int(waiterCount(w.state.Load(), l)) }

// wakeChan returns the channel waiters of lock l sleep on, making it the
// first time.
func (w *writeLocks) wakeChan(l uint64) chan struct{} {
	p := &w.wake[lockIndex(l)]
	if ch := p.Load(); ch != nil {
		return *ch
	}
	ch := make(chan struct{}, 1)
	if !p.CompareAndSwap(nil, &ch) {
		return *p.Load()
	}
	return ch
}

// readLock guards the read side. Readers only ever try it, so a second
// concurrent reader gets ErrConcurrentRead instead of waiting; Close and
// closeTCP try it too, to release what no reader is using.
type readLock struct{ held atomic.Bool }

func (l *readLock) tryLock() bool { return l.held.CompareAndSwap(false, true) }
func (l *readLock) unlock()       { l.held.Store(false) }
