package broadcast

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/rfc6455/ws/conn"
)

// Policy says what a Group does with a member whose queue is full when a
// message arrives for it.
type Policy uint8

const (
	// CloseSlow removes the member and closes its connection with 1008
	// Policy Violation (RFC 6455 §7.4.1). It is the zero value, and the
	// default, because nothing is lost without the member knowing: it
	// either receives every message in order or is told it was cut off.
	CloseSlow Policy = iota
	// DropOldest discards the member's oldest queued message to make room
	// for the new one and counts the loss (Group.Dropped).
	DropOldest
)

func (p Policy) String() string {
	switch p {
	case CloseSlow:
		return "close slow"
	case DropOldest:
		return "drop oldest"
	}
	return "invalid policy"
}

// DefaultQueueSize is the default number of messages a member may have
// waiting: enough to absorb a burst from a chat room or a feed, small
// enough that a thousand stalled members hold little (the messages are
// shared; each member holds a pointer per message).
const DefaultQueueSize = 64

// CloseReason is the reason sent with the 1008 close of a member that
// could not keep up under CloseSlow.
const CloseReason = "too slow: broadcast queue full"

// Errors of package broadcast.
var (
	// ErrClosed is returned by Join and Broadcast after Group.Close.
	ErrClosed = errors.New("ws: broadcast group closed")
	// ErrTooSlow is passed to Options.OnLeave for a member removed under
	// CloseSlow.
	ErrTooSlow = errors.New("ws: broadcast member too slow")
)

// Options configures a Group. The zero value and nil mean the defaults.
type Options struct {
	// QueueSize is the number of messages that may wait for one member,
	// besides the one being written to it (zero or negative:
	// DefaultQueueSize). A message that finds the queue full is handled by
	// Policy. The queue grows as needed up to this size and is then
	// reused. The messages are shared by the members, so a group holds at
	// most QueueSize messages plus one being written per member, however
	// far behind its members are.
	QueueSize int

	// Policy is what happens to a member whose queue is full (default
	// CloseSlow; a value other than DropOldest means CloseSlow). Under DropOldest, a member whose peer has stopped
	// reading stays until its connection's WriteTimeout fails the write
	// in progress; with that timeout turned off, it stays until it leaves.
	Policy Policy

	// OnLeave, if set, is called once for each member the group removes
	// by itself: with ErrTooSlow for a member closed under CloseSlow
	// (after its close handshake has finished or timed out), or with the
	// error of the write that failed. It is not called for Leave or
	// Close. It runs on a goroutine of the group's and must not block for
	// long.
	OnLeave func(c *conn.Conn, err error)
}

// Group is a set of connections that receive the same messages. The zero
// value is an empty group with the default options. Its methods may be
// called from any goroutine. Members receive messages in the order the
// Broadcast calls took the group's lock, the same order for every member.
//
// A Group does not own its members' connections: Leave and Close remove
// them without closing them, and the application still reads each one
// (which is also how pings are answered and a close is noticed). It closes
// a connection only under CloseSlow.
type Group struct {
	queueSize int // 0: DefaultQueueSize
	policy    Policy
	onLeave   func(*conn.Conn, error)

	dropped atomic.Uint64

	mu      sync.Mutex
	closed  bool
	members []*member // in no particular order
	index   map[*conn.Conn]*member
}

// member is one connection of a Group and its queue.
type member struct {
	g *Group
	c *conn.Conn
	// drain is m.write made once at Join, so starting the writer
	// allocates no closure.
	drain func()
	pos   int // index in g.members, under g.mu; -1 once removed

	mu      sync.Mutex
	q       queue
	writing bool // a writer goroutine is draining q
	gone    bool // removed from the group: nothing more is queued or written
}

// New returns an empty Group.
func New(opts *Options) *Group {
	g := &Group{}
	if opts != nil {
		g.queueSize = max(opts.QueueSize, 0)
		g.policy = opts.Policy
		g.onLeave = opts.OnLeave
	}
	return g
}

// Join adds c to the group: every message broadcast after Join returns is
// sent to c, until c leaves. Call it right after the opening handshake,
// before reading from c (see the package documentation). Joining a member
// again has no effect. After Close, Join returns ErrClosed.
func (g *Group) Join(c *conn.Conn) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	if _, ok := g.index[c]; ok {
		return nil
	}
	if g.index == nil {
		g.index = make(map[*conn.Conn]*member)
	}
	m := &member{g: g, c: c, pos: len(g.members)}
	m.drain = m.write
	g.members = append(g.members, m)
	g.index[c] = m
	return nil
}

// Leave removes c from the group. Messages queued for it and not yet
// started are discarded; a message being written to it is finished. c is
// not closed. Leaving twice, or without having joined, has no effect.
func (g *Group) Leave(c *conn.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m, ok := g.index[c]; ok {
		g.removeLocked(m)
	}
}

// Len returns the number of members.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.members)
}

// Dropped returns the number of messages discarded under DropOldest since
// the group was made, over all members.
func (g *Group) Dropped() uint64 { return g.dropped.Load() }

// Broadcast sends a message of type typ (conn.Text or conn.Binary) with
// payload data to every member. It copies data, so the caller may reuse
// it at once, and prepares the message once for the whole group. It never
// waits for a member: the message is queued for each one, and a member
// whose queue is full is handled by the group's Policy. It returns
// conn.ErrInvalidType for another type, and ErrClosed after Close.
func (g *Group) Broadcast(typ conn.MessageType, data []byte) error {
	pm, err := conn.NewPreparedMessage(typ, append([]byte(nil), data...))
	if err != nil {
		return err
	}
	return g.BroadcastPrepared(pm)
}

// BroadcastPrepared is Broadcast for a message already prepared, which
// may be sent to several groups.
func (g *Group) BroadcastPrepared(pm *conn.PreparedMessage) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	for i := 0; i < len(g.members); {
		m := g.members[i]
		if m.enqueue(pm) {
			i++
			continue
		}
		// Too slow under CloseSlow: the last member takes its place at i.
		g.removeLocked(m)
		go m.closeSlow()
	}
	return nil
}

// Close removes every member and makes later Join and Broadcast calls
// return ErrClosed. Queued messages are discarded; messages being written
// are finished. The connections are not closed.
func (g *Group) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for len(g.members) > 0 {
		g.removeLocked(g.members[len(g.members)-1])
	}
}

// removeLocked takes m out of the group and empties its queue. g.mu is
// held.
func (g *Group) removeLocked(m *member) {
	last := len(g.members) - 1
	g.members[m.pos] = g.members[last]
	g.members[m.pos].pos = m.pos
	g.members[last] = nil
	g.members = g.members[:last]
	delete(g.index, m.c)
	m.pos = -1

	m.mu.Lock()
	m.gone = true
	m.q.clear()
	m.mu.Unlock()
}

// enqueue queues pm for m and starts m's writer if it was idle. It reports
// false when m's queue is full under CloseSlow: m must then be removed.
// g.mu is held.
func (m *member) enqueue(pm *conn.PreparedMessage) bool {
	g := m.g
	limit := g.queueSize
	if limit == 0 {
		limit = DefaultQueueSize
	}
	m.mu.Lock()
	if m.q.len() == limit {
		if g.policy != DropOldest {
			m.mu.Unlock()
			return false
		}
		m.q.pop()
		g.dropped.Add(1)
	}
	m.q.push(pm, limit)
	start := !m.writing
	m.writing = true
	m.mu.Unlock()
	if start {
		go m.drain()
	}
	return true
}

// write is m's writer goroutine: it sends m's queued messages in order
// and exits when the queue is empty or m has left the group. Each write is
// bounded by the connection's write timeout (conn.Options.WriteTimeout).
func (m *member) write() {
	for {
		m.mu.Lock()
		pm := m.q.pop()
		if pm == nil || m.gone {
			m.writing = false
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		if err := m.c.WritePrepared(context.Background(), pm); err != nil {
			m.writeFailed(err)
			return
		}
	}
}

// writeFailed removes m after a failed write, unless it has already left.
// The writer stays marked as running: m is gone, so no message will start
// another.
func (m *member) writeFailed(err error) {
	g := m.g
	g.mu.Lock()
	removed := m.pos >= 0
	if removed {
		g.removeLocked(m)
	}
	g.mu.Unlock()
	if removed && g.onLeave != nil {
		g.onLeave(m.c, err)
	}
}

// closeSlow closes a member removed under CloseSlow. The close frame waits
// behind the message being written to the member, so against a peer that
// has stopped reading Close gives up after the connection's CloseTimeout,
// and CloseNow releases the connection, which also ends the blocked write.
func (m *member) closeSlow() {
	m.c.Close(conn.StatusPolicyViolation, CloseReason)
	m.c.CloseNow()
	if m.g.onLeave != nil {
		m.g.onLeave(m.c, ErrTooSlow)
	}
}
