package frame

import "unicode/utf8"

// UTF8Validator checks UTF-8 text that arrives in pieces split at arbitrary
// byte boundaries: across frames of a fragmented message and across reads
// within one frame (RFC 6455 §8.1). It fails at the first byte after which
// no continuation could make the text valid, so a receiver can close with
// 1007 without waiting for the rest of the message. The zero value is ready
// to use at the start of a message.
type UTF8Validator struct {
	state uint8 // one of the utf8* states below
}

// States of the validator: how the bytes seen so far end. The names give
// the constraint on the next byte (Unicode 15, Table 3-7).
const (
	utf8Accept  uint8 = iota // at a character boundary
	utf8Need1                // one more 80..BF
	utf8Need2                // two more 80..BF
	utf8Need3                // three more 80..BF
	utf8AfterE0              // A0..BF, then one more (no overlong 3-byte forms)
	utf8AfterED              // 80..9F, then one more (no surrogates)
	utf8AfterF0              // 90..BF, then two more (no overlong 4-byte forms)
	utf8AfterF4              // 80..8F, then two more (nothing above U+10FFFF)
	utf8Reject
)

// step advances state by one byte.
func utf8Step(state uint8, b byte) uint8 {
	switch state {
	case utf8Accept:
		switch {
		case b < 0x80:
			return utf8Accept
		case b >= 0xC2 && b <= 0xDF:
			return utf8Need1
		case b == 0xE0:
			return utf8AfterE0
		case b == 0xED:
			return utf8AfterED
		case b >= 0xE1 && b <= 0xEF:
			return utf8Need2
		case b == 0xF0:
			return utf8AfterF0
		case b >= 0xF1 && b <= 0xF3:
			return utf8Need3
		case b == 0xF4:
			return utf8AfterF4
		}
		return utf8Reject
	case utf8Need1, utf8Need2, utf8Need3:
		if b >= 0x80 && b <= 0xBF {
			return state - 1
		}
	case utf8AfterE0:
		if b >= 0xA0 && b <= 0xBF {
			return utf8Need1
		}
	case utf8AfterED:
		if b >= 0x80 && b <= 0x9F {
			return utf8Need1
		}
	case utf8AfterF0:
		if b >= 0x90 && b <= 0xBF {
			return utf8Need2
		}
	case utf8AfterF4:
		if b >= 0x80 && b <= 0x8F {
			return utf8Need2
		}
	}
	return utf8Reject
}

// Write feeds the next piece of text and reports whether everything fed
// since the last Reset is still the prefix of some valid UTF-8 text. Once it
// returns false it keeps returning false until Reset.
func (v *UTF8Validator) Write(p []byte) bool {
	state := v.state
	// Finish a character left incomplete by the previous piece.
	for state != utf8Accept && state != utf8Reject && len(p) > 0 {
		state = utf8Step(state, p[0])
		p = p[1:]
	}
	if state == utf8Reject {
		v.state = utf8Reject
		return false
	}
	// p now starts at a character boundary. The last character may be cut
	// off; let the standard library's fast path check everything before it
	// and the state machine check the cut-off tail.
	tail := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		if utf8.RuneStart(p[i]) {
			if p[i] >= 0xC0 {
				tail = i
			}
			break
		}
	}
	if !utf8.Valid(p[:tail]) {
		v.state = utf8Reject
		return false
	}
	for _, b := range p[tail:] {
		state = utf8Step(state, b)
	}
	v.state = state
	return state != utf8Reject
}

// Complete reports whether the text fed since the last Reset is valid UTF-8
// that ends at a character boundary, as a whole text message must.
func (v *UTF8Validator) Complete() bool { return v.state == utf8Accept }

// Reset prepares v for a new message.
func (v *UTF8Validator) Reset() { v.state = utf8Accept }
