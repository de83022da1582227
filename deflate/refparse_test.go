package deflate

import (
	"errors"
	"fmt"
)

// refInflate is a deliberately simple DEFLATE decoder (RFC 1951), written
// for tests only and sharing no code with the package's inflater: it reads
// one bit at a time and decodes Huffman codes canonically. It decodes the
// blocks in data, which must end at a block boundary (as a
// permessage-deflate payload with 00 00 ff ff appended does), appends the
// output to hist and reports what the encoder did: block types and the
// largest match distance.
type refStats struct {
	maxDist                 int
	stored, fixed, dynamic  int
	matches, literals, ends int
	final                   bool // the data ended with a BFINAL block
}

type refReader struct {
	data []byte
	pos  int // in bits
}

var errRefEOF = errors.New("ref: unexpected end of data")

func (r *refReader) bit() (int, error) {
	if r.pos >= 8*len(r.data) {
		return 0, errRefEOF
	}
	b := int(r.data[r.pos/8]>>(r.pos%8)) & 1
	r.pos++
	return b, nil
}

func (r *refReader) bits(n int) (int, error) {
	v := 0
	for i := range n {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		v |= b << i
	}
	return v, nil
}

type refCode struct {
	count  [16]int
	symbol []int
}

func newRefCode(lens []int) (*refCode, error) {
	c := &refCode{}
	for _, l := range lens {
		c.count[l]++
	}
	c.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left*2 - c.count[l]
		if left < 0 {
			return nil, errors.New("ref: over-subscribed code")
		}
	}
	for l := 1; l < 16; l++ {
		for s, sl := range lens {
			if sl == l {
				c.symbol = append(c.symbol, s)
			}
		}
	}
	return c, nil
}

func (c *refCode) decode(r *refReader) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		code |= b
		if code-first < c.count[l] {
			return c.symbol[index+code-first], nil
		}
		index += c.count[l]
		first = (first + c.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("ref: invalid code")
}

func refInflate(data, hist []byte) ([]byte, refStats, error) {
	var st refStats
	r := &refReader{data: data}
	out := hist
	for 8*len(data)-r.pos >= 8 {
		final, err := r.bits(1)
		if err != nil {
			return out, st, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return out, st, err
		}
		var lit, dist *refCode
		switch typ {
		case 0:
			st.stored++
			r.pos = (r.pos + 7) &^ 7
			n, err := r.bits(16)
			if err != nil {
				return out, st, err
			}
			nn, err := r.bits(16)
			if err != nil {
				return out, st, err
			}
			if n != ^nn&0xffff {
				return out, st, errors.New("ref: bad stored length")
			}
			if r.pos/8+n > len(data) {
				return out, st, errRefEOF
			}
			out = append(out, data[r.pos/8:r.pos/8+n]...)
			r.pos += 8 * n
			st.literals += n
			goto next
		case 1:
			st.fixed++
			lens := make([]int, 288)
			for s := range lens {
				lens[s] = int(fixedLitLen(s))
			}
			lit, _ = newRefCode(lens)
			dl := make([]int, 30)
			for s := range dl {
				dl[s] = 5
			}
			dist, _ = newRefCode(dl)
		case 2:
			st.dynamic++
			hlit, err1 := r.bits(5)
			hdist, err2 := r.bits(5)
			hclen, err3 := r.bits(4)
			if err := errors.Join(err1, err2, err3); err != nil {
				return out, st, err
			}
			hlit, hdist, hclen = hlit+257, hdist+1, hclen+4
			cl := make([]int, 19)
			for _, s := range codeLenOrder[:hclen] {
				v, err := r.bits(3)
				if err != nil {
					return out, st, err
				}
				cl[s] = v
			}
			clc, err := newRefCode(cl)
			if err != nil {
				return out, st, err
			}
			var lens []int
			for len(lens) < hlit+hdist {
				s, err := clc.decode(r)
				if err != nil {
					return out, st, err
				}
				switch {
				case s < 16:
					lens = append(lens, s)
				case s == 16:
					v, _ := r.bits(2)
					for range 3 + v {
						lens = append(lens, lens[len(lens)-1])
					}
				case s == 17:
					v, _ := r.bits(3)
					for range 3 + v {
						lens = append(lens, 0)
					}
				default:
					v, _ := r.bits(7)
					for range 11 + v {
						lens = append(lens, 0)
					}
				}
			}
			if len(lens) != hlit+hdist {
				return out, st, errors.New("ref: lengths overrun")
			}
			if lit, err = newRefCode(lens[:hlit]); err != nil {
				return out, st, err
			}
			if dist, err = newRefCode(lens[hlit:]); err != nil {
				return out, st, err
			}
		default:
			return out, st, errors.New("ref: block type 3")
		}
		for {
			s, err := lit.decode(r)
			if err != nil {
				return out, st, err
			}
			if s < 256 {
				out = append(out, byte(s))
				st.literals++
				continue
			}
			if s == 256 {
				break
			}
			s -= 257
			if s >= 29 {
				return out, st, errors.New("ref: bad length symbol")
			}
			e, _ := r.bits(int(lengthExtra[s]))
			length := int(lengthBase[s]) + e
			ds, err := dist.decode(r)
			if err != nil {
				return out, st, err
			}
			if ds >= 30 {
				return out, st, errors.New("ref: bad distance symbol")
			}
			e, _ = r.bits(int(distExtra[ds]))
			d := int(distBase[ds]) + e
			if d > len(out) {
				return out, st, fmt.Errorf("ref: distance %d beyond %d bytes of history", d, len(out))
			}
			st.maxDist = max(st.maxDist, d)
			st.matches++
			for range length {
				out = append(out, out[len(out)-d])
			}
		}
	next:
		st.ends++
		if final == 1 {
			st.final = true
			break
		}
	}
	return out, st, nil
}
