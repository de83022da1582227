package main

import (
	"context"
	"encoding/json"
	"sync"
)

// busEvent is what chat processes tell each other. With one process it
// goes straight back to its own hub; with -redis it travels through Redis
// pub/sub, so every process sees every event in the same order.
type busEvent struct {
	// Kind is "message", "typing" or "presence" (delivered to the local
	// members of Room), "private" (to the local connections of user To),
	// "state" (Node's membership snapshot) or "sync" (a request that every
	// node publish its state).
	Kind string          `json:"kind"`
	Node string          `json:"node,omitempty"`
	Room string          `json:"room,omitempty"`
	To   string          `json:"to,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Bus carries room traffic between the chat processes that share rooms
// and keeps the rooms' history.
type Bus interface {
	// Append gives m the next id of its room, stores it in the room's
	// history (trimmed to the last HistorySize messages) and delivers a
	// "message" event to every process. It returns m with its id set.
	Append(ctx context.Context, m Message) (Message, error)
	// History returns the stored messages of room with an id above since,
	// oldest first.
	History(ctx context.Context, room string, since uint64) ([]Message, error)
	// Publish delivers ev to every process, this one included.
	Publish(ctx context.Context, ev busEvent) error
	// Close releases the bus's resources.
	Close() error
}

// maxHistoryRooms bounds how many rooms' histories the in-process bus
// keeps; past it, the room written to least recently loses its history.
// Room names are chosen by clients, so without a bound they could make the
// server keep an unbounded number of histories.
const maxHistoryRooms = 1000

// localBus is the Bus of a single chat process.
type localBus struct {
	size    int
	deliver func(busEvent)

	mu    sync.Mutex
	rooms map[string]*roomLog
	clock uint64 // orders rooms by last write, for eviction
}

type roomLog struct {
	seq     uint64
	msgs    []Message // at most size, oldest first
	written uint64
}

func newLocalBus(historySize int, deliver func(busEvent)) *localBus {
	return &localBus{size: historySize, deliver: deliver, rooms: make(map[string]*roomLog)}
}

func (b *localBus) Append(_ context.Context, m Message) (Message, error) {
	b.mu.Lock()
	rl := b.rooms[m.Room]
	if rl == nil {
		b.evictLocked()
		rl = &roomLog{}
		b.rooms[m.Room] = rl
	}
	rl.seq++
	m.ID = rl.seq
	b.clock++
	rl.written = b.clock
	if len(rl.msgs) == b.size {
		copy(rl.msgs, rl.msgs[1:])
		rl.msgs = rl.msgs[:b.size-1]
	}
	rl.msgs = append(rl.msgs, m)
	data, _ := json.Marshal(m)
	// Delivering under the lock keeps delivery in id order when several
	// connections send to one room at once.
	b.deliver(busEvent{Kind: "message", Room: m.Room, Data: data})
	b.mu.Unlock()
	return m, nil
}

func (b *localBus) evictLocked() {
	if len(b.rooms) < maxHistoryRooms {
		return
	}
	var oldest string
	var when uint64
	for name, rl := range b.rooms {
		if oldest == "" || rl.written < when {
			oldest, when = name, rl.written
		}
	}
	delete(b.rooms, oldest)
}

func (b *localBus) History(_ context.Context, room string, since uint64) ([]Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rl := b.rooms[room]
	if rl == nil {
		return []Message{}, nil
	}
	out := []Message{}
	for _, m := range rl.msgs {
		if m.ID > since {
			out = append(out, m)
		}
	}
	return out, nil
}

func (b *localBus) Publish(_ context.Context, ev busEvent) error {
	b.deliver(ev)
	return nil
}

func (b *localBus) Close() error { return nil }
