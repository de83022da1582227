package frame

import (
	"errors"
	"strings"
	"testing"
)

func TestValidCloseCode(t *testing.T) {
	valid := func(c int) bool {
		return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
	}
	for c := range 70000 {
		code := StatusCode(c)
		if int(code) != c {
			break
		}
		if got := ValidCloseCode(code); got != valid(c) {
			t.Fatalf("ValidCloseCode(%d) = %v", c, got)
		}
	}
	for _, c := range []StatusCode{1004, 1005, 1006, 1015, 999, 1016, 2999, 5000} {
		if ValidCloseCode(c) {
			t.Errorf("ValidCloseCode(%d) = true", c)
		}
	}
}

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		code    StatusCode
		reason  string
		err     error
		errCode StatusCode
	}{
		{"empty", nil, StatusNoStatusReceived, "", nil, 0},
		{"normal", []byte{0x03, 0xE8}, StatusNormalClosure, "", nil, 0},
		{"with reason", []byte{0x03, 0xE8, 'b', 'y', 'e'}, StatusNormalClosure, "bye", nil, 0},
		{"utf-8 reason", append([]byte{0x0F, 0xA0}, "κόσμε"...), 4000, "κόσμε", nil, 0},
		{"one byte", []byte{0x03}, 0, "", ErrCloseTooShort, StatusProtocolError},
		{"1004", []byte{0x03, 0xEC}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"1005", []byte{0x03, 0xED}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"1006", []byte{0x03, 0xEE}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"1015", []byte{0x03, 0xF7}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"999", []byte{0x03, 0xE7}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"2999", []byte{0x0B, 0xB7}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"5000", []byte{0x13, 0x88}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"65535", []byte{0xFF, 0xFF}, 0, "", ErrInvalidCloseCode, StatusProtocolError},
		{"bad utf-8 reason", []byte{0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD}, 0, "", ErrInvalidCloseReason, StatusInvalidPayloadData},
		{"too long", make([]byte, 126), 0, "", ErrControlTooLong, StatusProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tt.payload)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.errCode {
					t.Fatalf("close code of %v, want %v", err, tt.errCode)
				}
				return
			}
			if code != tt.code || reason != tt.reason {
				t.Fatalf("= %v %q, want %v %q", code, reason, tt.code, tt.reason)
			}
		})
	}
}

func TestAppendClosePayload(t *testing.T) {
	if got := AppendClosePayload(nil, StatusNoStatusReceived, "ignored"); len(got) != 0 {
		t.Errorf("no status: % x, want empty", got)
	}
	got := AppendClosePayload(nil, StatusGoingAway, "bye")
	if string(got) != "\x03\xe9bye" {
		t.Errorf("= % x", got)
	}
	// A long reason is cut at a rune boundary to fit a control frame.
	long := strings.Repeat("é", 100) // 200 bytes
	got = AppendClosePayload(nil, StatusNormalClosure, long)
	if len(got) > MaxControlPayload {
		t.Fatalf("payload of %d bytes", len(got))
	}
	code, reason, err := ParseClosePayload(got)
	if err != nil || code != StatusNormalClosure || !strings.HasPrefix(long, reason) || len(reason) != 122 {
		t.Fatalf("round trip = %v %d-byte reason %v", code, len(reason), err)
	}
}

func TestStatusCodeString(t *testing.T) {
	if got := StatusMessageTooBig.String(); got != "message too big" {
		t.Errorf("got %q", got)
	}
	if got := StatusCode(4000).String(); got != "status 4000" {
		t.Errorf("got %q", got)
	}
}
