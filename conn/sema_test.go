package conn

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSemaExclusion has goroutines take the lock, some of them giving up
// on a timer or a closed channel, and checks that no two ever hold it at
// once and that every waiter that did not give up gets it.
func TestSemaExclusion(t *testing.T) {
	var s sema
	var inside, acquired, gaveUp atomic.Int64
	closed := make(chan struct{})
	var wg sync.WaitGroup
	const workers, rounds = 8, 2000
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				var expired <-chan time.Time
				if (w+i)%7 == 0 {
					expired = time.After(time.Microsecond)
				}
				if !s.lock(nil, nil, expired) {
					gaveUp.Add(1)
					continue
				}
				if inside.Add(1) != 1 {
					t.Error("two holders at once")
				}
				acquired.Add(1)
				if i%50 == 0 {
					time.Sleep(100 * time.Microsecond) // long enough for timers to expire
				}
				inside.Add(-1)
				s.unlock()
			}
		})
	}
	wg.Wait()
	if got := acquired.Load() + gaveUp.Load(); got != workers*rounds {
		t.Fatalf("%d attempts ended, want %d", got, workers*rounds)
	}
	// A closed channel ends a wait; a free lock is taken even then.
	if !s.tryLock() {
		t.Fatal("lock not free at the end")
	}
	close(closed)
	if s.lock(nil, closed, nil) {
		t.Fatal("lock taken twice")
	}
	s.unlock()
	if !s.lock(nil, closed, nil) {
		t.Fatal("free lock not taken")
	}
	if gaveUp.Load() == 0 {
		t.Error("no waiter gave up: the timers were not exercised")
	}
	t.Logf("%d acquired, %d gave up", acquired.Load(), gaveUp.Load())
}

// TestSemaWakesWaiter checks the hand-over from a holder to a goroutine
// already asleep on the lock.
func TestSemaWakesWaiter(t *testing.T) {
	var s sema
	s.tryLock()
	got := make(chan bool)
	go func() { got <- s.lock(nil, nil, time.After(10*time.Second)) }()
	for s.waiters.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.unlock()
	if !<-got {
		t.Fatal("the waiter timed out instead of getting the lock")
	}
}
