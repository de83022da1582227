package hostile

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// parallel runs f(i) for i in [0, n) on workers goroutines and returns
// how many calls returned an error, and the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) (int, error) {
	var (
		next, failed atomic.Int64
		mu           sync.Mutex
		first        error
		wg           sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					failed.Add(1)
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return int(failed.Load()), first
}

// afterLoad judges an attack that leaves no connection behind: the
// server must still serve a fresh echo and, with a PID, its descriptors
// must come back to the baseline within c.Settle.
func (c *Config) afterLoad(ctx context.Context, what string, base procStat, haveBase bool, start time.Time) outcome {
	obs := what
	fdsOK, checked := true, false
	var release time.Duration = -1
	if haveBase {
		st, ok, err := c.settleFDs(base.fds)
		switch {
		case err != nil:
			obs += "; /proc: " + err.Error()
			fdsOK = false
		default:
			checked, fdsOK = true, ok
			release = time.Since(start)
			obs += fmt.Sprintf("; server fds %d -> %d (threads %d -> %d)", base.fds, st.fds, base.threads, st.threads)
			if !ok {
				obs += fmt.Sprintf(", not back to baseline+%d within %s", fdSlack, ms(c.Settle))
				release = -1
			}
		}
	}
	probe, probeOK := c.probeNote(ctx)
	obs += "; " + probe
	switch {
	case !probeOK || !fdsOK:
		return fail(obs, release)
	case !checked:
		return skip(obs + "; descriptors not checked (no -pid)")
	}
	return pass(obs, release)
}

func (c *Config) baseline() (procStat, bool) {
	if c.PID <= 0 {
		return procStat{}, false
	}
	st, err := readProc(c.PID)
	return st, err == nil
}

// resetsMidFrame opens c.Resets connections, sends half of a 1000-byte
// frame on each and resets it (RST): the server must release each one.
func resetsMidFrame(ctx context.Context, c *Config) outcome {
	base, haveBase := c.baseline()
	failed, first := parallel(ctx, c.Resets, 8, func(int) error {
		s, err := c.open(ctx, "")
		if err != nil {
			return err
		}
		half := wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpBinary, Masked: true, Key: wire.NewMaskKey(), Length: 1000})
		half = append(half, make([]byte, 500)...)
		s.nc.SetWriteDeadline(time.Now().Add(c.ProbeTimeout))
		s.nc.Write(half)
		s.reset()
		return nil
	})
	start := time.Now()
	what := fmt.Sprintf("%d resets", c.Resets-failed)
	if failed > 0 {
		o := c.afterLoad(ctx, what, base, haveBase, start)
		return fail(fmt.Sprintf("%d of %d handshakes failed (%v); %s", failed, c.Resets, first, o.observed), o.release)
	}
	return c.afterLoad(ctx, what, base, haveBase, start)
}

// connectChurn makes c.Churn connect/close cycles: one in ten closes
// before the handshake, the others complete it and leave without a close
// frame, alternately with a FIN and an RST.
func connectChurn(ctx context.Context, c *Config) outcome {
	base, haveBase := c.baseline()
	failed, first := parallel(ctx, c.Churn, 8, func(i int) error {
		if i%10 == 0 {
			nc, err := c.dial(ctx)
			if err != nil {
				return err
			}
			nc.Write([]byte("GET / HT")) // a request cut short
			return nc.Close()
		}
		s, err := c.open(ctx, "")
		if err != nil {
			return err
		}
		if i%2 == 0 {
			s.reset()
		} else {
			s.nc.Close()
		}
		return nil
	})
	start := time.Now()
	o := c.afterLoad(ctx, fmt.Sprintf("%d cycles", c.Churn), base, haveBase, start)
	if failed > 0 {
		return fail(fmt.Sprintf("%d of %d cycles failed (%v); %s", failed, c.Churn, first, o.observed), o.release)
	}
	return o
}

// idleConn is one connection of the idle attack, answering pings.
type idleConn struct {
	s       *session
	wmu     sync.Mutex
	dropped atomic.Bool
	echoed  chan string
}

func (ic *idleConn) write(b []byte) error {
	ic.wmu.Lock()
	defer ic.wmu.Unlock()
	ic.s.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := ic.s.nc.Write(b)
	return err
}

// readLoop answers pings with pongs (RFC 6455 §5.5.3) and hands text
// messages to echoed until the connection ends.
func (ic *idleConn) readLoop() {
	for {
		f, err := ic.s.fr.ReadFrame()
		if err != nil {
			ic.dropped.Store(true)
			close(ic.echoed)
			return
		}
		switch f.Opcode {
		case wire.OpPing:
			ic.write(wire.ClientFrame(nil, wire.OpPong, true, 0, f.Payload))
		case wire.OpClose:
			ic.dropped.Store(true)
		case wire.OpText:
			select {
			case ic.echoed <- string(f.Payload):
			default:
			}
		}
	}
}

// idleConnections holds c.Idle connections for c.IdleTime; they answer
// pings and send nothing else. None may be dropped: a server's keepalive
// and timeouts must not cut a live, quiet peer. At the end each one must
// echo a message. With a PID, the RSS per connection is reported.
func idleConnections(ctx context.Context, c *Config) outcome {
	base, haveBase := c.baseline()
	conns := make([]*idleConn, c.Idle)
	var mu sync.Mutex
	failed, first := parallel(ctx, c.Idle, 32, func(i int) error {
		s, err := c.open(ctx, "")
		if err != nil {
			return err
		}
		ic := &idleConn{s: s, echoed: make(chan string, 1)}
		mu.Lock()
		conns[i] = ic
		mu.Unlock()
		go ic.readLoop()
		return nil
	})
	defer func() {
		for _, ic := range conns {
			if ic != nil {
				ic.write(wire.ClientFrame(nil, wire.OpClose, true, 0, wire.ClosePayload(1000, "")))
				ic.s.nc.Close()
			}
		}
	}()
	metrics := map[string]float64{}
	var memNote string
	if haveBase && failed < c.Idle {
		time.Sleep(500 * time.Millisecond) // let the server finish setting up the last ones
		if st, err := readProc(c.PID); err == nil {
			n := float64(c.Idle - failed)
			perConn := float64(st.rss-base.rss) / n
			metrics["fds_per_conn"] = float64(st.fds-base.fds) / n
			if perConn >= 0 {
				metrics["rss_per_conn_kib"] = perConn / 1024
				memNote = fmt.Sprintf("; server RSS %.1f KiB per connection (%s -> %s), %d fds", perConn/1024, mib(base.rss), mib(st.rss), st.fds)
			} else {
				// The server gave back memory of earlier attacks meanwhile.
				memNote = fmt.Sprintf("; server RSS fell (%s -> %s): per-connection cost not measurable, %d fds", mib(base.rss), mib(st.rss), st.fds)
			}
		}
	}
	time.Sleep(c.IdleTime)
	dropped := 0
	for _, ic := range conns {
		if ic != nil && ic.dropped.Load() {
			dropped++
		}
	}
	// Each survivor must still echo.
	var wg sync.WaitGroup
	var silentN atomic.Int64
	for i, ic := range conns {
		if ic == nil || ic.dropped.Load() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprintf("idle %d", i)
			if ic.write(wire.ClientFrame(nil, wire.OpText, true, 0, []byte(msg))) != nil {
				silentN.Add(1)
				return
			}
			select {
			case got, ok := <-ic.echoed:
				if !ok || got != msg {
					silentN.Add(1)
				}
			case <-time.After(c.ProbeTimeout):
				silentN.Add(1)
			}
		}()
	}
	wg.Wait()
	silent := int(silentN.Load())
	obs := fmt.Sprintf("%d connected, %d dropped during %s, %d did not echo after%s", c.Idle-failed, dropped, ms(c.IdleTime), silent, memNote)
	if failed > 0 {
		obs = fmt.Sprintf("%d of %d could not connect (%v); %s", failed, c.Idle, first, obs)
	}
	o := pass(obs, -1)
	if failed > 0 || dropped > 0 || silent > 0 {
		o = fail(obs, -1)
	} else if !haveBase {
		o.observed += "; memory not measured (no -pid)"
	}
	o.metrics = metrics
	return o
}

// readLimitFlood opens c.FloodConns connections that each send one
// binary message just under the server's read limit (1 KiB less) at the
// same time, and read the echoes. The server's peak RSS growth per
// connection must stay within c.LimitFactor times the limit: holding a
// message costs its size, not a multiple of it.
func readLimitFlood(ctx context.Context, c *Config) outcome {
	if c.PID <= 0 {
		return skip("memory not checked (no -pid)")
	}
	size := uint64(c.ReadLimit - 1024)
	rss := sampleRSS(c.PID, 20*time.Millisecond)
	if rss == nil {
		return fail("cannot read /proc/"+fmt.Sprint(c.PID), -1)
	}
	failed, first := parallel(ctx, c.FloodConns, c.FloodConns, func(int) error {
		s, err := c.open(ctx, "")
		if err != nil {
			return err
		}
		defer s.reset()
		s.nc.SetDeadline(time.Now().Add(c.Stall))
		go func() {
			key := wire.NewMaskKey()
			s.nc.Write(wire.AppendHeader(nil, wire.Header{Fin: true, Opcode: wire.OpBinary, Masked: true, Key: key, Length: size}))
			chunk := make([]byte, 1<<20)
			for pos := uint64(0); pos < size; {
				n := min(uint64(len(chunk)), size-pos)
				clear(chunk)
				wire.Mask(key, pos, chunk[:n])
				if _, err := s.nc.Write(chunk[:n]); err != nil {
					return
				}
				pos += n
			}
		}()
		for {
			f, err := s.fr.ReadFrame()
			if err != nil {
				return fmt.Errorf("no echo: %w", err)
			}
			switch f.Opcode {
			case wire.OpClose:
				code, _, _ := wire.ParseClose(f.Payload)
				return fmt.Errorf("server closed with %d instead of echoing (is -read-limit above the server's?)", code)
			case wire.OpBinary, wire.OpContinuation:
				if f.Fin {
					return nil
				}
			}
		}
	})
	rss.finish()
	growth := rss.peak - rss.base
	perConn := growth / int64(c.FloodConns)
	over := perConn - c.ReadLimit
	metrics := map[string]float64{
		"rss_growth_mib":          float64(growth) / (1 << 20),
		"per_conn_mib":            float64(perConn) / (1 << 20),
		"per_conn_over_limit_mib": float64(over) / (1 << 20),
	}
	obs := fmt.Sprintf("%d messages of %s: peak RSS growth %s, %s per connection (%s over the limit)",
		c.FloodConns, mib(int64(size)), mib(growth), mib(perConn), mib(over))
	if st, err := readProc(c.PID); err == nil {
		// VmHWM is the peak of the process's life, which the 20 ms
		// samples may have missed; it includes earlier attacks.
		metrics["vm_hwm_mib"] = float64(st.hwm) / (1 << 20)
		obs += ", VmHWM " + mib(st.hwm)
	}
	o := pass(obs, -1)
	if failed > 0 {
		o = fail(fmt.Sprintf("%d of %d failed (%v); %s", failed, c.FloodConns, first, obs), -1)
	} else if float64(perConn) > c.LimitFactor*float64(c.ReadLimit) {
		o = fail(obs+fmt.Sprintf(", over %.1f x the limit", c.LimitFactor), -1)
	}
	o.metrics = metrics
	return o
}
