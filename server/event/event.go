package event

import (
	"errors"
	"runtime"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/server"
)

// QueuePolicy says what WriteMessage does when a connection's write queue
// would grow past Options.WriteQueueLimit because the socket is not
// writable (the peer reads slower than the application writes).
type QueuePolicy uint8

const (
	// Block makes WriteMessage wait until the queue has room, for at most
	// the connection's WriteTimeout; then the connection is closed and
	// WriteMessage returns ErrQueueFull. It suits request/response traffic.
	Block QueuePolicy = iota
	// Drop makes WriteMessage return ErrQueueFull at once without sending
	// the message; the connection stays open. It suits feeds where a
	// newer message replaces an older one (prices, positions).
	Drop
	// Close fails the connection with 1008 Policy Violation (RFC 6455
	// §7.4.1) and returns ErrQueueFull: a consumer that cannot keep up is
	// cut off (broadcast to many, where one slow reader must not hold
	// memory for all).
	Close
)

func (p QueuePolicy) String() string {
	switch p {
	case Block:
		return "block"
	case Drop:
		return "drop"
	case Close:
		return "close"
	}
	return "invalid policy"
}

// Errors of the event mode.
var (
	// ErrUnsupported is returned by Serve where there is no event loop
	// (anything but Linux): serve with server.Serve there.
	ErrUnsupported = errors.New("event: the event-driven server needs Linux (epoll); use server.Serve on this system")
	// ErrNotTCP is returned by Serve for a listener that is not a
	// *net.TCPListener, such as a TLS listener: the event mode speaks
	// plain TCP only. Terminate TLS in front of it (a load balancer or
	// proxy, the usual deployment at this scale) or use server.Serve.
	ErrNotTCP = errors.New("event: Serve needs a plain *net.TCPListener: TLS is not supported in event mode (terminate TLS in a proxy, or use server.Serve)")
	// ErrServerClosed is returned by Server.Upgrade once Close was
	// called, and by a second Close.
	ErrServerClosed = errors.New("event: server closed")
	// ErrQueueFull is returned by WriteMessage when the write queue is
	// full and the policy is Drop or Close, or Block timed out.
	ErrQueueFull = errors.New("event: write queue full")
	// ErrClosed is returned by writes to a connection whose close frame
	// was sent or whose socket is closed.
	ErrClosed = errors.New("event: connection closed")
)

// Defaults for Options fields left zero.
const (
	// DefaultWriteQueueLimit bounds what a connection queues for a peer
	// that does not read: 1 MiB.
	DefaultWriteQueueLimit = 1 << 20
	// DefaultMaxPendingInput bounds the bytes of received messages a
	// connection holds for callbacks not yet run; past it, the loop stops
	// reading the connection until its callbacks catch up (TCP then
	// pushes back on the peer). One message is always let through, so
	// the read limit still decides the largest message.
	DefaultMaxPendingInput = 1 << 20
)

// Options configures Serve. nil and the zero value mean the defaults.
type Options struct {
	// Accept holds the terms of the opening handshake (origin policy,
	// subprotocols, compression, HandshakeTimeout, MaxHeaderBytes,
	// MaxConnections) as for server.Serve, and in Accept.Conn the
	// connection's limits and timeouts: ReadLimit, MaxMessageFrames,
	// CloseTimeout, WriteTimeout, KeepAliveInterval and KeepAliveTimeout
	// mean what they mean for a conn.Conn. Buffer sizes, MaxFrameSize,
	// OnPing, OnPong and ReleaseCompressionAfter do not apply: the loop
	// reads through one buffer of its own, sends each message as one
	// frame, and answers pings itself. Accept.Connections and
	// MaxHandshakes are not used (Serve's context ends every connection;
	// MaxConnections bounds handshakes too).
	Accept *server.AcceptOptions

	// Workers is the number of goroutines that run callbacks (default
	// 4·GOMAXPROCS, at least 8). A callback that blocks, in a Block write
	// or in the application, holds one; the loop itself never waits for
	// them.
	Workers int

	// Loops is the number of epoll loops reading connections (default
	// GOMAXPROCS).
	Loops int

	// WriteQueueLimit bounds the bytes queued per connection when the
	// socket is not writable (DefaultWriteQueueLimit when zero). A write
	// into an empty queue is always accepted, however large, so the
	// bound applies from the second message on.
	WriteQueueLimit int
	// QueueFull is the policy when the bound is hit (default Block).
	QueueFull QueuePolicy

	// MaxPendingInput bounds received bytes waiting for callbacks, per
	// connection (DefaultMaxPendingInput when zero).
	MaxPendingInput int
}

// Handler holds the application's callbacks. They run on the worker pool,
// never on a loop, and the callbacks of one connection run one at a time,
// in order: OnOpen first, OnMessage for each message as received,
// OnClose last. Callbacks of different connections run in parallel. Any
// of them may be nil.
type Handler struct {
	// OnOpen is called once the handshake has completed.
	OnOpen func(c *Conn)
	// OnMessage is called for each data message. data is valid only
	// during the call: copy what must outlive it.
	OnMessage func(c *Conn, typ conn.MessageType, data []byte)
	// OnClose is called once the socket is closed. err is the peer's
	// *conn.CloseError after a close handshake, a *frame.ProtocolError
	// when the peer violated the protocol, or another error saying why
	// the connection ended (a close code 1006 *conn.CloseError when it
	// dropped).
	OnClose func(c *Conn, err error)
}

// settings are Options with the defaults filled in.
type settings struct {
	accept          server.AcceptOptions
	workers, loops  int
	queueLimit      int
	policy          QueuePolicy
	maxPendingInput int

	readLimit         int64
	maxFrames         int
	closeTimeout      time.Duration
	writeTimeout      time.Duration
	keepAliveInterval time.Duration
	keepAliveTimeout  time.Duration
	maxHeaderBytes    int
	maxConns          int
}

func resolve(o *Options) settings {
	var s settings
	if o == nil {
		o = &Options{}
	}
	if o.Accept != nil {
		s.accept = *o.Accept
	}
	procs := runtime.GOMAXPROCS(0)
	s.workers = o.Workers
	if s.workers <= 0 {
		s.workers = max(8, 4*procs)
	}
	s.loops = o.Loops
	if s.loops <= 0 {
		s.loops = procs
	}
	s.queueLimit = o.WriteQueueLimit
	if s.queueLimit <= 0 {
		s.queueLimit = DefaultWriteQueueLimit
	}
	s.policy = o.QueueFull
	s.maxPendingInput = o.MaxPendingInput
	if s.maxPendingInput <= 0 {
		s.maxPendingInput = DefaultMaxPendingInput
	}
	var co conn.Options
	if s.accept.Conn != nil {
		co = *s.accept.Conn
	}
	s.readLimit = co.ReadLimit
	if s.readLimit == 0 {
		s.readLimit = conn.DefaultReadLimit
	}
	s.maxFrames = co.MaxMessageFrames
	if s.maxFrames == 0 {
		s.maxFrames = conn.DefaultMaxMessageFrames
	}
	s.closeTimeout = co.CloseTimeout
	if s.closeTimeout <= 0 {
		s.closeTimeout = conn.DefaultCloseTimeout
	}
	s.writeTimeout = co.WriteTimeout
	if s.writeTimeout == 0 {
		s.writeTimeout = conn.DefaultWriteTimeout
	}
	s.keepAliveInterval = co.KeepAliveInterval
	if s.keepAliveInterval == 0 {
		s.keepAliveInterval = conn.DefaultKeepAliveInterval
	}
	s.keepAliveTimeout = co.KeepAliveTimeout
	if s.keepAliveInterval > 0 && s.keepAliveTimeout <= 0 {
		s.keepAliveTimeout = min(s.keepAliveInterval, conn.DefaultKeepAliveTimeout)
	}
	if s.accept.HandshakeTimeout == 0 {
		s.accept.HandshakeTimeout = server.DefaultHandshakeTimeout
	}
	s.maxHeaderBytes = s.accept.MaxHeaderBytes
	if s.maxHeaderBytes <= 0 {
		s.maxHeaderBytes = handshake.DefaultMaxHeaderBytes
	}
	s.maxConns = s.accept.MaxConnections
	if s.maxConns == 0 {
		s.maxConns = server.DefaultMaxConnections()
	}
	return s
}
