package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rfc6455/ws/bench/internal/load"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// startPinned starts cmd with its CPU affinity set to cpu (< 0: no
// pinning). A child inherits the affinity of the thread that forks it, so
// the fork happens on a locked OS thread pinned first. That thread must
// outlive the child, because Pdeathsig (which keeps children from
// outliving compare) fires when the forking thread exits: it stays parked
// until release is called, after the child has been waited for, and is
// then thrown away (its goroutine exits still locked).
func startPinned(cmd *exec.Cmd, cpu int) (release func(), err error) {
	if cpu < 0 {
		return func() {}, cmd.Start()
	}
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("pinning to CPU %d: %w", cpu, err)
			return
		}
		errc <- cmd.Start()
		<-done
	}()
	if err := <-errc; err != nil {
		close(done)
		return nil, err
	}
	return func() { close(done) }, nil
}

// server is a running echo server process.
type server struct {
	lib     string
	cmd     *exec.Cmd
	addr    string
	log     bytes.Buffer
	release func()
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts bin on a free loopback port and waits until it
// accepts connections.
func startServer(lib, bin string, cpu int, extra ...string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{lib: lib, addr: addr}
	s.cmd = exec.Command(bin, append([]string{"-addr", addr}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive compare
	if s.release, err = startPinned(s.cmd, cpu); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s server did not start: %v\n%s", lib, err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) url() string { return "ws://" + s.addr + "/" }

// stop ends the server: SIGTERM, then SIGKILL after 3 s.
func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.release()
}

// procSample is what /proc says about a process at one moment.
type procSample struct {
	cpu    time.Duration // utime + stime
	rssKiB int64
	syscr  int64 // read system calls
	syscw  int64 // write system calls
	wchar  int64 // bytes passed to write system calls (sockets included)
}

func sample(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 22 {
		return s, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.cpu = time.Duration(ut+st) * clockTick
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				s.rssKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, l := range strings.Split(string(io), "\n") {
			if v, ok := strings.CutPrefix(l, "syscr: "); ok {
				s.syscr, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(l, "syscw: "); ok {
				s.syscw, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(l, "wchar: "); ok {
				s.wchar, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return s, nil
}

// benchRun is one wsbench run against one server with the server's
// accounting over the measurement window.
type benchRun struct {
	rep          *load.Report
	serverCPU    time.Duration
	serverReads  int64
	serverWrites int64
	serverOut    int64 // bytes the server wrote (wchar), frames and all
	retrans      int64 // TCP segments retransmitted machine-wide in the window
}

// tcpRetrans returns the machine's count of retransmitted TCP segments
// (RetransSegs in /proc/net/snmp): on loopback, retransmissions mean
// drops, which stall a connection for at least the 200 ms minimum RTO.
func tcpRetrans() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var head []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "Tcp:") {
			continue
		}
		f := strings.Fields(l)
		if head == nil {
			head = f
			continue
		}
		for i, h := range head {
			if h == "RetransSegs" && i < len(f) {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				return n
			}
		}
	}
	return 0
}

// runWsbench runs wsbench pinned to cpu with args (plus -json) against
// srv and samples the server at the measurement window's edges.
func runWsbench(ctx context.Context, bin string, cpu int, srv *server, args ...string) (*benchRun, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"-json", "-url", srv.url()}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	release, err := startPinned(cmd, cpu)
	if err != nil {
		return nil, err
	}
	defer release()
	pid := srv.cmd.Process.Pid
	var s0, s1 procSample
	var r0, r1 int64
	run := &benchRun{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev struct{ Event string }
		if json.Unmarshal(line, &ev) == nil && ev.Event != "" {
			switch ev.Event {
			case "measure_start":
				s0, _ = sample(pid)
				r0 = tcpRetrans()
			case "measure_end":
				s1, _ = sample(pid)
				r1 = tcpRetrans()
			}
			continue
		}
		var rep load.Report
		if err := json.Unmarshal(line, &rep); err == nil {
			run.rep = &rep
		}
	}
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if run.rep == nil {
		return nil, fmt.Errorf("wsbench %s: %v: %s", strings.Join(args, " "), werr, stderr.String())
	}
	run.serverCPU = s1.cpu - s0.cpu
	run.serverReads = s1.syscr - s0.syscr
	run.serverWrites = s1.syscw - s0.syscw
	run.serverOut = s1.wchar - s0.wchar
	run.retrans = r1 - r0
	return run, nil
}

// idleRun opens n idle connections to srv with wsbench (with args added,
// -compress for instance) and returns the server's resident memory before
// and once they are all open, with what wsbench reported.
func idleRun(ctx context.Context, bin string, cpu int, srv *server, n, sources int, settle time.Duration, args ...string) (idleResult, error) {
	m := idleResult{n: n}
	pid := srv.cmd.Process.Pid
	s0, err := sample(pid)
	if err != nil {
		return m, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-json", "-idle", "-url", srv.url(), "-c", strconv.Itoa(n),
		"-sources", strconv.Itoa(sources), "-d", "0"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return m, err
	}
	release, err := startPinned(cmd, cpu)
	if err != nil {
		return m, err
	}
	defer release()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var s1 procSample
	ready := false
	for sc.Scan() {
		var ev struct{ Event string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "ready" {
			ready = true
			time.Sleep(settle)
			s1, _ = sample(pid)
			cmd.Process.Signal(os.Interrupt)
			continue
		}
		var rep load.Report
		if json.Unmarshal(sc.Bytes(), &rep) == nil && rep.Config.Mode == "idle" {
			m.connected = rep.Connected
			m.warm = rep.Config.IdleWarm
			m.echoes = rep.Messages
			m.errors = rep.Errors
			if c := rep.Compression; c != nil {
				m.offer, m.ext = c.Offer, c.Extension
				m.compressed = c.CompressedReplies
			}
		}
	}
	cmd.Wait()
	if !ready {
		return m, fmt.Errorf("idle run of %d connections never became ready: %s", n, stderr.String())
	}
	m.before, m.after = s0.rssKiB, s1.rssKiB
	return m, nil
}
