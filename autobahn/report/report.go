package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

// Results maps agent -> case ID -> result.
type Results = map[string]map[string]*engine.Result

// CleanForFilename lower-cases s and replaces runs of characters other
// than letters and digits with one underscore, as the original does for
// report file names.
func CleanForFilename(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), "_")
}

// CaseFile is the name of the report file of a case for an agent.
func CaseFile(agent, id, ext string) string {
	return CleanForFilename(agent) + "_case_" + strings.ReplaceAll(id, ".", "_") + "." + ext
}

// IndexEntry is one case of one agent in index.json.
type IndexEntry struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int64  `json:"duration"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
	// SuiteCPU is the suite's own CPU time for the case in milliseconds
	// (not in the original's index; absent when unknown).
	SuiteCPU float64 `json:"suiteCPU,omitempty"`
}

// Index builds the contents of index.json.
func Index(res Results) map[string]map[string]IndexEntry {
	out := map[string]map[string]IndexEntry{}
	for agent, m := range res {
		out[agent] = map[string]IndexEntry{}
		for id, r := range m {
			out[agent][id] = IndexEntry{r.Behavior, r.BehaviorClose, r.Duration, r.RemoteCloseCode, CaseFile(agent, id, "json"), r.SuiteCPU}
		}
	}
	return out
}

// marshal encodes v with three-space indentation like the original, with
// keys in the order encoding/json gives (sorted for maps).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "   ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sortedIndex orders index.json by agent and numerically by case ID.
type sortedIndex map[string]map[string]IndexEntry

func (x sortedIndex) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	agents := make([]string, 0, len(x))
	for a := range x {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	b.WriteByte('{')
	for i, a := range agents {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(a)
		b.Write(k)
		b.WriteString(":{")
		ids := make([]string, 0, len(x[a]))
		for id := range x[a] {
			ids = append(ids, id)
		}
		cases.SortIDs(ids)
		for j, id := range ids {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(id)
			v, err := json.Marshal(x[a][id])
			if err != nil {
				return nil, err
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WriteJSON writes index.json and one JSON file per case into dir.
func WriteJSON(dir string, res Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := marshal(sortedIndex(Index(res)))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		return err
	}
	for agent, m := range res {
		for id, r := range m {
			b, err := marshal(r)
			if err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
			if err := os.WriteFile(filepath.Join(dir, CaseFile(agent, id, "json")), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// Write writes the JSON and HTML reports into dir.
func Write(dir string, set *cases.Set, res Results) error {
	if err := WriteJSON(dir, res); err != nil {
		return err
	}
	return WriteHTML(dir, set, res)
}
