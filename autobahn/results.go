package autobahn

import (
	"sort"
	"sync"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Results collects case results by agent and case ID. It is safe for
// concurrent use.
type Results struct {
	mu        sync.Mutex
	byAgent   map[string]map[string]*engine.Result
	listeners map[[2]string][]func(*engine.Result)
}

// NewResults returns an empty collection.
func NewResults() *Results {
	return &Results{byAgent: map[string]map[string]*engine.Result{}, listeners: map[[2]string][]func(*engine.Result){}}
}

// Add stores a result, replacing an earlier one for the same agent and
// case, and notifies anyone waiting for it.
func (r *Results) Add(res *engine.Result) {
	r.mu.Lock()
	m := r.byAgent[res.Agent]
	if m == nil {
		m = map[string]*engine.Result{}
		r.byAgent[res.Agent] = m
	}
	m[res.ID] = res
	k := [2]string{res.Agent, res.ID}
	ls := r.listeners[k]
	delete(r.listeners, k)
	r.mu.Unlock()
	for _, f := range ls {
		f(res)
	}
}

// Get returns the result of a case for an agent, or nil.
func (r *Results) Get(agent, id string) *engine.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byAgent[agent][id]
}

// Wait calls f with the result of a case for an agent: now if it exists,
// otherwise when it is added.
func (r *Results) Wait(agent, id string, f func(*engine.Result)) {
	r.mu.Lock()
	if res := r.byAgent[agent][id]; res != nil {
		r.mu.Unlock()
		f(res)
		return
	}
	k := [2]string{agent, id}
	r.listeners[k] = append(r.listeners[k], f)
	r.mu.Unlock()
}

// Agents returns the agents with results, sorted.
func (r *Results) Agents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.byAgent))
	for a := range r.byAgent {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Snapshot returns a copy of all results: agent -> case ID -> result.
func (r *Results) Snapshot() map[string]map[string]*engine.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[string]*engine.Result, len(r.byAgent))
	for a, m := range r.byAgent {
		c := make(map[string]*engine.Result, len(m))
		for id, res := range m {
			c[id] = res
		}
		out[a] = c
	}
	return out
}
