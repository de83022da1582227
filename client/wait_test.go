package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
)

// waitLimit bounds the waits of these tests that would otherwise block for
// good on a broken behaviour (pongs switched off, an echo that never
// comes): they fail with a message instead of running into go test's
// timeout. testContext's deadline is for whole transfers, far longer.
const waitLimit = 5 * time.Second

// recv receives from ch, failing the test if nothing arrives within
// waitLimit.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return recvWithin(t, ch, what, waitLimit)
}

// recvWithin is recv for a wait that follows a large transfer.
func recvWithin[T any](t testing.TB, ch <-chan T, what string, d time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: nothing after %v", what, d)
		panic("unreachable")
	}
}

// bigTransferWait bounds a wait for the echo of a message of megabytes,
// which under -race on a loaded machine takes seconds.
const bigTransferWait = 30 * time.Second

// ping pings c and waits at most waitLimit for the pong.
func ping(ctx context.Context, c *conn.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	_, err := c.Ping(ctx)
	return err
}

// waitGroup waits for wg, failing the test after waitLimit.
func waitGroup(t testing.TB, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, what)
}
