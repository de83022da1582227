package autobahn

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

// Spec is a spec file in the original suite's format. Fuzzingclient specs
// list Servers; fuzzingserver specs give URL.
type Spec struct {
	Options           map[string]any      `json:"options,omitempty"`
	OutDir            string              `json:"outdir,omitempty"`
	Servers           []ServerSpec        `json:"servers,omitempty"`
	URL               string              `json:"url,omitempty"`
	Cases             []string            `json:"cases"`
	ExcludeCases      []string            `json:"exclude-cases,omitempty"`
	ExcludeAgentCases map[string][]string `json:"exclude-agent-cases,omitempty"`
	// Key and Cert (fuzzingserver) serve wss:// with this key pair.
	Key  string `json:"key,omitempty"`
	Cert string `json:"cert,omitempty"`
	// WebPort is accepted for compatibility and ignored.
	WebPort int `json:"webport,omitempty"`
}

// ServerSpec is a testee server in a fuzzingclient spec.
type ServerSpec struct {
	Agent     string         `json:"agent,omitempty"`
	URL       string         `json:"url"`
	Options   map[string]any `json:"options,omitempty"`
	Origin    string         `json:"origin,omitempty"`
	Protocols []string       `json:"protocols,omitempty"`
	// Hostname is the TLS server name for wss:// (SNI).
	Hostname string `json:"hostname,omitempty"`
}

// ReadSpec reads a spec file.
func ReadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// patternRegexp turns a case pattern into a regular expression: "." is
// literal, "*" matches anything. Like the original, case patterns match at
// the start of an ID ("1.1.*" matches "1.1.1"); anchored ones must match
// the whole ID.
func patternRegexp(p string, anchored bool) (*regexp.Regexp, error) {
	s := strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*")
	if anchored {
		s = "^" + s + "$"
	} else {
		s = "^" + s
	}
	return regexp.Compile(s)
}

// resolve expands patterns to case IDs in numeric order per pattern.
func resolve(set *cases.Set, patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		if !strings.Contains(p, "*") {
			out = append(out, p)
			continue
		}
		re, err := patternRegexp(p, false)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, id := range set.IDs() {
			if re.MatchString(id) {
				ids = append(ids, id)
			}
		}
		cases.SortIDs(ids)
		out = append(out, ids...)
	}
	return out, nil
}

// SelectCases returns the IDs of the cases a spec asks for, minus its
// exclusions, in numeric order.
func (s *Spec) SelectCases(set *cases.Set) ([]string, error) {
	want, err := resolve(set, s.Cases)
	if err != nil {
		return nil, err
	}
	excl, err := resolve(set, s.ExcludeCases)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, id := range excl {
		drop[id] = true
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range want {
		if drop[id] || seen[id] {
			continue
		}
		if set.ByID(id) == nil {
			return nil, fmt.Errorf("unknown case %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	cases.SortIDs(ids)
	return ids, nil
}

// agentExcluder returns a function reporting whether the spec's
// exclude-agent-cases excludes a case for an agent.
func (s *Spec) agentExcluder() (func(agent, id string) bool, error) {
	type rule struct {
		agent *regexp.Regexp
		cases []*regexp.Regexp
	}
	var rules []rule
	agents := make([]string, 0, len(s.ExcludeAgentCases))
	for a := range s.ExcludeAgentCases {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	for _, a := range agents {
		ar, err := patternRegexp(a, true)
		if err != nil {
			return nil, err
		}
		r := rule{agent: ar}
		for _, c := range s.ExcludeAgentCases[a] {
			cr, err := patternRegexp(c, true)
			if err != nil {
				return nil, err
			}
			r.cases = append(r.cases, cr)
		}
		rules = append(rules, r)
	}
	return func(agent, id string) bool {
		for _, r := range rules {
			if r.agent.MatchString(agent) {
				for _, c := range r.cases {
					if c.MatchString(id) {
						return true
					}
				}
			}
		}
		return false
	}, nil
}

// options builds the protocol options: the original's defaults, then the
// spec's global options, then per-server ones.
func options(layers ...map[string]any) (engine.Options, error) {
	o := engine.DefaultOptions()
	for _, l := range layers {
		keys := make([]string, 0, len(l))
		for k := range l {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := o.Set(k, l[k]); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}
