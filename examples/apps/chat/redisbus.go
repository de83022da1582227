package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisBus shares rooms between chat processes through one Redis server:
// every process publishes room traffic on one pub/sub channel and
// delivers what it receives there to its own connections, and the rooms'
// ids and histories are Redis keys, so a client that reconnects to another
// process recovers the same messages.
//
// One channel for all rooms keeps the example short: every process sees
// every room's traffic and keeps what its own members need. A deployment
// with many rooms and processes would subscribe per room instead.
type redisBus struct {
	rdb     *redis.Client
	ps      *redis.PubSub
	size    int
	prefix  string
	deliver func(busEvent)
	stop    context.CancelFunc
	done    chan struct{}
}

// historyTTL is how long a room's history and id counter survive without
// new messages.
const historyTTL = 7 * 24 * time.Hour

// appendScript gives a message the room's next id, stores it and
// publishes it in one atomic step, so ids, history order and delivery
// order agree across processes.
//
//	KEYS[1] id counter, KEYS[2] history list
//	ARGV[1], ARGV[2] the message JSON before and after its id
//	ARGV[3] history size, ARGV[4] channel
//	ARGV[5], ARGV[6] the bus event JSON before and after the message
//	ARGV[7] TTL in seconds
var appendScript = redis.NewScript(`
local id = redis.call('INCR', KEYS[1])
local msg = ARGV[1] .. id .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. msg .. ARGV[6])
return id
`)

// newRedisBus connects to the Redis server at addr, subscribes to the
// events channel and starts delivering what arrives on it. It fails if
// the server does not answer within a few seconds.
func newRedisBus(ctx context.Context, addr string, historySize int, deliver func(busEvent)) (*redisBus, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 3 * time.Second})
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", addr, err)
	}
	b := &redisBus{rdb: rdb, size: historySize, prefix: "chat:", deliver: deliver, done: make(chan struct{})}
	b.ps = rdb.Subscribe(pctx, b.channel())
	// Wait for the subscription to be confirmed, so nothing published
	// after newRedisBus returns is missed.
	if _, err := b.ps.Receive(pctx); err != nil {
		b.ps.Close()
		rdb.Close()
		return nil, fmt.Errorf("redis subscribe: %w", err)
	}
	rctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.receive(rctx)
	return b, nil
}

func (b *redisBus) channel() string            { return b.prefix + "events" }
func (b *redisBus) seqKey(room string) string  { return b.prefix + "room:" + room + ":seq" }
func (b *redisBus) histKey(room string) string { return b.prefix + "room:" + room + ":history" }

// receive delivers events until the bus is closed. go-redis reconnects
// and resubscribes by itself after a network error.
func (b *redisBus) receive(ctx context.Context) {
	defer close(b.done)
	for {
		msg, err := b.ps.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			log.Printf("chat: redis receive: %v", err)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var ev busEvent
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
			log.Printf("chat: bad event on %s: %v", msg.Channel, err)
			continue
		}
		b.deliver(ev)
	}
}

func (b *redisBus) Append(ctx context.Context, m Message) (Message, error) {
	m.ID = 0
	raw, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	// raw starts with {"id":0 because ID is the first field; the script
	// puts the real id there.
	const head = `{"id":0`
	if !bytes.HasPrefix(raw, []byte(head)) {
		return m, fmt.Errorf("chat: unexpected message encoding %q", raw)
	}
	room, _ := json.Marshal(m.Room)
	res, err := appendScript.Run(ctx, b.rdb,
		[]string{b.seqKey(m.Room), b.histKey(m.Room)},
		`{"id":`, string(raw[len(head):]),
		b.size, b.channel(),
		`{"kind":"message","room":`+string(room)+`,"data":`, `}`,
		int(historyTTL/time.Second),
	).Int64()
	if err != nil {
		return m, fmt.Errorf("redis append: %w", err)
	}
	m.ID = uint64(res)
	return m, nil
}

func (b *redisBus) History(ctx context.Context, room string, since uint64) ([]Message, error) {
	items, err := b.rdb.LRange(ctx, b.histKey(room), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis history: %w", err)
	}
	out := []Message{}
	for _, it := range items {
		var m Message
		if err := json.Unmarshal([]byte(it), &m); err != nil {
			return nil, fmt.Errorf("redis history: bad entry: %w", err)
		}
		if m.ID > since {
			out = append(out, m)
		}
	}
	return out, nil
}

func (b *redisBus) Publish(ctx context.Context, ev busEvent) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return b.rdb.Publish(ctx, b.channel(), raw).Err()
}

func (b *redisBus) Close() error {
	b.stop()
	err := b.ps.Close()
	<-b.done
	return errors.Join(err, b.rdb.Close())
}

// nodeName returns a name for this process on the bus.
func nodeName(addr string) string {
	return addr + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
