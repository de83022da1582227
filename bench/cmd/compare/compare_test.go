package main

import (
	"encoding/xml"
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

// TestReport renders a report from made-up runs and checks that the
// markdown has the tables and that every SVG is well-formed XML.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	o := &options{out: filepath.Join(dir, "RESULTS.md"), chartDir: "charts", libs: []string{"ours", "gobwas"},
		sizes: []int{16}, conns: []int{1}, depths: []int{1, 16}, idleN: []int{100}, duration: time.Second, repeats: 2,
		rates: map[int]float64{16: 1000}, rateConns: 10, serverCPU: 1, clientCPU: 0}
	res := &results{o: o, machine: describeMachine(), closed: map[scenario]map[string][]*benchRun{},
		rate: map[int]map[string][]*benchRun{}, idle: map[int]map[string]idleResult{}, profiles: map[string]string{"ours": "flat flat%\n"}}
	mk := func(msgs float64, cpu time.Duration) *benchRun {
		return &benchRun{rep: &load.Report{Seconds: 1, Messages: uint64(msgs), MsgsPerSec: msgs, ClientCPUUtil: 0.5,
			Latency: load.Latency{P50: 10, P99: 50, P999: 90, Max: 100}}, serverCPU: cpu, serverWrites: int64(msgs)}
	}
	for _, d := range o.depths {
		sc := scenario{16, 1, d}
		res.closed[sc] = map[string][]*benchRun{
			"ours":   {mk(1000, 500*time.Millisecond), mk(1100, 500*time.Millisecond)},
			"gobwas": {mk(3000, 300*time.Millisecond), mk(2900, 300*time.Millisecond)},
		}
	}
	res.rate[16] = map[string][]*benchRun{"ours": {mk(1000, 100*time.Millisecond)}, "gobwas": {mk(1000, 90*time.Millisecond)}}
	res.idle[100] = map[string]idleResult{"ours": {before: 1000, after: 3000, n: 100, connected: 100}, "gobwas": {before: 1000, after: 1500, n: 100, connected: 100}}
	if err := res.write(); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(o.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### 16 B × 1 conns × depth 16", "| gobwas | 2950 (2900–3000) | 2.81× |", "## Where ours loses", "charts/throughput-16.svg", "| 100 | ours |", "Compression-on scenarios are pending"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "charts", "*.svg"))
	if len(svgs) != 2 {
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
