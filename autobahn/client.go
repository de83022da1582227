package autobahn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

// UserAgent is what the suite calls itself in handshakes.
const UserAgent = "AutobahnTestSuite-Go/1.0 (github.com/rfc6455/ws/autobahn)"

// DefaultWatchdog is the suite's hard limit on one case run, beyond the
// case's own waits (the longest is 1000 s in section 9.5).
const DefaultWatchdog = 20 * time.Minute

// Client runs the suite as a client against testee servers (the
// original's fuzzingclient mode).
type Client struct {
	Spec *Spec
	Set  *cases.Set
	// Parallel is how many cases run at once against one server; section 9
	// (performance) always runs one case at a time, after the others.
	Parallel int
	// Progress is told of each case done; nil for none.
	Progress Progress
	// Watchdog bounds one case run; 0 means DefaultWatchdog.
	Watchdog time.Duration
	// DialTimeout bounds the TCP (and TLS) connect; 0 means 5 s.
	DialTimeout time.Duration
	// Cache shares compressed messages and checked echoes between the
	// cases of sections 12 and 13 (engine.Cache); nil gives each Run a
	// cache of engine.DefaultCacheBudget. Share one between a Client and
	// a Server of the same run to share the work between them.
	Cache *engine.Cache

	// HTTP2 runs every case as a WebSocket over HTTP/2 (RFC 8441): an
	// extended CONNECT stream, cleartext with prior knowledge for ws://
	// and TLS with ALPN for wss://, the cases sharing connections (see
	// h2.go).
	HTTP2 bool

	h2 h2ClientTransport
}

type wsURL struct {
	secure   bool
	host     string // as in the Host header (IPv6 in brackets)
	dialHost string
	port     int
	resource string
}

func parseWSURL(s string) (wsURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return wsURL{}, err
	}
	var w wsURL
	switch u.Scheme {
	case "ws":
		w.port = 80
	case "wss":
		w.secure, w.port = true, 443
	default:
		return w, fmt.Errorf("%s: scheme must be ws or wss", s)
	}
	if u.Fragment != "" {
		return w, fmt.Errorf("%s: fragment not allowed", s)
	}
	w.dialHost = u.Hostname()
	w.host = w.dialHost
	if strings.Contains(w.host, ":") {
		w.host = "[" + w.host + "]"
	}
	if p := u.Port(); p != "" {
		if w.port, err = strconv.Atoi(p); err != nil {
			return w, err
		}
	}
	w.resource = u.EscapedPath()
	if w.resource == "" {
		w.resource = "/"
	}
	if u.RawQuery != "" {
		w.resource += "?" + u.RawQuery
	}
	return w, nil
}

// Run runs the selected cases against every server in the spec and adds
// their results to results. A server that cannot be reached is given up
// with an error, as in the original; the other servers still run.
func (c *Client) Run(ctx context.Context, results *Results) error {
	ids, err := c.Spec.SelectCases(c.Set)
	if err != nil {
		return err
	}
	excluded, err := c.Spec.agentExcluder()
	if err != nil {
		return err
	}
	cache := c.Cache
	if cache == nil {
		cache = engine.NewCache(0)
	}
	var errs []error
	total := len(ids) * len(c.Spec.Servers)
	var done atomic.Int64
	for _, srv := range c.Spec.Servers {
		if err := c.runServer(ctx, srv, ids, excluded, cache, results, &done, total); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", srv.URL, err))
		}
	}
	if c.Progress != nil {
		c.Progress.Done()
	}
	return errors.Join(errs...)
}

func (c *Client) runServer(ctx context.Context, srv ServerSpec, ids []string, excluded func(string, string) bool,
	cache *engine.Cache, results *Results, done *atomic.Int64, total int) error {
	u, err := parseWSURL(srv.URL)
	if err != nil {
		return err
	}
	opts, err := options(c.Spec.Options, srv.Options)
	if err != nil {
		return err
	}
	var parallel, serial []string
	for _, id := range ids {
		if srv.Agent != "" && excluded(srv.Agent, id) {
			done.Add(1)
			continue
		}
		if c.Set.ByID(id).Section() == "9" {
			serial = append(serial, id)
		} else {
			parallel = append(parallel, id)
		}
	}
	// Like the original, a server that refuses a connection is given up:
	// its remaining cases are not run.
	var firstErr error
	var unreachable atomic.Bool
	var errOnce sync.Once
	run := func(id string) {
		if ctx.Err() == nil && !unreachable.Load() {
			if err := c.runCase(ctx, srv, u, opts, id, excluded, cache, results); err != nil {
				unreachable.Store(true)
				errOnce.Do(func() { firstErr = err })
			}
		}
		n := done.Add(1)
		if c.Progress != nil {
			c.Progress.Progress(int(n), total, id, srv.URL)
		}
	}
	p := max(c.Parallel, 1)
	work := make(chan string)
	var wg sync.WaitGroup
	for range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				run(id)
			}
		}()
	}
	for _, id := range parallel {
		work <- id
	}
	close(work)
	wg.Wait()
	for _, id := range serial {
		run(id)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

func (c *Client) dialTimeout() time.Duration {
	if c.DialTimeout == 0 {
		return 5 * time.Second
	}
	return c.DialTimeout
}

func (c *Client) dial(ctx context.Context, srv ServerSpec, u wsURL) (net.Conn, error) {
	d := net.Dialer{Timeout: c.dialTimeout()}
	addr := net.JoinHostPort(u.dialHost, strconv.Itoa(u.port))
	if !u.secure {
		return d.DialContext(ctx, "tcp", addr)
	}
	name := srv.Hostname
	if name == "" {
		name = u.dialHost
	}
	// Like the original, the suite does not verify the testee's
	// certificate: it tests WebSocket, not the PKI.
	td := tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}}
	return td.DialContext(ctx, "tcp", addr)
}

func (c *Client) runCase(ctx context.Context, srv ServerSpec, u wsURL, opts engine.Options, id string,
	excluded func(string, string) bool, cache *engine.Cache, results *Results) error {
	// With many cases starting at once a busy testee can refuse a
	// connection now and then; try a few times before giving up on it.
	var conn net.Conn
	var err error
	for attempt := range 3 {
		if c.HTTP2 {
			conn = newH2ClientConn(c.h2.get(c.dialTimeout()), u)
			break
		}
		if conn, err = c.dial(ctx, srv, u); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	wd := c.Watchdog
	if wd == 0 {
		wd = DefaultWatchdog
	}
	runSession(conn, engine.Config{
		IsServer:  false,
		Options:   opts,
		Case:      c.Set.ByID(id),
		CaseIndex: c.Set.Index(id),
		Agent:     srv.Agent,
		Host:      u.host,
		Port:      u.port,
		Resource:  u.resource,
		Origin:    srv.Origin,
		Protocols: srv.Protocols,
		UserAgent: UserAgent,
		Skip:      excluded,
		Done:      results.Add,
		Cache:     cache,
	}, wd)
	return nil
}

// Progress reports cases as they finish.
type Progress interface {
	Progress(done, total int, id, testee string)
	Done()
}

// LineProgress writes progress to W: on a terminal, one line rewritten in
// place with the cases done, the time elapsed and an estimate of the time
// left; otherwise a plain line at least every Interval (default 5 s) while
// cases run, even when none finishes (a section 9 case can take minutes),
// and one when the last case is done. The clock starts at the first case
// reported.
type LineProgress struct {
	W        io.Writer
	Terminal bool
	Interval time.Duration

	mu          sync.Mutex
	start, last time.Time // first report; last line written
	done, total int
	id, testee  string
	ticker      *time.Ticker
	stop        chan struct{}
}

// Progress reports that done of total cases have finished, id last.
func (p *LineProgress) Progress(done, total int, id, testee string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
		p.stop = make(chan struct{})
		p.ticker = time.NewTicker(p.interval())
		go p.heartbeat(p.ticker, p.stop)
	}
	p.done, p.total, p.id, p.testee = done, total, id, testee
	if p.Terminal || done == total || now.Sub(p.last) >= p.interval() {
		p.writeLocked(now)
	}
}

func (p *LineProgress) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	return 5 * time.Second
}

// heartbeat writes the current line when nothing has been written for an
// interval, so that a long case never leaves the output silent.
func (p *LineProgress) heartbeat(t *time.Ticker, stop chan struct{}) {
	for {
		select {
		case now := <-t.C:
			p.mu.Lock()
			if now.Sub(p.last) >= p.interval() || p.Terminal {
				p.writeLocked(now)
			}
			p.mu.Unlock()
		case <-stop:
			return
		}
	}
}

// writeLocked writes the progress line. The caller holds p.mu.
func (p *LineProgress) writeLocked(now time.Time) {
	p.last = now
	elapsed := now.Sub(p.start)
	left := "?"
	if p.done > 0 {
		left = (elapsed / time.Duration(p.done) * time.Duration(p.total-p.done)).Round(time.Second).String()
	}
	line := fmt.Sprintf("[%d/%d] %s elapsed, ~%s left; last %s %s", p.done, p.total, elapsed.Round(time.Second), left, p.id, p.testee)
	if p.Terminal {
		fmt.Fprintf(p.W, "\r%s\033[K", line)
		return
	}
	fmt.Fprintln(p.W, line)
}

// Done ends the progress output.
func (p *LineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ticker != nil {
		p.ticker.Stop()
		close(p.stop)
		p.ticker, p.start = nil, time.Time{}
	}
	if p.Terminal {
		fmt.Fprintln(p.W)
	}
}
