package broadcast

import "github.com/rfc6455/ws/conn"

// queue is a first-in first-out ring of messages waiting for one member.
// It starts empty, grows by doubling up to the group's queue size and is
// reused from then on, so a member that has kept up with the traffic
// queues without allocating.
type queue struct {
	buf  []*conn.PreparedMessage
	head int // index of the oldest message
	n    int // number of messages
}

func (q *queue) len() int { return q.n }

// push appends pm. The caller has checked that fewer than limit messages
// are queued.
func (q *queue) push(pm *conn.PreparedMessage, limit int) {
	if q.n == len(q.buf) {
		q.grow(limit)
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pm
	q.n++
}

// grow doubles the ring, to at most limit, keeping the order.
func (q *queue) grow(limit int) {
	size := min(max(2*len(q.buf), 4), limit)
	buf := make([]*conn.PreparedMessage, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop removes and returns the oldest message, or nil if there is none.
func (q *queue) pop() *conn.PreparedMessage {
	if q.n == 0 {
		return nil
	}
	pm := q.buf[q.head]
	q.buf[q.head] = nil // let the message go once every member has sent it
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return pm
}

// clear drops every message and the ring itself.
func (q *queue) clear() {
	*q = queue{}
}
