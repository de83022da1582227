package conn

import (
	"sync/atomic"
	"time"
)

// sema is a lock that a goroutine can wait for while it also watches a
// context, a timer and the connection's end, as it could with a channel of
// capacity one; but taking and releasing it uncontended are single atomic
// operations, where channel operations take a runtime lock (two per
// message and lock, a sixth of the CPU time of a pipelined 16-byte echo).
// The channel waiters sleep on is made at the first contention, so a
// connection whose locks are never contended never pays for it.
type sema struct {
	held    atomic.Bool
	waiters atomic.Int32
	wake    atomic.Pointer[chan struct{}] // capacity 1: "the lock may be free"
}

func (s *sema) tryLock() bool { return s.held.CompareAndSwap(false, true) }

// lock takes the lock, or gives up and returns false as soon as done,
// closed or expired is ready (nil channels never are).
//
// A waiter registers before its last attempt and unlock releases before it
// looks for waiters, so either the attempt succeeds or unlock sees the
// waiter and leaves a token in wake. Tokens are hints: whoever wakes tries
// again, and a token left by a waiter that gave up costs one spurious
// wake-up.
func (s *sema) lock(done, closed <-chan struct{}, expired <-chan time.Time) bool {
	for {
		if s.tryLock() {
			return true
		}
		wake := s.wakeChan()
		s.waiters.Add(1)
		if s.tryLock() {
			s.waiters.Add(-1)
			return true
		}
		select {
		case <-wake:
			s.waiters.Add(-1)
		case <-done:
			s.waiters.Add(-1)
			return false
		case <-closed:
			s.waiters.Add(-1)
			return false
		case <-expired:
			s.waiters.Add(-1)
			return false
		}
	}
}

func (s *sema) unlock() {
	s.held.Store(false)
	if s.waiters.Load() > 0 {
		select {
		case *s.wake.Load() <- struct{}{}:
		default: // a token is already there
		}
	}
}

// wakeChan returns the channel waiters sleep on, making it the first time.
func (s *sema) wakeChan() chan struct{} {
	if p := s.wake.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{}, 1)
	if !s.wake.CompareAndSwap(nil, &ch) {
		return *s.wake.Load()
	}
	return ch
}
