package server

import (
	"math"
	"net"
	"testing"
	"time"
)

// TestMaxConnectionsFor: the default connection cap leaves an eighth of
// the descriptor limit, at most 1024, to the rest of the program.
func TestMaxConnectionsFor(t *testing.T) {
	for _, tt := range []struct {
		soft uint64
		ok   bool
		want int
	}{
		{1024, true, 896},
		{4096, true, 3584},
		{8192, true, 7168},
		{20000, true, 18976},
		{65536, true, 64512},
		{1 << 20, true, 1<<20 - 1024},
		{0, true, 16384},              // nonsense: the fallback
		{math.MaxUint64, true, 16384}, // RLIM_INFINITY
		{20000, false, 16384},         // unknown (not Unix)
	} {
		if got := maxConnectionsFor(tt.soft, tt.ok); got != tt.want {
			t.Errorf("maxConnectionsFor(%d, %v) = %d, want %d", tt.soft, tt.ok, got, tt.want)
		}
	}
}

// deadlineConn is a net.Conn that records its last deadline.
type deadlineConn struct {
	net.Conn
	deadline time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error { c.deadline = t; return nil }

func (c *deadlineConn) cut() bool { return c.deadline.Equal(pastDeadline) }

// TestHandshakeSlots: at the cap the oldest handshake is cut short (its
// deadline passed), not the new one; a handshake that leaves frees its
// slot; closeAll cuts what is left and whatever enters afterwards.
func TestHandshakeSlots(t *testing.T) {
	s := &handshakeSlots{max: 2}
	a, b, c, d := &deadlineConn{}, &deadlineConn{}, &deadlineConn{}, &deadlineConn{}
	ha, hb := s.enter(a), s.enter(b)
	if a.cut() || b.cut() {
		t.Fatal("cut below the cap")
	}
	hc := s.enter(c)
	if !a.cut() || b.cut() || c.cut() {
		t.Fatalf("at the cap: cut a=%v b=%v c=%v, want only a, the oldest", a.cut(), b.cut(), c.cut())
	}
	if s.leave(ha) {
		t.Error("the cut handshake may go on")
	}
	if !s.leave(hb) {
		t.Error("b was not cut but may not go on")
	}
	hd := s.enter(d) // b's slot is free: no cut
	if c.cut() || d.cut() {
		t.Fatal("cut with a free slot")
	}
	s.closeAll()
	if !c.cut() || !d.cut() || s.leave(hc) || s.leave(hd) {
		t.Error("closeAll left a handshake going")
	}
	e := &deadlineConn{}
	if s.leave(s.enter(e)); !e.cut() {
		t.Error("a handshake entered after closeAll was not cut")
	}
	if s.n != 0 || s.head != nil || s.tail != nil {
		t.Errorf("slots not empty: n=%d", s.n)
	}
}
