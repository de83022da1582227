package h2stream

import (
	"io"
	"sync"
)

// Pipe is the client's outgoing half: the request body that net/http's
// HTTP/2 transport reads and sends as DATA frames. Write hands its slice
// to the transport without copying and returns once the transport has
// taken all of it (into its own buffers; HTTP/2 flow control then holds
// the transport, not Write), so a Write blocks no longer than the
// transport's own writes. Unlike io.Pipe, a blocked Write can be aborted
// (Abort) without breaking the pipe: the bytes the transport has not
// taken are withdrawn, and the next Write starts afresh.
type Pipe struct {
	mu       sync.Mutex
	pending  []byte // the current Write's bytes not yet taken
	aborted  bool   // Abort withdrew pending
	wclosed  bool   // CloseWrite: the reader gets io.EOF
	rclosed  bool   // Close: the transport is done with the body
	offered  chan struct{}
	taken    chan struct{}
	abort    chan struct{}
	done     chan struct{} // closed by Close
	doneOnce sync.Once
}

// NewPipe returns an empty Pipe.
func NewPipe() *Pipe {
	return &Pipe{
		offered: make(chan struct{}, 1),
		taken:   make(chan struct{}, 1),
		abort:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// Write offers p to the reader and waits until it has taken all of it, or
// Abort (ErrAborted) or the reader's Close (io.ErrClosedPipe) ends the
// wait; it then returns the count taken.
func (p *Pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.wclosed || p.rclosed {
		p.mu.Unlock()
		return 0, io.ErrClosedPipe
	}
	if len(b) == 0 {
		p.mu.Unlock()
		return 0, nil
	}
	p.pending = b
	p.aborted = false
	p.mu.Unlock()
	notify(p.offered)
	for {
		select {
		case <-p.taken:
		case <-p.abort:
		case <-p.done:
		}
		p.mu.Lock()
		left := len(p.pending)
		switch {
		case left == 0:
			p.pending = nil
			p.mu.Unlock()
			return len(b), nil
		case p.aborted:
			p.pending, p.aborted = nil, false
			p.mu.Unlock()
			return len(b) - left, ErrAborted
		case p.rclosed:
			p.pending = nil
			p.mu.Unlock()
			return len(b) - left, io.ErrClosedPipe
		}
		p.mu.Unlock()
	}
}

// ErrAborted is the error of a Pipe.Write ended by Abort.
var ErrAborted = abortedError{}

type abortedError struct{}

func (abortedError) Error() string { return "h2stream: write aborted" }

// Abort ends a Write in progress, if any, withdrawing what the reader has
// not taken.
func (p *Pipe) Abort() {
	p.mu.Lock()
	if p.pending != nil {
		p.aborted = true
	}
	p.mu.Unlock()
	notify(p.abort)
}

// CloseWrite ends the body: once the reader has taken what a Write in
// progress offered, it reads io.EOF (the transport sends END_STREAM).
func (p *Pipe) CloseWrite() {
	p.mu.Lock()
	p.wclosed = true
	p.mu.Unlock()
	notify(p.offered)
}

// Read is the transport's side: it takes the bytes of the Write in
// progress, waiting for one.
func (p *Pipe) Read(b []byte) (int, error) {
	for {
		p.mu.Lock()
		if len(p.pending) > 0 && !p.aborted {
			n := copy(b, p.pending)
			p.pending = p.pending[n:]
			emptied := len(p.pending) == 0
			p.mu.Unlock()
			if emptied {
				notify(p.taken)
			}
			return n, nil
		}
		switch {
		case p.rclosed:
			p.mu.Unlock()
			return 0, io.ErrClosedPipe
		case p.wclosed:
			p.mu.Unlock()
			return 0, io.EOF
		}
		p.mu.Unlock()
		if len(b) == 0 {
			return 0, nil
		}
		select {
		case <-p.offered:
		case <-p.done:
		}
	}
}

// Close is called by the transport when it is done with the body; a
// Write in progress returns io.ErrClosedPipe.
func (p *Pipe) Close() error {
	p.mu.Lock()
	p.rclosed = true
	p.mu.Unlock()
	p.doneOnce.Do(func() { close(p.done) })
	return nil
}

// Done is closed when the reader has closed the pipe: the transport has
// sent the body's end, or given up on the stream.
func (p *Pipe) Done() <-chan struct{} { return p.done }
