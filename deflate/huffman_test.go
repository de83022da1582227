package deflate

import (
	"container/heap"
	"math/rand/v2"
	"testing"
)

// kraft returns the Kraft sum of lens scaled by 2^maxCodeBits.
func kraft(lens []uint8) int {
	sum := 0
	for _, l := range lens {
		if l != 0 {
			sum += 1 << (maxCodeBits - l)
		}
	}
	return sum
}

func cost(freq []uint32, lens []uint8) uint64 {
	var c uint64
	for s, f := range freq {
		c += uint64(f) * uint64(lens[s])
	}
	return c
}

type weightHeap []uint64

func (h weightHeap) Len() int           { return len(h) }
func (h weightHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h weightHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *weightHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *weightHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// huffmanCost is a reference: the cost of an unconstrained Huffman code,
// computed the textbook way (sum of the weights of all internal nodes),
// and the depth of that tree. Nodes are weight<<8 | height.
func huffmanCost(freq []uint32) (cost uint64, depth int) {
	h := &weightHeap{}
	for _, f := range freq {
		if f != 0 {
			*h = append(*h, uint64(f)<<8)
		}
	}
	if h.Len() < 2 {
		return 0, 0
	}
	heap.Init(h)
	for h.Len() > 1 {
		a := heap.Pop(h).(uint64)
		b := heap.Pop(h).(uint64)
		w := a>>8 + b>>8
		d := max(a&0xff, b&0xff) + 1
		cost += w
		heap.Push(h, w<<8|d)
	}
	return cost, int((*h)[0] & 0xff)
}

// bruteForceCost returns the cost of the best prefix code for the used
// symbols of freq with lengths in 1..limit, by exhaustive search.
func bruteForceCost(freq []uint32, limit int) uint64 {
	var used []uint32
	for _, f := range freq {
		if f != 0 {
			used = append(used, f)
		}
	}
	best := ^uint64(0)
	lens := make([]int, len(used))
	var rec func(i int, kraftLeft int, c uint64)
	rec = func(i int, kraftLeft int, c uint64) {
		if c >= best {
			return
		}
		if i == len(used) {
			best = c
			return
		}
		for l := 1; l <= limit; l++ {
			k := 1 << (limit - l)
			if k <= kraftLeft {
				lens[i] = l
				rec(i+1, kraftLeft-k, c+uint64(used[i])*uint64(l))
			}
		}
	}
	rec(0, 1<<limit, 0)
	return best
}

func TestBuildLengthsUnconstrainedIsHuffman(t *testing.T) {
	var h huffScratch
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 2000 {
		n := 2 + rng.IntN(numFixedLit-1)
		freq := make([]uint32, n)
		for s := range freq {
			switch rng.IntN(4) {
			case 0: // unused
			case 1:
				freq[s] = 1 + rng.Uint32N(3)
			default:
				freq[s] = 1 + rng.Uint32N(1000)
			}
		}
		lens := make([]uint8, n)
		h.buildLengths(freq, lens, maxCodeBits)
		used := 0
		for _, f := range freq {
			if f != 0 {
				used++
			}
		}
		if used == 0 {
			continue
		}
		if k := kraft(lens); k != 1<<maxCodeBits {
			t.Fatalf("iter %d: Kraft sum %d/%d, want complete code", iter, k, 1<<maxCodeBits)
		}
		for s, l := range lens {
			if l > maxCodeBits {
				t.Fatalf("iter %d: symbol %d has length %d", iter, s, l)
			}
			if freq[s] != 0 && l == 0 {
				t.Fatalf("iter %d: used symbol %d has no code", iter, s)
			}
		}
		want, depth := huffmanCost(freq)
		got := cost(freq, lens)
		switch {
		case used < 2:
		case depth <= maxCodeBits && got != want:
			t.Fatalf("iter %d: cost %d, Huffman cost %d", iter, got, want)
		case got < want:
			t.Fatalf("iter %d: cost %d below the Huffman cost %d", iter, got, want)
		}
	}
}

func TestBuildLengthsLimitedOptimal(t *testing.T) {
	var h huffScratch
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 3000 {
		limit := 3 + rng.IntN(3) // 3..5
		n := 2 + rng.IntN(min(1<<limit, 9)-1)
		freq := make([]uint32, n)
		for s := range freq {
			// Skewed weights force deep unconstrained trees.
			freq[s] = 1 + rng.Uint32N(1<<rng.UintN(14))
		}
		lens := make([]uint8, n)
		h.buildLengths(freq, lens, limit)
		for s, l := range lens {
			if int(l) > limit || l == 0 {
				t.Fatalf("iter %d: symbol %d length %d, limit %d", iter, s, l, limit)
			}
		}
		if k := kraft(lens); k != 1<<maxCodeBits {
			t.Fatalf("iter %d: incomplete code, Kraft %d", iter, k)
		}
		if got, want := cost(freq, lens), bruteForceCost(freq, limit); got != want {
			t.Fatalf("iter %d: freq %v limit %d: cost %d (lens %v), optimum %d", iter, freq, limit, got, lens, want)
		}
	}
}

func TestBuildLengthsFibonacci(t *testing.T) {
	// Fibonacci weights give the deepest possible Huffman trees; with 30
	// symbols the unconstrained code needs 29 bits.
	var h huffScratch
	for _, limit := range []int{maxCLBits, maxCodeBits} {
		for _, n := range []int{numCodeLen, numDist, numLitLen} {
			freq := make([]uint32, n)
			a, b := uint32(1), uint32(1)
			for s := range freq {
				freq[s] = a
				a, b = b, a+b
				if a > 1<<24 {
					a, b = 1, 1
				}
			}
			if 1<<limit < n {
				continue
			}
			lens := make([]uint8, n)
			h.buildLengths(freq, lens, limit)
			for s, l := range lens {
				if int(l) > limit || l == 0 {
					t.Fatalf("n=%d limit=%d: symbol %d length %d", n, limit, s, l)
				}
			}
			if k := kraft(lens); k != 1<<maxCodeBits {
				t.Fatalf("n=%d limit=%d: Kraft %d", n, limit, k)
			}
		}
	}
}

func TestBuildLengthsSmall(t *testing.T) {
	var h huffScratch
	lens := make([]uint8, 5)
	h.buildLengths([]uint32{0, 0, 0, 0, 0}, lens, 15)
	if kraft(lens) != 0 {
		t.Fatalf("no symbols: lens %v", lens)
	}
	h.buildLengths([]uint32{0, 0, 7, 0, 0}, lens, 15)
	if lens[2] != 1 || kraft(lens) != 1<<maxCodeBits {
		t.Fatalf("one symbol: lens %v, want symbol 2 and a dummy at length 1", lens)
	}
	h.buildLengths([]uint32{9, 0, 0, 0, 0}, lens, 15)
	if lens[0] != 1 || lens[1] != 1 {
		t.Fatalf("one symbol 0: lens %v", lens)
	}
}

func TestCanonicalCodesRFC1951Example(t *testing.T) {
	// RFC 1951 §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A..H give
	// codes 010 011 100 101 110 00 1110 1111.
	lens := []uint8{3, 3, 3, 3, 3, 2, 4, 4}
	want := []uint16{0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111}
	codes := make([]uint16, len(lens))
	canonicalCodes(lens, codes)
	for s := range lens {
		if got := reverseBits(codes[s], lens[s]); got != want[s] {
			t.Errorf("symbol %c: code %0*b, want %0*b", 'A'+s, lens[s], got, lens[s], want[s])
		}
	}
}

func TestCodeTables(t *testing.T) {
	for l := 3; l <= maxMatch; l++ {
		c := lengthCodeExtra[l-3] & 0xff
		if base := int(lengthBase[c]); l < base || l >= base+1<<lengthExtra[c] && c != 28 {
			t.Fatalf("length %d -> code %d (base %d, %d extra bits)", l, c, base, lengthExtra[c])
		}
	}
	for d := 1; d <= 1<<15; d++ {
		c := distCode(uint32(d - 1))
		if base := int(distBase[c]); d < base || d >= base+1<<distExtra[c] {
			t.Fatalf("distance %d -> code %d (base %d, %d extra bits)", d, c, base, distExtra[c])
		}
	}
}

// TestHuffDecoderTable checks every entry of the decoder's first-level
// table against the codes the encoder assigns (canonicalCodes, RFC 1951
// §3.2.2): index j holds symbol s and length l exactly when s's code,
// bit-reversed, is j mod 2^l and l <= rootBits, and 0 when no such code
// exists (a prefix of longer codes only, or of no code). The length sets
// are the fixed literal code, the RFC 1951 example, one code of one bit,
// and optimal codes for random frequencies limited to 7, 10 and 15 bits,
// many with codes longer than rootBits.
func TestHuffDecoderTable(t *testing.T) {
	sets := [][]uint8{fixedLitLens[:], {3, 3, 3, 3, 3, 2, 4, 4}, {0, 1}}
	rng := rand.New(rand.NewPCG(1, 2))
	var hs huffScratch
	for i := range 300 {
		limit := []int{7, 10, 15}[i%3]
		n := 2 + rng.IntN(numLitLen-1)
		if limit == 7 {
			n = 2 + rng.IntN(numCodeLen-1) // the code length alphabet
		}
		freq := make([]uint32, n)
		for s := range freq {
			if rng.IntN(4) != 0 {
				// Skewed frequencies give long codes.
				freq[s] = 1 + uint32(rng.ExpFloat64()*float64(1+i%7*200))
			}
		}
		lens := make([]uint8, n)
		hs.buildLengths(freq, lens, limit)
		sets = append(sets, lens)
	}
	long := 0
	for _, lens := range sets {
		var h huffDecoder
		if !h.init(lens) {
			t.Fatalf("init refused the lengths %v", lens)
		}
		codes := make([]uint16, len(lens))
		canonicalCodes(lens, codes)
		var want [1 << rootBits]uint16
		for s, l := range lens {
			if l > rootBits {
				long++
			}
			if l == 0 || l > rootBits {
				continue
			}
			for j := int(codes[s]); j < len(want); j += 1 << l {
				want[j] = uint16(s)<<4 | uint16(l)
			}
		}
		for j := range want {
			if h.table[j] != want[j] {
				t.Fatalf("lengths %v: table[%d] = %#x, want %#x", lens, j, h.table[j], want[j])
			}
		}
	}
	if long == 0 {
		t.Fatal("no set had codes longer than rootBits")
	}
}
