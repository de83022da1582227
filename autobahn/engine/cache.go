package engine

import (
	"crypto/sha256"
	"fmt"
	"sync"
)

// Sections 12 and 13 send the same 11 GB of messages in case after case:
// the message sequence of a case depends only on its data set and message
// size, and the suite's compressor and the testee's see it with the same
// few parameters. A Cache lets sessions share the work that repeats:
//
//   - Compressing. The compressed form of a sequence's messages, built
//     by the first session that sends it with given window bits and
//     context takeover setting, is sent as it is by later sessions. Any
//     valid compressed form of the same messages leaves the testee's
//     decompressor in the same state (its history is the uncompressed
//     octets, RFC 7692 §7.2.2), so the testee is tested the same way.
//   - Checking echoes. When a testee echoes a sequence, a compressed
//     message whose octets have the SHA-256 digest of one that was
//     inflated and found equal to the expected message, under the same
//     history (the sequence's messages before it, or none without context
//     takeover) and window, inflates to that message again: inflating is
//     a function of the history and the octets. The session delivers
//     the expected message without inflating it again. (The original
//     compares SHA-1 digests of the messages themselves.)
//
// Nothing is taken on trust that was not checked octet by octet once:
// a testee that compresses differently from one run to the next, or a
// sequence sent in another order, is inflated and checked in full.

// Sequence is a deterministic sequence of messages: two Sequences with
// the same Name have the same Message(i) for every i.
type Sequence struct {
	Name    string
	Message func(i int) []byte
}

// Cache is shared by the sessions of a run; it is safe for concurrent use.
// Compressed sequences take memory, up to the budget given to NewCache;
// the digests of checked echoes take 32 octets a message.
type Cache struct {
	mu       sync.Mutex
	budget   int64 // octets of compressed messages the cache may hold
	used     int64
	compr    map[comprKey]*comprEntry
	verified map[verifyKey][][sha256.Size]byte
	stats    CacheStats
}

// CacheStats counts what a Cache saved.
type CacheStats struct {
	Compressed int64 // messages of a sequence compressed
	Reused     int64 // messages sent compressed from the cache
	Inflated   int64 // echoes of a sequence inflated and checked
	Recognized int64 // echoes recognized by their digest
	Bytes      int64 // octets of compressed messages held
}

func (st CacheStats) String() string {
	return fmt.Sprintf("%d messages compressed, %d sent from the cache (%d MiB held); %d echoes inflated, %d recognized by digest",
		st.Compressed, st.Reused, st.Bytes>>20, st.Inflated, st.Recognized)
}

// Stats returns the counts so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Bytes = c.used
	return st
}

// count adds to a counter of the stats.
func (c *Cache) count(f func(*CacheStats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// DefaultCacheBudget is the memory a Cache holds at most for compressed
// messages unless told otherwise. Every sequence of sections 12 and 13
// would take about 1 GiB; a quarter of that keeps the small and middle
// sizes, which are most of the messages: measured on the project job
// (2 cores, idle), 256 MiB gave 101 s wall and 2.3 GB peak RSS, 1 GiB
// 109 s and 3.9 GB, none 108 s and 1.9 GB. The testees, not the suite,
// set the pace, so the budget buys CPU, not time.
const DefaultCacheBudget = 256 << 20

// NewCache returns a cache that holds up to budget octets of compressed
// messages (0 means DefaultCacheBudget; negative: none, only digests).
func NewCache(budget int64) *Cache {
	if budget == 0 {
		budget = DefaultCacheBudget
	}
	return &Cache{budget: max(budget, 0), compr: map[comprKey]*comprEntry{}, verified: map[verifyKey][][sha256.Size]byte{}}
}

type comprKey struct {
	seq       string
	bits      int
	noContext bool
}

type comprEntry struct {
	msgs   [][]byte // compressed messages 0, 1, ...
	size   int64
	done   bool // the builder has finished; msgs no longer change
	failed bool // over budget: not cached
}

// compressed returns compressed message i of a finished entry.
func (c *Cache) compressed(k comprKey, i int) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.compr[k]
	if e == nil || !e.done || i >= len(e.msgs) {
		return nil, false
	}
	return e.msgs[i], true
}

// build returns a new entry for k for the caller to fill, or nil when
// another session has built or is building it.
func (c *Cache) build(k comprKey) *comprEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.compr[k]; ok || c.budget == 0 {
		return nil
	}
	e := &comprEntry{}
	c.compr[k] = e
	return e
}

// add appends compressed message p to an entry being built; it reports
// false (and gives the entry up) when the budget is exhausted.
func (c *Cache) add(e *comprEntry, p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.failed {
		return false
	}
	if c.used+int64(len(p)) > c.budget {
		c.used -= e.size
		e.msgs, e.size, e.failed = nil, 0, true
		return false
	}
	e.msgs = append(e.msgs, p)
	e.size += int64(len(p))
	c.used += int64(len(p))
	return true
}

// finish marks an entry as built.
func (c *Cache) finish(e *comprEntry) {
	c.mu.Lock()
	e.done = true
	c.mu.Unlock()
}

type verifyKey struct {
	agent     string
	seq       string
	bits      int  // the testee's window
	noContext bool // the testee's context takeover
	utf8      bool // the message was validated as UTF-8 text
}

// verifiedAs reports whether message i of the key's sequence was checked
// with these octets' digest.
func (c *Cache) verifiedAs(k verifyKey, i int, d [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.verified[k]
	return i < len(v) && v[i] == d
}

// recordVerified records the digest of octets that inflated to message i;
// the first digest recorded for a message stays.
func (c *Cache) recordVerified(k verifyKey, i int, d [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.verified[k]
	var zero [sha256.Size]byte
	for len(v) <= i {
		v = append(v, zero)
	}
	if v[i] == zero {
		v[i] = d
	}
	c.verified[k] = v
}
