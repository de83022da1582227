package handshake

import "strings"

// tchar bitmaps (RFC 7230 §3.2.6): bit c of tcharLo is set when byte c
// (0-63) may appear in a token, bit c-64 of tcharHi likewise for 64-127.
// Bytes 128-255 are never token characters.
const (
	tcharLo uint64 = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' |
		1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' |
		(1<<10-1)<<'0'
	tcharHi uint64 = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) |
		1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) | 1<<('|'-64) | 1<<('~'-64)
)

// isTokenChar reports whether c is a tchar (RFC 7230 §3.2.6), the
// characters RFC 2616 §2.2 allows in a token: visible ASCII except
// separators.
func isTokenChar(c byte) bool {
	switch {
	case c < 64:
		return tcharLo>>c&1 == 1
	case c < 128:
		return tcharHi>>(c-64)&1 == 1
	}
	return false
}

// isToken reports whether s is a non-empty token (RFC 7230 §3.2.6).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isFieldValueByte reports whether c may appear in a header field value
// (RFC 7230 §3.2: field-vchar, SP and HTAB; obs-text included): anything
// but the control characters other than HTAB.
func isFieldValueByte(c byte) bool {
	return c >= ' ' && c != 0x7f || c == '\t'
}

// isFieldValue reports whether every byte of s may appear in a header
// field value, so that writing s cannot split or end the header line.
func isFieldValue[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if !isFieldValueByte(s[i]) {
			return false
		}
	}
	return true
}

// isOWS reports whether c is optional whitespace (RFC 7230 §3.2.3).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS removes leading and trailing optional whitespace.
func trimOWS(s string) string {
	for s != "" && isOWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// ContainsToken reports whether any of the header field values holds
// token as an element of its comma-separated list (RFC 7230 §7),
// compared ASCII case-insensitively. Optional whitespace around elements
// and empty elements are allowed, and a repeated header field is treated
// as one list (RFC 7230 §3.2.2). It does not allocate.
//
// RFC 6455 §4.1 and §4.2.1 match the Upgrade ("websocket") and
// Connection ("Upgrade") header fields this way.
func ContainsToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWS(elem), token) {
				return true
			}
		}
	}
	return false
}

// parseTokenList parses header field values holding a comma-separated
// list of tokens (RFC 7230 §7, "#token"), as Sec-WebSocket-Protocol does
// (RFC 6455 §4.1 item 10). Empty elements are skipped; any other element
// that is not a token makes ok false. The returned strings share memory
// with values.
func parseTokenList(values []string) (list []string, ok bool) {
	n := 0
	for _, v := range values {
		if v != "" {
			n += strings.Count(v, ",") + 1
		}
	}
	if n == 0 {
		return nil, true
	}
	list = make([]string, 0, n)
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			elem = trimOWS(elem)
			if elem == "" {
				continue
			}
			if !isToken(elem) {
				return nil, false
			}
			list = append(list, elem)
		}
	}
	if len(list) == 0 {
		return nil, true
	}
	return list, true
}
