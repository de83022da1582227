package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/load"
)

func TestSampleSelf(t *testing.T) {
	// Burn a little CPU so utime is non-zero.
	x := 0
	for i := range 50_000_000 {
		x += i
	}
	_ = x
	s, err := sample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssKiB <= 0 || s.syscr <= 0 {
		t.Fatalf("implausible sample of this process: %+v", s)
	}
	if tcpRetrans() < 0 {
		t.Fatal("negative retransmission count")
	}
}

func TestMedianAndRatio(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Fatal("median of nothing should be NaN")
	}
	if r := ratio(3, 2); r != "1.50×" {
		t.Fatalf("ratio %q", r)
	}
	if r := ratio(1, 0); r != "–" {
		t.Fatalf("ratio by zero %q", r)
	}
}

// fixture returns results from made-up runs: gobwas beats ours on every
// closed-loop scenario, with fewer writes per message, and holds less
// memory per idle connection.
func fixture(dir string) *results {
	o := &options{out: filepath.Join(dir, "RESULTS.md"), chartDir: "charts", libs: []string{"ours", "gobwas"},
		sizes: []int{16}, conns: []int{1}, depths: []int{1, 16}, compressSizes: []int{1024}, compressConns: []int{1},
		compressDepths: []int{16}, idleN: []int{100}, duration: time.Second, repeats: 2,
		rates: map[int]float64{16: 1000}, rateConns: 10, serverCPU: 1, clientCPU: 0}
	res := &results{o: o, machine: describeMachine(), closed: map[scenario]map[string][]*benchRun{},
		rate: map[int]map[string][]*benchRun{}, idle: map[int]map[string]idleResult{}, profiles: map[string]string{"ours": "flat flat%\n"}}
	mk := func(msgs float64, cpu time.Duration, writes float64, ext string) *benchRun {
		r := &benchRun{rep: &load.Report{Seconds: 1, Messages: uint64(msgs), MsgsPerSec: msgs, ClientCPUUtil: 0.9,
			Latency: load.Latency{P50: 10, P99: 50, P999: 90, Max: 100}}, serverCPU: cpu, serverWrites: int64(writes * msgs),
			serverReads: int64(msgs / 4), serverOut: int64(300 * msgs)}
		if ext != "" {
			r.rep.Compression = &load.CompressionReport{Offer: "permessage-deflate; client_no_context_takeover; client_max_window_bits", Extension: ext, FrameBytes: 260, CompressedReplies: uint64(msgs)}
		}
		return r
	}
	for _, sc := range []scenario{{16, 1, 1, false}, {16, 1, 16, false}, {1024, 1, 16, true}} {
		ext, gext := "", ""
		if sc.compress {
			ext, gext = "permessage-deflate; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
		}
		res.closed[sc] = map[string][]*benchRun{
			"ours":   {mk(1000, 500*time.Millisecond, 1, ext), mk(1100, 500*time.Millisecond, 1, ext)},
			"gobwas": {mk(3000, 300*time.Millisecond, 0.25, gext), mk(2900, 300*time.Millisecond, 0.25, gext)},
		}
	}
	res.rate[16] = map[string][]*benchRun{"ours": {mk(1000, 100*time.Millisecond, 1, "")}, "gobwas": {mk(1000, 90*time.Millisecond, 1, "")}}
	res.idle[100] = map[string]idleResult{"ours": {before: 1000, after: 3000, n: 100, connected: 100}, "gobwas": {before: 1000, after: 1500, n: 100, connected: 100}}
	return res
}

// TestReport renders a report from the fixture and checks that the
// markdown has the tables and that every SVG is well-formed XML.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	res := fixture(dir)
	if err := res.write(); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(res.o.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### 16 B × 1 conns × depth 16\n", "| gobwas | 2950 (2900–3000) | 2.81× |", "## Where ours loses", "charts/throughput-16.svg",
		"| 100 | ours |", "## Compression on (permessage-deflate)", "### 1 KiB × 1 conns × depth 16, text, compressed",
		"charts/throughput-deflate-1024.svg", "`permessage-deflate; server_no_context_takeover; client_no_context_takeover`",
		"| gobwas | 2950 (2900–3000) | 2.81× | 102 µs | 0.21× | 0.25 | 0.25 | 300 |", "| 100% | 260 B for 1 KiB |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(string(md)), "pending") {
		t.Error("report still says something is pending")
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "charts", "*.svg"))
	if len(svgs) != 3 {
		t.Fatalf("charts: %v", svgs)
	}
	for _, f := range svgs {
		b, _ := os.ReadFile(f)
		d := xml.NewDecoder(strings.NewReader(string(b)))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed: %v", f, err)
			}
		}
	}
}

// TestLossesFromMeasurements checks that "Where ours loses" states the
// measured figures of ours and of the peer that won, for every losing
// scenario, the counts derived from them and the idle memory measured, and
// no explanation written in advance.
func TestLossesFromMeasurements(t *testing.T) {
	res := fixture(t.TempDir())
	var b strings.Builder
	res.writeLosses(func(format string, a ...any) { fmt.Fprintf(&b, format, a...) })
	got := b.String()
	for _, want := range []string{
		"- 16 B × 1 conns × depth 1: gobwas (2.81× our msgs/s, 0.21× our CPU/msg). Per message: ours 1.00 writes, 0.25 reads, 477 µs CPU; gobwas 0.25 writes, 0.25 reads, 102 µs CPU.",
		"- 1 KiB × 1 conns × depth 16, text, compressed: gobwas",
		"Against the fastest peer of each of these 3 scenarios, our server made more write system calls per message in 3, more read system calls per message in 0, and used more CPU per message in 3.",
		"CPU profiles at the end",
		"- N = 100: ours 20.0 KiB per connection; gobwas 5.0 KiB.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("losses lack %q in:\n%s", want, got)
		}
	}
	for _, stale := range []string{"No write batching", "conn.New", "two system calls", "flushes at the end of every WriteMessage"} {
		if strings.Contains(got, stale) {
			t.Errorf("losses assert a cause: %q", stale)
		}
	}

	// Ours winning everywhere: no loss lines, no memory lines.
	for sc, libs := range res.closed {
		res.closed[sc] = map[string][]*benchRun{"ours": libs["gobwas"], "gobwas": libs["ours"]}
	}
	res.idle[100] = map[string]idleResult{"ours": {before: 1000, after: 1500, n: 100, connected: 100}, "gobwas": {before: 1000, after: 3000, n: 100, connected: 100}}
	b.Reset()
	res.writeLosses(func(format string, a ...any) { fmt.Fprintf(&b, format, a...) })
	if got := b.String(); !strings.Contains(got, "no peer beat ours") || strings.Contains(got, "N = 100") {
		t.Errorf("ours winning:\n%s", got)
	}
}
