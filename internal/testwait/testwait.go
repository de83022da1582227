// Package testwait bounds the waits of tests that would otherwise block
// for good on a broken behaviour (a pong that never comes, a read that
// never returns), so that they fail with a message instead of running
// into go test's timeout.
package testwait

import (
	"testing"
	"time"
)

// Limit bounds an ordinary wait: far longer than any correct behaviour
// takes, even under -race on a loaded machine.
const Limit = 5 * time.Second

// Recv receives from ch, failing the test if nothing arrives within Limit.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return RecvWithin(t, ch, what, Limit)
}

// RecvWithin is Recv for a wait bounded by d, such as one that follows a
// transfer of megabytes.
func RecvWithin[T any](t testing.TB, ch <-chan T, what string, d time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: nothing after %v", what, d)
		panic("unreachable")
	}
}
