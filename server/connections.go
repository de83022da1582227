package server

import (
	"context"
	"errors"
	"sync"

	"github.com/rfc6455/ws/conn"
)

// ErrShuttingDown is returned by Accept and Upgrade for a request that
// arrives once Connections.Shutdown has begun (it is answered with 503
// Service Unavailable), and by Serve when Shutdown stopped it.
var ErrShuttingDown = errors.New("server: shutting down")

// goingAwayReason is the reason sent with the 1001 close frames of
// Shutdown.
const goingAwayReason = "server shutting down"

// Connections is the set of open WebSocket connections that Accept,
// Upgrade and Serve handed out with AcceptOptions.Connections pointing to
// it, so that a server can end them all cleanly when it stops: see
// Shutdown. A Conn leaves the set when its TCP connection is closed,
// however that happens. One Connections may serve any number of Accept
// handlers and Serve calls at once.
//
// The zero value is an empty set, ready to use; a Connections must not be
// copied after first use. Shutdown is for good: a set that has been shut
// down refuses connections from then on. Tracking a connection costs two small
// allocations and a mutex round trip when it opens and when it closes;
// without a Connections in the options, nothing is tracked and nothing
// is paid.
type Connections struct {
	mu       sync.Mutex
	open     map[*tracked]struct{}
	pending  int           // handshakes admitted that have not yet added their Conn or failed
	stopping bool          // Shutdown has begun
	expired  bool          // a Shutdown's ctx is done: late Conns are closed at once
	stopped  chan struct{} // closed when Shutdown begins; made on first use
	emptied  chan struct{} // closed when, after Shutdown began, nothing is open or pending
}

// tracked is one Conn in a Connections set.
type tracked struct {
	c       *conn.Conn
	gone    bool // the TCP connection is closed
	closing bool // a close frame with 1001 is on its way
}

// Len returns the number of open connections in the set.
func (s *Connections) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// Shutdown ends every connection in the set gracefully (RFC 6455 §7.1.2,
// §7.4.1): it refuses new upgrades from then on (Accept and Upgrade
// answer 503 and return ErrShuttingDown; Serve closes its listener and
// returns ErrShuttingDown), sends a close frame with 1001 Going Away to
// every open connection at once, and waits until each peer has answered
// with its own close frame and the connection is closed, or until ctx is
// done. It then closes whatever is still open at once (CloseNow) and
// returns ctx.Err(); it returns nil when every connection ended before.
// A handshake that was past the point of refusal when Shutdown began
// (writing its 101) is waited for, and its Conn closed the same way.
//
// Each close handshake is also bounded by the Conn's CloseTimeout
// (conn.Options, 5 s by default), so a ctx without a deadline is safe:
// Shutdown then returns at most about CloseTimeout after it began. A
// peer that is reading answers within a round trip; one whose
// application is not reading still gets its close answered by its
// library if that library reads, so a few seconds is a sensible grace
// period. Under net/http, call http.Server.Shutdown as well: it stops the
// listener and waits for requests in progress, but it does not know about
// hijacked connections such as these.
//
// Shutdown may be called more than once; a later call does not send the
// close frames again but waits, like the first, for the set to empty.
func (s *Connections) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		if s.stopped == nil {
			s.stopped = make(chan struct{})
		}
		close(s.stopped)
	}
	if len(s.open) == 0 && s.pending == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.emptied == nil {
		s.emptied = make(chan struct{})
	}
	emptied := s.emptied
	var closing []*conn.Conn
	for t := range s.open {
		if !t.closing {
			t.closing = true
			closing = append(closing, t.c)
		}
	}
	s.mu.Unlock()

	// Concurrently: each Close waits up to a round trip for its peer.
	// The goroutines end with their connections, which end by ctx at the
	// latest (CloseNow below ends a pending Close at once).
	for _, c := range closing {
		go goAway(c)
	}
	select {
	case <-emptied:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.expired = true
	left := make([]*conn.Conn, 0, len(s.open))
	for t := range s.open {
		left = append(left, t.c)
	}
	s.mu.Unlock()
	for _, c := range left {
		c.CloseNow() // closes TCP before returning, and so leaves the set
	}
	return ctx.Err()
}

// goAway runs the close handshake of a server that is going away.
func goAway(c *conn.Conn) { c.Close(conn.StatusGoingAway, goingAwayReason) }

// stoppedChan returns a channel closed when Shutdown begins, or nil
// (never ready) for a nil set.
func (s *Connections) stoppedChan() <-chan struct{} {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped == nil {
		s.stopped = make(chan struct{})
	}
	return s.stopped
}

// begin admits a handshake about to write its 101 response, and reports
// false when Shutdown has begun (the request is to be refused with 503).
// An admitted handshake must end with add or abort. A nil set admits
// everything and tracks nothing.
func (s *Connections) begin() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.pending++
	return true
}

// abort ends an admitted handshake that failed.
func (s *Connections) abort() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	s.checkEmptied()
}

// add ends an admitted handshake: it puts c, described by t, in the set,
// unless its TCP connection is already closed. It reports false when
// Shutdown began meanwhile: c is then closed as Shutdown closes the
// others (1001, or at once if Shutdown's ctx is done), and the caller
// should not hand it out.
func (s *Connections) add(t *tracked, c *conn.Conn) bool {
	s.mu.Lock()
	s.pending--
	stopping, expired := s.stopping, s.expired
	if t.gone {
		s.checkEmptied()
		s.mu.Unlock()
		return !stopping
	}
	t.c = c
	if s.open == nil {
		s.open = make(map[*tracked]struct{})
	}
	s.open[t] = struct{}{}
	t.closing = stopping
	s.mu.Unlock()
	switch {
	case expired:
		c.CloseNow()
	case stopping:
		go goAway(c)
	}
	return !stopping
}

// remove takes t out of the set once its TCP connection is closed.
func (s *Connections) remove(t *tracked) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.gone = true
	delete(s.open, t)
	s.checkEmptied()
}

// checkEmptied signals Shutdown when nothing is open or pending. The
// caller holds s.mu.
func (s *Connections) checkEmptied() {
	if s.emptied == nil || len(s.open) > 0 || s.pending > 0 {
		return
	}
	select {
	case <-s.emptied:
	default:
		close(s.emptied)
	}
}
