package h2stream

import (
	"sync"
	"time"
)

// deadline is one direction's deadline: a channel that is closed when it
// passes, and a function run at that moment. One timer serves every
// setting, so moving a deadline allocates nothing unless the previous one
// had already passed (a new channel then).
type deadline struct {
	mu       sync.Mutex
	when     time.Time     // zero: none
	passed   chan struct{} // closed once when has passed
	isClosed bool          // passed is closed
	timer    *time.Timer
	onPass   func() // run, without mu, when the deadline passes
}

func newDeadline(onPass func()) *deadline {
	return &deadline{passed: make(chan struct{}), onPass: onPass}
}

// set moves the deadline to t; the zero time removes it. A time in the
// past makes it pass at once.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	if d.isClosed {
		d.passed = make(chan struct{})
		d.isClosed = false
	}
	d.when = t
	if t.IsZero() {
		d.mu.Unlock()
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.pass()
		return
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
	d.mu.Unlock()
}

// fire is the timer's function. A timer stopped too late to keep it from
// running finds a deadline that was moved, and does nothing.
func (d *deadline) fire() {
	d.mu.Lock()
	if d.isClosed || d.when.IsZero() || time.Now().Before(d.when) {
		d.mu.Unlock()
		return
	}
	d.pass()
}

// pass closes the channel and runs onPass. It is called with d.mu held
// and releases it.
func (d *deadline) pass() {
	close(d.passed)
	d.isClosed = true
	d.mu.Unlock()
	if d.onPass != nil {
		d.onPass()
	}
}

// wait returns the channel that is closed when the current deadline
// passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	c := d.passed
	d.mu.Unlock()
	return c
}

// hasPassed reports whether the current deadline has passed.
func (d *deadline) hasPassed() bool {
	d.mu.Lock()
	p := d.isClosed
	d.mu.Unlock()
	return p
}

// stop releases the timer.
func (d *deadline) stop() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
}
