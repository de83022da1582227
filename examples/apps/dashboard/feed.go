package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/conn"
)

// Policy says what happens to an update for a subscriber whose send queue
// is full: the subscriber is not keeping up, and the ticker never waits
// for it.
type Policy int

const (
	// Drop discards the new update: the subscriber gets the queued ones,
	// then a gap in the sequence numbers.
	Drop Policy = iota
	// Coalesce replaces every queued update with the new one. Each update
	// is a full snapshot, so the newest supersedes the others, and the
	// subscriber catches up to the present at once.
	Coalesce
)

func (p Policy) String() string {
	if p == Drop {
		return "drop"
	}
	return "coalesce"
}

// ParsePolicy parses "drop" or "coalesce".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "drop":
		return Drop, nil
	case "coalesce":
		return Coalesce, nil
	}
	return 0, fmt.Errorf("unknown policy %q: want drop or coalesce", s)
}

// update is one tick's message, encoded once for every subscriber.
type update struct {
	seq uint64
	pm  *conn.PreparedMessage
}

// queue is a subscriber's bounded send queue. The ticker offers updates
// without ever blocking; the subscriber's writer goroutine takes them.
type queue struct {
	policy Policy
	size   int
	ready  chan struct{} // signalled when updates are queued

	mu      sync.Mutex
	pending []update
	dropped uint64 // updates this subscriber will never see
}

func newQueue(p Policy, size int) *queue {
	return &queue{policy: p, size: size, ready: make(chan struct{}, 1), pending: make([]update, 0, size)}
}

// offer queues u, applying the policy when the queue is full.
func (q *queue) offer(u update) {
	q.mu.Lock()
	switch {
	case len(q.pending) < q.size:
		q.pending = append(q.pending, u)
	case q.policy == Drop:
		q.dropped++
	default: // Coalesce
		q.dropped += uint64(len(q.pending))
		q.pending = append(q.pending[:0], u)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take removes and returns the oldest queued update.
func (q *queue) take() (update, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return update{}, false
	}
	u := q.pending[0]
	q.pending = append(q.pending[:0], q.pending[1:]...)
	return u, true
}

func (q *queue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Messages of the dashboard protocol, server to browser, as JSON text.
type (
	// {"type":"hello"}: the settings, sent first.
	helloMsg struct {
		Type   string  `json:"type"`
		Policy string  `json:"policy"`
		Queue  int     `json:"queue"`
		Rate   float64 `json:"rate"`
	}
	// {"type":"update"}: one tick, the same bytes for every subscriber.
	updateMsg struct {
		Type    string             `json:"type"`
		Seq     uint64             `json:"seq"`
		TS      int64              `json:"ts"` // Unix milliseconds
		Metrics map[string]float64 `json:"metrics"`
	}
	// {"type":"stats"}: this subscriber's dropped updates, each second.
	statsMsg struct {
		Type    string `json:"type"`
		Dropped uint64 `json:"dropped"`
	}
)

// feed produces the updates and hands each to every subscriber's queue.
type feed struct {
	stallUntil atomic.Int64 // Unix nanoseconds; writers wait until then (-debug)

	mu   sync.Mutex
	subs map[*queue]struct{}
	seq  uint64

	rng     *rand.Rand
	metrics map[string]float64
}

func newFeed(seed uint64) *feed {
	return &feed{
		subs: make(map[*queue]struct{}),
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		metrics: map[string]float64{
			"cpu": 35, "memory": 52, "requests": 1200, "latency": 42,
		},
	}
}

func (f *feed) subscribe(q *queue) {
	f.mu.Lock()
	f.subs[q] = struct{}{}
	f.mu.Unlock()
}

func (f *feed) unsubscribe(q *queue) {
	f.mu.Lock()
	delete(f.subs, q)
	f.mu.Unlock()
}

// limits of each simulated metric, for the random walk.
var limits = map[string][2]float64{
	"cpu": {0, 100}, "memory": {0, 100}, "requests": {0, 5000}, "latency": {1, 500},
}

// tick advances the simulated metrics, encodes one update and offers it to
// every subscriber. It never blocks on a subscriber.
func (f *feed) tick(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	for k, v := range f.metrics {
		lim := limits[k]
		step := (lim[1] - lim[0]) * 0.02 * (f.rng.Float64()*2 - 1)
		f.metrics[k] = math.Round(math.Min(lim[1], math.Max(lim[0], v+step))*10) / 10
	}
	b, err := json.Marshal(updateMsg{Type: "update", Seq: f.seq, TS: now.UnixMilli(), Metrics: f.metrics})
	if err != nil {
		panic(err)
	}
	pm, err := conn.NewPreparedMessage(conn.Text, b)
	if err != nil {
		panic(err)
	}
	u := update{seq: f.seq, pm: pm}
	for q := range f.subs {
		q.offer(u)
	}
}

// run ticks rate times a second until ctx ends.
func (f *feed) run(ctx context.Context, rate float64) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f.tick(now)
		}
	}
}

// sender is the part of *conn.Conn the writer needs; tests substitute a
// slow one.
type sender interface {
	WritePrepared(ctx context.Context, pm *conn.PreparedMessage) error
	WriteMessage(ctx context.Context, typ conn.MessageType, p []byte) error
}

// writeLoop sends q's updates to c as they come, and the dropped count
// every statsEvery, until ctx ends or a write fails. hold, if not nil, is
// called before each update is sent; the -debug stall endpoint uses it to
// make every subscriber slow.
func writeLoop(ctx context.Context, c sender, q *queue, statsEvery, writeTimeout time.Duration, hold func(context.Context)) error {
	stats := time.NewTicker(statsEvery)
	defer stats.Stop()
	write := func(f func(context.Context) error) error {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		return f(wctx)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-q.ready:
			for {
				if hold != nil {
					hold(ctx)
				}
				u, ok := q.take()
				if !ok {
					break
				}
				if err := write(func(ctx context.Context) error { return c.WritePrepared(ctx, u.pm) }); err != nil {
					return err
				}
			}
		case <-stats.C:
			b, _ := json.Marshal(statsMsg{Type: "stats", Dropped: q.droppedCount()})
			if err := write(func(ctx context.Context) error { return c.WriteMessage(ctx, conn.Text, b) }); err != nil {
				return err
			}
		}
	}
}

// stall makes every subscriber's writer wait for d before its next update,
// as if the subscribers' networks stopped taking data; the updates that
// arrive meanwhile meet full queues and the policy.
func (f *feed) stall(d time.Duration) {
	f.stallUntil.Store(time.Now().Add(d).UnixNano())
}

// hold waits out a stall, or until ctx ends.
func (f *feed) hold(ctx context.Context) {
	d := time.Until(time.Unix(0, f.stallUntil.Load()))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
