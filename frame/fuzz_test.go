package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzParseHeader checks that any input parses without panicking, that
// parse → append → parse is stable, and that errors carry close codes.
func FuzzParseHeader(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.wire)
	}
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x89, 0x7E, 0x00, 0x7E})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code == 0 {
				t.Fatalf("error without close code: %v", err)
			}
			return
		}
		if n == 0 {
			return
		}
		if n > len(b) || n > MaxHeaderSize {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		enc := AppendHeader(nil, h)
		h2, n2, err := ParseHeader(enc)
		if err != nil || h2 != h || n2 != len(enc) || len(enc) > n {
			t.Fatalf("round trip: %+v -> % x -> %+v %d %v", h, enc, h2, n2, err)
		}
	})
}

// FuzzReader feeds arbitrary bytes through the streaming reader with a small
// buffer: it must never panic, never return more payload than declared, and
// end with io.EOF, io.ErrUnexpectedEOF or a protocol error.
func FuzzReader(f *testing.F) {
	f.Add(encodeFrames(streamFrames[:3]), uint8(14))
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, uint8(20))
	f.Fuzz(func(t *testing.T, b []byte, bufSize uint8) {
		r, err := NewReader(bytes.NewReader(b), make([]byte, max(int(bufSize), MaxHeaderSize)))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		for range len(b) + 1 {
			h, err := r.NextHeader()
			if err != nil {
				var pe *ProtocolError
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &pe) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var got int64
			for {
				n, err := r.Read(buf)
				got += int64(n)
				if err == io.EOF {
					break
				}
				if err != nil {
					if err != io.ErrUnexpectedEOF {
						t.Fatalf("payload error %v", err)
					}
					return
				}
			}
			if got != h.Length {
				t.Fatalf("read %d payload bytes, header says %d", got, h.Length)
			}
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello, world"), uint32(0x37fa213d), uint8(0))
	f.Fuzz(func(t *testing.T, p []byte, k uint32, pos uint8) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		got, want := bytes.Clone(p), bytes.Clone(p)
		if Mask(key, int(pos), got) != maskReference(key, int(pos&3), want) || !bytes.Equal(got, want) {
			t.Fatal("Mask differs from byte-at-a-time reference")
		}
	})
}

func FuzzUTF8Validator(f *testing.F) {
	for _, s := range utf8Cases {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, p []byte, split uint8) {
		var v UTF8Validator
		ok := true
		step := int(split%16) + 1
		for i := 0; i < len(p) && ok; i += step {
			ok = v.Write(p[i:min(i+step, len(p))])
		}
		if got := ok && v.Complete(); got != utf8.Valid(p) {
			t.Fatalf("% x: validator %v, utf8.Valid %v", p, got, !got)
		}
		if !ok && completable(p) {
			t.Fatalf("% x: rejected a completable prefix", p)
		}
	})
}

func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{0x03, 0xE8, 'o', 'k'})
	f.Add([]byte{0x03})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(p) == 0 {
			return
		}
		enc := AppendClosePayload(nil, code, reason)
		if !bytes.Equal(enc, p) {
			t.Fatalf("round trip % x -> % x", p, enc)
		}
	})
}
