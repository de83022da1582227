package deflate

import (
	"encoding/binary"
	"math/bits"
)

// The match finder is a single-probe hash table of 4-byte sequences, like
// Snappy's and compress/flate's BestSpeed, with two differences that make
// a window of 2^W bytes cheap:
//
//   - The table has 2^hashBits(W) entries, not a fixed 16384, and each is a
//     uint16 holding the low 16 bits of an absolute stream position. The
//     distance to a candidate is the 16-bit difference of positions, so
//     entries never need rebasing when the buffer slides, and a stale
//     entry can only produce a wrong candidate, which the byte comparison
//     rejects.
//   - A candidate is used only if its distance is at most 2^W and it lies
//     inside the buffer's valid history (distance <= index). This is what
//     makes the output valid for the negotiated window (RFC 7692 §7.1.2)
//     and keeps a pooled buffer's old contents unreachable.

const (
	hashMul     = 0x1e35a7bd
	maxHashBits = 12
)

// hashBits is the size (log2 entries) of the hash table for a window of
// 2^wbits bytes: one entry per two window bytes up to 4096 entries (8 KiB).
func hashBits(wbits int) uint {
	return uint(min(wbits+1, maxHashBits))
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// matchLen returns the length of the common prefix of a and b, len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		if x := load64(a, n) ^ load64(b, n); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// matcher is the LZ77 state of one stream: the hash table and the window.
type matcher struct {
	table  []uint16
	shift  uint32 // 32 - hashBits
	window int    // maximum distance, 2^W
	lazy   bool   // look one byte ahead for a longer match (levels >= 4)
}

// parse tokenizes buf[s:end) and appends to toks until it is nearly full.
// buf[:s] is history (valid, and already tokenized up to emit; bytes
// emit..s are pending literals); matches may extend up to len(buf). base
// is the absolute stream position of buf[0]. It returns the position
// reached, the start of the pending literals and the number of bytes
// matches covered.
func (m *matcher) parse(buf []byte, base uint32, s, emit, end int, toks []uint32) (int, int, []uint32, int) {
	if m.lazy {
		return m.parseLazy(buf, base, s, emit, end, toks)
	}
	table := m.table
	shift := m.shift
	window := m.window
	matched := 0
	sLimit := min(end, len(buf)-4) // positions whose 4 bytes can be hashed
	tokLimit := cap(toks) - 2
	skip := 32
	for s < sLimit {
		cv := load32(buf, s)
		h := (cv * hashMul) >> shift
		pos := base + uint32(s)
		cand := table[h&uint32(len(table)-1)]
		table[h&uint32(len(table)-1)] = uint16(pos)
		d := int(uint16(pos - uint32(cand)))
		// A candidate is used if 1 <= d <= min(window, s), which puts it
		// within this stream's window and inside the buffer's history.
		if uint(d-1) >= uint(min(window, s)) || load32(buf, s-d) != cv {
			// Step faster through input that does not match, so that
			// incompressible data is skimmed.
			s += skip >> 5
			skip += skip >> 5
			continue
		}
		// Extend the match past its first 4 bytes, 8 at a time. This is
		// matchLen written out: a call here would make the compiler save
		// and reload the loop's many live variables around it.
		a, b, bEnd := s-d+4, s+4, min(len(buf), s+maxMatch)
		for b < bEnd {
			if b+8 > bEnd {
				if buf[a] != buf[b] {
					break
				}
				a, b = a+1, b+1
				continue
			}
			if x := load64(buf, a) ^ load64(buf, b); x != 0 {
				b += bits.TrailingZeros64(x) >> 3
				break
			}
			a, b = a+8, b+8
		}
		l := b - s
		lits := s - emit
		if lits > maxTokLits {
			toks = append(toks, tokLitRun|uint32(lits))
			lits = 0
		}
		toks = append(toks, uint32(lits)<<tokLitShift|uint32(l-3)<<tokLenShift|uint32(d-1))
		matched += l
		s = b
		emit = s
		skip = 32
		// Index a position inside the match, so that repeats of the
		// data that ends it are found.
		if p := s - 2; p+4 <= len(buf) {
			table[(load32(buf, p)*hashMul)>>shift&uint32(len(table)-1)] = uint16(base + uint32(p))
		}
		if len(toks) >= tokLimit {
			break
		}
	}
	return parseEnd(s, emit, end, len(buf), toks, matched, tokLimit)
}

// parseEnd computes the position a parse reached. If the token list
// filled, that is exactly s. Otherwise every start position below end was
// handled: s may be past end (a match or a skip crossed it, and the bytes
// it skipped are pending literals) or just below it (its last bytes were
// too few to hash), but never past the data.
func parseEnd(s, emit, end, n int, toks []uint32, matched, tokLimit int) (int, int, []uint32, int) {
	if len(toks) >= tokLimit {
		return s, emit, toks, matched
	}
	return min(max(s, end), n), emit, toks, matched
}

// parseLazy is the parser for levels 4 and up: every position is probed
// (no skipping), and before a match at s is taken the match at s+1 is
// tried; if it is longer, s is emitted as a literal and the parse moves on
// (one step of lazy evaluation, as in zlib's deflate_slow).
func (m *matcher) parseLazy(buf []byte, base uint32, s, emit, end int, toks []uint32) (int, int, []uint32, int) {
	table := m.table
	shift := m.shift
	window := m.window
	mask := uint32(len(table) - 1)
	matched := 0
	sLimit := min(end, len(buf)-4)
	tokLimit := cap(toks) - 2
	// find probes position p and returns the match length and distance.
	find := func(p int) (int, int) {
		cv := load32(buf, p)
		h := (cv * hashMul) >> shift & mask
		pos := base + uint32(p)
		cand := table[h]
		table[h] = uint16(pos)
		d := int(uint16(pos - uint32(cand)))
		if d == 0 || d > window || d > p || load32(buf, p-d) != cv {
			return 0, 0
		}
		return 4 + matchLen(buf[p-d+4:], buf[p+4:min(len(buf), p+maxMatch)]), d
	}
	misses := 0
	for s < sLimit {
		l, d := find(s)
		if l == 0 {
			misses++
			s += 1 + misses>>7 // skim long runs without matches
			continue
		}
		misses = 0
		for l < maxMatch && s+1 < sLimit {
			l2, d2 := find(s + 1)
			if l2 <= l {
				break
			}
			s, l, d = s+1, l2, d2
		}
		lits := s - emit
		if lits > maxTokLits {
			toks = append(toks, tokLitRun|uint32(lits))
			lits = 0
		}
		toks = append(toks, uint32(lits)<<tokLitShift|uint32(l-3)<<tokLenShift|uint32(d-1))
		matched += l
		// Index the positions inside the match (up to a few), so that
		// later repeats find them.
		stop := min(s+l, len(buf)-4, s+16)
		for p := s + 2; p < stop; p += 2 {
			table[(load32(buf, p)*hashMul)>>shift&mask] = uint16(base + uint32(p))
		}
		s += l
		emit = s
		if p := s - 1; p+4 <= len(buf) {
			table[(load32(buf, p)*hashMul)>>shift&mask] = uint16(base + uint32(p))
		}
		if len(toks) >= tokLimit {
			break
		}
	}
	return parseEnd(s, emit, end, len(buf), toks, matched, tokLimit)
}
