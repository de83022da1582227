package event

import (
	"sync"

	"github.com/rfc6455/ws/conn"
)

// Callbacks run on a bounded pool of workers. A connection with jobs is in
// the pool's queue at most once (scheduled), and one worker at a time runs
// its jobs, in order: that is what keeps one connection's callbacks in
// order without a goroutine per connection. The queue holds connections,
// not jobs, so it never holds more entries than there are connections,
// and the loops never wait for it.

type jobKind uint8

const (
	jobOpen jobKind = iota
	jobMessage
	jobClose
	jobFail      // fail the connection with err (after the callbacks before it)
	jobPeerClose // answer the peer's close with reply
)

type job struct {
	kind  jobKind
	typ   jobType
	data  *[]byte // jobMessage: the message, from the buffer pools
	err   error   // jobFail
	reply conn.StatusCode
	next  *job
}

// jobType is conn.MessageType, named here to keep job's imports small.
type jobType = messageType

// jobQueue is a connection's pending callbacks, a list of pooled nodes
// (an idle connection holds none).
type jobQueue struct{ head, tail *job }

var jobPool = sync.Pool{New: func() any { return new(job) }}

// append adds n at the end of q.
func (q *jobQueue) append(n *job) {
	if q.tail == nil {
		q.head = n
	} else {
		q.tail.next = n
	}
	q.tail = n
}

// push queues a callback for c and schedules c on the pool.
func (c *Conn) push(j job) {
	n := jobPool.Get().(*job)
	*n = j
	c.pushAll(jobQueue{n, n})
}

// pushAll queues the callbacks of q for c, with one lock, and schedules c
// on the pool.
func (c *Conn) pushAll(q jobQueue) {
	c.mu.Lock()
	if c.jobs.tail == nil {
		c.jobs.head = q.head
	} else {
		c.jobs.tail.next = q.head
	}
	c.jobs.tail = q.tail
	for n := q.head; n != nil; n = n.next {
		if n.data != nil {
			c.pendingIn += len(*n.data)
		}
	}
	if c.pendingIn > c.s.set.maxPendingInput && !c.paused && c.fd >= 0 {
		c.paused = true // the worker resumes reading once it catches up
		c.l.modify(c)
	}
	schedule := !c.scheduled
	c.scheduled = true
	c.mu.Unlock()
	if schedule {
		c.s.pool.submit(c)
	}
}

// runJobs runs c's callbacks until none are left, taking all that are
// queued with one lock each time.
func (c *Conn) runJobs() {
	h := &c.s.h
	for {
		c.mu.Lock()
		j := c.jobs.head
		if j == nil {
			c.scheduled = false
			c.endBatchLocked()
			c.mu.Unlock()
			return
		}
		c.jobs = jobQueue{}
		c.batching = true
		var why error
		for n := j; n != nil; n = n.next {
			if n.data != nil {
				c.pendingIn -= len(*n.data)
			}
			if n.kind == jobClose {
				why = c.why
			}
		}
		if c.paused && c.pendingIn <= c.s.set.maxPendingInput/2 {
			c.paused = false
			c.l.modify(c)
		}
		c.mu.Unlock()
		for j != nil {
			next := j.next
			c.run(h, j, why)
			*j = job{}
			jobPool.Put(j)
			j = next
		}
	}
}

// run runs one callback.
func (c *Conn) run(h *Handler, j *job, why error) {
	switch j.kind {
	case jobOpen:
		if h.OnOpen != nil {
			h.OnOpen(c)
		}
	case jobMessage:
		if h.OnMessage != nil {
			h.OnMessage(c, j.typ, *j.data)
		}
		putBuf(j.data)
	case jobClose:
		if h.OnClose != nil {
			h.OnClose(c, why)
		}
	case jobFail:
		c.mu.Lock()
		c.failLocked(j.err)
		c.mu.Unlock()
	case jobPeerClose:
		c.mu.Lock()
		if !c.closeSent.Load() {
			c.sendCloseLocked(j.reply, "", c.s.set.closeTimeout)
		}
		if len(c.out) == 0 {
			c.shutdownLocked() // the server closes TCP first (RFC 6455 §7.1.1)
		}
		c.mu.Unlock()
	}
}

// pool is the bounded set of goroutines that run callbacks.
type pool struct {
	mu      sync.Mutex
	cond    sync.Cond
	queue   []*Conn
	head    int
	stopped bool
	wg      sync.WaitGroup
}

func newPool(workers int) *pool {
	p := &pool{}
	p.cond.L = &p.mu
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *pool) submit(c *Conn) {
	p.mu.Lock()
	p.queue = append(p.queue, c)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *pool) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for p.head == len(p.queue) && !p.stopped {
			p.cond.Wait()
		}
		if p.head == len(p.queue) {
			p.mu.Unlock()
			return
		}
		c := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.head == len(p.queue) {
			p.queue, p.head = p.queue[:0], 0
		}
		p.mu.Unlock()
		c.runJobs()
	}
}

// stop lets the workers finish the queue and waits for them.
func (p *pool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
}
