package load

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
)

// Kinds of error, counted separately in the report.
type errKind int

const (
	errDial        errKind = iota // TCP connect failed
	errHandshake                  // TLS or WebSocket handshake failed
	errNegotiation                // the server declined or mis-answered the permessage-deflate offer
	errWrite                      // writing to the connection failed
	errRead                       // reading failed, or the server closed TCP
	errProtocol                   // a reply broke RFC 6455 (masked, bad header)
	errMismatch                   // an echo of the wrong type or length (decompressed length if compressed)
	errInflate                    // a compressed echo that is not valid DEFLATE data
	errServerClose                // the server sent a close frame
	errDrain                      // echoes still missing after DrainTimeout
	errWarmTimeout                // idle mode: warm-up echoes still missing after warmUpTimeout
	numKinds
)

var kindNames = [numKinds]string{"dial", "handshake", "negotiation", "write", "read", "protocol", "mismatch", "inflate", "server_close", "drain_timeout", "warmup_timeout"}

func (k errKind) String() string { return kindNames[k] }

type runError struct {
	kind errKind
	err  error
}

func (e *runError) Error() string { return e.kind.String() + ": " + e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// errorCounts counts errors by kind and keeps the first of each kind as an
// example.
type errorCounts struct {
	n     [numKinds]atomic.Uint64
	first [numKinds]atomic.Pointer[string]
}

func (c *errorCounts) add(err error) {
	k := errRead
	var re *runError
	if errors.As(err, &re) {
		k = re.kind
	}
	c.n[k].Add(1)
	s := err.Error()
	c.first[k].CompareAndSwap(nil, &s)
}

func (c *errorCounts) total() uint64 {
	var t uint64
	for i := range c.n {
		t += c.n[i].Load()
	}
	return t
}

func (c *errorCounts) snapshot() (map[string]uint64, map[string]string) {
	m := map[string]uint64{}
	ex := map[string]string{}
	for k := range numKinds {
		if n := c.n[k].Load(); n > 0 {
			m[k.String()] = n
			if p := c.first[k].Load(); p != nil {
				ex[k.String()] = *p
			}
		}
	}
	return m, ex
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

var (
	errMaskedReply  = errors.New("reply frame is masked or has RSV bits set that no extension allows")
	errDeclined     = errors.New("server declined permessage-deflate")
	errClosed       = errors.New("server sent a close frame")
	errWrongType    = errors.New("echo of the wrong type or out of sequence")
	errWrongLength  = errors.New("echo of the wrong length")
	errUnsolicited  = errors.New("echo with no message in flight")
	errDrainTimeout = errors.New("echoes still in flight at the end")
	errWarmUp       = errors.New("warm-up echoes still missing")
)
