// Command compare measures every library's echo server with wsbench and
// writes a markdown report with SVG charts.
//
//	go run ./cmd/compare            # full run, about 20 minutes
//	go run ./cmd/compare -quick     # about 3 minutes, smaller N, one repeat
//
// It builds wsbench and one echo server per library (ours is
// examples/echo from the root module; the others are servers/<lib>),
// starts each server as its own process pinned to one CPU, and drives it
// with wsbench pinned to another. For every scenario (message size ×
// connections × pipeline depth) and library it records, over the same
// measurement window:
//
//   - messages/s echoed (closed loop);
//   - server CPU time per message, from the utime+stime of
//     /proc/<pid>/stat, and the server's read and write system calls per
//     message, from /proc/<pid>/io;
//   - latency percentiles;
//   - wsbench's own CPU use, to tell whether it had headroom.
//
// The same measurements are repeated with compression on, for text
// messages (-compress-sizes × -compress-conns × -compress-depths): every
// server is restarted with permessage-deflate enabled as its library
// recommends (ours: examples/echo -compress; the others: servers/<lib>
// -compress), and wsbench offers it (-compress) and inflates and checks
// every reply; the report gives what each server negotiated.
//
// It then measures p99 latency at a fixed rate (open loop), memory per
// idle connection (RSS difference over N connections, a fresh server per
// measurement) with compression off and then on (servers started with
// -compress; wsbench -idle -compress, each connection exchanging one
// compressed 1 KiB text message before going quiet, so that state a
// library allocates on the first message is counted), and CPU profiles of
// our server and of the gobwas frame-level echo under a pipelined load.
// Every figure comes from the same invocation; with -repeats > 1 the
// report gives min/median/max.
//
// Progress goes to stderr: a line as each of the N measurements starts
// ("[i/N] ours: 16 B × 100 conns × depth 16") and, while it runs, its time
// so far, the time elapsed and an estimate of what is left (the mean of
// the steps done so far times those to come), rewritten in place every
// second on a terminal and as a plain line every 4 s otherwise, so that a
// log never goes quiet for more than 5 s. The last line names the report
// and the chart directory.
//
// Everything runs on loopback, every child process is killed when compare
// exits (Pdeathsig), and each wsbench run is bounded in time.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/ws/bench/internal/load"
	"github.com/rfc6455/ws/bench/internal/peers"
)

type options struct {
	quick         bool
	out, chartDir string
	libs          []string
	sizes         []int
	conns         []int
	depths        []int
	// Compression-on scenarios (text messages).
	compressSizes  []int
	compressConns  []int
	compressDepths []int
	duration       time.Duration
	warmup         time.Duration
	repeats        int
	rateConns      int
	rates          map[int]float64 // fixed rate per size for the p99 runs
	idleN          []int
	idleCompress   bool // also measure idle memory with compression on
	profile        bool
	maxInFlight    int64 // skip scenarios with more payload bytes in flight
	serverCPU      int
	clientCPU      int
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "short run (about 3 minutes): short windows, one repeat, small N, 1 and 100 connections, report in results/QUICK.md")
	flag.StringVar(&o.out, "out", "RESULTS.md", "markdown report to write (-quick: results/QUICK.md)")
	flag.StringVar(&o.chartDir, "charts", "charts", "directory for the SVG charts, relative to the report unless absolute")
	libs := flag.String("libs", strings.Join(append(peers.Names(), peers.ServerOnlyNames()...), ","), "libraries to compare, ours first")
	sizes := flag.String("sizes", "16,1024,65536", "message sizes in bytes")
	conns := flag.String("conns", "1,100,1000", "connection counts")
	depths := flag.String("depths", "1,16", "pipeline depths")
	csizes := flag.String("compress-sizes", "1024,65536", "message sizes of the compression-on scenarios (text); empty for none")
	cconns := flag.String("compress-conns", "1,100", "connection counts of the compression-on scenarios")
	cdepths := flag.String("compress-depths", "1,16", "pipeline depths of the compression-on scenarios")
	flag.DurationVar(&o.duration, "d", 3*time.Second, "measurement window per run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up per run")
	flag.IntVar(&o.repeats, "repeats", 3, "runs per scenario and library")
	flag.IntVar(&o.rateConns, "rate-conns", 100, "connections for the fixed-rate latency runs")
	rates := flag.String("rates", "16:10000,1024:10000,65536:1000", "size:msgs/s of the fixed-rate latency runs")
	idle := flag.String("idle", "10000,50000", "idle connection counts for memory per connection")
	flag.BoolVar(&o.idleCompress, "idle-compress", true, "measure memory per idle connection with compression on too")
	flag.BoolVar(&o.profile, "profile", true, "CPU-profile our server and the gobwas echo under a pipelined load")
	flag.IntVar(&o.serverCPU, "server-cpu", -1, "CPU for the servers (default: the last one)")
	flag.IntVar(&o.clientCPU, "client-cpu", -1, "CPU for wsbench (default: the first one)")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("d", func() { o.duration = 500 * time.Millisecond })
		def("warmup", func() { o.warmup = 200 * time.Millisecond })
		def("repeats", func() { o.repeats = 1 })
		def("idle", func() { *idle = "2000" })
		// 1,000 connections take the longest to open and measure; the
		// full run has them.
		def("conns", func() { *conns = "1,100" })
		def("compress-depths", func() { *cdepths = "16" })
		// A quick run never replaces the full report checked in as
		// RESULTS.md: it goes to results/ (not committed).
		def("out", func() { o.out = filepath.Join("results", "QUICK.md") })
	}
	o.libs = strings.Split(*libs, ",")
	if o.libs[0] != "ours" {
		log.Fatal("compare: -libs must start with ours (ratios are to ours)")
	}
	o.sizes, o.conns, o.depths, o.idleN = ints(*sizes), ints(*conns), ints(*depths), ints(*idle)
	o.compressSizes, o.compressConns, o.compressDepths = ints(*csizes), ints(*cconns), ints(*cdepths)
	o.rates = map[int]float64{}
	for _, kv := range strings.Split(*rates, ",") {
		k, v, _ := strings.Cut(kv, ":")
		n, _ := strconv.Atoi(k)
		r, _ := strconv.ParseFloat(v, 64)
		o.rates[n] = r
	}
	o.maxInFlight = 256 << 20
	if n := runtime.NumCPU(); n >= 2 {
		if o.serverCPU < 0 {
			o.serverCPU = n - 1
		}
		if o.clientCPU < 0 {
			o.clientCPU = 0
		}
	} else {
		log.Print("compare: one CPU: servers and wsbench cannot be pinned apart")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &o); err != nil {
		log.Fatal("compare: ", err)
	}
}

func ints(s string) []int {
	var v []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil {
				log.Fatalf("compare: bad number %q", f)
			}
			v = append(v, n)
		}
	}
	return v
}

// scenario is one closed-loop configuration. Compression-on scenarios send
// text messages; the others binary.
type scenario struct {
	size, conns, depth int
	compress           bool
}

func (s scenario) String() string {
	c := ""
	if s.compress {
		c = ", text, compressed"
	}
	return fmt.Sprintf("%s × %d conns × depth %d%s", sizeName(s.size), s.conns, s.depth, c)
}

// scenarios lists the closed-loop scenarios of one message size, with
// compression on or off, in report order.
func (o *options) scenarios(size int, compress bool) []scenario {
	conns, depths := o.conns, o.depths
	if compress {
		conns, depths = o.compressConns, o.compressDepths
	}
	var v []scenario
	for _, c := range conns {
		for _, d := range depths {
			v = append(v, scenario{size, c, d, compress})
		}
	}
	return v
}

// closedScenarios lists the closed-loop scenarios with compression on or
// off, and the reasons of those skipped.
func (o *options) closedScenarios(compress bool) (run []scenario, skipped []string) {
	for _, size := range o.sizesOf(compress) {
		for _, sc := range o.scenarios(size, compress) {
			if inFlight := int64(sc.size) * int64(sc.conns) * int64(sc.depth); inFlight > o.maxInFlight {
				skipped = append(skipped, fmt.Sprintf("%s: %d MiB of payload in flight each way would exceed what loopback socket buffers hold; skipped", sc, inFlight>>20))
				continue
			}
			run = append(run, sc)
		}
	}
	return run, skipped
}

// idleCounts returns the idle connection counts this machine's open-file
// limit allows, and the reasons of those skipped.
func (o *options) idleCounts() (run []int, skipped []string) {
	limit := load.FileLimit()
	for _, n := range o.idleN {
		if uint64(n)+200 > limit {
			skipped = append(skipped, fmt.Sprintf("%d connections: the open-file limit here is %d (hard limit, not raisable without privilege), and the server and wsbench each need one descriptor per connection", n, limit))
			continue
		}
		run = append(run, n)
	}
	return run, skipped
}

// profiledLibs are the servers CPU-profiled under a pipelined load.
var profiledLibs = []string{"ours", "gobwas"}

// steps counts the measurements run will make, for its progress lines:
// closed-loop runs, fixed-rate runs, idle-memory runs and profiles.
func (o *options) steps() int {
	off, _ := o.closedScenarios(false)
	n := o.repeats * len(off) * len(o.libs)
	if len(o.compressSizes) > 0 {
		on, _ := o.closedScenarios(true)
		n += o.repeats * len(on) * len(o.libs)
	}
	for _, size := range o.sizes {
		if _, ok := o.rates[size]; ok {
			n += o.repeats * len(o.libs)
		}
	}
	idleN, _ := o.idleCounts()
	n += len(idleN) * len(o.idleLibs(false))
	if o.idleCompress {
		n += len(idleN) * len(o.idleLibs(true))
	}
	if o.profile {
		n += len(profiledLibs)
	}
	return n
}

// sizesOf returns the message sizes of the scenarios with compression on
// or off.
func (o *options) sizesOf(compress bool) []int {
	if compress {
		return o.compressSizes
	}
	return o.sizes
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// results gathers every measurement of the invocation.
type results struct {
	o        *options
	machine  machine
	started  time.Time
	elapsed  time.Duration
	bins     map[string]string
	closed   map[scenario]map[string][]*benchRun
	skipped  []string
	rate     map[int]map[string][]*benchRun
	idle     map[int]map[string]idleResult // compression off
	idleZ    map[int]map[string]idleResult // compression on
	idleSkip []string
	profiles map[string]string
	failures []string
	progress *tracker
}

// idleRuns returns the idle-memory measurements with compression on or off.
func (r *results) idleRuns(compress bool) map[int]map[string]idleResult {
	if compress {
		return r.idleZ
	}
	return r.idle
}

type idleResult struct {
	before, after int64 // KiB
	n, connected  int
	// With compression on: wsbench's offer, the server's
	// permessage-deflate answer, the warm-up messages each connection
	// exchanged, and how many of their echoes came back compressed.
	offer, ext         string
	warm               int
	echoes, compressed uint64
	errors             map[string]uint64 // wsbench's, by kind
}

// perConn returns the server's RSS growth per connection, in KiB.
func (m idleResult) perConn() float64 { return float64(m.after-m.before) / float64(m.n) }

func run(ctx context.Context, o *options) error {
	res := &results{o: o, started: time.Now(), machine: describeMachine(),
		closed: map[scenario]map[string][]*benchRun{}, rate: map[int]map[string][]*benchRun{},
		idle: map[int]map[string]idleResult{}, idleZ: map[int]map[string]idleResult{}, profiles: map[string]string{}}
	dir, err := os.MkdirTemp("", "ws-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Every step runs a wsbench bounded by warm-up and window, plus about
	// a second to connect and to start and stop its server.
	res.progress = newTracker(os.Stderr, isTerminal(os.Stderr), progressEvery, o.steps(), o.warmup+o.duration+time.Second)
	defer res.progress.close()
	end := res.progress.task("building wsbench and %d servers in %s", len(o.libs), dir)
	res.bins, err = build(dir, o.libs)
	end()
	if err != nil {
		return err
	}

	// Closed-loop throughput, all servers up, libraries interleaved.
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	startAll := func(extra ...string) error {
		for _, lib := range o.libs {
			s, err := startServer(lib, res.bins[lib], o.serverCPU, extra...)
			if err != nil {
				return err
			}
			servers[lib] = s
		}
		return nil
	}
	stopAll := func() {
		for _, s := range servers {
			s.stop()
		}
		clear(servers)
	}
	if err := startAll(); err != nil {
		return err
	}
	if err := res.closedLoop(ctx, servers, false); err != nil {
		return err
	}

	// p99 at a fixed rate.
	for _, size := range o.sizes {
		rate, ok := o.rates[size]
		if !ok {
			continue
		}
		for rep := range o.repeats {
			for i := range o.libs {
				lib := o.libs[(i+rep)%len(o.libs)]
				end := res.progress.step("fixed rate: %s: %s at %.0f msgs/s over %d conns", lib, sizeName(size), rate, o.rateConns)
				r, err := runWsbench(ctx, res.bins["wsbench"], o.clientCPU, servers[lib], "-c", itoa(o.rateConns), "-size", itoa(size),
					"-rate", strconv.FormatFloat(rate, 'f', -1, 64), "-d", o.duration.String(), "-warmup", o.warmup.String())
				end()
				if err != nil {
					res.failures = append(res.failures, fmt.Sprintf("%s, fixed rate %s: %v", lib, sizeName(size), err))
					continue
				}
				if res.rate[size] == nil {
					res.rate[size] = map[string][]*benchRun{}
				}
				res.rate[size][lib] = append(res.rate[size][lib], r)
			}
		}
	}
	stopAll()

	// Compression on: every server restarted with -compress.
	if len(o.compressSizes) > 0 {
		if err := startAll("-compress"); err != nil {
			return err
		}
		if err := res.closedLoop(ctx, servers, true); err != nil {
			return err
		}
		stopAll()
	}

	// Memory per idle connection: a fresh server for each measurement,
	// compression off, then on.
	idleN, idleSkip := o.idleCounts()
	res.idleSkip = append(res.idleSkip, idleSkip...)
	if err := res.idleMemory(ctx, idleN, false); err != nil {
		return err
	}
	if o.idleCompress {
		if err := res.idleMemory(ctx, idleN, true); err != nil {
			return err
		}
	}

	if o.profile {
		for _, lib := range profiledLibs {
			end := res.progress.step("CPU profile: %s: 16 B × 100 conns × depth 16", lib)
			p, err := profileServer(ctx, res, dir, lib)
			end()
			if err != nil {
				res.failures = append(res.failures, fmt.Sprintf("profile of %s: %v", lib, err))
				continue
			}
			res.profiles[lib] = p
		}
	}
	res.elapsed = time.Since(res.started)
	res.machine.loadEnd = loadAvg()
	if err := res.write(); err != nil {
		return err
	}
	// The last lines say where the results went: the report and its charts.
	charts := o.chartDir
	if !filepath.IsAbs(charts) {
		charts = filepath.Join(filepath.Dir(o.out), charts)
	}
	res.progress.printf("done in %s: report %s, SVG charts in %s/", res.elapsed.Round(time.Second), o.out, charts)
	if len(res.failures) > 0 {
		res.progress.printf("%d runs failed: listed under \"Not measured\" in the report", len(res.failures))
	}
	return nil
}

// closedLoop runs the closed-loop scenarios with compression on or off
// against servers, repeats outermost and libraries rotated.
func (res *results) closedLoop(ctx context.Context, servers map[string]*server, compress bool) error {
	o := res.o
	scenarios, skipped := o.closedScenarios(compress)
	res.skipped = append(res.skipped, skipped...)
	for rep := range o.repeats {
		for _, sc := range scenarios {
			for i := range o.libs {
				lib := o.libs[(i+rep)%len(o.libs)] // rotate who goes first
				if ctx.Err() != nil {
					return ctx.Err()
				}
				end := res.progress.step("%s: %s", lib, sc)
				args := []string{"-c", itoa(sc.conns), "-size", itoa(sc.size), "-depth", itoa(sc.depth),
					"-d", o.duration.String(), "-warmup", o.warmup.String()}
				if sc.conns > 20000 {
					args = append(args, "-sources", itoa(sc.conns/20000+1))
				}
				if sc.compress {
					args = append(args, "-text", "-compress")
				}
				r, err := runWsbench(ctx, res.bins["wsbench"], o.clientCPU, servers[lib], args...)
				end()
				if err != nil {
					res.failures = append(res.failures, fmt.Sprintf("%s, %s: %v", lib, sc, err))
					continue
				}
				if res.closed[sc] == nil {
					res.closed[sc] = map[string][]*benchRun{}
				}
				res.closed[sc][lib] = append(res.closed[sc][lib], r)
			}
		}
	}
	return nil
}

// Idle memory with compression on: each connection exchanges idleWarm
// text messages of idleWarmSize bytes before going quiet, 40 KiB each way:
// more than the largest window (32 KiB), so that a library keeping a
// context-takeover window is measured with all of it written. Resident
// memory counts only the pages a process has written, and one 1 KiB
// message writes a few KiB of a 32 KiB window; a connection that has
// carried traffic for a while holds the whole window.
const (
	idleWarm     = 40
	idleWarmSize = 1024
)

// idleMemory measures the memory per idle connection of every library at
// each of ns connections, with compression on or off, a fresh server for
// each measurement.
func (res *results) idleMemory(ctx context.Context, ns []int, compress bool) error {
	o := res.o
	into, what := res.idle, "idle"
	if compress {
		into, what = res.idleZ, "idle, compression on"
	}
	for _, n := range ns {
		for _, lib := range o.idleLibs(compress) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			end := res.progress.step("%s: %s: %d connections", what, lib, n)
			bin, extra := res.bins[lib], []string(nil)
			switch lib {
			case oursRaw:
				bin, extra = res.bins["ours"], []string{"-raw"}
			case oursNoTakeover:
				bin, extra = res.bins["ours"], []string{"-no-context-takeover"}
			}
			var args []string
			if compress {
				extra = append(extra, "-compress")
				args = []string{"-compress", "-text", "-size", itoa(idleWarmSize), "-idle-warm", itoa(idleWarm)}
			}
			s, err := startServer(lib, bin, o.serverCPU, extra...)
			if err != nil {
				end()
				return err
			}
			m, err := idleRun(ctx, res.bins["wsbench"], o.clientCPU, s, n, n/20000+2, time.Second, args...)
			s.stop()
			end()
			if err != nil {
				res.failures = append(res.failures, fmt.Sprintf("%s, %s %d: %v", lib, what, n, err))
				continue
			}
			if into[n] == nil {
				into[n] = map[string]idleResult{}
			}
			into[n][lib] = m
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// oursRaw names, in the idle-memory measurements, our echo served with
// server.Serve on the listener (examples/echo -raw) instead of through
// net/http: the way gobwas's and gws's servers accept connections.
const oursRaw = "ours-raw"

// oursNoTakeover names, in the idle-memory measurements with compression
// on, our echo with deflate.ServerOptions.ServerNoContextTakeover
// (examples/echo -compress -no-context-takeover): the server compresses
// each message on its own, as the gobwas, gorilla and gws servers do, and
// keeps no compression window per connection.
const oursNoTakeover = "ours-nct"

// idleLibs is libs with our variants after ours: oursRaw, and with
// compress oursNoTakeover.
func (o *options) idleLibs(compress bool) []string {
	if len(o.libs) == 0 || o.libs[0] != "ours" {
		return o.libs
	}
	ours := []string{"ours", oursRaw}
	if compress {
		ours = append(ours, oursNoTakeover)
	}
	return append(ours, o.libs[1:]...)
}

// build compiles wsbench and the servers into dir.
func build(dir string, libs []string) (map[string]string, error) {
	bins := map[string]string{}
	pkgs := map[string]string{"wsbench": "./cmd/wsbench", "ours-pprof": "./servers/ours"}
	for _, lib := range libs {
		if lib == "ours" {
			pkgs[lib] = "github.com/rfc6455/ws/examples/echo"
		} else {
			pkgs[lib] = "./servers/" + lib
		}
	}
	for name, pkg := range pkgs {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s: %w", pkg, err)
		}
		bins[name] = bin
	}
	return bins, nil
}

// profileServer runs a pipelined 16 B load against lib's server built with
// a CPU profile and returns pprof's top functions.
func profileServer(ctx context.Context, res *results, dir, lib string) (string, error) {
	bin := res.bins[lib]
	if lib == "ours" {
		bin = res.bins["ours-pprof"] // echo.Handler, as examples/echo, plus -cpuprofile
	}
	prof := filepath.Join(dir, lib+".prof")
	s, err := startServer(lib, bin, res.o.serverCPU, "-cpuprofile", prof)
	if err != nil {
		return "", err
	}
	d := 2 * res.o.duration
	_, err = runWsbench(ctx, res.bins["wsbench"], res.o.clientCPU, s, "-c", "100", "-size", "16", "-depth", "16",
		"-d", d.String(), "-warmup", res.o.warmup.String())
	s.stop()
	if err != nil {
		return "", err
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=22", bin, prof).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pprof: %v: %s", err, out)
	}
	return string(out), nil
}
