package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// releaseDeadline is how long a test waits for the server to let go of a
// connection it should drop at once: far above the milliseconds it takes,
// far below the handshake and close timeouts a broken behaviour would
// wait for.
const releaseDeadline = 2 * time.Second

// serverMode is one way of serving WebSocket connections: through
// net/http with Accept, or on a listener with Serve.
type serverMode struct {
	name string
	// start serves the echo endpoint (package internal/echo, any Origin)
	// with opts on a loopback address until the test ends, and returns
	// the address.
	start func(t *testing.T, opts *server.AcceptOptions) string
}

var serverModes = []serverMode{
	{"Accept", func(t *testing.T, opts *server.AcceptOptions) string {
		s := httptest.NewServer(echo.Handler(opts))
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}},
	{"Serve", func(t *testing.T, opts *server.AcceptOptions) string {
		addr, _ := startServe(t, opts)
		return addr
	}},
}

// startServe runs Serve with the echo handler on a loopback listener
// until the test ends, and returns its address and a function that waits
// (up to testTimeout) for Serve to return and returns its error.
func startServe(t *testing.T, opts *server.AcceptOptions) (addr string, served func() error) {
	t.Helper()
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = server.Serve(ctx, ln, withAnyOrigin(opts), echo.ServeConn)
	}()
	served = func() error {
		select {
		case <-done:
			return err
		case <-time.After(testTimeout):
			t.Fatal("Serve did not return")
			return nil
		}
	}
	t.Cleanup(func() {
		cancel()
		served()
	})
	return ln.Addr().String(), served
}

func withAnyOrigin(opts *server.AcceptOptions) *server.AcceptOptions {
	var o server.AcceptOptions
	if opts != nil {
		o = *opts
	}
	o.Origin.AllowAll = true
	return &o
}

// dialRaw opens a TCP connection to addr with a deadline for the whole
// test exchange, closed when the test ends.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testTimeout))
	return nc
}

// awaitEOF reads from br until the server closes the connection and
// returns how long that took; it fails the test if the server sends
// anything else, or holds the connection past releaseDeadline.
func awaitEOF(t *testing.T, nc net.Conn, br *bufio.Reader) time.Duration {
	t.Helper()
	start := time.Now()
	nc.SetReadDeadline(start.Add(releaseDeadline))
	n, err := io.Copy(io.Discard, br)
	d := time.Since(start)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server still holds the connection after %v", releaseDeadline)
	case err != nil && !isReset(err):
		t.Fatalf("waiting for the server to close: %v", err)
	case n > 0:
		t.Errorf("the server sent %d more bytes before closing", n)
	}
	return d
}

// isReset reports whether err is a connection reset: what a client sees
// when the server closes with bytes of the client's still unread, which
// counts as closing.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// readStatus reads the response to a request sent on nc.
func readStatus(t *testing.T, br *bufio.Reader) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp
}
