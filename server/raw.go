package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
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
// (431 beyond it), applies the same checks as Accept, writes the 101
// response and returns the connection together with the request (for its
// path, query and header fields). The whole exchange must finish within
// opts.HandshakeTimeout.
//
// When the handshake fails, Upgrade answers with an HTTP error response if
// the client sent something to answer, closes nc and returns the error: a
// *handshake.Error for a refused request, or the read or write error.
// Upgrade owns nc either way.
func Upgrade(nc net.Conn, opts *AcceptOptions) (*conn.Conn, *http.Request, error) {
	o := opts.withDefaults()
	return o.upgrade(nc)
}

func (o *AcceptOptions) upgrade(nc net.Conn) (*conn.Conn, *http.Request, error) {
	if err := nc.SetDeadline(o.deadline()); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(nc)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()

	r, err := handshake.ReadRequest(br, o.MaxHeaderBytes)
	if err != nil {
		return nil, nil, refuse(nc, err)
	}
	if r.RemoteAddr == "" {
		r.RemoteAddr = nc.RemoteAddr().String()
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
	c := conn.New(nc, conn.Setup{
		Role:        conn.Server,
		Subprotocol: a.protocol,
		Extension:   a.ext,
		Buffered:    takeBuffered(br),
		Options:     o.Conn,
	})
	return c, r, nil
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
// completes it. Failed handshakes are answered and
// closed without calling handle.
//
// Serve returns when ln fails permanently or ctx is done; it then closes
// ln, interrupts handshakes still in progress and waits for every handle
// call it started to return, so handlers should watch ctx. The error is
// ctx.Err() when ctx ended it, otherwise the error from ln.Accept. A
// temporary accept error (such as running out of file descriptors) is
// retried with a backoff of up to one second.
func Serve(ctx context.Context, ln net.Listener, opts *AcceptOptions, handle Handler) error {
	o := opts.withDefaults()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return err
		}
		backoff = 0
		wg.Go(func() {
			// A handshake in progress when ctx ends is cut short.
			interrupt := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
			c, r, err := o.upgrade(nc)
			if !interrupt() && err == nil {
				c.CloseNow()
				return
			}
			if err != nil {
				return
			}
			// The handler gets a goroutine of its own: this one's stack
			// grew through the handshake, and a connection that then
			// idles for hours should not keep it.
			wg.Go(func() { handle(ctx, c, r) })
		})
	}
}
