package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/ws/broadcast"
	"github.com/rfc6455/ws/conn"
)

// wait bounds every wait of these tests: a broken behaviour fails with a
// message long before go test's own timeout.
const wait = 5 * time.Second

// pipe returns the two ends of a WebSocket connection over net.Pipe,
// which is unbuffered: a write blocks until the other side reads, so a
// peer that never reads is a stalled peer from the first byte.
func pipe(t testing.TB, srvOpts *conn.Options) (srv, cli *conn.Conn) {
	a, b := net.Pipe()
	srv = conn.New(a, conn.Setup{Role: conn.Server, Options: srvOpts})
	cli = conn.New(b, conn.Setup{Role: conn.Client, Options: &conn.Options{KeepAliveInterval: -1}})
	t.Cleanup(func() {
		srv.CloseNow()
		cli.CloseNow()
	})
	return srv, cli
}

func payload(i int) []byte { return []byte("message " + strconv.Itoa(i)) }

// broadcastWithin calls Broadcast and fails the test if it does not return
// within the bound: Broadcast must never wait for a member.
func broadcastWithin(t *testing.T, g *broadcast.Group, p []byte) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Broadcast(conn.Text, p) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Broadcast(%q): %v", p, err)
		}
	case <-time.After(wait):
		t.Fatalf("Broadcast(%q) still blocked after %v", p, wait)
	}
}

// readAll reads messages from c until it has read the one equal to last,
// or fails, and returns them as strings.
func readAll(c *conn.Conn, last string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []string
	for {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return got, err
		}
		got = append(got, string(msg))
		if string(msg) == last {
			return got, nil
		}
	}
}

type leave struct {
	c   *conn.Conn
	err error
}

// TestStalledMember broadcasts to 1,000 members, one of which never reads,
// in lock step: each message goes out once the 999 others have all
// received the one before, within a few seconds. They receive every
// message in order whatever the policy, and the stalled member is closed
// (CloseSlow) or keeps only the newest messages (DropOldest).
func TestStalledMember(t *testing.T) {
	const (
		members   = 1000
		healthy   = members - 1
		queueSize = 8
		messages  = 20
	)
	for _, policy := range []broadcast.Policy{broadcast.CloseSlow, broadcast.DropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			leaves := make(chan leave, members)
			g := broadcast.New(&broadcast.Options{
				QueueSize: queueSize,
				Policy:    policy,
				OnLeave:   func(c *conn.Conn, err error) { leaves <- leave{c, err} },
			})
			// A short CloseTimeout: under CloseSlow the close frame cannot
			// get past the write the stalled peer blocks.
			srvOpts := &conn.Options{KeepAliveInterval: -1, CloseTimeout: 200 * time.Millisecond}

			delivered := make(chan struct{}, members)
			failed := make(chan error, members)
			for i := range healthy {
				srv, cli := pipe(t, srvOpts)
				if err := g.Join(srv); err != nil {
					t.Fatal(err)
				}
				go func() {
					ctx := context.Background()
					var buf []byte
					for want := 1; want <= messages; want++ {
						_, msg, err := cli.ReadMessage(ctx, buf[:0])
						if err != nil {
							failed <- fmt.Errorf("member %d, message %d: %w", i, want, err)
							return
						}
						if string(msg) != string(payload(want)) {
							failed <- fmt.Errorf("member %d received %q, want %q", i, msg, payload(want))
							return
						}
						buf = msg
						delivered <- struct{}{}
					}
				}()
			}
			stalledSrv, stalledCli := pipe(t, srvOpts)
			if err := g.Join(stalledSrv); err != nil {
				t.Fatal(err)
			}

			var slowest time.Duration // logged, not judged: the machine may be busy
			for i := 1; i <= messages; i++ {
				start := time.Now()
				broadcastWithin(t, g, payload(i))
				timeout := time.After(wait)
				for n := range healthy {
					select {
					case <-delivered:
					case err := <-failed:
						t.Fatal(err)
					case <-timeout:
						t.Fatalf("message %d reached %d of the %d reading members within %v", i, n, healthy, wait)
					}
				}
				slowest = max(slowest, time.Since(start))
			}
			t.Logf("slowest message: %v from Broadcast until all %d reading members had it", slowest, healthy)

			switch policy {
			case broadcast.CloseSlow:
				select {
				case l := <-leaves:
					if l.c != stalledSrv || !errors.Is(l.err, broadcast.ErrTooSlow) {
						t.Fatalf("OnLeave(%p, %v), want the stalled member (%p) with ErrTooSlow", l.c, l.err, stalledSrv)
					}
				case <-time.After(wait):
					t.Fatalf("the stalled member was not removed within %v", wait)
				}
				if n := g.Len(); n != healthy {
					t.Errorf("Len() = %d, want %d", n, healthy)
				}
				// The stalled member's connection is closed: it refuses writes.
				if err := stalledSrv.WriteMessage(context.Background(), conn.Text, nil); err == nil {
					t.Error("the stalled member's connection still accepts writes")
				}
			case broadcast.DropOldest:
				if n := g.Len(); n != members {
					t.Errorf("Len() = %d, want %d", n, members)
				}
				// The stalled peer, reading at last, receives the message
				// that was being written when it stalled (message 1, unless
				// its writer was slow to take it), then the newest
				// queueSize messages in order; every other one was dropped.
				dropped := g.Dropped()
				got, err := readAll(stalledCli, string(payload(messages)))
				if err != nil {
					t.Fatalf("the stalled peer, reading at last: %v (after %q)", err, got)
				}
				var want []string
				if len(got) == queueSize+1 {
					want = append(want, got[0])
					if n, err := strconv.Atoi(strings.TrimPrefix(got[0], "message ")); err != nil || n > messages-queueSize {
						t.Errorf("the message in flight was %q, want one older than the queued ones", got[0])
					}
				}
				for i := messages - queueSize + 1; i <= messages; i++ {
					want = append(want, string(payload(i)))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("the stalled peer's messages (-want +got):\n%s", diff)
				}
				if want := uint64(messages - len(got)); dropped != want {
					t.Errorf("Dropped() = %d, want %d: the %d messages not delivered", dropped, want, want)
				}
			}
			select {
			case l := <-leaves:
				t.Errorf("unexpected OnLeave(%p, %v)", l.c, l.err)
			default:
			}
		})
	}
}

// TestSlowMemberIsToldWhy: under CloseSlow, a member that falls behind but
// still reads receives what was being written to it and then a close frame
// with 1008, so its client knows to reconnect and catch up. It stays a
// member while its queue holds QueueSize messages, and is closed by the
// one after the queue and the write in flight are full.
func TestSlowMemberIsToldWhy(t *testing.T) {
	for _, queueSize := range []int{4, 0} {
		limit := queueSize
		if limit == 0 {
			limit = broadcast.DefaultQueueSize
		}
		t.Run(fmt.Sprintf("QueueSize=%d", queueSize), func(t *testing.T) {
			leaves := make(chan leave, 1)
			g := broadcast.New(&broadcast.Options{
				QueueSize: queueSize,
				OnLeave:   func(c *conn.Conn, err error) { leaves <- leave{c, err} },
			})
			srv, cli := pipe(t, &conn.Options{KeepAliveInterval: -1})
			if err := g.Join(srv); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= limit; i++ {
				broadcastWithin(t, g, payload(i))
			}
			if n := g.Len(); n != 1 {
				t.Fatalf("Len() = %d after %d messages, want 1: the queue holds them", n, limit)
			}
			broadcastWithin(t, g, payload(limit+1))
			broadcastWithin(t, g, payload(limit+2))
			if n := g.Len(); n != 0 {
				t.Fatalf("Len() = %d after %d messages, want 0: the queue overflowed", n, limit+2)
			}

			got, err := readAll(cli, "")
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != conn.StatusPolicyViolation || ce.Reason != broadcast.CloseReason {
				t.Fatalf("the slow member's read ended with %v, want a close with 1008 %q", err, broadcast.CloseReason)
			}
			// Message 1 is sent if the writer had taken it before the
			// queue overflowed; the queued ones are not.
			if len(got) > 1 || len(got) == 1 && got[0] != string(payload(1)) {
				t.Errorf("the slow member received %q before the close, want at most %q", got, payload(1))
			}
			select {
			case l := <-leaves:
				if l.c != srv || !errors.Is(l.err, broadcast.ErrTooSlow) {
					t.Errorf("OnLeave(%p, %v), want (%p, ErrTooSlow)", l.c, l.err, srv)
				}
			case <-time.After(wait):
				t.Fatalf("OnLeave not called within %v", wait)
			}
		})
	}
}

// TestIdleMembersHoldNoGoroutine: a member's writer exits once its queue
// is empty, so after a broadcast has been delivered the group runs no
// goroutine of its own.
func TestIdleMembersHoldNoGoroutine(t *testing.T) {
	const members = 100
	g := broadcast.New(nil)
	delivered := make(chan struct{}, members)
	for range members {
		srv, cli := pipe(t, &conn.Options{KeepAliveInterval: -1})
		if err := g.Join(srv); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				if _, _, err := cli.ReadMessage(context.Background(), nil); err != nil {
					return
				}
				delivered <- struct{}{}
			}
		}()
	}
	settle := func(want int) int {
		deadline := time.Now().Add(wait)
		n := runtime.NumGoroutine()
		for n > want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	// The readers count from their go statements on.
	base := runtime.NumGoroutine()
	for i := 1; i <= 3; i++ {
		broadcastWithin(t, g, payload(i))
		timeout := time.After(wait)
		for range members {
			select {
			case <-delivered:
			case <-timeout:
				t.Fatalf("message %d not delivered to every member within %v", i, wait)
			}
		}
	}
	if n := settle(base); n > base {
		t.Errorf("%d goroutines %v after the broadcasts were delivered, %d before: writers outlive their queues", n, wait, base)
	}
}

// TestBurst broadcasts faster than the writers send, with queues long
// enough to hold the burst: writers start and stop as queues fill and
// empty, and every member still receives every message once, in order.
func TestBurst(t *testing.T) {
	const (
		members  = 50
		messages = 300
	)
	g := broadcast.New(&broadcast.Options{QueueSize: messages})
	results := make(chan error, members)
	for range members {
		srv, cli := pipe(t, &conn.Options{KeepAliveInterval: -1})
		if err := g.Join(srv); err != nil {
			t.Fatal(err)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for want := 1; want <= messages; want++ {
				_, msg, err := cli.ReadMessage(ctx, nil)
				if err != nil {
					results <- fmt.Errorf("message %d: %w", want, err)
					return
				}
				if string(msg) != string(payload(want)) {
					results <- fmt.Errorf("received %q, want %q", msg, payload(want))
					return
				}
			}
			results <- nil
		}()
	}
	var sent sync.WaitGroup
	sent.Go(func() {
		for i := 1; i <= messages; i++ {
			if err := g.Broadcast(conn.Binary, payload(i)); err != nil {
				results <- err
				return
			}
		}
	})
	for range members {
		if err := <-results; err != nil { // each reader is bounded by its context
			t.Fatal(err)
		}
	}
	sent.Wait()
	if d := g.Dropped(); d != 0 {
		t.Errorf("Dropped() = %d, want 0", d)
	}
}

// TestMembership covers Join, Leave and Close and what Broadcast does
// around them.
func TestMembership(t *testing.T) {
	opts := &conn.Options{KeepAliveInterval: -1}
	g := new(broadcast.Group) // the zero value is a group with the defaults
	a, aCli := pipe(t, opts)
	b, bCli := pipe(t, opts)

	for _, c := range []*conn.Conn{a, a, b} { // joining twice has no effect
		if err := g.Join(c); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.Len(); n != 2 {
		t.Fatalf("Len() = %d after joining a twice and b, want 2", n)
	}
	if err := g.Broadcast(conn.MessageType(9), nil); !errors.Is(err, conn.ErrInvalidType) {
		t.Errorf("Broadcast with opcode 9: %v, want ErrInvalidType", err)
	}

	// The caller may reuse the slice it broadcast at once.
	p := []byte("to both")
	broadcastWithin(t, g, p)
	copy(p, "changed")
	for name, c := range map[string]*conn.Conn{"a": aCli, "b": bCli} {
		if got, err := readAll(c, "to both"); err != nil || len(got) != 1 {
			t.Fatalf("%s received %q, %v; want only %q", name, got, err, "to both")
		}
	}

	g.Leave(a)
	g.Leave(a) // leaving twice has no effect
	broadcastWithin(t, g, []byte("to b"))
	if got, err := readAll(bCli, "to b"); err != nil || len(got) != 1 {
		t.Fatalf("b received %q, %v; want only %q", got, err, "to b")
	}
	// a left: the next message it sees is one written to it directly.
	go a.WriteMessage(context.Background(), conn.Text, []byte("direct"))
	if got, err := readAll(aCli, "direct"); err != nil || len(got) != 1 {
		t.Fatalf("a received %q, %v after leaving; want only %q", got, err, "direct")
	}

	g.Close()
	if n := g.Len(); n != 0 {
		t.Errorf("Len() = %d after Close, want 0", n)
	}
	if err := g.Broadcast(conn.Text, nil); !errors.Is(err, broadcast.ErrClosed) {
		t.Errorf("Broadcast after Close: %v, want ErrClosed", err)
	}
	if err := g.Join(a); !errors.Is(err, broadcast.ErrClosed) {
		t.Errorf("Join after Close: %v, want ErrClosed", err)
	}
}

// TestFailedWriteLeaves: a member whose connection has gone leaves the
// group at its first failed write, and OnLeave says why.
func TestFailedWriteLeaves(t *testing.T) {
	leaves := make(chan leave, 1)
	g := broadcast.New(&broadcast.Options{OnLeave: func(c *conn.Conn, err error) { leaves <- leave{c, err} }})
	srv, _ := pipe(t, &conn.Options{KeepAliveInterval: -1})
	if err := g.Join(srv); err != nil {
		t.Fatal(err)
	}
	srv.CloseNow()
	broadcastWithin(t, g, []byte("lost"))
	select {
	case l := <-leaves:
		if l.c != srv || !errors.Is(l.err, conn.ErrClosed) {
			t.Errorf("OnLeave(%p, %v), want (%p, ErrClosed)", l.c, l.err, srv)
		}
	case <-time.After(wait):
		t.Fatalf("OnLeave not called within %v", wait)
	}
	if n := g.Len(); n != 0 {
		t.Errorf("Len() = %d, want 0", n)
	}
}

// TestBroadcastAllocs: a broadcast allocates the same whether the group
// has one member or a hundred, so queuing and writing to a member costs no
// allocation once its queue has grown. Each run waits until every member
// has read the message, so the writers' work is counted too. (With the
// collector running, a Conn sometimes refills its pooled write buffer
// after a collection emptied the pool: BenchmarkBroadcast shows it.)
func TestBroadcastAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	allocs := func(members int) float64 {
		g := broadcast.New(nil)
		defer g.Close()
		delivered := make(chan struct{}, members)
		for range members {
			srv, cli := pipe(t, &conn.Options{KeepAliveInterval: -1})
			g.Join(srv)
			go func() {
				var buf []byte
				for {
					_, msg, err := cli.ReadMessage(context.Background(), buf[:0])
					if err != nil {
						return
					}
					buf = msg
					delivered <- struct{}{}
				}
			}()
		}
		p := []byte("a message for everyone")
		// A collection empties the Conns' buffer pools, and refilling
		// them is the Conns' cost, not the group's: measure without one.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		return testing.AllocsPerRun(100, func() {
			g.Broadcast(conn.Text, p)
			timeout := time.After(wait) // allocates the same in both runs
			for range members {
				select {
				case <-delivered:
				case <-timeout:
					panic("a member did not receive the message in time")
				}
			}
		})
	}
	one, hundred := allocs(1), allocs(100)
	t.Logf("allocations per broadcast: %v with 1 member, %v with 100", one, hundred)
	if hundred != one {
		t.Errorf("a broadcast to 100 members allocates %v times, to 1 member %v: want the same", hundred, one)
	}
}

// BenchmarkBroadcast sends one 64-byte message to every member of a group
// and waits until each has read it; members are net.Pipe connections.
func BenchmarkBroadcast(b *testing.B) {
	for _, members := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			g := broadcast.New(nil)
			defer g.Close()
			delivered := make(chan struct{}, members)
			for range members {
				srv, cli := pipe(b, &conn.Options{KeepAliveInterval: -1})
				g.Join(srv)
				go func() {
					var buf []byte
					for {
						_, msg, err := cli.ReadMessage(context.Background(), buf[:0])
						if err != nil {
							return
						}
						buf = msg
						delivered <- struct{}{}
					}
				}()
			}
			p := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				g.Broadcast(conn.Binary, p)
				for range members {
					<-delivered
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members), "ns/delivery")
		})
	}
}
