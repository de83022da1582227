package conn

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/proto"
)

// Role is the side of the connection an endpoint plays. It decides the
// direction of masking (RFC 6455 §5.1) and who closes TCP first (§7.1.1).
type Role uint8

const (
	Server Role = iota + 1
	Client
)

func (r Role) String() string {
	switch r {
	case Server:
		return "server"
	case Client:
		return "client"
	}
	return "invalid role"
}

// MessageType is the type of a data message (RFC 6455 §5.6).
type MessageType uint8

const (
	Text   = MessageType(frame.OpText)
	Binary = MessageType(frame.OpBinary)
)

func (t MessageType) String() string { return frame.Opcode(t).String() }

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode = frame.StatusCode

// Close status codes most applications send or check (RFC 6455 §7.4.1).
// The full list is in package frame.
const (
	StatusNormalClosure      = frame.StatusNormalClosure
	StatusGoingAway          = frame.StatusGoingAway
	StatusProtocolError      = frame.StatusProtocolError
	StatusUnsupportedData    = frame.StatusUnsupportedData
	StatusNoStatusReceived   = frame.StatusNoStatusReceived
	StatusAbnormalClosure    = frame.StatusAbnormalClosure
	StatusInvalidPayloadData = frame.StatusInvalidPayloadData
	StatusPolicyViolation    = frame.StatusPolicyViolation
	StatusMessageTooBig      = frame.StatusMessageTooBig
	StatusInternalError      = frame.StatusInternalError
)

// Defaults for Options fields left zero.
const (
	DefaultReadLimit = 32 << 20
	// DefaultPooledBufferSize is the default size of a buffer the Conn
	// holds only while bytes flow and gives back to a pool when the
	// connection goes quiet: the write buffer, and the read buffer of a
	// *net.TCPConn or *net.UnixConn. Being large costs an idle connection
	// nothing, and a busy one fewer system calls: a pipelining peer's
	// messages are read, and the replies written, 16 KiB at a time.
	DefaultPooledBufferSize = 16 << 10
	// DefaultBufferSize is the default size of a read buffer held for the
	// connection's life: on a TLS connection, net.Pipe, or any net.Conn
	// the Conn cannot wait on without a buffer.
	DefaultBufferSize   = 4096
	DefaultCloseTimeout = 5 * time.Second

	// DefaultMaxMessageFrames bounds the frames of one message. Autobahn's
	// most fragmented case sends 65,536 frames (4 MiB in 64-byte frames);
	// browsers and the common libraries send a message in a few frames.
	DefaultMaxMessageFrames = 1 << 20

	// DefaultWriteTimeout bounds each write to the network: a peer that
	// stops reading is released within it (with the keepalive defaults,
	// a stalled or vanished peer costs the server at most a minute).
	DefaultWriteTimeout = 30 * time.Second

	// DefaultKeepAliveInterval and DefaultKeepAliveTimeout: a connection
	// is pinged every 30 s, and one that receives nothing in the 20 s
	// after a ping, while the application waits to read, is closed.
	DefaultKeepAliveInterval = 30 * time.Second
	DefaultKeepAliveTimeout  = 20 * time.Second
)

// Options configures a Conn. The zero value and nil mean the defaults.
// New copies the options, so one value can serve many connections.
type Options struct {
	// ReadLimit is the largest message the Conn accepts, in bytes after any
	// extension has decoded it (default 32 MiB, negative: no limit). A
	// larger message fails the connection with 1009 (RFC 6455 §7.4.1); the
	// check is made on each frame's declared length before its payload is
	// read, so a peer cannot make the Conn allocate more than the limit.
	// A compressed message is checked twice: as it is inflated, and on
	// the wire, where its frames may declare at most a quarter more than
	// the limit (so a frame declaring 2^62 bytes, or a stream of empty
	// DEFLATE blocks, fails at once or within a bounded amount of work).
	//
	// ReadMessage never holds more than 1.25 times the limit (plus a few
	// KiB) for one message, whatever its framing: its buffer doubles up
	// to an eighth of the limit, and a message that outgrows that gets a
	// buffer of the whole limit at once, or of its exact size when the
	// last frame's length is known. Set the limit to what your messages
	// need: it is the memory a peer can make each connection use.
	ReadLimit int64

	// MaxMessageFrames is the most frames one data message may have
	// (default DefaultMaxMessageFrames, 2^20; negative: no limit). Each
	// frame costs the receiver work even when empty, so a peer sending
	// endless empty continuation frames would otherwise hold the reader
	// forever without reaching the read limit. Past it the connection
	// fails with 1009.
	MaxMessageFrames int

	// ReadBufferSize and WriteBufferSize size the fixed buffers between the
	// Conn and the network. Larger buffers mean fewer system calls for
	// large messages and for pipelined small ones. A quiet connection holds
	// neither: they are taken from pools shared by all connections while
	// bytes flow and given back when the connection waits, so by default
	// they are large (DefaultPooledBufferSize, 16 KiB). On a TLS
	// connection, or any net.Conn other than *net.TCPConn and
	// *net.UnixConn, the read buffer is held for the connection's life
	// instead, and its default is DefaultBufferSize (4 KiB).
	ReadBufferSize  int
	WriteBufferSize int

	// MaxFrameSize is the largest frame payload the Conn sends. Messages
	// longer than this are fragmented (RFC 6455 §5.4). Zero means messages
	// written whole go out as one frame and streamed messages as one frame
	// per WriteBufferSize bytes.
	MaxFrameSize int

	// CloseTimeout bounds each wait of the close handshake: for the peer's
	// close frame after ours and, on a client, for the server to close TCP
	// (default 5 s). When the Conn fails the connection because of what
	// the peer sent (a 1002, 1007 or 1009), it waits at most a second, or
	// CloseTimeout if shorter: RFC 6455 §7.1.7 lets it stop at once, and a
	// hostile peer must not hold the descriptor.
	CloseTimeout time.Duration

	// WriteTimeout bounds each write of the Conn to the network (default
	// DefaultWriteTimeout, 30 s; negative: no bound): a write blocked
	// longer, because the peer stopped reading and the socket's buffers
	// filled, fails, and the Conn is closed, as when a write deadline
	// passes inside a frame. The bound is kept as a rolling deadline that
	// the Conn moves forward at most once per half timeout, so a blocked
	// write fails after between half and all of WriteTimeout, and a write
	// that completes costs no timer operation. A deadline set with
	// SetWriteDeadline applies as well; the earlier of the two wins.
	WriteTimeout time.Duration

	// KeepAliveInterval and KeepAliveTimeout release peers that have gone
	// silent: dead, or stalled without closing TCP. Every
	// KeepAliveInterval (default 30 s) the Conn sends a ping; a peer that
	// sends anything within KeepAliveTimeout after it (default 20 s, or
	// the interval if shorter), a pong or any other frame, is alive. One
	// that sends nothing while the application is waiting in a read is
	// not: after a second look a quarter of the timeout later (at most a
	// second), the Conn sends a best-effort close frame with 1011, closes
	// the TCP connection, and reads and writes fail with
	// ErrKeepAliveTimeout. A quiet but live peer answers the pings and
	// stays connected for good. Input is seen only while the application
	// reads, so a connection whose application is not reading when the
	// timeout passes is given another timeout rather than closed (a
	// stalled peer of an application that only writes is released by
	// WriteTimeout instead). Between pings, reads do no bookkeeping for
	// it beyond loading a flag. A negative KeepAliveInterval turns
	// keepalive off. The write timeout and the keepalive hold one timer and about 350
	// bytes per connection.
	KeepAliveInterval time.Duration
	KeepAliveTimeout  time.Duration

	// OnPing and OnPong, when set, observe the payload of each ping and pong
	// received, on the reading goroutine; the slice is valid only during the
	// call. Pings are answered automatically either way (RFC 6455 §5.5.2).
	OnPing func(payload []byte)
	OnPong func(payload []byte)

	// ReleaseCompressionAfter, when positive, gives back what the
	// negotiated extension keeps between the messages it compresses once
	// the Conn has compressed none for that long; the check runs once per
	// period, so the release comes between one and two periods after the
	// last compressed message. With permessage-deflate and context
	// takeover on our side, that is the sliding window and hash table:
	// 40 KiB per connection at the default 15 window bits, 13 KiB at 12.
	// The next message is compressed without reference to earlier ones,
	// which the peer decodes like any other (RFC 7692 §7.1.1 lets a
	// compressor refer back to earlier messages but never requires it),
	// so it comes out larger; the messages after it refer back again. It
	// suits a server holding many compressed connections that are quiet
	// for long stretches. A window kept for decompressing the peer's messages
	// (context takeover on the peer's side) is not affected: the peer's
	// next message may refer to it. Periods under a millisecond count as
	// one: each check is a timer firing, which must not keep a CPU busy.
	ReleaseCompressionAfter time.Duration
}

// Setup describes one connection after its opening handshake.
type Setup struct {
	Role        Role
	Subprotocol string    // negotiated subprotocol, or ""
	Extension   Extension // negotiated extension, or nil
	Buffered    []byte    // bytes read from the connection past the handshake
	Options     *Options  // nil means defaults
	// OnClose, if not nil, is called once, after the TCP connection is
	// closed, on the goroutine that closed it; it lets a server keep a set
	// of open connections (package server's Connections) without a
	// goroutine per connection. It must not block.
	OnClose func()
}

// Errors returned by Conn methods.
var (
	ErrClosed           = errors.New("ws: connection closed")
	ErrConcurrentRead   = errors.New("ws: concurrent read")
	ErrReaderOpen       = errors.New("ws: previous message not fully read")
	ErrWriterClosed     = errors.New("ws: write to a closed message writer")
	ErrKeepAliveTimeout = errors.New("ws: keepalive timeout: no pong received")
	ErrInvalidType      = errors.New("ws: invalid message type")
	ErrControlTooLong   = errors.New("ws: control payload longer than 125 bytes")
)

// ProtocolError is what reads return when the peer broke the protocol:
// Code is the close code the Conn sent when it failed the connection
// (1002, 1007, 1009 …; RFC 6455 §7.4.1). It is frame.ProtocolError, named
// here so that code using a Conn checks it without importing frame:
//
//	var pe *conn.ProtocolError
//	if errors.As(err, &pe) { log.Printf("peer broke the protocol: %v (sent %d)", pe, pe.Code) }
type ProtocolError = frame.ProtocolError

// CloseError reports that the connection was closed. Code and Reason come
// from the peer's close frame; a connection that ended without one reports
// StatusAbnormalClosure (1006) with the cause wrapped.
type CloseError struct {
	Code   StatusCode
	Reason string
	err    error
}

func (e *CloseError) Error() string {
	s := "ws: closed: " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *CloseError) Unwrap() error { return e.err }

// Conn is a WebSocket connection, for either role, over a net.Conn.
//
// # Concurrency
//
// One goroutine may read (NextReader, ReadMessage) while others write. A
// second concurrent reader gets ErrConcurrentRead. Writers (WriteMessage,
// NextWriter, WritePrepared) are serialised by a lock that honours their
// context: a message is always sent whole, never interleaved with another.
// Ping, Close and CloseNow may be called from any goroutine at any time;
// their frames go out between the frames of a message being written, never
// inside one. Pings from the peer are answered by the reading goroutine
// without waiting for a writer.
//
// # Cancellation and deadlines
//
// A context that is done, or a deadline that passes, while a read waits for
// the first frame of a message fails that call only: the Conn stays usable.
// If it happens in the middle of a message read by ReadMessage, the partial
// message cannot be handed back, so the Conn fails with 1008. A write whose
// context is done while it waits for the write lock fails without effect;
// once bytes of a frame may have reached the network, a done context or a
// write timeout leaves the stream unrecoverable and the Conn is closed.
//
// A context that can be cancelled costs two small allocations per read or
// write call (context.AfterFunc); one whose Done channel is nil, such as
// context.Background(), costs none. Hot loops that need a time bound can
// use SetReadDeadline and SetWriteDeadline instead.
type Conn struct {
	nc      net.Conn
	opts    Options
	subprot string
	ext     Extension

	// Read side, owned by whoever holds the read lock.
	readLock readLock
	role     Role // here, where it fills readLock's padding (TestConnSize)
	fr       frame.Reader
	rules    proto.Rules
	msg      messageReader
	streamed streamedMessage
	ctrlBuf  [frame.MaxControlPayload]byte
	ctrl     struct {
		active bool // a control frame's payload is being read
		h      frame.Header
		n      int // payload bytes read so far
	}
	readErr error   // sticky failure of the read side
	rbuf    *[]byte // pooled backing of fr's buffer; nil while none is held
	rpool   *sync.Pool
	raw     rawReader // waits for input without a buffer (buffers.go)

	// Write side.
	wlocks   writeLocks // the message lock and the wire lock (locks.go)
	fw       frame.Writer
	wbuf     *[]byte // pooled backing of fw's buffer, under the wire lock; nil while none is held
	wpool    *sync.Pool
	mw       messageWriter
	keys     *maskKeys   // clients only
	writeErr error       // sticky failure of the write side, under the wire lock
	compress atomic.Bool // encode messages with the extension
	// extHalves counts the sides (read, write) done with the extension;
	// the second one closes it. (Beside compress: no padding between.)
	extHalves atomic.Int32
	vec       *vectors // writev arguments, allocated at the first large frame (flush.go)

	// Write batching (flush.go).
	moreInput    atomic.Bool // the reader holds input beyond the message it returned
	flushPending atomic.Bool // a message's flush was deferred
	flushTimer   *time.Timer // under the wire lock

	pong atomic.Pointer[pongState] // allocated at the first ping received

	// Close handshake.
	closeMu   sync.Mutex
	closeSent atomic.Bool // our close frame is on the wire (or failed); set under closeMu
	// flushArmed says the flush timer is running; under the wire lock.
	// isClosed is set before closed is closed: a writer checks it after
	// every message, and an atomic load costs less than a select. (These
	// and readEnded are here, beside closeSent, where they cost no
	// padding: see TestConnSize.)
	flushArmed bool
	readEnded  bool // the read side has given up the extension; under the read lock
	isClosed   atomic.Bool
	closeOnce  sync.Once     // (after isClosed, where its 12 bytes leave no padding)
	peerClose  *CloseError   // the peer's close frame, once received
	gotClose   chan struct{} // closed when the peer's close frame arrives; made by peerClosed
	closed     chan struct{} // closed when the TCP connection is closed
	closeErr   error         // why the connection ended, for later calls

	// Deadlines set by the application, restored after context cancellation.
	readDeadline  atomic.Int64
	writeDeadline atomic.Int64

	readWatch, writeWatch watcher

	pings   pingWaiters
	live    *liveness    // write timeout and keepalive (liveness.go)
	idle    *idleRelease // Options.ReleaseCompressionAfter (idlerelease.go); under the message lock
	onClose func()       // Setup.OnClose, called at the end of closeTCP
}

// New returns a Conn that speaks WebSocket over nc after the opening
// handshake described by s. The Conn owns nc from then on.
func New(nc net.Conn, s Setup) *Conn {
	c := &Conn{
		nc:      nc,
		role:    s.Role,
		subprot: s.Subprotocol,
		ext:     s.Extension,
		closed:  make(chan struct{}),
		onClose: s.OnClose,
	}
	if s.Options != nil {
		c.opts = *s.Options
	}
	o := &c.opts
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.ReadBufferSize < frame.MaxHeaderSize {
		o.ReadBufferSize = DefaultBufferSize
		if readsWithoutBuffer(nc) {
			o.ReadBufferSize = DefaultPooledBufferSize
		}
	}
	if o.WriteBufferSize < frame.MaxHeaderSize {
		o.WriteBufferSize = DefaultPooledBufferSize
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.MaxMessageFrames == 0 {
		o.MaxMessageFrames = DefaultMaxMessageFrames
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.KeepAliveInterval == 0 {
		o.KeepAliveInterval = DefaultKeepAliveInterval
	}
	if o.KeepAliveInterval > 0 && o.KeepAliveTimeout <= 0 {
		o.KeepAliveTimeout = min(o.KeepAliveInterval, DefaultKeepAliveTimeout)
	}
	if o.ReleaseCompressionAfter > 0 {
		o.ReleaseCompressionAfter = max(o.ReleaseCompressionAfter, minReleasePeriod)
	}
	var rsv byte
	if c.ext != nil {
		rsv = c.ext.RSV()
	}
	c.rules = proto.NewRules(c.role == Server, rsv, o.ReadLimit, o.MaxMessageFrames)
	// Buffer sizes were checked above, so Reset cannot fail. Both buffers
	// come from pools and go back while the connection is quiet
	// (buffers.go); the write buffer goes back at once.
	if c.role == Client {
		c.keys = new(maskKeys)
	}
	c.rpool, c.wpool = poolFor(o.ReadBufferSize), poolFor(o.WriteBufferSize)
	c.rbuf = getBuf(c.rpool, o.ReadBufferSize)
	_ = c.fr.Reset(netSource{c}, (*c.rbuf)[:cap(*c.rbuf)], s.Buffered)
	c.wbuf = getBuf(c.wpool, o.WriteBufferSize)
	_ = c.fw.Reset((*netSink)(c), (*c.wbuf)[:cap(*c.wbuf)])
	c.releaseWriteBuf()
	c.initRawRead(len(s.Buffered))
	c.releaseReadBuf() // unless the handshake left bytes: the first read takes one when bytes arrive
	c.msg.c = c
	c.streamed.c = c
	c.mw.c = c
	c.compress.Store(true)
	c.startLiveness()
	return c
}

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprot }

// Role returns the side of the connection this endpoint plays.
func (c *Conn) Role() Role { return c.role }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetReadDeadline sets the deadline for reads, as net.Conn does. A read
// that times out while waiting for a new message leaves the Conn usable.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Store(unixNano(t))
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for writes, as net.Conn does. A write
// that times out inside a frame closes the Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNano(t))
	return c.applyWriteDeadline()
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// aLongTimeAgo is a deadline in the past that makes blocked I/O return.
var aLongTimeAgo = time.Unix(1, 0)

// watch arranges for I/O on nc to be interrupted when ctx is done, by
// moving a deadline into the past. The returned function undoes it and
// reports whether ctx interrupted the I/O. A context that can never be done
// costs nothing; one that can costs the allocations of context.AfterFunc.
// Reads and writes each have one watch at a time: reads run under the read lock
// and watched writes under the write lock.
func (c *Conn) watch(ctx context.Context, read bool) func() bool {
	if ctx.Done() == nil {
		return notInterrupted
	}
	if read {
		if c.readWatch.interrupt == nil {
			c.initReadWatch()
		}
		c.readWatch.stop = context.AfterFunc(ctx, c.readWatch.interrupt)
		return c.readWatch.unwatch
	}
	if c.writeWatch.interrupt == nil {
		c.initWriteWatch()
	}
	c.writeWatch.stop = context.AfterFunc(ctx, c.writeWatch.interrupt)
	return c.writeWatch.unwatch
}

// watcher interrupts one direction of I/O when a context is done. Its
// methods are bound once per Conn, at the first watch of their direction,
// so that watching allocates nothing of its own and a Conn never given a
// cancellable context pays nothing.
type watcher struct {
	stop      func() bool
	interrupt func() // moves the deadline into the past
	unwatch   func() bool
}

func (c *Conn) initReadWatch() {
	c.readWatch.interrupt = func() { c.nc.SetReadDeadline(aLongTimeAgo) }
	c.readWatch.unwatch = func() bool {
		if c.readWatch.stop() {
			return false
		}
		c.nc.SetReadDeadline(fromUnixNano(c.readDeadline.Load()))
		return true
	}
}

func (c *Conn) initWriteWatch() {
	c.writeWatch.interrupt = func() { c.nc.SetWriteDeadline(aLongTimeAgo) }
	c.writeWatch.unwatch = func() bool {
		if c.writeWatch.stop() {
			return false
		}
		c.applyWriteDeadline()
		return true
	}
}

func notInterrupted() bool { return false }

// maskKeys hands out masking keys for a client's frames, drawn from
// crypto/rand in batches (RFC 6455 §5.3 requires unpredictable keys; one
// system call per frame would cost more than masking a small frame).
type maskKeys struct {
	buf [64]byte
	off int
}

func (k *maskKeys) next() [4]byte {
	if k.off == 0 || k.off >= len(k.buf) {
		rand.Read(k.buf[:]) // never fails (crypto/rand documents it)
		k.off = 0
	}
	var key [4]byte
	copy(key[:], k.buf[k.off:])
	k.off += 4
	return key
}
