package cases

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Set is the suite's case list with its index and report headings.
type Set struct {
	Cases         []*engine.Case // in the original's order
	byID          map[string]*engine.Case
	index         map[string]int
	Categories    map[string]string // "6" -> "UTF-8 Handling"
	SubCategories map[string]string // "6.4" -> "Fail-fast on invalid UTF-8"
	Data          *TestData
}

// New builds the case set with the given section 12/13 data.
func New(data *TestData) *Set {
	s := &Set{Data: data, byID: map[string]*engine.Case{}, index: map[string]int{}}
	for _, sec := range [][]*engine.Case{section1(), section2(), section3(), section4(), section5(),
		section6(), section7(), section9(), section10(), section12(data), section13(data)} {
		s.Cases = append(s.Cases, sec...)
	}
	for i, c := range s.Cases {
		s.byID[c.ID] = c
		s.index[c.ID] = i + 1
	}
	s.Categories = map[string]string{
		"0": "Handshake", "1": "Framing", "2": "Pings/Pongs", "3": "Reserved Bits", "4": "Opcodes",
		"5": "Fragmentation", "6": "UTF-8 Handling", "7": "Close Handling", "8": "Misc",
		"9": "Limits/Performance", "10": "Misc",
		"12": "WebSocket Compression (different payloads)",
		"13": "WebSocket Compression (different parameters)",
	}
	s.SubCategories = map[string]string{
		"1.1": "Text Messages", "1.2": "Binary Messages",
		"4.1": "Non-control Opcodes", "4.2": "Control Opcodes",
		"6.1":  "Valid UTF-8 with zero payload fragments",
		"6.2":  "Valid UTF-8 unfragmented, fragmented on code-points and within code-points",
		"6.3":  "Invalid UTF-8 differently fragmented",
		"6.4":  "Fail-fast on invalid UTF-8",
		"7.1":  "Basic close behavior (fuzzer initiated)",
		"7.3":  "Close frame structure: payload length (fuzzer initiated)",
		"7.5":  "Close frame structure: payload value (fuzzer initiated)",
		"7.7":  "Close frame structure: valid close codes (fuzzer initiated)",
		"7.9":  "Close frame structure: invalid close codes (fuzzer initiated)",
		"7.13": "Informational close information (fuzzer initiated)",
		"9.1":  "Text Message (increasing size)", "9.2": "Binary Message (increasing size)",
		"9.3": "Fragmented Text Message (fixed size, increasing fragment size)",
		"9.4": "Fragmented Binary Message (fixed size, increasing fragment size)",
		"9.5": "Text Message (fixed size, increasing chop size)",
		"9.6": "Binary Text Message (fixed size, increasing chop size)",
		"9.7": "Text Message Roundtrip Time (fixed number, increasing size)",
		"9.8": "Binary Message Roundtrip Time (fixed number, increasing size)",
		"9.9": "Text Message (unlimited size)", "9.10": "Binary Message (unlimited size)",
		"10.1": "Auto-Fragmentation",
	}
	for i, g := range utf8TestSequences() {
		s.SubCategories["6."+strconv.Itoa(i+5)] = g.name
	}
	for k, v := range subcategories12and13(data) {
		s.SubCategories[k] = v
	}
	return s
}

var (
	defaultOnce sync.Once
	defaultSet  *Set
)

// Default returns the case set with generated section 12/13 data.
func Default() *Set {
	defaultOnce.Do(func() { defaultSet = New(Generated()) })
	return defaultSet
}

// ByID returns the case with the given ID, or nil.
func (s *Set) ByID(id string) *engine.Case { return s.byID[id] }

// Index returns the 1-based position of a case in the full list (the
// original's case number in fuzzingclient reports), or 0.
func (s *Set) Index(id string) int { return s.index[id] }

// IDs returns all case IDs in order.
func (s *Set) IDs() []string {
	ids := make([]string, len(s.Cases))
	for i, c := range s.Cases {
		ids[i] = c.ID
	}
	return ids
}

// ParseID splits "6.4.1" into its numbers.
func ParseID(id string) []int {
	parts := strings.Split(id, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}

// Less orders case IDs numerically, component by component.
func Less(a, b string) bool {
	x, y := ParseID(a), ParseID(b)
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return len(x) < len(y)
}

// SortIDs sorts case IDs numerically.
func SortIDs(ids []string) { sort.Slice(ids, func(i, j int) bool { return Less(ids[i], ids[j]) }) }

// Pretty returns a case's description up to its first HTML tag with white
// space collapsed (what /getCaseInfo reports).
func Pretty(c *engine.Case) string {
	d := c.Description
	if i := strings.IndexByte(d, '<'); i >= 0 {
		d = d[:i]
	}
	return strings.Join(strings.Fields(d), " ")
}
