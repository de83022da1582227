package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startRedis runs a throwaway redis-server on a free loopback port for
// the test, or skips the test when redis-server is not installed (the
// end-to-end script installs it).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("redis-server did not start within 10 s")
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

func redisHub(t *testing.T, addr, node string) *Hub {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Burst, cfg.Rate, cfg.Node = 1000, 1000, node
	h := newHub(cfg)
	bus, err := newRedisBus(context.Background(), addr, cfg.HistorySize, h.deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	h.bus, h.shared = bus, true
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.Run(ctx)
	return h
}

// await drains p until an event satisfies match, for up to 5 seconds:
// deliveries through Redis arrive on the bus's goroutine.
func (p *peer) await(match func(Envelope) bool) Envelope {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		envs := p.drain()
		for i, e := range envs {
			if match(e) {
				// Keep the others for later awaits.
				p.backlog = append(slices.Delete(envs, i, i+1), p.backlog...)
				return e
			}
		}
		p.backlog = envs
		time.Sleep(10 * time.Millisecond)
	}
	p.t.Fatal("event not received within 5 s")
	return Envelope{}
}

func TestRedisSharesRoomsAcrossProcesses(t *testing.T) {
	addr := startRedis(t)
	a, b := redisHub(t, addr, "a"), redisHub(t, addr, "b")
	alice, bob := named(t, a, "alice"), named(t, b, "bob")
	alice.mustAck("join", map[string]any{"room": "lobby"})
	bob.mustAck("join", map[string]any{"room": "lobby"})
	// Alice, on process a, sees bob of process b join.
	alice.await(func(e Envelope) bool {
		return e.Event == "presence" && strings.Contains(string(e.Data), `"bob"`)
	})
	// And both appear in the online list of each process.
	for _, p := range []*peer{alice, bob} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			r, _ := p.reply(p.send("users", nil))
			if string(r.Data) == `{"users":["alice","bob"]}` {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: users = %s after 5 s", p.c.name, r.Data)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Messages get one sequence of ids across processes and reach both.
	for i := range 3 {
		sender := []*peer{alice, bob}[i%2]
		ack := sender.mustAck("say", map[string]any{"room": "lobby", "text": "m" + strconv.Itoa(i)})
		if ack["id"] != float64(i+1) {
			t.Fatalf("say %d: ack %v, want id %d", i, ack, i+1)
		}
	}
	for _, p := range []*peer{alice, bob} {
		var got []uint64
		for len(got) < 3 {
			e := p.await(func(e Envelope) bool { return e.Event == "message" })
			var m Message
			json.Unmarshal(e.Data, &m)
			got = append(got, m.ID)
		}
		if !slices.Equal(got, []uint64{1, 2, 3}) {
			t.Errorf("%s received ids %v, want [1 2 3] in order", p.c.name, got)
		}
	}

	// A private message crosses processes, to its target only.
	if ack := bob.mustAck("whisper", map[string]any{"to": "alice", "text": "psst"}); ack["delivered"] != true {
		t.Fatalf("whisper ack %v", ack)
	}
	alice.await(func(e Envelope) bool { return e.Event == "private" && strings.Contains(string(e.Data), "psst") })

	// A newcomer on either process gets the shared history, and recovery
	// by id works across processes.
	carol := named(t, b, "carol")
	r, _ := carol.reply(carol.send("join", map[string]any{"room": "lobby", "since": 1}))
	var ack joinAck
	json.Unmarshal(r.Data, &ack)
	if ids := msgIDs(ack.History); !slices.Equal(ids, []uint64{2, 3}) || ack.History[0].Text != "m1" {
		t.Errorf("history since 1 on process b: %+v", ack.History)
	}
	if !slices.Equal(ack.Members, []string{"alice", "bob", "carol"}) {
		t.Errorf("members seen from b: %v", ack.Members)
	}
	for _, p := range []*peer{bob, carol} {
		if got := events(p.drain(), "private"); len(got) != 0 {
			t.Errorf("%s received the private message %s", p.c.name, got)
		}
	}
}

func TestRedisHistoryTrimmed(t *testing.T) {
	addr := startRedis(t)
	h := redisHub(t, addr, "a")
	p := named(t, h, "alice")
	p.mustAck("join", map[string]any{"room": "big"})
	for i := range 103 {
		p.mustAck("say", map[string]any{"room": "big", "text": strconv.Itoa(i)})
	}
	msgs, err := h.bus.History(context.Background(), "big", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 100 || msgs[0].ID != 4 || msgs[99].ID != 103 {
		t.Fatalf("history: %d messages, ids %d..%d; want 100, 4..103", len(msgs), msgs[0].ID, msgs[len(msgs)-1].ID)
	}
}
