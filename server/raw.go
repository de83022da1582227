package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
)

// readerPool recycles the buffered readers of raw handshakes: once the
// request is parsed, the bytes that follow it are copied out and the
// reader is no longer needed.
var readerPool = sync.Pool{
	New: func() any { return bufio.NewReaderSize(nil, 4096) },
}

// Upgrade runs the server side of the opening handshake (RFC 6455 §4.2)
// directly on nc, for servers that accept connections on a net.Listener
// without net/http. It reads the request with handshake.ReadRequest, so the
// request line and header fields are bounded by opts.MaxHeaderBytes
// (431 beyond it) and a request that announces a body is refused (400),
// applies the same checks as Accept, writes the 101 response and returns
// the connection together with the request (for its path, query and
// header fields). The whole exchange must finish within
// opts.HandshakeTimeout. Once opts.Connections.Shutdown has begun, the
// request is answered 503 and Upgrade returns ErrShuttingDown.
//
// When the handshake fails, Upgrade answers with an HTTP error response if
// the client sent something to answer, closes nc and returns the error: a
// *handshake.Error for a refused request, or the read or write error.
// Upgrade owns nc either way.
func Upgrade(nc net.Conn, opts *AcceptOptions) (*conn.Conn, *http.Request, error) {
	o := opts.withDefaults()
	if err := nc.SetDeadline(o.deadline()); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	return o.upgrade(nc, nil, nil)
}

// errCutShort is the error of a Serve handshake cut short by
// MaxHandshakes or by Serve's end while it waited for its request.
var errCutShort = errors.New("server: handshake cut short")

// upgrade runs the raw handshake on nc, whose deadline the caller has set.
// Within Serve, slots holds the handshakes waiting for their request
// under MaxHandshakes and count the connections under MaxConnections;
// Upgrade passes nil for both.
//
// On failure upgrade has closed nc and given count its place back.
func (o *AcceptOptions) upgrade(nc net.Conn, slots *handshakeSlots, count *connCount) (*conn.Conn, *http.Request, error) {
	// From open on, the Conn ends its handshake in o.Connections and
	// gives count's place back when it closes.
	admitted, opened := false, false
	defer func() {
		if opened {
			return
		}
		if admitted {
			o.Connections.abort()
		}
		if count != nil {
			count.release()
		}
	}()
	var slot *handshakeSlot
	if slots != nil {
		slot = slots.enter(nc)
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(nc)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()

	r, err := handshake.ReadRequest(br, o.MaxHeaderBytes)
	// The slot is for the wait for the request, the part a client
	// controls; what follows takes no round trip. A handshake cut short
	// while its request arrived is cut short all the same, so that
	// leaving the slot and the cut cannot race with clearing the deadline.
	if !slots.leave(slot) {
		nc.Close()
		return nil, r, errCutShort
	}
	if err != nil {
		return nil, nil, refuse(nc, err)
	}
	if r.RemoteAddr == "" {
		r.RemoteAddr = nc.RemoteAddr().String()
	}
	if admitted = o.Connections.begin(); !admitted {
		refuse(nc, shuttingDown())
		return nil, r, ErrShuttingDown
	}
	a, he := o.negotiate(r)
	if he != nil {
		return nil, r, refuse(nc, he)
	}
	if err := handshake.WriteResponse(nc, a.key, a.protocol, a.extensions); err != nil {
		a.release()
		nc.Close()
		return nil, r, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		a.release()
		nc.Close()
		return nil, r, fmt.Errorf("server: %w", err)
	}
	opened = true
	c, err := o.open(nc, &a, takeBuffered(br), count)
	return c, r, err
}

// refuse answers a failed raw handshake, when the failure is the request's
// fault, and closes nc.
func refuse(nc net.Conn, err error) error {
	var he *handshake.Error
	if errors.As(err, &he) {
		var buf [512]byte
		nc.Write(handshake.AppendErrorResponse(buf[:0], he)) // best effort: the connection is closed next
	}
	nc.Close()
	return err
}

// Handler handles one WebSocket connection accepted by Serve. r is the
// handshake request; ctx is the context given to Serve. The handler owns c
// and should close it before returning.
type Handler func(ctx context.Context, c *conn.Conn, r *http.Request)

// Serve accepts TCP (or any stream) connections on ln, runs the raw
// handshake of Upgrade on each in its own goroutine and calls handle, on a
// fresh goroutine with a small stack, with every connection that
// completes it. Failed handshakes are answered and closed without calling
// handle.
//
// Serve bounds what hostile or merely numerous clients can make it hold
// (see AcceptOptions): the handshakes waiting for their request
// (MaxHandshakes, 1024 by default: past it the oldest is cut short), each
// for at most HandshakeTimeout (10 s) and MaxHeaderBytes (8 KiB), and the
// open connections (MaxConnections, from the process's descriptor limit
// by default: past it a new connection is answered 503 and closed).
//
// Serve returns when ln fails permanently, when ctx is done, or when
// opts.Connections.Shutdown begins; it then closes ln, cuts short the
// handshakes still waiting for their request and waits for every handle
// call it started to return, so handlers should watch ctx and end when
// their Conn does. The error is ctx.Err() when ctx ended it,
// ErrShuttingDown when Shutdown did, otherwise the error from ln.Accept.
// A temporary accept error (such as running out of file descriptors) is
// retried with a backoff of up to one second.
//
// To stop gracefully, call opts.Connections.Shutdown: it stops Serve's
// accept loop, sends 1001 Going Away to every connection and waits for
// their close handshakes; then cancel ctx. Cancelling ctx alone stops
// accepting and leaves the connections to the handlers.
func Serve(ctx context.Context, ln net.Listener, opts *AcceptOptions, handle Handler) error {
	o := opts.withDefaults()
	slots := &handshakeSlots{max: o.MaxHandshakes}
	if slots.max == 0 {
		slots.max = DefaultMaxHandshakes
	}
	count := &connCount{max: int64(o.MaxConnections)}
	if count.max == 0 {
		count.max = int64(DefaultMaxConnections())
	}

	var shutdown atomic.Bool
	stopOnCtx := context.AfterFunc(ctx, func() { ln.Close() })
	defer stopOnCtx()
	stopped := o.Connections.stoppedChan()
	quit := make(chan struct{})
	defer close(quit)
	if stopped != nil {
		go func() {
			select {
			case <-stopped:
				shutdown.Store(true)
				ln.Close()
			case <-quit:
			}
		}()
	}
	defer ln.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer slots.closeAll() // before waiting: cut short what is in progress
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if shutdown.Load() {
				return ErrShuttingDown
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return ctx.Err()
				case <-stopped:
					return ErrShuttingDown
				}
			}
			return err
		}
		backoff = 0
		if !count.acquire() {
			refuseBusy(nc)
			continue
		}
		if err := nc.SetDeadline(o.deadline()); err != nil {
			nc.Close()
			count.release()
			continue
		}
		wg.Go(func() {
			c, r, err := o.upgrade(nc, slots, count)
			if err != nil {
				return // upgrade has closed nc and released its count
			}
			if ctx.Err() != nil {
				c.CloseNow() // Serve is ending: no new handler
				return
			}
			// The handler gets a goroutine of its own: this one's stack
			// grew through the handshake, and a connection that then
			// idles for hours should not keep it.
			wg.Go(func() { handle(ctx, c, r) })
		})
	}
}

// refuseBusy answers a connection over MaxConnections with 503 and closes
// it. The answer is written before the request is read, into the socket's
// empty send buffer, so it cannot block the accept loop; a client whose
// request had already arrived may see a reset rather than the answer.
func refuseBusy(nc net.Conn) {
	var buf [256]byte
	nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	nc.Write(handshake.AppendErrorResponse(buf[:0], &handshake.Error{
		Status:  http.StatusServiceUnavailable,
		Message: "too many connections",
	}))
	nc.Close()
}
