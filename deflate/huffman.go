package deflate

import "slices"

// huffScratch is the working space for building length-limited Huffman
// codes. It lives in the per-message encoder scratch, so building a code
// allocates nothing.
type huffScratch struct {
	keys [numFixedLit]uint64 // freq<<16 | symbol of the used symbols
	w    [numFixedLit]uint32 // sorted weights, then code lengths

	// Package-merge working space (used only when the unconstrained
	// Huffman code is too deep).
	pmA, pmB [2 * numFixedLit]uint32
	pmLeaf   [maxCodeBits][(2*numFixedLit + 63) / 64]uint64
}

// buildLengths sets lens[s] to the length of the code for symbol s so that
// the code is an optimal prefix code for the frequencies freq with no code
// longer than maxBits. Symbols with zero frequency get length 0.
//
// The code is always complete (Kraft sum exactly 1): if only one symbol is
// used, a second one gets a code too, because some decoders (zlib for the
// code length alphabet) reject incomplete codes.
func (h *huffScratch) buildLengths(freq []uint32, lens []uint8, maxBits int) {
	n := 0
	for s, f := range freq {
		lens[s] = 0
		if f != 0 {
			h.keys[n] = uint64(f)<<16 | uint64(s)
			n++
		}
	}
	switch n {
	case 0:
		return
	case 1:
		s := int(h.keys[0] & 0xffff)
		lens[s] = 1
		if s == 0 {
			lens[1] = 1
		} else {
			lens[0] = 1
		}
		return
	}
	keys := h.keys[:n]
	slices.Sort(keys)
	w := h.w[:n]
	for i, k := range keys {
		w[i] = uint32(k >> 16)
	}
	minimumRedundancy(w)
	if int(w[0]) > maxBits {
		// w[0] is the deepest leaf. Recompute the weights and fall back
		// to package-merge, which is optimal under the length limit.
		for i, k := range keys {
			w[i] = uint32(k >> 16)
		}
		h.packageMerge(w, maxBits)
	}
	for i, k := range keys {
		lens[k&0xffff] = uint8(w[i])
	}
}

// minimumRedundancy replaces the weights in a, sorted in nondecreasing
// order, len(a) >= 2, by the code lengths of a Huffman code for them,
// in place and in linear time (Moffat and Katajainen, "In-place
// calculation of minimum-redundancy codes", 1995). The first pass builds
// the tree with parent pointers in a, the second turns the pointers into
// internal node depths and the third counts leaves per depth.
func minimumRedundancy(a []uint32) {
	n := len(a)
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		// First child: the smaller of the next internal node and the next leaf.
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		// Second child.
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avail, used, depth := 1, 0, uint32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail = 2 * used
		depth++
		used = 0
	}
}

// packageMerge replaces the weights in w, sorted in nondecreasing order,
// 2 <= len(w) <= 1<<maxBits, by the code lengths of an optimal prefix code
// with no code longer than maxBits (Larmore and Hirschberg's package-merge).
//
// List maxBits-1 holds the leaves; each shallower list merges the leaves
// with the pairs ("packages") of the list below it. The 2n-2 cheapest items
// of list 0 form the solution, and a leaf's code length is the number of
// selected items that contain it. Only the leaf/package pattern of each
// list is kept, which is enough to count: the leaves among the first m
// items of a list are the m' lightest leaves, and the packages among them
// select the first 2p items of the list below.
func (h *huffScratch) packageMerge(w []uint32, maxBits int) {
	n := len(w)
	limit := 2*n - 2
	for i := range h.pmLeaf[:maxBits] {
		clear(h.pmLeaf[i][:])
	}
	prev := append(h.pmA[:0], w...)
	for i := range n {
		h.pmLeaf[maxBits-1][i>>6] |= 1 << (i & 63)
	}
	cur := h.pmB[:0]
	for lvl := maxBits - 2; lvl >= 0; lvl-- {
		cur = cur[:0]
		np := len(prev) / 2
		i, j := 0, 0
		for len(cur) < limit && (i < n || j < np) {
			if j >= np || (i < n && w[i] <= prev[2*j]+prev[2*j+1]) {
				h.pmLeaf[lvl][len(cur)>>6] |= 1 << (len(cur) & 63)
				cur = append(cur, w[i])
				i++
			} else {
				cur = append(cur, prev[2*j]+prev[2*j+1])
				j++
			}
		}
		prev, cur = cur, prev
	}
	for i := range w {
		w[i] = 0
	}
	m := limit
	for lvl := 0; lvl < maxBits && m > 0; lvl++ {
		k := 0
		for x := range m {
			if h.pmLeaf[lvl][x>>6]&(1<<(x&63)) != 0 {
				k++
			}
		}
		// The k leaves among the selected items are the k lightest.
		// w is sorted lightest first, so they are w[0:k].
		for x := range k {
			w[x]++
		}
		m = 2 * (m - k)
	}
}
