package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is the string RFC 6455 §1.3 and §4.2.2 append to the client's
// key before hashing it.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptLen is the length of a Sec-WebSocket-Accept value: a SHA-1 sum
// (20 bytes) in base64 with padding.
const acceptLen = 28

// keyLen is the length of a valid Sec-WebSocket-Key value: 16 bytes in
// base64 with padding (RFC 6455 §4.1 item 7).
const keyLen = 24

// AcceptKey returns the Sec-WebSocket-Accept value for a
// Sec-WebSocket-Key (RFC 6455 §1.3, §4.2.2 step 5.4): the base64 SHA-1 of
// the key, as sent, followed by the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.
// For the key "dGhlIHNhbXBsZSBub25jZQ==" it returns
// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
func AcceptKey(key string) string {
	var buf [acceptLen]byte
	return string(AppendAcceptKey(buf[:0], key))
}

// AppendAcceptKey appends AcceptKey(key), the Sec-WebSocket-Accept value
// of RFC 6455 §4.2.2, to dst. It does not allocate
// when dst has room for 28 more bytes and key is no longer than 92 bytes
// (a valid key has 24).
func AppendAcceptKey(dst []byte, key string) []byte {
	var buf [128]byte
	var in []byte
	if len(key)+len(keyGUID) <= len(buf) {
		in = append(append(buf[:0], key...), keyGUID...)
	} else {
		in = []byte(key + keyGUID) // not a valid key; correctness over speed
	}
	sum := sha1.Sum(in)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewKey returns a fresh Sec-WebSocket-Key: 16 bytes from crypto/rand in
// base64, as RFC 6455 §4.1 item 7 requires of each connection.
func NewKey() (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(nonce[:]), nil
}

// validKey reports whether key is the base64 encoding (RFC 4648 §4, with
// padding) of 16 bytes, as RFC 6455 §4.2.1 item 5 requires. Such a value
// is exactly 22 base64 characters followed by "==". Like RFC 6455's own
// example ("AQIDBAUGBwgJCgsMDQ4PEC=="), the unused low bits of the last
// character need not be zero.
func validKey(key string) bool {
	if len(key) != keyLen || key[22] != '=' || key[23] != '=' {
		return false
	}
	for i := 0; i < 22; i++ {
		if !isBase64Char(key[i]) {
			return false
		}
	}
	return true
}

// isBase64Char reports whether c is in the base64 alphabet of
// RFC 4648 §4 (not the URL-safe one).
func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}
