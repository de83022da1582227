package cases

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// Case counts per section, as in the original suite (sections 9.9/9.10
// and 8, 11 are not part of it).
func TestCaseCounts(t *testing.T) {
	want := map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}
	got := map[string]int{}
	for _, c := range Default().Cases {
		got[c.Section()]++
	}
	for sec, n := range want {
		if got[sec] != n {
			t.Errorf("section %s: %d cases, want %d", sec, got[sec], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("sections %v, want %v", got, want)
	}
}

// The generated data sets have the original files' sizes and kinds, and
// messages wrap around the end of a set as in the original.
func TestGeneratedData(t *testing.T) {
	td := Generated()
	for _, d := range td.Sets {
		if len(d.Data) != d.Size {
			t.Errorf("%s: %d bytes, want %d", d.Name, len(d.Data), d.Size)
		}
		if !d.Binary && !utf8.Valid(d.Data) {
			t.Errorf("%s: text set is not UTF-8", d.Name)
		}
	}
	html := td.Sets[3]
	if html.units() == len(html.Data) {
		t.Errorf("html set has no multi-byte characters")
	}
	// A slice across the end wraps to the start.
	u := html.units()
	m := html.slice(u-3, 10)
	if utf8.RuneCount(m) != 10 || !utf8.Valid(m) {
		t.Errorf("wrapped slice: %q", m)
	}
	if !bytes.Equal(m[len(m)-7:], html.Data[:7]) {
		t.Errorf("wrapped slice does not continue at the start")
	}
	// Generation is deterministic.
	if !bytes.Equal(Generated().Sets[4].Data, td.Sets[4].Data) {
		t.Error("generated data differs between calls")
	}
}

// Every case ID is unique and every case has a description, an
// expectation and a script.
func TestCaseDefinitions(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Default().Cases {
		if seen[c.ID] {
			t.Errorf("duplicate %s", c.ID)
		}
		seen[c.ID] = true
		if c.Description == "" || c.Expectation == "" || c.Open == nil {
			t.Errorf("%s incomplete", c.ID)
		}
	}
	ids := Default().IDs()
	sorted := append([]string(nil), ids...)
	SortIDs(sorted)
	for i := range ids {
		if Section(ids[i]) != Section(sorted[i]) {
			t.Fatalf("registry order departs from numeric order at %s", ids[i])
		}
	}
}

func Section(id string) string { return strings.SplitN(id, ".", 2)[0] }
