package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// Verdict is the judgement of one attack.
type Verdict string

const (
	Pass Verdict = "PASS"
	Fail Verdict = "FAIL"
	// Skip means the check could not be made: the server declined
	// permessage-deflate, or a memory or descriptor check had no -pid.
	Skip Verdict = "SKIP"
)

// Attack is one row of the table: what the tool sends, what a protected
// server does about it, and the code that does the sending and judging.
type Attack struct {
	Name   string // short, stable, for -run: "group/variant"
	Sends  string // what the tool sends
	Expect string // the outcome a protected server produces
	run    func(ctx context.Context, c *Config) outcome
}

// outcome is what an attack's run observed.
type outcome struct {
	verdict  Verdict
	observed string
	release  time.Duration // time to release TCP; negative when not measured
	metrics  map[string]float64
}

func pass(obs string, release time.Duration) outcome {
	return outcome{verdict: Pass, observed: obs, release: release}
}
func fail(obs string, release time.Duration) outcome {
	return outcome{verdict: Fail, observed: obs, release: release}
}
func skip(obs string) outcome { return outcome{verdict: Skip, observed: obs, release: -1} }

// Result is an attack's row of the table, as printed and written to JSON.
type Result struct {
	Name      string             `json:"name"`
	Sends     string             `json:"sends"`
	Expect    string             `json:"expect"`
	Observed  string             `json:"observed"`
	ReleaseMS float64            `json:"release_ms"` // -1 when not measured
	Verdict   Verdict            `json:"verdict"`
	Seconds   float64            `json:"seconds"` // how long the attack ran
	Metrics   map[string]float64 `json:"metrics,omitempty"`
}

// Select returns the attacks whose names match pattern ("" for all).
func Select(attacks []Attack, pattern string) ([]Attack, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	var out []Attack
	for _, a := range attacks {
		if re.MatchString(a.Name) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Run runs the attacks one after the other and returns their results. It
// writes a progress line as each starts and ends, and one every 5 s while
// one runs. When ctx is done the remaining attacks are not run.
func Run(ctx context.Context, c *Config, attacks []Attack) []Result {
	var results []Result
	for i, a := range attacks {
		if ctx.Err() != nil {
			break
		}
		c.progressf("[%d/%d] %s: %s", i+1, len(attacks), a.Name, a.Sends)
		start := time.Now()
		done := make(chan struct{})
		go heartbeat(c, a.Name, start, done)
		o := a.run(ctx, c)
		close(done)
		r := Result{
			Name: a.Name, Sends: a.Sends, Expect: a.Expect, Observed: o.observed,
			ReleaseMS: -1, Verdict: o.verdict, Seconds: time.Since(start).Seconds(), Metrics: o.metrics,
		}
		if o.release >= 0 {
			r.ReleaseMS = float64(o.release.Microseconds()) / 1000
		}
		c.progressf("      %s %s (%.1fs): %s", r.Verdict, a.Name, r.Seconds, r.Observed)
		results = append(results, r)
	}
	return results
}

func heartbeat(c *Config, name string, start time.Time, done chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			c.progressf("      ... %s still running (%s)", name, time.Since(start).Round(time.Second))
		}
	}
}

// Table writes the results as a table: attack, verdict, time to release,
// expected and observed outcome.
func Table(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTACK\tVERDICT\tRELEASE\tEXPECTED\tOBSERVED")
	for _, r := range results {
		rel := "-"
		if r.ReleaseMS >= 0 {
			rel = ms(time.Duration(r.ReleaseMS * float64(time.Millisecond)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Verdict, rel, r.Expect, r.Observed)
	}
	tw.Flush()
}

// List writes the attacks: name, what each sends and what it expects.
func List(w io.Writer, attacks []Attack) {
	for _, a := range attacks {
		fmt.Fprintf(w, "%s\n    sends:  %s\n    expect: %s\n", a.Name, a.Sends, a.Expect)
	}
}

// Counts returns how many results have each verdict.
func Counts(results []Result) map[Verdict]int {
	m := map[Verdict]int{}
	for _, r := range results {
		m[r.Verdict]++
	}
	return m
}

// Summary is one line: the counts of each verdict.
func Summary(results []Result) string {
	n := Counts(results)
	s := fmt.Sprintf("%d PASS, %d FAIL, %d SKIP", n[Pass], n[Fail], n[Skip])
	if n[Fail] > 0 {
		var names []string
		for _, r := range results {
			if r.Verdict == Fail {
				names = append(names, r.Name)
			}
		}
		s += " (failed: " + strings.Join(names, ", ") + ")"
	}
	return s
}

// Report is the JSON file's content.
type Report struct {
	URL     string   `json:"url"`
	PID     int      `json:"pid,omitempty"`
	Started string   `json:"started"`
	Results []Result `json:"results"`
}

// WriteJSON writes the report to path.
func WriteJSON(path string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
