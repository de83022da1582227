package handshake

import (
	"errors"
	"fmt"
)

// Param is one extension parameter (RFC 6455 §9.1, extension-param):
// a name, optionally followed by "=" and a value.
type Param struct {
	Name string
	// Value is the parameter's value with any quoting removed; it is
	// meaningful only when HasValue is true.
	Value    string
	HasValue bool
}

// Extension is one element of a Sec-WebSocket-Extensions list
// (RFC 6455 §9.1): an extension token and its parameters, in order.
type Extension struct {
	Name   string
	Params []Param
}

// Param returns the parameter named name (compared exactly) and whether
// it is present.
func (e Extension) Param(name string) (Param, bool) {
	for _, p := range e.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ErrMalformedExtensions is wrapped by the errors ParseExtensions returns
// for a value that does not follow the grammar of RFC 6455 §9.1.
var ErrMalformedExtensions = errors.New("handshake: malformed Sec-WebSocket-Extensions")

// ParseExtensions parses the values of Sec-WebSocket-Extensions header
// fields with the grammar of RFC 6455 §9.1:
//
//	extension-list  = 1#extension
//	extension       = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// Several header fields form one list, in order (RFC 6455 §9.1). Optional
// whitespace is allowed around separators and empty list elements are
// skipped (RFC 7230 §7). A quoted-string value must itself be a token
// once unquoted, as RFC 6455 §9.1 requires. Any other deviation is an
// error wrapping ErrMalformedExtensions; RFC 6455 §9.1 then requires the
// connection to fail.
//
// Names and unescaped values share memory with values. ParseExtensions
// returns nil when the fields hold no extension.
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		var err error
		if exts, err = parseExtensionList(exts, v); err != nil {
			return nil, err
		}
	}
	return exts, nil
}

// parseExtensionList appends the extensions in one header field value
// to exts.
func parseExtensionList(exts []Extension, s string) ([]Extension, error) {
	i := 0
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return exts, nil
		}
		if s[i] == ',' { // empty list element
			i++
			continue
		}
		var ext Extension
		ext.Name, i = scanToken(s, i)
		if ext.Name == "" {
			return nil, extensionError(s, i, "expected extension name")
		}
		for {
			i = skipOWS(s, i)
			if i == len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				return nil, extensionError(s, i, `expected ";" or ","`)
			}
			var (
				p   Param
				err error
			)
			if p, i, err = parseParam(s, skipOWS(s, i+1)); err != nil {
				return nil, err
			}
			ext.Params = append(ext.Params, p)
		}
		exts = append(exts, ext)
		if i < len(s) {
			i++ // the ','
		}
	}
}

// parseParam parses an extension-param starting at s[i].
func parseParam(s string, i int) (Param, int, error) {
	var p Param
	p.Name, i = scanToken(s, i)
	if p.Name == "" {
		return p, i, extensionError(s, i, "expected parameter name")
	}
	j := skipOWS(s, i)
	if j == len(s) || s[j] != '=' {
		return p, i, nil
	}
	i = skipOWS(s, j+1)
	p.HasValue = true
	if i < len(s) && s[i] == '"' {
		start := i
		var ok bool
		if p.Value, i, ok = scanQuoted(s, i); !ok {
			return p, i, extensionError(s, start, "malformed quoted-string")
		}
		if !isToken(p.Value) {
			return p, i, extensionError(s, start, "quoted value is not a token")
		}
		return p, i, nil
	}
	if p.Value, i = scanToken(s, i); p.Value == "" {
		return p, i, extensionError(s, i, "expected parameter value")
	}
	return p, i, nil
}

// extensionError describes a syntax error at offset i of s.
func extensionError(s string, i int, what string) error {
	return fmt.Errorf("%w: %s at offset %d of %q", ErrMalformedExtensions, what, i, s)
}

// skipOWS returns the index of the first byte at or after i that is not
// optional whitespace.
func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

// scanToken returns the longest token starting at s[i] (possibly empty)
// and the index after it.
func scanToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	return s[i:j], j
}

// scanQuoted unquotes the quoted-string (RFC 7230 §3.2.6) starting with
// the '"' at s[i] and returns its value and the index after the closing
// quote. Without escapes the value shares memory with s.
func scanQuoted(s string, i int) (value string, next int, ok bool) {
	i++ // opening quote
	start := i
	var b []byte // nil until the first quoted-pair
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			if b == nil {
				return s[start:i], i + 1, true
			}
			return string(b), i + 1, true
		case c == '\\':
			if i+1 == len(s) || !isFieldValueByte(s[i+1]) {
				return "", i, false
			}
			if b == nil {
				b = append(make([]byte, 0, len(s)-start), s[start:i]...)
			}
			i++
			b = append(b, s[i])
		case !isFieldValueByte(c):
			// CTLs other than HTAB are neither qdtext nor quoted-pair.
			return "", i, false
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", i, false // unterminated
}

// AppendExtensions appends exts to dst formatted as a
// Sec-WebSocket-Extensions header field value (RFC 6455 §9.1), for
// example "permessage-deflate; client_max_window_bits, foo". A value that
// is not a token is written as a quoted-string (RFC 7230 §3.2.6) with
// '"' and '\' escaped; control characters other than HTAB, which no
// header field may carry, are left out so that the result is always one
// header line. Names are written as they are and must be tokens.
//
// The output of AppendExtensions for the result of ParseExtensions
// parses back to an equal list.
func AppendExtensions(dst []byte, exts []Extension) []byte {
	for i, ext := range exts {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, ext.Name...)
		for _, p := range ext.Params {
			dst = append(dst, "; "...)
			dst = append(dst, p.Name...)
			if !p.HasValue {
				continue
			}
			dst = append(dst, '=')
			if isToken(p.Value) {
				dst = append(dst, p.Value...)
				continue
			}
			dst = appendQuoted(dst, p.Value)
		}
	}
	return dst
}

// appendQuoted appends v as a quoted-string.
func appendQuoted(dst []byte, v string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case isFieldValueByte(c):
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// VerifyExtensions checks the extensions a server accepted in its
// response against those the client offered: RFC 6455 §4.1 (client
// step 5) requires the client to fail the connection when the server
// indicates an extension the client did not request. Names are compared
// exactly; whether the parameters are acceptable is for each extension
// to decide (for permessage-deflate, RFC 7692 §7.1).
func VerifyExtensions(accepted, offered []Extension) error {
	for _, a := range accepted {
		found := false
		for _, o := range offered {
			if o.Name == a.Name {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("handshake: server accepted extension %q, which was not offered", a.Name)
		}
	}
	return nil
}
