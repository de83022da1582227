package conn

import (
	"testing"
	"time"
)

// waitLimit bounds the waits of these tests that would otherwise block for
// good on a broken behaviour (a pong that never comes, a read that never
// returns), so that they fail with a message instead of running into
// go test's timeout.
const waitLimit = 5 * time.Second

// recv receives from ch, failing the test if nothing arrives within
// waitLimit.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("%s: nothing after %v", what, waitLimit)
		panic("unreachable")
	}
}
