// Command h2cost measures what carrying WebSockets over HTTP/2 (RFC 8441)
// costs our server, against HTTP/1.1: the server's CPU time per echoed
// message and its memory per idle WebSocket, with one WebSocket per TCP
// connection and with many (-share, 100 by default) on one.
//
//	go run ./cmd/h2cost            # from bench/; builds ../examples/echo
//
// The server is examples/echo with -h2 (HTTP/1.1 and HTTP/2 with prior
// knowledge on one port, restarted with GODEBUG=http2xconnect=1), a
// process of its own, started afresh for each row; its CPU time is read
// from /proc/<pid>/stat (10 ms ticks) around the echo phase, its resident
// memory from /proc/<pid>/status (VmRSS) before the idle WebSockets are
// opened and once they have been quiet for -settle, and its Go heap is
// not seen (RSS is what a host pays). The clients run in this process,
// with this project's client: -sockets WebSockets echo -messages
// messages of -size bytes in all, each waiting for its echo before the
// next (no pipelining), then -idle WebSockets are opened, each echoes one
// message, and all stay open, quiet.
//
// Rows: h1 (HTTP/1.1, one WebSocket per TCP connection), h2/1 (HTTP/2,
// one WebSocket per TCP connection: a pool per WebSocket), h2/N (HTTP/2,
// N WebSockets per TCP connection: a pool per N).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
)

func main() {
	echoBin := flag.String("echo", "", "examples/echo binary (default: built from ../examples/echo into a temporary directory)")
	sockets := flag.Int("sockets", 100, "WebSockets echoing at once")
	messages := flag.Int("messages", 100000, "messages echoed in all, per row")
	size := flag.Int("size", 1024, "message size in bytes (binary)")
	idle := flag.Int("idle", 1000, "idle WebSockets opened for the memory figure")
	share := flag.Int("share", 100, "WebSockets per TCP connection in the h2/N row")
	settle := flag.Duration("settle", 3*time.Second, "quiet time before the idle memory is read")
	flag.Parse()
	if err := run(*echoBin, *sockets, *messages, *size, *idle, *share, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "h2cost:", err)
		os.Exit(1)
	}
}

type row struct {
	name   string
	http2  bool
	perTCP int // WebSockets per TCP connection (HTTP/2 only)
}

func run(echoBin string, sockets, messages, size, idle, share int, settle time.Duration) error {
	if echoBin == "" {
		dir, err := os.MkdirTemp("", "h2cost")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		echoBin = filepath.Join(dir, "echo")
		build := exec.Command("go", "build", "-o", echoBin, "./examples/echo")
		build.Dir = ".."
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building examples/echo: %w", err)
		}
	}
	rows := []row{{"h1", false, 1}, {"h2/1", true, 1}, {fmt.Sprintf("h2/%d", share), true, share}}
	fmt.Printf("%d WebSockets echo %d messages of %d B in all; then %d idle WebSockets (one message each first), read after %v quiet.\n\n",
		sockets, messages, size, idle, settle)
	fmt.Println("| row | TCP conns (echo / idle) | server CPU per message | server RSS per idle WebSocket |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		res, err := measure(echoBin, r, sockets, messages, size, idle, settle)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		fmt.Printf("| %s | %d / %d | %.1f µs | %.1f KiB |\n", r.name, res.echoTCP, res.idleTCP,
			float64(res.cpu.Microseconds())/float64(messages), float64(res.rssPerIdle)/1024)
	}
	return nil
}

type result struct {
	cpu              time.Duration
	rssPerIdle       int64
	echoTCP, idleTCP int
}

func measure(echoBin string, r row, sockets, messages, size, idle int, settle time.Duration) (result, error) {
	var res result
	cmd := exec.Command(echoBin, "-addr", "127.0.0.1:0", "-h2")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	sc := bufio.NewScanner(stderr)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "echo: serving on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		return res, fmt.Errorf("the echo server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	// The process that serves is the one that printed: with -h2, echo
	// restarts itself (exec, same pid) before it listens.
	pid := cmd.Process.Pid

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dialer := newDialer(r)
	defer dialer.close()

	// Echo phase.
	conns, err := dialer.dialN(ctx, url, sockets)
	if err != nil {
		return res, err
	}
	res.echoTCP = dialer.tcp
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i)
	}
	before, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	if err := echoAll(ctx, conns, msg, messages); err != nil {
		return res, err
	}
	after, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	res.cpu = after - before
	for _, c := range conns {
		c.Close(conn.StatusNormalClosure, "")
	}
	dialer.close()

	// Idle phase, with a fresh dialer: its own connections.
	time.Sleep(settle)
	base, err := rss(pid)
	if err != nil {
		return res, err
	}
	idler := newDialer(r)
	defer idler.close()
	idleConns, err := idler.dialN(ctx, url, idle)
	if err != nil {
		return res, err
	}
	res.idleTCP = idler.tcp
	if err := echoAll(ctx, idleConns, msg, len(idleConns)); err != nil {
		return res, err
	}
	time.Sleep(settle)
	held, err := rss(pid)
	if err != nil {
		return res, err
	}
	res.rssPerIdle = (held - base) / int64(idle)
	for _, c := range idleConns {
		c.CloseNow()
	}
	return res, nil
}

// dialer opens WebSockets as a row says: HTTP/1.1, or HTTP/2 with a pool
// per perTCP WebSockets.
type dialer struct {
	r     row
	pools []*client.HTTP2Pool
	n     int
	tcp   int
}

func newDialer(r row) *dialer { return &dialer{r: r} }

func (d *dialer) options() *client.DialOptions {
	o := &client.DialOptions{Proxy: client.NoProxy, Conn: &conn.Options{}}
	if !d.r.http2 {
		d.tcp++
		return o
	}
	if d.n%d.r.perTCP == 0 {
		d.pools = append(d.pools, client.NewHTTP2Pool(nil))
		d.tcp++
	}
	d.n++
	o.HTTP2, o.HTTP2Pool = client.HTTP2Require, d.pools[len(d.pools)-1]
	return o
}

// dialN opens n WebSockets, one after the other (so that each pool's
// first dial has its connection before the next arrives).
func (d *dialer) dialN(ctx context.Context, url string, n int) ([]*conn.Conn, error) {
	var out []*conn.Conn
	for range n {
		c, _, err := client.Dial(ctx, url, d.options())
		if err != nil {
			for _, c := range out {
				c.CloseNow()
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (d *dialer) close() {
	for _, p := range d.pools {
		p.CloseIdleConnections()
	}
}

// echoAll has the WebSockets echo total messages between them, each
// waiting for its echo before it sends again.
func echoAll(ctx context.Context, conns []*conn.Conn, msg []byte, total int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	for i, c := range conns {
		n := total / len(conns)
		if i < total%len(conns) {
			n++
		}
		wg.Go(func() {
			var buf []byte
			for range n {
				if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
					errs <- err
					return
				}
				var err error
				if _, buf, err = c.ReadMessage(ctx, buf[:0]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// cpuTime returns the user and system CPU time of process pid.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// rss returns the resident set size of process pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
