package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rfc6455/ws/conn"
)

// Config holds the hub's limits. DefaultConfig gives the values the chat
// command uses unless flags change them.
type Config struct {
	Node        string  // this process's name on the bus, unique per process
	HistorySize int     // messages kept per room
	MaxText     int     // characters per message
	MaxRooms    int     // rooms one connection may be in at once
	QueueSize   int     // messages queued per connection before it counts as slow
	Rate        float64 // requests per second per connection (token bucket refill)
	Burst       float64 // token bucket size
	MaxRejected int     // refused requests after which the connection is closed
}

// DefaultConfig returns the limits of the chat command.
func DefaultConfig() Config {
	return Config{
		Node:        "local",
		HistorySize: 100,
		MaxText:     500,
		MaxRooms:    10,
		QueueSize:   256,
		Rate:        5,
		Burst:       20,
		MaxRejected: 50,
	}
}

// stateTTL is how long a remote process's membership snapshot counts
// without being refreshed; each process refreshes its own every
// stateInterval, so a process that dies leaves the others' lists within
// stateTTL.
const (
	stateInterval = 5 * time.Second
	stateTTL      = 3 * stateInterval
)

// outbound is one message queued for a connection. Broadcasts share one
// PreparedMessage among all recipients, so the frame is encoded once.
type outbound struct {
	data []byte
	pm   *conn.PreparedMessage
}

// Client is the hub's view of one WebSocket connection. The hub never
// waits on the network: it puts messages in the client's bounded queue,
// which the connection's own writer goroutine drains (or, in event mode,
// the event loop's write queue, through send). A client whose queue is
// full is too slow to keep up and is disconnected; when it reconnects
// it recovers what it missed from the room history, so one slow client
// never holds up a broadcast to the others.
type Client struct {
	queue chan outbound
	done  chan struct{} // closed when the connection is to be closed

	once        sync.Once
	closeCode   conn.StatusCode // set before done is closed
	closeReason string

	// Guarded by Hub.mu.
	name  string
	rooms map[string]struct{}

	// Used by the connection's reader only (its reading goroutine, or in
	// event mode its callbacks, which run one at a time).
	limiter  *tokenBucket
	rejected int

	// abort, when set, drops the connection without a closing handshake
	// (the -debug kick endpoint, used by the end-to-end tests).
	abort func()

	// In event mode (-event) there is no writer goroutine and queue stays
	// empty: send hands a message to the connection's write queue without
	// blocking and reports false when that queue is full, and shut starts
	// the closing handshake.
	send func(outbound) bool
	shut func(code conn.StatusCode, reason string)
}

// newClient returns a client with the hub's queue size and rate limit.
func (h *Hub) newClient(now time.Time) *Client {
	return &Client{
		queue:   make(chan outbound, h.cfg.QueueSize),
		done:    make(chan struct{}),
		rooms:   make(map[string]struct{}),
		limiter: newTokenBucket(h.cfg.Rate, h.cfg.Burst, now),
	}
}

// close asks the writer goroutine to close the connection with code and
// reason. Only the first call counts.
func (c *Client) close(code conn.StatusCode, reason string) {
	c.once.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.done)
		if c.shut != nil {
			c.shut(code, reason)
		}
	})
}

// enqueue queues o without blocking. A full queue closes the connection
// with 1013 (try again later): the client will reconnect and recover the
// messages it missed from the history.
func (c *Client) enqueue(o outbound) {
	select {
	case <-c.done:
		return
	default:
	}
	if c.send != nil {
		if !c.send(o) {
			c.close(conn.StatusCode(1013), "slow consumer: send queue full")
		}
		return
	}
	select {
	case c.queue <- o:
	default:
		c.close(conn.StatusCode(1013), "slow consumer: send queue full")
	}
}

// Hub holds the rooms and users of one chat process and routes events
// between its clients and the Bus. Its methods are safe for concurrent
// use; the only lock is Hub.mu, never held while calling the Bus.
type Hub struct {
	cfg    Config
	bus    Bus
	shared bool // the bus reaches other processes: exchange membership snapshots

	// stateMu serialises publishState from snapshot to publication, so a
	// stale snapshot is never published after a newer one.
	stateMu sync.Mutex

	mu      sync.Mutex
	clients map[*Client]struct{}
	users   map[string]map[*Client]struct{} // name → local connections after hello
	rooms   map[string]map[*Client]struct{} // room → local members
	remote  map[string]nodeState            // other processes' membership
	pushed  struct{ online, rooms string }  // last views sent, to send only changes
}

// nodeState is one process's membership snapshot, exchanged on the bus.
type nodeState struct {
	Rooms map[string][]string `json:"rooms"`
	Users []string            `json:"users"`
	seen  time.Time
}

// NewHub returns a hub with the in-process bus.
func NewHub(cfg Config) *Hub {
	h := newHub(cfg)
	h.bus = newLocalBus(cfg.HistorySize, h.deliver)
	return h
}

func newHub(cfg Config) *Hub {
	return &Hub{
		cfg:     cfg,
		clients: make(map[*Client]struct{}),
		users:   make(map[string]map[*Client]struct{}),
		rooms:   make(map[string]map[*Client]struct{}),
		remote:  make(map[string]nodeState),
	}
}

// Register adds a connection that has not said hello yet.
func (h *Hub) Register(c *Client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

// Unregister removes a connection whose reading side has ended, tells the
// rooms it leaves and stops its writer.
func (h *Hub) Unregister(ctx context.Context, c *Client) {
	h.mu.Lock()
	delete(h.clients, c)
	var left []string
	if c.name != "" {
		delete(h.users[c.name], c)
		if len(h.users[c.name]) == 0 {
			delete(h.users, c.name)
		}
		for room := range c.rooms {
			h.removeMemberLocked(room, c)
			if !h.hasMemberLocked(room, c.name) {
				left = append(left, room)
			}
		}
		h.pushViewsLocked()
	}
	name := c.name
	h.mu.Unlock()
	c.close(conn.StatusNormalClosure, "")
	if name == "" {
		return
	}
	for _, room := range left {
		h.publish(ctx, busEvent{Kind: "presence", Room: room, Data: mustJSON(presenceMsg{Room: room, Name: name, Action: "leave"})})
	}
	h.publishState(ctx)
}

// Handle processes one message from c, received at now. Replies and
// errors are queued on c; nothing a client sends makes Handle fail or
// panic. It is called by c's reading goroutine only.
func (h *Hub) Handle(ctx context.Context, c *Client, typ conn.MessageType, raw []byte, now time.Time) {
	if typ != conn.Text {
		h.refuse(c, 0, reqErr(errBadRequest, "binary messages are not part of the protocol"))
		return
	}
	env, err := parseEnvelope(raw)
	if err != nil {
		h.refuse(c, 0, err)
		return
	}
	if !c.limiter.allow(now) {
		h.refuse(c, env.ID, reqErr(errRateLimited, "too many requests: at most %g per second", h.cfg.Rate))
		return
	}
	ack, err := h.dispatch(ctx, c, env, now)
	if err != nil {
		h.refuse(c, env.ID, err)
		return
	}
	if env.ID != 0 {
		if ack == nil {
			ack = struct{}{}
		}
		c.enqueue(outbound{data: encode("ack", env.ID, ack)})
	}
}

// refuse sends an error event and closes connections that keep sending
// requests the server refuses.
func (h *Hub) refuse(c *Client, id uint64, err error) {
	var re *requestError
	if !errors.As(err, &re) {
		log.Printf("chat: %v", err)
		re = reqErr(errInternal, "server error")
	}
	c.enqueue(outbound{data: encode("error", id, errorMsg{Code: re.code, Message: re.msg})})
	if re.code != errInternal {
		c.rejected++
		if c.rejected > h.cfg.MaxRejected {
			c.close(conn.StatusPolicyViolation, "too many refused requests")
		}
	}
}

func (h *Hub) dispatch(ctx context.Context, c *Client, env Envelope, now time.Time) (any, error) {
	if env.Event == "hello" {
		return h.hello(ctx, c, env.Data)
	}
	h.mu.Lock()
	name := c.name
	h.mu.Unlock()
	if name == "" {
		return nil, reqErr(errNotReady, "say hello with a name first")
	}
	switch env.Event {
	case "join":
		return h.join(ctx, c, name, env.Data)
	case "leave":
		return h.leave(ctx, c, name, env.Data)
	case "rooms":
		if err := decodeData(env.Data, &struct{}{}); err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		return roomsMsg{Rooms: h.roomListLocked()}, nil
	case "users":
		if err := decodeData(env.Data, &struct{}{}); err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		return onlineMsg{Users: h.onlineLocked()}, nil
	case "say":
		return h.say(ctx, c, name, env.Data, now)
	case "whisper":
		return h.whisper(ctx, name, env.Data, now)
	case "typing":
		var req typingReq
		if err := decodeData(env.Data, &req); err != nil {
			return nil, err
		}
		if err := h.checkMember(c, req.Room); err != nil {
			return nil, err
		}
		return nil, h.publish(ctx, busEvent{Kind: "typing", Room: req.Room, Data: mustJSON(typingMsg{Room: req.Room, Name: name, Active: req.Active})})
	case "history":
		var req historyReq
		if err := decodeData(env.Data, &req); err != nil {
			return nil, err
		}
		if err := h.checkMember(c, req.Room); err != nil {
			return nil, err
		}
		msgs, err := h.bus.History(ctx, req.Room, req.Since)
		if err != nil {
			return nil, err
		}
		return historyAck{Room: req.Room, Messages: msgs}, nil
	}
	return nil, reqErr(errUnknownEvent, "unknown event %q", env.Event)
}

func (h *Hub) hello(ctx context.Context, c *Client, data json.RawMessage) (any, error) {
	var req helloReq
	if err := decodeData(data, &req); err != nil {
		return nil, err
	}
	if err := validName(req.Name); err != nil {
		return nil, err
	}
	h.mu.Lock()
	if c.name != "" {
		h.mu.Unlock()
		return nil, reqErr(errInvalid, "already named %q", c.name)
	}
	// A name may have several connections (tabs, or a reconnect that
	// arrives before the old connection is known to be dead); private
	// messages reach all of them.
	c.name = req.Name
	if h.users[c.name] == nil {
		h.users[c.name] = make(map[*Client]struct{})
	}
	h.users[c.name][c] = struct{}{}
	// Everyone gets the views that changed; the newcomer gets both.
	h.pushViewsTo(c)
	h.mu.Unlock()
	h.publishState(ctx)
	return helloAck{Name: req.Name, Node: h.cfg.Node}, nil
}

func (h *Hub) join(ctx context.Context, c *Client, name string, data json.RawMessage) (any, error) {
	var req joinReq
	if err := decodeData(data, &req); err != nil {
		return nil, err
	}
	if err := validRoom(req.Room); err != nil {
		return nil, err
	}
	h.mu.Lock()
	_, already := c.rooms[req.Room]
	if !already && len(c.rooms) >= h.cfg.MaxRooms {
		h.mu.Unlock()
		return nil, reqErr(errTooMany, "at most %d rooms per connection", h.cfg.MaxRooms)
	}
	announce := false
	if !already {
		announce = !h.hasMemberLocked(req.Room, name)
		c.rooms[req.Room] = struct{}{}
		if h.rooms[req.Room] == nil {
			h.rooms[req.Room] = make(map[*Client]struct{})
		}
		h.rooms[req.Room][c] = struct{}{}
		h.pushViewsLocked()
	}
	h.mu.Unlock()
	if announce {
		h.publish(ctx, busEvent{Kind: "presence", Room: req.Room, Data: mustJSON(presenceMsg{Room: req.Room, Name: name, Action: "join"})})
	}
	if !already {
		h.publishState(ctx)
	}
	// The client is a member before the history is read, so no message
	// falls between the two; one may arrive both live and in the history,
	// and the page keeps messages by id.
	hist, err := h.bus.History(ctx, req.Room, req.Since)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	members := h.membersLocked(req.Room)
	h.mu.Unlock()
	return joinAck{Room: req.Room, Members: members, History: hist}, nil
}

func (h *Hub) leave(ctx context.Context, c *Client, name string, data json.RawMessage) (any, error) {
	var req leaveReq
	if err := decodeData(data, &req); err != nil {
		return nil, err
	}
	if err := h.checkMember(c, req.Room); err != nil {
		return nil, err
	}
	h.mu.Lock()
	delete(c.rooms, req.Room)
	h.removeMemberLocked(req.Room, c)
	gone := !h.hasMemberLocked(req.Room, name)
	h.pushViewsLocked()
	h.mu.Unlock()
	if gone {
		h.publish(ctx, busEvent{Kind: "presence", Room: req.Room, Data: mustJSON(presenceMsg{Room: req.Room, Name: name, Action: "leave"})})
	}
	h.publishState(ctx)
	return nil, nil
}

func (h *Hub) say(ctx context.Context, c *Client, name string, data json.RawMessage, now time.Time) (any, error) {
	var req sayReq
	if err := decodeData(data, &req); err != nil {
		return nil, err
	}
	if err := h.checkMember(c, req.Room); err != nil {
		return nil, err
	}
	text, err := cleanText(req.Text, h.cfg.MaxText)
	if err != nil {
		return nil, err
	}
	m, err := h.bus.Append(ctx, Message{Room: req.Room, From: name, Text: text, TS: now.UnixMilli()})
	if err != nil {
		return nil, err
	}
	return sayAck{ID: m.ID}, nil
}

func (h *Hub) whisper(ctx context.Context, name string, data json.RawMessage, now time.Time) (any, error) {
	var req whisperReq
	if err := decodeData(data, &req); err != nil {
		return nil, err
	}
	if err := validName(req.To); err != nil {
		return nil, err
	}
	text, err := cleanText(req.Text, h.cfg.MaxText)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	online := slices.Contains(h.onlineLocked(), req.To)
	h.mu.Unlock()
	if !online {
		return whisperAck{Delivered: false}, nil
	}
	pm := privateMsg{From: name, To: req.To, Text: text, TS: now.UnixMilli()}
	if err := h.publish(ctx, busEvent{Kind: "private", To: req.To, Data: mustJSON(pm)}); err != nil {
		return nil, err
	}
	return whisperAck{Delivered: true}, nil
}

func (h *Hub) checkMember(c *Client, room string) error {
	if err := validRoom(room); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := c.rooms[room]; !ok {
		return reqErr(errNotInRoom, "not in room %q", room)
	}
	return nil
}

// deliver handles an event from the bus: room traffic and private
// messages go to the local connections concerned, snapshots of other
// processes update the membership views.
func (h *Hub) deliver(ev busEvent) {
	switch ev.Kind {
	case "message", "typing", "presence", "private":
		payload := append(append(append([]byte(`{"event":"`), ev.Kind...), `","data":`...), ev.Data...)
		payload = append(payload, '}')
		pm, _ := conn.NewPreparedMessage(conn.Text, payload)
		o := outbound{data: payload, pm: pm}
		h.mu.Lock()
		defer h.mu.Unlock()
		targets := h.rooms[ev.Room]
		if ev.Kind == "private" {
			targets = h.users[ev.To]
		}
		for c := range targets {
			c.enqueue(o)
		}
	case "state":
		if ev.Node == h.cfg.Node {
			return
		}
		var st nodeState
		if err := json.Unmarshal(ev.Data, &st); err != nil {
			log.Printf("chat: bad state from %q: %v", ev.Node, err)
			return
		}
		st.seen = time.Now()
		h.mu.Lock()
		h.remote[ev.Node] = st
		h.pushViewsLocked()
		h.mu.Unlock()
	case "sync":
		if ev.Node != h.cfg.Node {
			go h.publishState(context.Background())
		}
	}
}

// publish sends ev on the bus, logging failures: a room event that cannot
// be sent is lost, as it would be on a dropped connection.
func (h *Hub) publish(ctx context.Context, ev busEvent) error {
	if err := h.bus.Publish(ctx, ev); err != nil {
		log.Printf("chat: publish %s: %v", ev.Kind, err)
		return err
	}
	return nil
}

// publishState tells the other processes who is connected here.
func (h *Hub) publishState(ctx context.Context) {
	if !h.shared {
		return
	}
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	h.mu.Lock()
	st := nodeState{Rooms: make(map[string][]string), Users: slices.Sorted(maps.Keys(h.users))}
	for room := range h.rooms {
		st.Rooms[room] = h.localMembersLocked(room)
	}
	h.mu.Unlock()
	h.publish(ctx, busEvent{Kind: "state", Node: h.cfg.Node, Data: mustJSON(st)})
}

// Run refreshes this process's snapshot on the bus and forgets the
// snapshots of processes that stopped refreshing theirs, until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	if !h.shared {
		return
	}
	h.publish(ctx, busEvent{Kind: "sync", Node: h.cfg.Node})
	h.publishState(ctx)
	t := time.NewTicker(stateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.publishState(ctx)
			h.mu.Lock()
			for node, st := range h.remote {
				if now.Sub(st.seen) > stateTTL {
					delete(h.remote, node)
				}
			}
			h.pushViewsLocked()
			h.mu.Unlock()
		}
	}
}

// Kick drops every connection of name without a closing handshake, as a
// network failure would. It returns how many it dropped.
func (h *Hub) Kick(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.users[name] {
		if c.abort != nil {
			c.abort()
			n++
		}
	}
	return n
}

func (h *Hub) removeMemberLocked(room string, c *Client) {
	delete(h.rooms[room], c)
	if len(h.rooms[room]) == 0 {
		delete(h.rooms, room)
	}
}

// hasMemberLocked reports whether name is in room through any connection,
// here or in another process.
func (h *Hub) hasMemberLocked(room, name string) bool {
	for c := range h.rooms[room] {
		if c.name == name {
			return true
		}
	}
	for _, st := range h.remote {
		if slices.Contains(st.Rooms[room], name) {
			return true
		}
	}
	return false
}

func (h *Hub) localMembersLocked(room string) []string {
	set := make(map[string]struct{})
	for c := range h.rooms[room] {
		set[c.name] = struct{}{}
	}
	return slices.Sorted(maps.Keys(set))
}

// membersLocked returns the names in room across all processes, sorted.
func (h *Hub) membersLocked(room string) []string {
	set := make(map[string]struct{})
	for c := range h.rooms[room] {
		set[c.name] = struct{}{}
	}
	for _, st := range h.remote {
		for _, n := range st.Rooms[room] {
			set[n] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// onlineLocked returns the names connected to any process, sorted.
func (h *Hub) onlineLocked() []string {
	set := make(map[string]struct{})
	for n := range h.users {
		set[n] = struct{}{}
	}
	for _, st := range h.remote {
		for _, n := range st.Users {
			set[n] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// roomListLocked returns every room with members, by name.
func (h *Hub) roomListLocked() []roomInfo {
	names := make(map[string]struct{})
	for r := range h.rooms {
		names[r] = struct{}{}
	}
	for _, st := range h.remote {
		for r := range st.Rooms {
			names[r] = struct{}{}
		}
	}
	out := []roomInfo{}
	for _, r := range slices.Sorted(maps.Keys(names)) {
		if n := len(h.membersLocked(r)); n > 0 {
			out = append(out, roomInfo{Name: r, Members: n})
		}
	}
	return out
}

// pushViewsLocked sends the online list and the room list to every named
// local connection when they changed since last sent.
func (h *Hub) pushViewsLocked() { h.pushViewsTo(nil) }

// pushViewsTo is pushViewsLocked that also sends both views to newcomer,
// changed or not. h.mu must be held.
func (h *Hub) pushViewsTo(newcomer *Client) {
	online := encode("online", 0, onlineMsg{Users: h.onlineLocked()})
	rooms := encode("rooms", 0, roomsMsg{Rooms: h.roomListLocked()})
	views := []struct {
		data []byte
		last *string
	}{{online, &h.pushed.online}, {rooms, &h.pushed.rooms}}
	for _, v := range views {
		changed := string(v.data) != *v.last
		if !changed {
			if newcomer != nil {
				newcomer.enqueue(outbound{data: v.data})
			}
			continue
		}
		*v.last = string(v.data)
		pm, _ := conn.NewPreparedMessage(conn.Text, v.data)
		o := outbound{data: v.data, pm: pm}
		for c := range h.clients {
			if c.name != "" {
				c.enqueue(o)
			}
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("chat: " + err.Error())
	}
	return b
}

// CloseAll closes every connection with code and reason, as on shutdown.
func (h *Hub) CloseAll(code conn.StatusCode, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.close(code, reason)
	}
}
