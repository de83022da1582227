package frame

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Status codes defined by RFC 6455 §7.4.1 and the IANA registry (§11.7).
// StatusNoStatusReceived, StatusAbnormalClosure and StatusTLSHandshake are
// reported locally and never sent on the wire.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusReceived   StatusCode = 1005
	StatusAbnormalClosure    StatusCode = 1006
	StatusInvalidPayloadData StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015
)

// MaxControlPayload is the largest payload a control frame may carry
// (RFC 6455 §5.5).
const MaxControlPayload = 125

// MaxCloseReason is the longest close reason that fits in a close frame
// after its 2-byte status code.
const MaxCloseReason = MaxControlPayload - 2

func (c StatusCode) String() string {
	switch c {
	case StatusNormalClosure:
		return "normal closure"
	case StatusGoingAway:
		return "going away"
	case StatusProtocolError:
		return "protocol error"
	case StatusUnsupportedData:
		return "unsupported data"
	case StatusNoStatusReceived:
		return "no status received"
	case StatusAbnormalClosure:
		return "abnormal closure"
	case StatusInvalidPayloadData:
		return "invalid payload data"
	case StatusPolicyViolation:
		return "policy violation"
	case StatusMessageTooBig:
		return "message too big"
	case StatusMandatoryExtension:
		return "mandatory extension"
	case StatusInternalError:
		return "internal error"
	case StatusServiceRestart:
		return "service restart"
	case StatusTryAgainLater:
		return "try again later"
	case StatusBadGateway:
		return "bad gateway"
	case StatusTLSHandshake:
		return "TLS handshake"
	}
	return "status " + strconv.Itoa(int(c))
}

// ValidCloseCode reports whether code may appear in a close frame on the
// wire: 1000-1003, 1007-1014 and 3000-4999 (RFC 6455 §7.4.1, §7.4.2 and the
// IANA registry). 1004 is reserved, 1005, 1006 and 1015 are for local use
// only, and 1016-2999 are reserved for future revisions of the protocol.
func ValidCloseCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClosePayload decodes the body of a close frame (RFC 6455 §5.5.1).
// An empty payload means no status was given and returns
// StatusNoStatusReceived. A 1-byte payload, a code that is not valid on the
// wire or a reason that is not UTF-8 is a *ProtocolError.
func ParseClosePayload(p []byte) (StatusCode, string, error) {
	switch {
	case len(p) == 0:
		return StatusNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", ErrCloseTooShort
	case len(p) > MaxControlPayload:
		return 0, "", ErrControlTooLong
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, "", ErrInvalidCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return code, "", ErrInvalidCloseReason
	}
	return code, string(p[2:]), nil
}

// AppendClosePayload appends the body of a close frame carrying code and
// reason to dst. StatusNoStatusReceived yields an empty body, as RFC 6455
// §7.1.5 prescribes for a close without a status. The reason is truncated to
// MaxCloseReason bytes at a UTF-8 boundary so the frame stays a legal control
// frame.
func AppendClosePayload(dst []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusReceived {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, truncateUTF8(reason, MaxCloseReason)...)
}

// truncateUTF8 shortens s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
