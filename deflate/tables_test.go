package deflate

import "testing"

// writeTokens takes the extra bits of a length or distance as its low bits,
// masked with lengthCodeExtra's mask or distExtra's count: that must agree
// with the tables of RFC 1951 §3.2.5 for every length and distance.
func TestExtraBitsAreLowBits(t *testing.T) {
	for l := range 256 {
		ce := lengthCodeExtra[l]
		code := ce & 0xff
		if code >= uint32(len(lengthExtra)) || uint8(ce>>8) != lengthExtra[code] || ce>>16 != 1<<lengthExtra[code]-1 {
			t.Fatalf("length %d: lengthCodeExtra %#x, want code %d, %d extra bits and their mask", l+3, ce, code, lengthExtra[code])
		}
		want := l + 3 - int(lengthBase[code])
		if want < 0 || want >= 1<<lengthExtra[code] {
			t.Fatalf("length %d is outside symbol %d", l+3, 257+int(code))
		}
		if got := l & int(ce>>16); got != want {
			t.Fatalf("length %d: low bits %d, want extra value %d", l+3, got, want)
		}
	}
	for off := range 1 << 15 {
		code := distCode(uint32(off))
		if code >= numDist {
			t.Fatalf("distance %d: symbol %d", off+1, code)
		}
		xb := uint32(distExtra[code&31])
		want := off + 1 - int(distBase[code])
		if want < 0 || want >= 1<<xb {
			t.Fatalf("distance %d is outside symbol %d", off+1, code)
		}
		if got := off & (1<<xb - 1); got != want {
			t.Fatalf("distance %d: low bits %d, want extra value %d", off+1, got, want)
		}
	}
}
