package hostile

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procStat is what /proc/PID tells about the server process (Linux).
type procStat struct {
	rss, hwm int64 // VmRSS and VmHWM (peak RSS), bytes
	threads  int
	fds      int // entries in /proc/PID/fd
}

// readProc reads /proc/pid/status and counts /proc/pid/fd.
func readProc(pid int) (procStat, error) {
	var st procStat
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			st.rss = n << 10 // the kernel reports kB
		case "VmHWM":
			st.hwm = n << 10
		case "Threads":
			st.threads = int(n)
		}
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	d, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return st, err
	}
	st.fds = len(d)
	return st, nil
}

// procReadable reports whether readProc works for pid.
func procReadable(pid int) bool {
	_, err := readProc(pid)
	return err == nil
}

// fdSlack is how many descriptors above its baseline a server may hold
// once an attack is over and Settle has passed: a listener re-armed, a
// poller, a log file. Leaking one per connection shows up as hundreds.
const fdSlack = 5

// settleFDs waits up to c.Settle for the server's descriptors to come back
// to at most baseline+fdSlack, and returns the last count and whether it
// did.
func (c *Config) settleFDs(baseline int) (procStat, bool, error) {
	deadline := time.Now().Add(c.Settle)
	for {
		st, err := readProc(c.PID)
		if err != nil {
			return st, false, err
		}
		if st.fds <= baseline+fdSlack {
			return st, true, nil
		}
		if time.Now().After(deadline) {
			return st, false, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rssSampler records the server's peak and last RSS while an attack runs.
type rssSampler struct {
	pid        int
	base, peak int64
	samples    []int64
	stop, done chan struct{}
}

// sampleRSS starts sampling the RSS of pid every period; the baseline is
// the first sample. It returns nil when pid is 0 or cannot be read.
func sampleRSS(pid int, period time.Duration) *rssSampler {
	if pid <= 0 {
		return nil
	}
	st, err := readProc(pid)
	if err != nil {
		return nil
	}
	s := &rssSampler{pid: pid, base: st.rss, peak: st.rss, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if st, err := readProc(pid); err == nil {
					s.samples = append(s.samples, st.rss)
					s.peak = max(s.peak, st.rss)
				}
			}
		}
	}()
	return s
}

// finish stops sampling; the fields may then be read.
func (s *rssSampler) finish() {
	close(s.stop)
	<-s.done
}
