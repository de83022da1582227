// Command wstest runs the Autobahn|Testsuite fuzzing cases, natively in Go.
//
// With no arguments it runs the project's own conformance job: the suite
// against the project's echo server, then the project's testee client
// against the suite, with reports under ./reports and a comparison with
// the expected results in autobahn/testdata.
//
//	wstest                                   project job (all sections: 1-7, 9, 10, 12, 13)
//	wstest -no9                              project job without section 9 (performance)
//	wstest -m fuzzingclient -s spec.json     test the servers listed in spec.json
//	wstest -m fuzzingserver -s spec.json     serve testee clients at the spec's url
//	wstest -h2                               project job over HTTP/2 (RFC 8441)
//
// The exit status is 1 when a case is FAILED or, with -expected, when the
// results differ from the expected results; 2 on other errors.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/rfc6455/ws/autobahn"
	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
	"github.com/rfc6455/ws/autobahn/report"
	"github.com/rfc6455/ws/internal/h2stream"
)

type flags struct {
	mode, spec, testdata, outdir, expected string
	parallel                               int
	no9, update, compress, h2              bool
	cache                                  *engine.Cache
}

func main() {
	var f flags
	flag.StringVar(&f.mode, "m", "", "mode: fuzzingclient or fuzzingserver (default: the project's own job)")
	flag.StringVar(&f.spec, "s", "", "spec file (fuzzingclient, fuzzingserver)")
	flag.IntVar(&f.parallel, "j", 2*runtime.NumCPU(), "cases run at once per testee (section 9 always runs alone)")
	flag.StringVar(&f.testdata, "testdata", "", "directory with the original section 12/13 data files (default: generated stand-ins of the same size)")
	flag.StringVar(&f.outdir, "o", "", "report directory (overrides the spec's outdir)")
	flag.StringVar(&f.expected, "expected", "", "expected-results file to compare every agent's results with (project job: directory, default autobahn/testdata)")
	flag.BoolVar(&f.update, "update", false, "write the expected-results file(s) from this run instead of comparing")
	flag.BoolVar(&f.no9, "no9", false, "project job: leave out section 9 (performance)")
	flag.Bool("all", true, "project job: all sections (the default; kept for old scripts)")
	flag.BoolVar(&f.compress, "compress", true, "project job: let the project's testees negotiate permessage-deflate")
	flag.BoolVar(&f.h2, "h2", false, "run the cases over HTTP/2 (RFC 8441 extended CONNECT): as a client (fuzzingclient, project job) to the testee servers, as a server (fuzzingserver, project job) to the testee clients; cleartext with prior knowledge for ws://, TLS with ALPN for wss://")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the suite to this file")
	cacheMB := flag.Int64("cache-mb", engine.DefaultCacheBudget>>20, "MiB of compressed section 12/13 messages kept to send again (0: none)")
	flag.Parse()
	if f.h2 {
		// net/http's HTTP/2 server takes extended CONNECT only with
		// GODEBUG=http2xconnect=1 in the environment at start.
		if err := h2stream.Reexec(); err != nil {
			fatal(err)
		}
	}
	f.cache = engine.NewCache(*cacheMB << 20)
	if *cacheMB == 0 {
		f.cache = engine.NewCache(-1)
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	data, err := cases.LoadTestData(f.testdata)
	if err != nil {
		fatal(err)
	}
	set := cases.New(data)
	var status int
	switch f.mode {
	case "fuzzingclient":
		status, err = fuzzingClient(ctx, f, set)
	case "fuzzingserver":
		status, err = fuzzingServer(ctx, f, set)
	case "":
		status, err = projectJob(ctx, f, set)
	default:
		err = fmt.Errorf("unknown mode %q (want fuzzingclient or fuzzingserver)", f.mode)
	}
	if err != nil {
		fatal(err)
	}
	pprof.StopCPUProfile()
	os.Exit(status)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "wstest:", err)
	os.Exit(2)
}

// verdict prints the summary, compares with the expected results when
// asked, and returns the exit status.
func verdict(snap report.Results, expectedPath string, update bool) (int, error) {
	report.Summary(os.Stdout, snap)
	status := 0
	if report.AnyFailed(snap) {
		status = 1
	}
	if expectedPath == "" {
		return status, nil
	}
	for agent, m := range snap {
		if update {
			old, _ := report.ReadExpected(expectedPath)
			if err := report.WriteExpected(expectedPath, report.FromResults(m, old)); err != nil {
				return 2, err
			}
			fmt.Printf("wrote %s from the results of %s\n", expectedPath, agent)
			continue
		}
		exp, err := report.ReadExpected(expectedPath)
		if os.IsNotExist(err) {
			fmt.Printf("\n%s does not exist: run with -update to create it from these results\n", expectedPath)
			status = 1
			continue
		}
		if err != nil {
			return 2, err
		}
		if diffs := report.Compare(m, exp); len(diffs) > 0 {
			fmt.Printf("\n%s differs from %s in %d cases:\n", agent, expectedPath, len(diffs))
			for _, d := range diffs {
				fmt.Println("  " + d)
			}
			status = 1
		} else {
			fmt.Printf("\n%s matches %s\n", agent, expectedPath)
		}
	}
	return status, nil
}

func fuzzingClient(ctx context.Context, f flags, set *cases.Set) (int, error) {
	spec, err := autobahn.ReadSpec(f.spec)
	if err != nil {
		return 2, err
	}
	if f.outdir != "" {
		spec.OutDir = f.outdir
	}
	if spec.OutDir == "" {
		spec.OutDir = "./reports/servers"
	}
	res := autobahn.NewResults()
	c := &autobahn.Client{Spec: spec, Set: set, Parallel: f.parallel, Progress: progress(), HTTP2: f.h2, Cache: f.cache}
	start := time.Now()
	runErr := c.Run(ctx, res)
	snap := res.Snapshot()
	if err := report.Write(spec.OutDir, set, snap); err != nil {
		return 2, err
	}
	fmt.Printf("%s: report %s\n", time.Since(start).Round(time.Millisecond), filepath.Join(spec.OutDir, "index.html"))
	status, err := verdict(snap, f.expected, f.update)
	if err != nil {
		return status, err
	}
	if runErr != nil {
		return 2, runErr
	}
	return status, nil
}

func fuzzingServer(ctx context.Context, f flags, set *cases.Set) (int, error) {
	spec, err := autobahn.ReadSpec(f.spec)
	if err != nil {
		return 2, err
	}
	if f.outdir != "" {
		spec.OutDir = f.outdir
	}
	u, err := url.Parse(spec.URL)
	if err != nil {
		return 2, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	srv := &autobahn.Server{Spec: spec, Set: set, Log: os.Stdout, Cache: f.cache}
	ids, err := srv.Cases()
	if err != nil {
		return 2, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return 2, err
	}
	tc, err := srv.TLSConfig()
	if err != nil {
		return 2, err
	}
	if tc != nil && !f.h2 {
		ln = tls.NewListener(ln, tc)
	}
	over := ""
	if f.h2 {
		over = " over HTTP/2"
	}
	fmt.Printf("Autobahn|Testsuite (Go) fuzzing server on %s%s: %d cases for any client connecting\n", spec.URL, over, len(ids))
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	serve := srv.Serve
	if f.h2 {
		serve = func(ln net.Listener) error { return srv.ServeHTTP2(ln, tc) }
	}
	if err := serve(ln); err != nil {
		return 2, err
	}
	if err := srv.WriteReports(); err != nil {
		return 2, err
	}
	return verdict(srv.Results.Snapshot(), f.expected, f.update)
}

// progress reports on stderr: a line rewritten in place on a terminal, a
// line every 50 cases in logs.
func progress() autobahn.Progress {
	fi, err := os.Stderr.Stat()
	return &autobahn.LineProgress{W: os.Stderr, Terminal: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}
