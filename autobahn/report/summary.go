package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

var behaviors = []string{engine.OK, engine.NonStrict, engine.Informational, engine.Unimplemented, engine.Failed}
var closeBehaviors = []string{engine.OK, engine.Informational, engine.WrongCode, engine.FailedByClient, engine.Unclean, engine.Failed}

// Summary writes a table per agent: how many cases earned each verdict,
// then the cases that are not OK, INFORMATIONAL or UNIMPLEMENTED.
func Summary(w io.Writer, res Results) {
	agents := make([]string, 0, len(res))
	for a := range res {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	for _, a := range agents {
		m := res[a]
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		cases.SortIDs(ids)
		count, countClose := map[string]int{}, map[string]int{}
		var dur int64
		var cpu float64
		for _, id := range ids {
			count[m[id].Behavior]++
			countClose[m[id].BehaviorClose]++
			dur += m[id].Duration
			cpu += m[id].SuiteCPU
		}
		fmt.Fprintf(w, "\nAgent %s: %d cases\n", a, len(ids))
		if cpu > 0 {
			fmt.Fprintf(w, "  cases' durations add up to %.1f s, the suite's own CPU for them to %.1f s\n", float64(dur)/1000, cpu/1000)
		}
		fmt.Fprintf(w, "  %-16s %6s %8s\n", "verdict", "behav.", "close")
		seen := map[string]bool{}
		for _, b := range append(append([]string{}, behaviors...), closeBehaviors...) {
			if seen[b] || (count[b] == 0 && countClose[b] == 0) {
				continue
			}
			seen[b] = true
			fmt.Fprintf(w, "  %-16s %6d %8d\n", b, count[b], countClose[b])
		}
		var notable []string
		for _, id := range ids {
			r := m[id]
			if (r.Behavior != engine.OK && r.Behavior != engine.Informational && r.Behavior != engine.Unimplemented) ||
				(r.BehaviorClose != engine.OK && r.BehaviorClose != engine.Informational) {
				code := "-"
				if r.RemoteCloseCode != nil {
					code = fmt.Sprint(*r.RemoteCloseCode)
				}
				notable = append(notable, fmt.Sprintf("    %-9s %-14s %-16s close code %s", id, r.Behavior, r.BehaviorClose, code))
			}
		}
		if len(notable) > 0 {
			fmt.Fprintf(w, "  not OK:\n%s\n", strings.Join(notable, "\n"))
		}
	}
}

// AnyFailed reports whether any case of any agent has behavior FAILED.
func AnyFailed(res Results) bool {
	for _, m := range res {
		for _, r := range m {
			if r.Behavior == engine.Failed {
				return true
			}
		}
	}
	return false
}

// Expected is an expected-results file: case ID -> expected verdict. Any
// entry that is not OK/OK must say why in Reason.
type Expected map[string]ExpectedEntry

// ExpectedEntry is the expected verdict of one case.
type ExpectedEntry struct {
	Behavior      string `json:"behavior"`
	BehaviorClose string `json:"behaviorClose"`
	Reason        string `json:"reason,omitempty"`
}

// ReadExpected reads an expected-results file.
func ReadExpected(path string) (Expected, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// FromResults makes an expected-results file from the results of one
// agent, keeping the reasons of old for entries whose verdict is unchanged.
// New non-OK entries get a reason that says it is missing.
func FromResults(m map[string]*engine.Result, old Expected) Expected {
	e := Expected{}
	for id, r := range m {
		ent := ExpectedEntry{Behavior: r.Behavior, BehaviorClose: r.BehaviorClose}
		if o, ok := old[id]; ok && o.Behavior == ent.Behavior && o.BehaviorClose == ent.BehaviorClose {
			ent.Reason = o.Reason
		}
		if !ent.isOK() && ent.Reason == "" {
			ent.Reason = "TODO: explain"
		}
		e[id] = ent
	}
	return e
}

func (e ExpectedEntry) isOK() bool {
	okish := func(b string) bool { return b == engine.OK || b == engine.Informational }
	return okish(e.Behavior) && okish(e.BehaviorClose)
}

// MarshalJSON writes the file in numeric case order, one entry per line.
func (e Expected) MarshalJSON() ([]byte, error) {
	ids := make([]string, 0, len(e))
	for id := range e {
		ids = append(ids, id)
	}
	cases.SortIDs(ids)
	var b strings.Builder
	b.WriteString("{\n")
	for i, id := range ids {
		k, _ := json.Marshal(id)
		v, err := json.Marshal(e[id])
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  %s: %s", k, v)
		if i < len(ids)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return []byte(b.String()), nil
}

// WriteExpected writes an expected-results file.
func WriteExpected(path string, e Expected) error {
	b, err := e.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Compare lists the differences between the results of one agent and the
// expected verdicts: cases whose verdict differs, expected cases that did
// not run, cases that ran but are not in the file, and non-OK entries
// without a reason.
func Compare(m map[string]*engine.Result, e Expected) []string {
	var diffs []string
	ids := map[string]bool{}
	for id := range m {
		ids[id] = true
	}
	for id := range e {
		ids[id] = true
	}
	all := make([]string, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	cases.SortIDs(all)
	for _, id := range all {
		r, ran := m[id]
		x, listed := e[id]
		switch {
		case !ran:
			diffs = append(diffs, fmt.Sprintf("%s: expected %s/%s but the case did not run", id, x.Behavior, x.BehaviorClose))
		case !listed:
			diffs = append(diffs, fmt.Sprintf("%s: got %s/%s, not in the expected results", id, r.Behavior, r.BehaviorClose))
		case r.Behavior != x.Behavior || r.BehaviorClose != x.BehaviorClose:
			diffs = append(diffs, fmt.Sprintf("%s: got %s/%s, expected %s/%s", id, r.Behavior, r.BehaviorClose, x.Behavior, x.BehaviorClose))
		}
		if listed && !x.isOK() && (x.Reason == "" || strings.HasPrefix(x.Reason, "TODO")) {
			diffs = append(diffs, fmt.Sprintf("%s: expected %s/%s without a written reason", id, x.Behavior, x.BehaviorClose))
		}
	}
	return diffs
}
