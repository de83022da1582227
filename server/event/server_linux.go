package event

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/proto"
	"github.com/rfc6455/ws/server"
)

// Server is a running set of event loops and callback workers that
// connections are handed to: by Serve, which accepts them from a listener,
// or by Upgrade, which takes them from net/http after it has routed the
// request, so that a page and its WebSocket endpoint share one port. Create
// it with NewServer and end it with Close.
type Server struct {
	s         *srv
	loopsDone sync.WaitGroup
	stopSweep chan struct{}
	sweepDone chan struct{}

	mu     sync.RWMutex // Upgrade's handovers hold it shared; Close exclusively
	closed bool
}

// NewServer starts Options.Loops epoll loops, Options.Workers callback
// workers and the goroutine that enforces the connections' deadlines, for
// connections given to Upgrade. It returns ErrUnsupported on systems other
// than Linux.
func NewServer(opts *Options, h Handler) (*Server, error) {
	s := &srv{set: resolve(opts), h: h}
	s.pool = newPool(s.set.workers)
	for range s.set.loops {
		l, err := newLoop(s)
		if err != nil {
			s.stopLoops()
			s.pool.stop()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	sv := &Server{s: s, stopSweep: make(chan struct{}), sweepDone: make(chan struct{})}
	for _, l := range s.loops {
		sv.loopsDone.Add(1)
		go func() { defer sv.loopsDone.Done(); l.run() }()
	}
	go func() { defer close(sv.sweepDone); s.sweep(sv.stopSweep) }()
	return sv, nil
}

// Close ends every connection as Serve does when its context is done: 1001
// Going Away, at most CloseTimeout for the answers, then what is left is
// closed and the OnClose callbacks run; then the loops and workers stop.
// Upgrade refuses requests from the moment Close is called. A second call
// returns ErrServerClosed.
func (sv *Server) Close() error {
	sv.mu.Lock()
	if sv.closed {
		sv.mu.Unlock()
		return ErrServerClosed
	}
	sv.closed = true
	sv.mu.Unlock()
	sv.s.shutdown()
	close(sv.stopSweep)
	<-sv.sweepDone
	sv.s.stopLoops()
	sv.loopsDone.Wait()
	sv.s.pool.stop()
	return nil
}

// Upgrade completes the opening handshake of r (RFC 6455 §4.2.2) and hands
// the connection to a loop: it checks and negotiates r with
// Options.Accept.Negotiate (origin policy, subprotocols, compression),
// takes the connection from net/http (http.Hijacker), writes the 101
// response within HandshakeTimeout, and moves the socket to the loop
// (Go's net.Conn is closed, so no goroutine and no buffer of net/http's
// remains). Bytes the client sent after its request, which net/http had
// already read, are given to the protocol before anything read later.
// OnOpen follows on a worker.
//
// On failure Upgrade answers r with the status it earns when it still
// can (403 for a foreign origin, 400 or 426 for a bad request, 503 when
// the server is closed or at MaxConnections) and returns the error. It
// needs HTTP/1.1 over plain TCP: over TLS it answers 500 and returns
// ErrNotTCP, and over HTTP/2 (no Hijacker) it answers 500.
func (sv *Server) Upgrade(w http.ResponseWriter, r *http.Request) error {
	s := sv.s
	if sv.isClosed() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return ErrServerClosed
	}
	if r.TLS != nil {
		http.Error(w, "the event mode serves plain TCP only", http.StatusInternalServerError)
		return ErrNotTCP
	}
	if s.set.maxConns > 0 && s.count.Load() >= int64(s.set.maxConns) {
		he := &handshake.Error{Status: http.StatusServiceUnavailable, Message: "too many connections"}
		he.ServeHTTP(w, r)
		return fmt.Errorf("event: %w", he)
	}
	neg, err := s.set.accept.Negotiate(r)
	if err != nil {
		var he *handshake.Error
		if errors.As(err, &he) {
			he.ServeHTTP(w, r)
		} else {
			http.Error(w, "bad WebSocket handshake", http.StatusBadRequest)
		}
		return err
	}
	fd, buffered, err := hijack(w, neg.Response, s.set.accept.HandshakeTimeout)
	if err != nil {
		if neg.Extension != nil {
			neg.Extension.Close()
		}
		return err
	}
	c := s.newConn(fd)
	c.ext, c.subprotocol = neg.Extension, neg.Subprotocol
	c.recv = proto.NewReceiver(receiverRules(&s.set, c.ext))
	c.open.Store(true)

	sv.mu.RLock()
	defer sv.mu.RUnlock()
	if sv.closed {
		syscall.Close(fd)
		if c.ext != nil {
			c.ext.Close()
		}
		return ErrServerClosed
	}
	s.count.Add(1)
	s.insert(c)
	c.l.handOver(c, buffered)
	return nil
}

func (sv *Server) isClosed() bool {
	sv.mu.RLock()
	defer sv.mu.RUnlock()
	return sv.closed
}

// hijack takes the connection from net/http, writes response on it within
// timeout (none when timeout < 0), and returns a duplicate of its
// descriptor and a copy of the bytes net/http had read past the request.
// Go's net.Conn is closed before hijack returns.
func hijack(w http.ResponseWriter, response []byte, timeout time.Duration) (int, []byte, error) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "the connection cannot be upgraded to a WebSocket", http.StatusInternalServerError)
		return -1, nil, fmt.Errorf("event: %w: %w", server.ErrHijack, err)
	}
	defer nc.Close()
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return -1, nil, ErrNotTCP
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := tc.SetDeadline(deadline); err != nil {
		return -1, nil, fmt.Errorf("event: %w", err)
	}
	if err := writeAll(tc, brw, response); err != nil {
		return -1, nil, fmt.Errorf("event: writing the handshake response: %w", err)
	}
	var buffered []byte
	if brw != nil && brw.Reader.Buffered() > 0 {
		p, _ := brw.Reader.Peek(brw.Reader.Buffered())
		buffered = append([]byte(nil), p...)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, nil, fmt.Errorf("event: %w", err)
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(orig uintptr) { fd, dupErr = dupCloexec(int(orig)) }); err != nil {
		return -1, nil, fmt.Errorf("event: %w", err)
	}
	if dupErr != nil {
		return -1, nil, fmt.Errorf("event: dup: %w", dupErr)
	}
	// The duplicate shares the socket's file status flags, which net made
	// non-blocking; set it again in case that ever changes.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, nil, fmt.Errorf("event: %w", err)
	}
	return fd, buffered, nil
}

// writeAll writes p through brw's writer when there is one (net/http may
// hold buffered output of its own in it), else straight to nc.
func writeAll(nc net.Conn, brw *bufio.ReadWriter, p []byte) error {
	if brw == nil || brw.Writer == nil {
		_, err := nc.Write(p)
		return err
	}
	if _, err := brw.Writer.Write(p); err != nil {
		return err
	}
	return brw.Writer.Flush()
}

// dupCloexec duplicates fd with close-on-exec set (fcntl F_DUPFD_CLOEXEC).
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// receiverRules are the protocol core's rules for a server connection
// that negotiated ext (nil: none).
func receiverRules(set *settings, ext conn.Extension) proto.Rules {
	var rsv byte
	if ext != nil {
		rsv = ext.RSV()
	}
	return proto.NewRules(true, rsv, set.readLimit, set.maxFrames)
}

// handover is a connection whose handshake net/http carried, waiting for
// its loop, with the bytes read past the request.
type handover struct {
	c   *Conn
	pre []byte
}

// handOver queues c for l and wakes l, which registers the socket and
// feeds pre to the protocol before it reads the socket.
func (l *loop) handOver(c *Conn, pre []byte) {
	l.hmu.Lock()
	l.handed = append(l.handed, handover{c, pre})
	l.hmu.Unlock()
	one := [8]byte{1}
	syscall.Write(l.wake, one[:])
}

// takeHandovers registers the connections handed to l, on l, so that
// their buffered bytes reach the protocol before any read of the socket.
func (l *loop) takeHandovers(now int64) {
	l.hmu.Lock()
	hs := l.handed
	l.handed = nil
	l.hmu.Unlock()
	for i := range hs {
		c, pre := hs[i].c, hs[i].pre
		hs[i] = handover{}
		c.mu.Lock()
		err := l.register(c)
		c.mu.Unlock()
		l.queue(job{kind: jobOpen})
		if err == nil && len(pre) > 0 {
			c.heard.Store(now)
			l.input(c, pre)
		}
		c.pushAll(l.batch)
		l.batch = jobQueue{}
		if err != nil {
			l.finish(c, fmt.Errorf("event: epoll_ctl: %w", err))
		}
	}
}

// dropHandovers closes connections handed to l after it stopped; none
// had its OnOpen.
func (l *loop) dropHandovers() {
	l.hmu.Lock()
	hs := l.handed
	l.handed = nil
	l.hmu.Unlock()
	for _, h := range hs {
		c := h.c
		c.s.tmu.Lock()
		c.s.table[c.fd] = nil
		c.s.tmu.Unlock()
		syscall.Close(c.fd)
		c.fd = -1
		if c.ext != nil {
			c.ext.Close()
		}
		c.s.count.Add(-1)
	}
}
