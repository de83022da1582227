package deflate

import "reflect"

// heldBytes reports the bytes of buffers and tables c holds, not counting
// the fixed-size struct: the exact figure behind the memory claims in the
// package documentation.
func (c *Compressor) heldBytes() int {
	n := 0
	if c.sb != nil {
		n += cap(c.sb.b) + 2*len(c.table.t)
	}
	if c.bb != nil {
		n += cap(c.bb.b)
	}
	if c.e != nil {
		n += int(reflect.TypeFor[encScratch]().Size()) + cap(c.e.tokens)*4 + cap(c.e.own)
	}
	return n
}

// heldBytes reports the bytes of buffers d holds.
func (d *Decompressor) heldBytes() int {
	n := 0
	if d.ring != nil {
		n += cap(d.ring.b)
	}
	if d.f != nil {
		n += int(reflect.TypeFor[inflater]().Size())
	}
	return n
}
