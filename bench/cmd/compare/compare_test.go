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
		rate: map[int]map[string][]*benchRun{}, idle: map[int]map[string]idleResult{}, idleZ: map[int]map[string]idleResult{}, profiles: map[string]string{"ours": "flat flat%\n"}}
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
	z := func(after int64, connected int, ext string) idleResult {
		m := idleResult{before: 1000, after: after, n: 100, connected: connected, offer: "permessage-deflate; client_no_context_takeover; client_max_window_bits",
			ext: ext, warm: 1, echoes: uint64(connected), compressed: uint64(connected)}
		if connected < 100 {
			m.errors = map[string]uint64{"warmup_timeout": uint64(100 - connected)}
		}
		return m
	}
	res.idleZ[100] = map[string]idleResult{
		"ours":     z(6000, 100, "permessage-deflate; client_no_context_takeover"),
		"ours-raw": z(5000, 90, "permessage-deflate; client_no_context_takeover"),
		"ours-nct": z(2200, 100, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
		"gobwas":   z(2000, 100, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
	}
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
		"| gobwas | 2950 (2900–3000) | 2.81× | 102 µs (100–103) | 0.21× | 0.25 | 0.25 | 300 |", "| 100% | 260 B for 1 KiB |",
	} {
		wantContains(t, "report", string(md), want)
	}
	if strings.Contains(strings.ToLower(string(md)), "pending") {
		t.Error("report still says something is pending")
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "charts", "idle-memory.svg"))
	if !strings.Contains(string(svg), ">N = 100<") || !strings.Contains(string(svg), ">N = 100, deflate<") {
		t.Errorf("idle chart lacks a group:\n%s", svg)
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
		"- 16 B × 1 conns × depth 1: gobwas (2.81× our msgs/s in every run, 0.21× our CPU/msg in every run). Per message: ours 1.00 writes, 0.25 reads, 477 µs CPU; gobwas 0.25 writes, 0.25 reads, 102 µs CPU.",
		"- 1 KiB × 1 conns × depth 16, text, compressed: gobwas",
		"Against the fastest peer of each of these 3 scenarios, our server made more write system calls per message in 3, more read system calls per message in 0, and used more CPU per message in 3. A peer's margin held in every run (its worst run beat our best) in 3 of them; in 0 only the medians differ",
		"CPU profiles at the end",
		"- N = 100: ours 20.0 KiB per connection; gobwas 5.0 KiB.",
		"- N = 100, compression on: ours 50.0 KiB per connection; gobwas 10.0 KiB.",
		"- N = 100, compression on: ours-raw 40.0 KiB per connection; gobwas 10.0 KiB.",
		"- N = 100, compression on: ours-nct 12.0 KiB per connection; gobwas 10.0 KiB.",
	} {
		wantContains(t, "losses", got, want)
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
	res.idleZ[100] = map[string]idleResult{"ours": {before: 1000, after: 1500, n: 100, connected: 100}, "gobwas": {before: 1000, after: 3000, n: 100, connected: 100}}
	b.Reset()
	res.writeLosses(func(format string, a ...any) { fmt.Fprintf(&b, format, a...) })
	if got := b.String(); !strings.Contains(got, "no peer beat ours") || strings.Contains(got, "N = 100") {
		t.Errorf("ours winning:\n%s", got)
	}
}

// TestLossesNoise checks that a loss says whether it held in every run or
// only in the medians, and says neither for single runs (-quick).
func TestLossesNoise(t *testing.T) {
	res := fixture(t.TempDir())
	run := func(msgs float64, cpu time.Duration) *benchRun {
		return &benchRun{rep: &load.Report{Seconds: 1, Messages: uint64(msgs), MsgsPerSec: msgs, ClientCPUUtil: 0.9}, serverCPU: cpu}
	}
	sc := scenario{16, 1, 16, false}
	// Medians 1150 and 1350 msgs/s, 442 and 372 µs per message; ranges
	// 1000–1300 and 1250–1450, 385–500 and 345–400: both overlap.
	res.closed[sc] = map[string][]*benchRun{
		"ours":   {run(1000, 500*time.Millisecond), run(1300, 500*time.Millisecond)},
		"gobwas": {run(1250, 500*time.Millisecond), run(1450, 500*time.Millisecond)},
	}
	line, _, firm, ok := res.loss(sc)
	if !ok || firm || !strings.Contains(line, "gobwas (1.17× our msgs/s, ranges overlap, 0.84× our CPU/msg, ranges overlap)") {
		t.Errorf("overlapping runs: firm=%t ok=%t\n%s", firm, ok, line)
	}
	var b strings.Builder
	res.writeLosses(func(format string, a ...any) { fmt.Fprintf(&b, format, a...) })
	wantContains(t, "losses", b.String(), "in 2 of them; in 1 only the medians differ by that much")

	// One run each: no claim either way.
	res.closed[sc] = map[string][]*benchRun{"ours": {run(1000, 500*time.Millisecond)}, "gobwas": {run(1450, 300*time.Millisecond)}}
	res.o.repeats = 1
	line, _, firm, ok = res.loss(sc)
	if !ok || firm || strings.Contains(line, "every run") || strings.Contains(line, "overlap") || !strings.Contains(line, "gobwas (1.45× our msgs/s, 0.41× our CPU/msg)") {
		t.Errorf("single runs: firm=%t ok=%t\n%s", firm, ok, line)
	}
	b.Reset()
	res.writeLosses(func(format string, a ...any) { fmt.Fprintf(&b, format, a...) })
	if strings.Contains(b.String(), "its worst run beat our best") {
		t.Errorf("one run per library: the summary counts margins held in every run:\n%s", b.String())
	}
}

// TestIdleCompressionReport checks the table of memory per idle
// connection with compression on: every library's answer, its warm-up
// echoes, its figure beside ours and beside its own with compression off,
// and what each answer implies.
func TestIdleCompressionReport(t *testing.T) {
	res := fixture(t.TempDir())
	if err := res.write(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(res.o.out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	i := strings.Index(md, "## Memory per idle connection, compression on\n")
	if i < 0 || i < strings.Index(md, "| 100 | gobwas | 1.0 MiB | 1.5 MiB | 5.0 KiB | 0.25× |") {
		t.Fatalf("no compression-on section after the compression-off table:\n%s", md)
	}
	section := md[i:]
	section = section[:strings.Index(section, "\n## ")]
	for _, want := range []string{
		"exchanged 40 text messages of 1 KiB",
		"`wsbench -idle -compress -idle-warm 40`",
		"offering `permessage-deflate; client_no_context_takeover; client_max_window_bits`",
		"| N | library | server accepted | warm-up echoes compressed | RSS before | RSS with N open | per connection | vs ours | more than off |\n|---|---|---|---|---|---|---|---|---|\n",
		"| 100 | ours | `permessage-deflate; client_no_context_takeover` | 100 of 100 | 1.0 MiB | 5.9 MiB | 50.0 KiB | 1.00× | +30.0 KiB |\n",
		"| 100 | ours-raw | `permessage-deflate; client_no_context_takeover` | 90 of 90 | 1.0 MiB | 4.9 MiB | 40.0 KiB (only 90 connected: warmup_timeout 10) | 0.80× | – |\n",
		"| 100 | ours-nct | `permessage-deflate; server_no_context_takeover; client_no_context_takeover` | 100 of 100 | 1.0 MiB | 2.1 MiB | 12.0 KiB | 0.24× | -8.0 KiB |\n",
		"| 100 | gobwas | `permessage-deflate; server_no_context_takeover; client_no_context_takeover` | 100 of 100 | 1.0 MiB | 2.0 MiB | 10.0 KiB | 0.20× | +5.0 KiB |\n",
		"*ours-nct* is *ours* (through net/http) with deflate.ServerOptions.ServerNoContextTakeover",
		"- ours-nct accepted `permessage-deflate; server_no_context_takeover; client_no_context_takeover`. Server to client: no context takeover",
		"- ours accepted `permessage-deflate; client_no_context_takeover`. Server to client: context takeover, so the server keeps its compression window, 32 KiB (2^15 bytes), per connection between messages. Client to server: no context takeover",
		"- gobwas accepted `permessage-deflate; server_no_context_takeover; client_no_context_takeover`. Server to client: no context takeover",
		"![memory per idle connection, compression off and on](charts/idle-memory.svg)",
	} {
		wantContains(t, "section", section, want)
	}
	if strings.Count(section, "- ours-raw accepted") != 1 {
		t.Errorf("ours-raw's answer should be listed once:\n%s", section)
	}

	// Without compression-on figures there is no such section.
	res.idleZ = map[int]map[string]idleResult{}
	if err := res.write(); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(res.o.out)
	if strings.Contains(string(b), "compression on\n") || !strings.Contains(string(b), "charts/idle-memory.svg") {
		t.Error("compression-on section written without figures, or chart missing")
	}
}

func TestDeflateImplies(t *testing.T) {
	for _, tc := range []struct{ ext, want string }{
		{"permessage-deflate; client_no_context_takeover",
			"Server to client: context takeover, so the server keeps its compression window, 32 KiB (2^15 bytes), per connection between messages. Client to server: no context takeover, so the server need keep no decompression window between messages."},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"Server to client: no context takeover, so the server compresses each message on its own and need keep no compression window between messages. Client to server: no context takeover"},
		{"permessage-deflate;server_max_window_bits=10; client_no_context_takeover", "compression window, 1 KiB (2^10 bytes),"},
		{"permessage-deflate; client_max_window_bits=12", "keep a decompression window of 4 KiB (2^12 bytes) per connection"},
		{`permessage-deflate; server_max_window_bits="9"; client_no_context_takeover`, "512 B (2^9 bytes)"},
	} {
		if got := deflateImplies(tc.ext); !strings.Contains(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.ext, got, tc.want)
		}
	}
}

// wantContains reports an error unless text, named what, contains want.
func wantContains(t *testing.T, what, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("%s lacks %q in:\n%s", what, want, text)
	}
}
