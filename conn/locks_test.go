package conn

import (
	"github.com/rfc6455/ws/internal/testwait"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWriteLocksExclusion has goroutines take the message lock, the wire
// lock or both at once, some giving up on a timer, and checks that no lock
// ever has two holders and that every attempt ends.
func TestWriteLocksExclusion(t *testing.T) {
	var w writeLocks
	var holders [2]atomic.Int64 // per lock
	var acquired, gaveUp atomic.Int64
	var wg sync.WaitGroup
	const workers, rounds = 9, 2000
	enter := func(set uint64) {
		for _, l := range [...]uint64{lockMessage, lockWire} {
			if set&l != 0 && holders[lockIndex(l)].Add(1) != 1 {
				t.Errorf("two holders of lock %d", l)
			}
		}
	}
	leave := func(set uint64) {
		for _, l := range [...]uint64{lockMessage, lockWire} {
			if set&l != 0 {
				holders[lockIndex(l)].Add(-1)
			}
		}
	}
	for g := range workers {
		wg.Go(func() {
			for i := range rounds {
				var set uint64
				switch g % 3 {
				case 0:
					set = lockMessage
				case 1:
					set = lockWire
				default:
					set = lockMessage | lockWire
				}
				var expired <-chan time.Time
				if (g+i)%7 == 0 {
					expired = time.After(time.Microsecond)
				}
				var ok bool
				if set == lockMessage|lockWire {
					// As WriteMessage does: both at once if free, else
					// one after the other (a wait with no channel to
					// give up on ends only with the lock).
					ok = w.tryLock(set)
					if !ok && w.lock(lockMessage, nil, nil, expired) {
						ok = w.lock(lockWire, nil, nil, nil)
					}
				} else {
					ok = w.lock(set, nil, nil, expired)
				}
				if !ok {
					gaveUp.Add(1)
					continue
				}
				enter(set)
				acquired.Add(1)
				if i%50 == 0 {
					time.Sleep(100 * time.Microsecond) // long enough for timers to expire
				}
				leave(set)
				w.unlock(set)
			}
		})
	}
	wg.Wait()
	if got := acquired.Load() + gaveUp.Load(); got != workers*rounds {
		t.Fatalf("%d attempts ended, want %d", got, workers*rounds)
	}
	if s := w.state.Load(); s != 0 {
		t.Fatalf("state %#x at the end, want 0 (no lock held, no waiter)", s)
	}
	if gaveUp.Load() == 0 {
		t.Error("no waiter gave up: the timers were not exercised")
	}
	t.Logf("%d acquired, %d gave up", acquired.Load(), gaveUp.Load())
}

// TestWriteLocksIndependent checks that each lock is taken and refused on
// its own: holding one does not block the other, and a set is taken only
// when all of it is free.
func TestWriteLocksIndependent(t *testing.T) {
	var w writeLocks
	if !w.tryLock(lockWire) {
		t.Fatal("free wire lock refused")
	}
	if !w.tryLock(lockMessage) {
		t.Fatal("message lock refused while only the wire is held")
	}
	w.unlock(lockMessage)
	if w.tryLock(lockMessage | lockWire) {
		t.Fatal("both locks taken while the wire is held")
	}
	if !w.tryLock(lockMessage) {
		t.Fatal("message lock refused after a failed attempt at both")
	}
	w.unlock(lockMessage | lockWire)
	if !w.tryLock(lockMessage | lockWire) {
		t.Fatal("both locks refused when free")
	}
	w.unlock(lockMessage | lockWire)
	closed := make(chan struct{})
	close(closed)
	w.tryLock(lockWire)
	if w.lock(lockWire, nil, closed, nil) {
		t.Fatal("held lock taken")
	}
	if !w.lock(lockMessage, nil, closed, nil) {
		t.Fatal("free lock not taken even though closed is ready")
	}
	w.unlock(lockMessage | lockWire)
	if s := w.state.Load(); s != 0 {
		t.Fatalf("state %#x, want 0", s)
	}
}

// TestWriteLocksWakeWaiter checks the hand-over from a holder to a
// goroutine already asleep on each lock, including when one unlock
// releases both.
func TestWriteLocksWakeWaiter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		held     uint64
		waitFor  uint64
		released uint64
	}{
		{"message", lockMessage, lockMessage, lockMessage},
		{"wire", lockWire, lockWire, lockWire},
		{"message of both", lockMessage | lockWire, lockMessage, lockMessage | lockWire},
		{"wire of both", lockMessage | lockWire, lockWire, lockMessage | lockWire},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w writeLocks
			w.tryLock(tc.held)
			got := make(chan bool)
			go func() { got <- w.lock(tc.waitFor, nil, nil, time.After(10*time.Second)) }()
			for w.waiters(tc.waitFor) == 0 {
				time.Sleep(time.Millisecond)
			}
			w.unlock(tc.released)
			if !testwait.Recv(t, got, "got") {
				t.Fatal("the waiter timed out instead of getting the lock")
			}
			w.unlock(tc.waitFor)
		})
	}
}

// TestReadLock checks that the read lock refuses a second holder.
func TestReadLock(t *testing.T) {
	var l readLock
	if !l.tryLock() {
		t.Fatal("free lock refused")
	}
	if l.tryLock() {
		t.Fatal("lock taken twice")
	}
	l.unlock()
	if !l.tryLock() {
		t.Fatal("free lock refused after unlock")
	}
}

// The two waiter counts are independent and wide: counts far above any
// real number of waiters on one lock leave the other lock's count and the
// lock bits alone, and unlock wakes only waiters of what it releases.
func TestWriteLocksWaiterCounts(t *testing.T) {
	var w writeLocks
	msgWaiters := uint64(1<<20) * waiterUnit(lockMessage)
	wireWaiters := 3 * waiterUnit(lockWire)
	w.state.Add(msgWaiters)
	w.state.Add(wireWaiters)
	wireWake, msgWake := w.wakeChan(lockWire), w.wakeChan(lockMessage) // as the waiters made them
	if !w.tryLock(lockWire) {
		t.Fatal("wire lock refused with only waiters counted")
	}
	if got := w.waiters(lockMessage); got != 1<<20 {
		t.Fatalf("message waiters %d, want %d", got, 1<<20)
	}
	if got := w.waiters(lockWire); got != 3 {
		t.Fatalf("wire waiters %d, want 3", got)
	}
	w.unlock(lockWire)
	if s := w.state.Load(); s != msgWaiters+wireWaiters {
		t.Fatalf("state %#x after unlock, want only the counts %#x", s, msgWaiters+wireWaiters)
	}
	if len(wireWake) != 1 || len(msgWake) != 0 {
		t.Fatalf("wake tokens: wire %d, message %d; want 1 and 0", len(wireWake), len(msgWake))
	}
}
