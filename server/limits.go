package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxHandshakes bounds the handshakes Serve runs at once that wait
// for their request, when AcceptOptions.MaxHandshakes is zero. A real client finishes its
// handshake in one round trip, so even a server taking thousands of new
// connections a second has a few hundred in progress; 1024 slow ones,
// each holding at most a goroutine, a 4 KiB read buffer and
// MaxHeaderBytes of header, cost about 20 MiB at the default 8 KiB.
const DefaultMaxHandshakes = 1024

// DefaultMaxConnections returns the bound on the connections Serve holds
// open when AcceptOptions.MaxConnections is zero: the process's limit on
// open file descriptors (the soft RLIMIT_NOFILE, which Go raises to the
// hard limit at start-up on Unix) less an eighth of it, and less at most
// 1024, kept for the files, listeners and outgoing connections the rest
// of the program needs. With a limit of 20,000 descriptors that is
// 18,976 connections; with 1,024 it is 896; with 65,536 it is 64,512.
// A server at the cap keeps working (it can still open a file or dial a
// database) instead of failing every accept with EMFILE. Where the
// limit cannot be read (not Unix) or is unlimited it is 16,384.
//
// It reads the limit on every call; Serve calls it once, when it starts.
func DefaultMaxConnections() int {
	return maxConnectionsFor(fileLimit())
}

// maxConnectionsFor is DefaultMaxConnections for a descriptor limit of
// soft, known when ok.
func maxConnectionsFor(soft uint64, ok bool) int {
	if !ok || soft == 0 || soft > 1<<30 {
		return 16384
	}
	n := int(soft)
	return n - min(n/8, 1024)
}

// pastDeadline is a deadline that has already passed: setting it on a
// net.Conn makes its blocked and future reads and writes fail at once.
var pastDeadline = time.Unix(1, 0)

// handshakeSlot is one handshake in progress in Serve, a node in the
// oldest-first list of handshakeSlots.
type handshakeSlot struct {
	nc         net.Conn
	prev, next *handshakeSlot
	cut        bool // cut short by the cap or by Serve's end
}

// handshakeSlots bounds the handshakes waiting for their request in one
// Serve call (AcceptOptions.MaxHandshakes). When a new one would pass the cap, the
// oldest one is cut short instead of refusing the new one: a legitimate
// client needs its slot for one round trip, a slow or idle one holds it
// for HandshakeTimeout, so the oldest handshake is almost always an idle
// one, and a flood of them cannot keep real clients out unless it opens
// a cap's worth of connections every round trip.
type handshakeSlots struct {
	mu         sync.Mutex
	max        int // no bound when <= 0
	n          int
	head, tail *handshakeSlot // oldest first
	closed     bool           // Serve is ending: no new handshakes
}

// enter registers a handshake on nc, whose deadline is already set,
// cutting the oldest one short if the cap is reached. After Serve has
// begun to end, the new handshake is cut short at once.
func (s *handshakeSlots) enter(nc net.Conn) *handshakeSlot {
	h := &handshakeSlot{nc: nc}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.cut(h)
		return h
	}
	if s.max > 0 && s.n >= s.max {
		old := s.head
		s.unlink(old)
		s.cut(old)
	}
	h.prev = s.tail
	if s.tail != nil {
		s.tail.next = h
	} else {
		s.head = h
	}
	s.tail = h
	s.n++
	return h
}

// leave ends the handshake h and reports whether it may go on: false
// when it was cut short, whatever its own outcome.
func (s *handshakeSlots) leave(h *handshakeSlot) bool {
	if s == nil || h == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.cut {
		return false
	}
	s.unlink(h)
	return true
}

// closeAll cuts every handshake in progress short, and any that starts
// later: Serve is ending.
func (s *handshakeSlots) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for h := s.head; h != nil; {
		next := h.next
		s.unlink(h)
		s.cut(h)
		h = next
	}
}

// cut interrupts h's reads and writes. The caller holds s.mu and has
// unlinked h, if it was linked.
func (s *handshakeSlots) cut(h *handshakeSlot) {
	h.cut = true
	h.nc.SetDeadline(pastDeadline) // the handshake's goroutine sees the error and closes nc
}

func (s *handshakeSlots) unlink(h *handshakeSlot) {
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		s.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else {
		s.tail = h.prev
	}
	h.prev, h.next = nil, nil
	s.n--
}

// connCount counts the connections one Serve call holds open, from
// accept until the TCP connection is closed, against
// AcceptOptions.MaxConnections.
type connCount struct {
	max  int64 // no bound when <= 0
	open atomic.Int64
}

// acquire counts one more connection, or reports false at the cap.
func (c *connCount) acquire() bool {
	if n := c.open.Add(1); c.max > 0 && n > c.max {
		c.open.Add(-1)
		return false
	}
	return true
}

func (c *connCount) release() { c.open.Add(-1) }
