package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

func seqs(q *queue) []uint64 {
	var out []uint64
	for {
		u, ok := q.take()
		if !ok {
			return out
		}
		out = append(out, u.seq)
	}
}

func TestQueuePolicies(t *testing.T) {
	tests := []struct {
		policy  Policy
		offers  int
		want    []uint64
		dropped uint64
	}{
		{Drop, 2, []uint64{1, 2}, 0},
		{Drop, 3, []uint64{1, 2, 3}, 0},
		{Drop, 7, []uint64{1, 2, 3}, 4},     // the newest are lost
		{Coalesce, 3, []uint64{1, 2, 3}, 0}, // not full: nothing merged
		{Coalesce, 4, []uint64{4}, 3},       // full: 1-3 merged into 4
		{Coalesce, 6, []uint64{4, 5, 6}, 3}, // and the queue fills again
		{Coalesce, 7, []uint64{7}, 6},       // the latest always survives
		{Coalesce, 9, []uint64{7, 8, 9}, 6},
		{Coalesce, 10, []uint64{10}, 9},
	}
	for _, tt := range tests {
		q := newQueue(tt.policy, 3)
		for i := 1; i <= tt.offers; i++ {
			q.offer(update{seq: uint64(i)})
		}
		if got := seqs(q); !slices.Equal(got, tt.want) || q.droppedCount() != tt.dropped {
			t.Errorf("%v, %d offers into 3: got %v dropped %d, want %v dropped %d",
				tt.policy, tt.offers, got, q.droppedCount(), tt.want, tt.dropped)
		}
	}
}

// blockingSender is a subscriber whose network is stuck until release is
// closed: its first write blocks.
type blockingSender struct {
	blocked chan struct{} // closed when the first write starts
	release chan struct{}
	once    sync.Once

	mu    sync.Mutex
	sent  []*conn.PreparedMessage
	stats []statsMsg
}

func (s *blockingSender) WritePrepared(ctx context.Context, pm *conn.PreparedMessage) error {
	s.once.Do(func() { close(s.blocked) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	s.sent = append(s.sent, pm)
	s.mu.Unlock()
	return nil
}

func (s *blockingSender) WriteMessage(ctx context.Context, _ conn.MessageType, p []byte) error {
	var m statsMsg
	json.Unmarshal(p, &m)
	s.mu.Lock()
	s.stats = append(s.stats, m)
	s.mu.Unlock()
	return nil
}

// A subscriber that stops reading never slows the ticker or the other
// subscribers; it loses updates by its policy and is told how many.
func TestSlowSubscriber(t *testing.T) {
	for _, policy := range []Policy{Drop, Coalesce} {
		t.Run(policy.String(), func(t *testing.T) {
			f := newFeed(1)
			observer := newQueue(Drop, 1000) // sees every update, to map frames to seqs
			fast := newQueue(policy, 4)
			slow := newQueue(policy, 4)
			for _, q := range []*queue{observer, fast, slow} {
				f.subscribe(q)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &blockingSender{blocked: make(chan struct{}), release: make(chan struct{})}
			done := make(chan error, 1)
			go func() { done <- writeLoop(ctx, s, slow, 5*time.Millisecond, time.Minute, nil) }()

			f.tick(time.Now())
			<-s.blocked // the slow writer is stuck sending update 1
			var fastGot []uint64
			start := time.Now()
			for range 99 {
				f.tick(time.Now())
				fastGot = append(fastGot, seqs(fast)...)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("99 ticks took %v with a stuck subscriber", d)
			}
			if len(fastGot) != 100 || fastGot[99] != 100 {
				t.Errorf("fast subscriber got %d updates, last %v; want all 100", len(fastGot), fastGot[len(fastGot)-1])
			}

			seqOf := make(map[*conn.PreparedMessage]uint64)
			for {
				u, ok := observer.take()
				if !ok {
					break
				}
				seqOf[u.pm] = u.seq
			}
			close(s.release)
			deadline := time.Now().Add(5 * time.Second)
			var got []uint64
			var stats []statsMsg
			for time.Now().Before(deadline) {
				s.mu.Lock()
				got = got[:0]
				for _, pm := range s.sent {
					got = append(got, seqOf[pm])
				}
				stats = slices.Clone(s.stats)
				s.mu.Unlock()
				if len(stats) > 0 && stats[len(stats)-1].Dropped == slow.droppedCount() && len(got) > 1 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			var want []uint64
			var dropped uint64
			if policy == Drop {
				// 1 was being written; 2-5 filled the queue; 6-100 were dropped.
				want, dropped = []uint64{1, 2, 3, 4, 5}, 95
			} else {
				// 1 was being written; each time the queue was full its four
				// updates were merged into the next: 2-5, 6-9, ... 94-97
				// became 98, then 99 and 100 were queued behind it.
				want, dropped = []uint64{1, 98, 99, 100}, 96
			}
			if !slices.Equal(got, want) || slow.droppedCount() != dropped {
				t.Errorf("slow subscriber got %v, dropped %d; want %v, dropped %d", got, slow.droppedCount(), want, dropped)
			}
			if len(stats) == 0 || stats[len(stats)-1] != (statsMsg{Type: "stats", Dropped: dropped}) {
				t.Errorf("stats sent: %+v, want the last to report %d dropped", stats, dropped)
			}
			cancel()
			if err := <-done; err != context.Canceled {
				t.Errorf("writeLoop returned %v, want context.Canceled", err)
			}
		})
	}
}

func TestOverWebSocket(t *testing.T) {
	f := newFeed(1)
	cfg := config{rate: 10, queue: 8, policy: Coalesce, accept: &server.AcceptOptions{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(newMux(ctx, f, cfg))
	defer srv.Close()

	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	c, _, err := client.Dial(dctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() map[string]any {
		t.Helper()
		_, b, err := c.ReadMessage(dctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if h := read(); h["type"] != "hello" || h["policy"] != "coalesce" || h["queue"] != float64(8) {
		t.Fatalf("first message %v, want hello with the settings", h)
	}
	// Wait until the subscriber is registered, then tick by hand.
	for {
		f.mu.Lock()
		n := len(f.subs)
		f.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		f.tick(time.Now())
	}
	var updates []float64
	sawStats := false
	for len(updates) < 3 || !sawStats {
		m := read()
		switch m["type"] {
		case "update":
			updates = append(updates, m["seq"].(float64))
			metrics := m["metrics"].(map[string]any)
			if len(metrics) != 4 {
				t.Errorf("update with metrics %v", metrics)
			}
		case "stats":
			sawStats = true
			if m["dropped"] != float64(0) {
				t.Errorf("stats %v for a subscriber that kept up", m)
			}
		}
	}
	if !slices.Equal(updates, []float64{1, 2, 3}) {
		t.Errorf("updates %v, want seq 1, 2, 3", updates)
	}
	c.Close(conn.StatusNormalClosure, "")
}
