package event

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/proto"
)

// readBufferSize is the size of each loop's read buffer, shared by all the
// connections of the loop.
const readBufferSize = 64 << 10

// srv is one call of Serve.
type srv struct {
	set   settings
	h     Handler
	loops []*loop
	pool  *pool
	next  atomic.Uint32 // round robin over loops

	tmu   sync.RWMutex
	table []*Conn // by descriptor
	count atomic.Int64
}

// Serve accepts connections from ln and serves them on epoll loops until
// ctx is done; see the package doc. ln must be a *net.TCPListener
// (ErrNotTCP otherwise: no TLS in event mode). When ctx is done, Serve
// closes ln, sends 1001 Going Away to every connection, gives them
// CloseTimeout to answer, closes what is left, runs the OnClose callbacks
// and returns ctx.Err().
func Serve(ctx context.Context, ln net.Listener, opts *Options, h Handler) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return ErrNotTCP
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	sv, err := NewServer(opts, h)
	if err != nil {
		return err
	}
	acceptErr := sv.s.accept(ctx, rc)
	ln.Close()
	sv.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("event: accept: %w", acceptErr)
}

// accept takes connections from the listener until ctx is done. The
// listener's descriptor is waited on with an epoll instance of its own
// (net's raw listener offers Control only, not Read), beside an eventfd
// that ctx's end writes to.
func (s *srv) accept(ctx context.Context, rc syscall.RawConn) error {
	var lfd int
	if err := rc.Control(func(fd uintptr) { lfd = int(fd) }); err != nil {
		return err
	}
	w, err := newLoop(s) // an epoll instance and its wake-up eventfd
	if err != nil {
		return err
	}
	defer syscall.Close(w.epfd)
	defer syscall.Close(w.wake)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lfd)}
	if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, lfd, &ev); err != nil {
		return err
	}
	defer syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, lfd, nil)
	stop := context.AfterFunc(ctx, func() {
		one := [8]byte{1}
		syscall.Write(w.wake, one[:])
	})
	defer stop()
	var events [2]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(w.epfd, events[:], -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for i := range n {
			if int(events[i].Fd) == w.wake {
				return ctx.Err()
			}
		}
		for {
			fd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			if err == nil {
				s.add(fd)
				continue
			}
			if err == syscall.EAGAIN || err == syscall.EINTR || err == syscall.ECONNABORTED {
				break
			}
			if err == syscall.EMFILE || err == syscall.ENFILE {
				time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
				break
			}
			return err
		}
	}
}

// add takes a newly accepted socket.
func (s *srv) add(fd int) {
	if s.set.maxConns > 0 && s.count.Load() >= int64(s.set.maxConns) {
		var buf [256]byte
		syscall.Write(fd, handshake.AppendErrorResponse(buf[:0], &handshake.Error{Status: http.StatusServiceUnavailable, Message: "too many connections", Header: http.Header{"Connection": {"close"}}}))
		syscall.Close(fd)
		return
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	c := s.newConn(fd)
	if d := s.set.accept.HandshakeTimeout; d > 0 {
		c.deadline.Store(c.heard.Load() + int64(d))
	}
	s.count.Add(1)
	s.insert(c)
	l := c.l
	c.mu.Lock()
	if err := l.register(c); err != nil {
		c.mu.Unlock()
		s.tmu.Lock()
		s.table[fd] = nil
		s.tmu.Unlock()
		s.count.Add(-1)
		syscall.Close(fd)
		return
	}
	c.mu.Unlock()
}

// newConn makes the Conn of socket fd, on the next loop in turn.
func (s *srv) newConn(fd int) *Conn {
	l := s.loops[int(s.next.Add(1))%len(s.loops)]
	c := &Conn{s: s, l: l, fd: fd}
	c.heard.Store(time.Now().UnixNano())
	return c
}

// insert enters c in the descriptor table.
func (s *srv) insert(c *Conn) {
	s.tmu.Lock()
	for c.fd >= len(s.table) {
		s.table = append(s.table, nil)
	}
	s.table[c.fd] = c
	s.tmu.Unlock()
}

func (s *srv) lookup(fd int) *Conn {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	if fd < len(s.table) {
		return s.table[fd]
	}
	return nil
}

// each calls f for every connection, outside the table lock.
func (s *srv) each(f func(c *Conn)) {
	s.tmu.RLock()
	conns := make([]*Conn, 0, s.count.Load())
	for _, c := range s.table {
		if c != nil {
			conns = append(conns, c)
		}
	}
	s.tmu.RUnlock()
	for _, c := range conns {
		f(c)
	}
}

// shutdown ends every connection when Serve stops: 1001 Going Away, at
// most CloseTimeout for the answers, then whatever is left is closed.
func (s *srv) shutdown() {
	s.each(func(c *Conn) {
		c.mu.Lock()
		if c.open.Load() {
			c.sendCloseLocked(frame.StatusGoingAway, "server shutting down", s.set.closeTimeout)
		} else {
			c.shutdownLocked()
		}
		c.mu.Unlock()
	})
	end := time.Now().Add(s.set.closeTimeout)
	for s.count.Load() > 0 && time.Now().Before(end) {
		time.Sleep(10 * time.Millisecond)
	}
	s.each(func(c *Conn) { c.CloseNow() })
	end = time.Now().Add(time.Second)
	for s.count.Load() > 0 && time.Now().Before(end) {
		time.Sleep(10 * time.Millisecond)
	}
}

// sweep enforces the connections' deadlines once per tick: the handshake
// timeout, the close and linger timeouts, the write timeout and the
// keepalive (RFC 6455 §5.5.2 pings). One goroutine for all connections;
// an idle connection costs it three atomic loads a tick.
func (s *srv) sweep(stop <-chan struct{}) {
	tick := time.Second
	if d := s.set.keepAliveTimeout; d > 0 && d/4 < tick {
		tick = max(d/4, 10*time.Millisecond)
	}
	if d := s.set.closeTimeout; d/4 < tick {
		tick = max(d/4, 10*time.Millisecond)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		s.each(func(c *Conn) { c.check(now) })
	}
}

// check applies the deadlines to c at time now.
func (c *Conn) check(now int64) {
	set := &c.s.set
	if d := c.deadline.Load(); d != 0 && now > d {
		c.mu.Lock()
		if c.why == nil {
			c.why = errTimeout
		}
		c.shutdownLocked()
		c.mu.Unlock()
		return
	}
	if c.buffered.Load() > 0 && set.writeTimeout > 0 && now-c.outSince.Load() > int64(set.writeTimeout) {
		c.mu.Lock()
		if c.why == nil {
			c.why = errWriteTimeout
		}
		c.shutdownLocked()
		c.mu.Unlock()
		return
	}
	if set.keepAliveInterval <= 0 || !c.open.Load() || c.closeSent.Load() {
		return
	}
	heard, sent := c.heard.Load(), c.pingSent.Load()
	switch {
	case sent != 0 && heard > sent:
		c.pingSent.Store(0)
	case sent != 0 && now-sent > int64(set.keepAliveTimeout):
		c.mu.Lock()
		c.why = conn.ErrKeepAliveTimeout
		c.sendCloseLocked(frame.StatusInternalError, "keepalive timeout", 100*time.Millisecond)
		c.shutdownLocked()
		c.mu.Unlock()
	case sent == 0 && now-heard > int64(set.keepAliveInterval):
		c.mu.Lock()
		c.pingSent.Store(now)
		c.sendLocked(frame.Header{Fin: true, Opcode: frame.OpPing}, keepAlivePayload, true)
		c.mu.Unlock()
	}
}

var (
	errTimeout       = errors.New("event: handshake or close timed out")
	keepAlivePayload = []byte("keepalive")
)

// loop is one epoll instance and the goroutine that waits on it.
type loop struct {
	s    *srv
	epfd int
	wake int // eventfd that ends run
	buf  []byte
	msgs bytes.Reader // source of a compressed message being decoded
	req  bytes.Reader // source of a handshake request being parsed
	br   *bufio.Reader

	// batch collects the callbacks one read produced for a connection,
	// handed to it with one lock when the read is processed.
	batch jobQueue

	// Connections handed over by Server.Upgrade, taken when wake fires
	// without stopping set.
	hmu      sync.Mutex
	handed   []handover
	stopping atomic.Bool
}

// queue adds a callback to the batch of the connection being read.
func (l *loop) queue(j job) {
	n := jobPool.Get().(*job)
	*n = j
	l.batch.append(n)
}

func newLoop(s *srv) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("event: epoll_create1: %w", err)
	}
	wake, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, fmt.Errorf("event: eventfd: %w", errno)
	}
	l := &loop{s: s, epfd: epfd, wake: int(wake), buf: make([]byte, readBufferSize)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wake)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wake), &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(int(wake))
		return nil, fmt.Errorf("event: epoll_ctl: %w", err)
	}
	return l, nil
}

func (s *srv) stopLoops() {
	for _, l := range s.loops {
		l.stopping.Store(true)
		var one = [8]byte{1}
		syscall.Write(l.wake, one[:])
	}
}

// events returns the epoll interest of c; the caller holds c.mu.
func (c *Conn) events() uint32 {
	var ev uint32 = syscall.EPOLLRDHUP
	if !c.paused {
		ev |= syscall.EPOLLIN
	}
	if c.wantOut {
		ev |= syscall.EPOLLOUT
	}
	return ev
}

// register adds c's socket to l; the caller holds c.mu.
func (l *loop) register(c *Conn) error {
	ev := syscall.EpollEvent{Events: c.events(), Fd: int32(c.fd)}
	return syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev)
}

// modify updates c's interest; the caller holds c.mu.
func (l *loop) modify(c *Conn) {
	if c.fd < 0 {
		return
	}
	ev := syscall.EpollEvent{Events: c.events(), Fd: int32(c.fd)}
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
}

// run waits for readiness and serves it until the wake descriptor fires.
func (l *loop) run() {
	defer syscall.Close(l.epfd)
	defer syscall.Close(l.wake)
	var events [256]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(l.epfd, events[:], -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		now := time.Now().UnixNano()
		for i := range n {
			ev := &events[i]
			fd := int(ev.Fd)
			if fd == l.wake {
				if l.stopping.Load() {
					l.dropHandovers()
					return
				}
				var counter [8]byte
				syscall.Read(l.wake, counter[:])
				l.takeHandovers(now)
				continue
			}
			c := l.s.lookup(fd)
			if c == nil {
				continue
			}
			if ev.Events&syscall.EPOLLOUT != 0 {
				c.mu.Lock()
				if len(c.out) > 0 {
					c.flushLocked()
				}
				c.mu.Unlock()
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				l.readable(c, now)
			}
		}
	}
}

// readable reads what c's socket holds and hands it to the protocol.
func (l *loop) readable(c *Conn, now int64) {
	for {
		n, err := syscall.Read(c.fd, l.buf)
		switch {
		case n > 0:
			c.heard.Store(now)
			l.input(c, l.buf[:n])
			if l.batch.head != nil {
				c.pushAll(l.batch)
				l.batch = jobQueue{}
			}
			if n < len(l.buf) {
				return
			}
			continue
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		}
		var why error = &conn.CloseError{Code: frame.StatusAbnormalClosure}
		if err != nil {
			why = &conn.CloseError{Code: frame.StatusAbnormalClosure, Reason: err.Error()}
		}
		l.finish(c, why)
		return
	}
}

// input runs the handshake or the protocol core on bytes read from c.
func (l *loop) input(c *Conn, p []byte) {
	if !c.open.Load() {
		var ok bool
		if p, ok = l.handshake(c, p); !ok || len(p) == 0 {
			return
		}
	}
	if c.discard {
		return // input after a close or a violation is discarded (§7.1.7)
	}
	for len(p) > 0 {
		n, ev, err := c.recv.Receive(p)
		p = p[n:]
		if err != nil {
			l.fail(c, err)
			return
		}
		switch ev.Kind {
		case proto.NeedMore:
			return
		case proto.Data:
			if c.closeSent.Load() {
				continue // closing: data is discarded
			}
			if err := l.data(c, &ev); err != nil {
				l.fail(c, err)
				return
			}
		case proto.Ping:
			// A peer that pings and does not read gets no more pongs once
			// the queue is at its bound: only the latest ping need be
			// answered (RFC 6455 §5.5.3), and the write timeout ends it.
			c.mu.Lock()
			if len(c.out) < c.s.set.queueLimit {
				c.sendLocked(frame.Header{Fin: true, Opcode: frame.OpPong}, ev.Payload, true)
			}
			c.mu.Unlock()
		case proto.Pong:
			// heard already moved: the keepalive sees the answer
		case proto.Close:
			// Input ends here. The answer waits for the callbacks of the
			// messages before it, as a goroutine-mode reader answers
			// after handling them.
			c.discard = true
			c.mu.Lock()
			c.peerClose = &conn.CloseError{Code: ev.Close.Code, Reason: ev.Close.Reason}
			if c.why == nil {
				c.why = c.peerClose
			}
			c.mu.Unlock()
			l.queue(job{kind: jobPeerClose, reply: ev.Close.Reply()})
			return
		}
	}
}

// fail fails c for what the peer sent: input stops here, and the close
// frame goes out once the callbacks of the messages before the violation
// have run (a goroutine-mode reader handles them before it reads the
// violation), so that their replies precede it.
func (l *loop) fail(c *Conn, err error) {
	c.discard = true
	c.mu.Lock()
	if c.why == nil {
		c.why = err
	}
	c.mu.Unlock()
	l.queue(job{kind: jobFail, err: err})
}

// data adds a piece of a data message; at its end, the message is decoded
// if compressed, checked, and handed to the callbacks.
func (l *loop) data(c *Conn, ev *proto.Event) error {
	if c.msg == nil {
		size := len(ev.Payload)
		if !ev.Final {
			size = max(size*2, 512)
		}
		c.msg = getBuf(size)
	}
	*c.msg = append(*c.msg, ev.Payload...)
	if !ev.Final {
		return nil
	}
	msg := c.msg
	c.msg = nil
	if ev.Compressed {
		decoded, err := l.decode(c, *msg)
		putBuf(msg)
		if err != nil {
			return err
		}
		msg = decoded
		if ev.Type == frame.OpText && !utf8.Valid(*msg) {
			putBuf(msg)
			return frame.ErrInvalidUTF8
		}
	}
	l.queue(job{kind: jobMessage, typ: conn.MessageType(ev.Type), data: msg})
	return nil
}

// decode inflates a compressed message through the extension, holding it
// to the read limit.
func (l *loop) decode(c *Conn, wire []byte) (*[]byte, error) {
	l.msgs.Reset(wire)
	r := c.ext.DecodeMessage(&l.msgs, c.s.set.readLimit)
	size := max(len(wire)*4, 512)
	if limit := c.s.set.readLimit; limit > 0 {
		size = int(min(int64(size), limit+1)) // the decoder stops at the limit
	}
	out := getBuf(size)
	for {
		if len(*out) == cap(*out) {
			*out = append(*out, 0)[:len(*out)]
		}
		n, err := r.Read((*out)[len(*out):cap(*out)])
		*out = (*out)[:len(*out)+n]
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			putBuf(out)
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				return nil, pe
			}
			if code := deflate.CloseCode(err); code != 0 {
				return nil, &frame.ProtocolError{Code: code, Reason: err.Error()}
			}
			return nil, &frame.ProtocolError{Code: frame.StatusInvalidPayloadData, Reason: err.Error()}
		}
	}
}

// handshake collects the upgrade request; once it is whole, it is checked
// and answered, and handshake returns the bytes after it.
func (l *loop) handshake(c *Conn, p []byte) ([]byte, bool) {
	// A request that arrives in one read, the usual case, is parsed where
	// it lies; only one split across reads is collected in c.hs.
	buf := p
	if c.hs != nil {
		c.hs = append(c.hs, p...)
		buf = c.hs
	}
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > c.s.set.maxHeaderBytes {
			l.refuse(c, &handshake.Error{Status: http.StatusRequestHeaderFieldsTooLarge, Message: "request header too large"})
			return nil, false
		}
		if c.hs == nil {
			c.hs = append(make([]byte, 0, len(p)+512), p...)
		}
		return nil, false
	}
	end += 4
	// The loop's reader and buffer serve every handshake: a connection's
	// handshake leaves behind only what ReadRequest and Negotiate return.
	l.req.Reset(buf[:end])
	if l.br == nil {
		l.br = bufio.NewReaderSize(&l.req, 4096)
	}
	l.br.Reset(&l.req)
	r, err := handshake.ReadRequest(l.br, c.s.set.maxHeaderBytes)
	if err != nil {
		l.refuse(c, err)
		return nil, false
	}
	neg, err := c.s.set.accept.Negotiate(r)
	if err != nil {
		l.refuse(c, err)
		return nil, false
	}
	rest := buf[end:]
	c.hs = nil
	c.ext, c.subprotocol = neg.Extension, neg.Subprotocol
	c.recv = proto.NewReceiver(receiverRules(&c.s.set, c.ext))
	c.mu.Lock()
	n, werr := writeFD(c.fd, neg.Response)
	if werr == nil && n < len(neg.Response) {
		c.queueLocked(neg.Response[n:], nil)
	}
	c.deadline.Store(0)
	c.open.Store(true)
	c.mu.Unlock()
	if werr != nil {
		l.finish(c, werr)
		return nil, false
	}
	c.push(job{kind: jobOpen})
	return rest, true
}

// refuse answers a failed handshake and closes.
func (l *loop) refuse(c *Conn, err error) {
	var he *handshake.Error
	c.mu.Lock()
	if errors.As(err, &he) {
		var buf [512]byte
		writeFD(c.fd, handshake.AppendErrorResponse(buf[:0], he))
	}
	c.hs = nil
	c.why = err
	c.shutdownLocked()
	c.mu.Unlock()
}

// finish closes c's socket, on its loop, and queues OnClose.
func (l *loop) finish(c *Conn, why error) {
	c.mu.Lock()
	if c.fd < 0 {
		c.mu.Unlock()
		return
	}
	fd := c.fd
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	c.s.tmu.Lock()
	c.s.table[fd] = nil
	c.s.tmu.Unlock()
	syscall.Close(fd)
	c.fd = -1
	c.out = nil
	c.buffered.Store(0)
	if c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
	if c.why == nil {
		c.why = why
	}
	if c.peerClose != nil && c.closeSent.Load() {
		c.why = c.peerClose
	}
	if c.ext != nil {
		c.ext.Close() // writers check fd under c.mu before encoding
	}
	opened := c.open.Load()
	c.mu.Unlock()
	if c.msg != nil {
		putBuf(c.msg)
		c.msg = nil
	}
	c.hs = nil
	c.s.count.Add(-1)
	if opened {
		c.push(job{kind: jobClose})
	}
}
