package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/testwait"
)

// waitLimit bounds an ordinary wait (testwait.Limit); testContext's
// deadline is for whole transfers, far longer.
const waitLimit = testwait.Limit

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
	testwait.Recv(t, done, what)
}
