// Package peers holds, for each WebSocket library under comparison, an echo
// endpoint and an echo client written the way that library's documentation
// recommends, so that the go test benchmarks, the echo servers started by
// cmd/compare and the tests all exercise one implementation per library.
//
// Every endpoint echoes each message with its type (opcode). Where a
// library offers several APIs, the fastest one it documents for ordinary
// use is chosen and named in a comment; no endpoint reaches into a
// library's internals.
package peers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// DialFunc opens the transport connection of a client.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Client is one echo client connection.
type Client interface {
	// Echo sends p as one message, text when text is set, and returns the
	// echo, read into a buffer the client reuses: valid until the next
	// call.
	Echo(ctx context.Context, text bool, p []byte) ([]byte, error)
	Close() error
}

// Options select how an endpoint or a client runs.
type Options struct {
	// Compress enables permessage-deflate (RFC 7692) the way the library
	// recommends (Lib.Compression says how): the endpoint accepts offers
	// and the client makes one. Whether a reply is compressed is the
	// library's choice: several leave small messages uncompressed.
	Compress bool
}

// Lib describes one library.
type Lib struct {
	Name string
	// Serve runs the library's recommended echo server on ln until ln is
	// closed.
	Serve func(ln net.Listener, o Options) error
	// ServeConn runs the opening handshake and the echo loop on nc, which
	// it owns, and returns when the connection ends. The benchmarks use it
	// over net.Pipe.
	ServeConn func(nc net.Conn, o Options)
	// Dial opens a client connection to url through dial.
	Dial func(ctx context.Context, url string, dial DialFunc, o Options) (Client, error)
	// ValidatesUTF8 and Reassembles tell whether the echo endpoint, as
	// configured here, checks text messages for UTF-8 (RFC 6455 §8.1) and
	// reads whole messages before echoing them: the work a fair comparison
	// must keep in view.
	ValidatesUTF8 bool
	Reassembles   bool
	// API names the API the endpoint uses; Compression, how it enables
	// permessage-deflate with Options.Compress.
	API         string
	Compression string
	// ServerOnly marks a library measured only as a server by cmd/compare
	// (throughput, CPU, idle memory): it has no ServeConn over net.Pipe
	// and no client of its own (Dial is ours), so Names, which the go
	// test grids iterate over, leaves it out; Get finds it.
	ServerOnly bool
}

// MaxMessage is the read limit configured on every library that has one,
// equal to our default (conn.DefaultReadLimit).
const MaxMessage = 32 << 20

var libs = map[string]Lib{}

func register(l Lib) { libs[l.Name] = l }

// Names lists the libraries, ours first.
func Names() []string {
	names := make([]string, 0, len(libs))
	for n, l := range libs {
		if n != "ours" && !l.ServerOnly {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{"ours"}, names...)
}

// ServerOnlyNames lists the libraries marked ServerOnly, sorted.
func ServerOnlyNames() []string {
	var names []string
	for n, l := range libs {
		if l.ServerOnly {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Get returns the library called name.
func Get(name string) (Lib, error) {
	l, ok := libs[name]
	if !ok {
		return Lib{}, fmt.Errorf("peers: unknown library %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return l, nil
}

// serveHTTP serves h on ln with the timeouts a test server needs.
func serveHTTP(ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ServeHTTPConn reads one HTTP request from nc and hands it to h with a
// ResponseWriter that can be hijacked, so a net/http handler can run on a
// connection that no http.Server accepted (net.Pipe in the benchmarks).
func ServeHTTPConn(nc net.Conn, h http.Handler) {
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		nc.Close()
		return
	}
	req.RemoteAddr = nc.RemoteAddr().String()
	w := &hijackWriter{nc: nc, brw: bufio.NewReadWriter(br, bufio.NewWriter(nc)), h: http.Header{}}
	h.ServeHTTP(w, req)
	if !w.hijacked {
		w.brw.Flush()
		nc.Close()
	}
}

type hijackWriter struct {
	nc          net.Conn
	brw         *bufio.ReadWriter
	h           http.Header
	wroteHeader bool
	hijacked    bool
}

func (w *hijackWriter) Header() http.Header { return w.h }

func (w *hijackWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = code >= 200
	fmt.Fprintf(w.brw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	w.h.Write(w.brw)
	w.brw.WriteString("\r\n")
	w.brw.Flush()
}

func (w *hijackWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.brw.Write(p)
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return w.nc, w.brw, nil
}

// ReadAll appends everything r yields until io.EOF to buf and returns the
// extended slice; it allocates only when buf must grow.
func ReadAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// hostOf returns the host:port of a ws:// or wss:// URL.
func hostOf(url string) string {
	s := url
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}
