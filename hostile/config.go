package hostile

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

// Config is what the attacks need to know about the server under test and
// how strictly to judge it. NewConfig fills in the defaults, which are what
// a protected server should meet; a test run against a server started with
// short timeouts passes short bounds.
type Config struct {
	// Addr is the server's host:port, Host its Host header value and
	// Path the request target, all taken from the ws:// URL.
	Addr, Host, Path string

	// PID, when positive, is the server's process ID on this machine.
	// Memory and descriptor checks read /proc/PID; without it they are
	// reported as SKIP.
	PID int

	// Release bounds the time from a protocol violation to the server
	// closing TCP (RFC 6455 §7.1.7: fail the connection).
	Release time.Duration
	// Stall bounds the time a server may keep a peer that never reads.
	Stall time.Duration
	// HandshakeTimeout bounds the time a server may wait for a request.
	HandshakeTimeout time.Duration
	// ProbeTimeout bounds each fresh handshake-and-echo that checks the
	// server is still serving, and each wait for an HTTP answer.
	ProbeTimeout time.Duration
	// Settle bounds the wait for descriptors to return to their baseline.
	Settle time.Duration

	// Slow is the number of slow-handshake connections held at once.
	Slow int
	// Idle is the number of idle connections, held for IdleTime.
	Idle     int
	IdleTime time.Duration
	// Churn is the number of connect/close cycles; Resets the number of
	// connections reset in the middle of a frame.
	Churn, Resets int
	// Fragments is the most continuation frames the fragment flood sends.
	Fragments int

	// ReadLimit is the server's largest accepted message, in bytes; the
	// read-limit flood sends messages just under it and the decompression
	// bomb inflates to more than it.
	ReadLimit int64
	// FloodConns is the number of connections of the read-limit flood.
	FloodConns int
	// LimitFactor bounds the peak RSS growth per read-limit flood
	// connection, as a multiple of ReadLimit.
	LimitFactor float64
	// RSSBound bounds the RSS growth the ping flood may cause.
	RSSBound int64

	// Progress receives a line as each attack starts and ends, and one at
	// least every 5 s while an attack runs; nil for none.
	Progress io.Writer
}

// Bounds on the counts, to keep a mistyped flag from exhausting the
// machine running the tool.
const (
	maxSlow  = 5000
	maxIdle  = 15000
	maxChurn = 100000
)

// NewConfig returns the configuration for the server at a ws:// URL, with
// the defaults.
func NewConfig(rawURL string) (*Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("hostile: URL scheme %q: only ws:// is supported", u.Scheme)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	return &Config{
		Addr: addr, Host: u.Host, Path: path,
		Release:          2 * time.Second,
		Stall:            75 * time.Second,
		HandshakeTimeout: 15 * time.Second,
		ProbeTimeout:     5 * time.Second,
		Settle:           5 * time.Second,
		Slow:             200,
		Idle:             2000,
		IdleTime:         10 * time.Second,
		Churn:            1000,
		Resets:           200,
		Fragments:        5_000_000,
		ReadLimit:        32 << 20,
		FloodConns:       4,
		LimitFactor:      2,
		RSSBound:         64 << 20,
	}, nil
}

// Check reports a configuration the tool refuses to run with.
func (c *Config) Check() error {
	switch {
	case c.Slow < 1 || c.Slow > maxSlow:
		return fmt.Errorf("hostile: slow connections %d, want 1..%d", c.Slow, maxSlow)
	case c.Idle < 1 || c.Idle > maxIdle:
		return fmt.Errorf("hostile: idle connections %d, want 1..%d", c.Idle, maxIdle)
	case c.Churn < 1 || c.Churn > maxChurn || c.Resets < 1 || c.Resets > maxChurn:
		return fmt.Errorf("hostile: churn %d / resets %d, want 1..%d", c.Churn, c.Resets, maxChurn)
	case c.Fragments < 1 || c.Fragments > 50_000_000:
		return fmt.Errorf("hostile: fragments %d, want 1..50000000", c.Fragments)
	case c.ReadLimit < 1024 || c.ReadLimit > 1<<30:
		return fmt.Errorf("hostile: read limit %d, want 1 KiB..1 GiB", c.ReadLimit)
	case c.FloodConns < 1 || c.FloodConns > 64:
		return fmt.Errorf("hostile: flood connections %d, want 1..64", c.FloodConns)
	case !fdsAvailable(c.Idle + c.Slow + 64):
		return fmt.Errorf("hostile: %d idle and %d slow connections need more descriptors than RLIMIT_NOFILE allows this process (ulimit -n)", c.Idle, c.Slow)
	case c.PID > 0 && !procReadable(c.PID):
		return fmt.Errorf("hostile: cannot read /proc/%d/status and /proc/%d/fd: -pid needs the server's process on this machine, readable by this user", c.PID, c.PID)
	case c.Release <= 0 || c.Stall <= 0 || c.HandshakeTimeout <= 0 || c.ProbeTimeout <= 0 || c.Settle <= 0 || c.IdleTime <= 0:
		return fmt.Errorf("hostile: durations must be positive")
	}
	return nil
}

func (c *Config) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}
