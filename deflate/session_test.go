package deflate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// encodeSession compresses msg as the Session's next message.
func encodeSession(t *testing.T, s *Session, msg []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := s.EncodeMessage(&buf, -1)
	if w == nil {
		t.Fatal("EncodeMessage returned nil for a message of unknown size")
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ReleaseIdle drops the compression history between messages: the next
// message refers to nothing before it (a decoder with no history decodes
// it, and it compresses exactly as the first message did), the one after
// refers back again, and a peer keeping its window throughout decodes
// every message.
func TestSessionReleaseIdle(t *testing.T) {
	msg := corpusMessages(t, "chat.jsonl")[1]
	for _, wbits := range []int{MinWindowBits, 12, MaxWindowBits} {
		s := NewSession(Config{CompressWindowBits: wbits, CompressContextTakeover: true,
			DecompressWindowBits: wbits, DecompressContextTakeover: true, Level: BestSpeed})
		s.ReleaseIdle() // nothing held yet: no effect
		var payloads [][]byte
		payloads = append(payloads, encodeSession(t, s, msg), encodeSession(t, s, msg))
		if s.comp.heldBytes() == 0 {
			t.Fatalf("W=%d: nothing held between messages with context takeover", wbits)
		}
		s.ReleaseIdle()
		if n := s.comp.heldBytes(); n != 0 {
			t.Fatalf("W=%d: %d bytes held after ReleaseIdle", wbits, n)
		}
		s.ReleaseIdle()
		payloads = append(payloads, encodeSession(t, s, msg), encodeSession(t, s, msg))

		if len(payloads[1]) >= len(payloads[0])/4 || len(payloads[3]) >= len(payloads[0])/4 {
			t.Errorf("W=%d: repeats are %d and %d bytes, the first %d: history not used",
				wbits, len(payloads[1]), len(payloads[3]), len(payloads[0]))
		}
		if !bytes.Equal(payloads[2], payloads[0]) {
			t.Errorf("W=%d: after ReleaseIdle the message compressed to %d bytes, not as the first message (%d)",
				wbits, len(payloads[2]), len(payloads[0]))
		}
		if out, _, err := refInflate(append(bytes.Clone(payloads[2]), syncTail[:]...), nil); err != nil || !bytes.Equal(out, msg) {
			t.Errorf("W=%d: the message after ReleaseIdle does not decode without history: %v", wbits, err)
		}
		msgs := [][]byte{msg, msg, msg, msg}
		checkWithRef(t, payloads, msgs, wbits, true)
		got := decompressAll(t, NewDecompressor(wbits, true), payloads, rand.New(rand.NewPCG(3, 3)))
		equalMessages(t, "ours", got, msgs)
		s.Close()
	}
}

// The window for the peer's messages survives ReleaseIdle: the peer's
// next message may refer to it.
func TestSessionReleaseIdleKeepsDecompressionWindow(t *testing.T) {
	msg := corpusMessages(t, "chat.jsonl")[2]
	peer := NewCompressor(MaxWindowBits, BestSpeed, true)
	payloads := compressAll(t, peer, [][]byte{msg, msg}, nil)
	if len(payloads[1]) >= len(payloads[0])/4 {
		t.Fatalf("the peer's repeat is %d bytes, the first %d: no reference to test with", len(payloads[1]), len(payloads[0]))
	}
	s := NewSession(Config{CompressWindowBits: MaxWindowBits, CompressContextTakeover: true,
		DecompressWindowBits: MaxWindowBits, DecompressContextTakeover: true, Level: BestSpeed})
	defer s.Close()
	var got [][]byte
	for i, p := range payloads {
		var out bytes.Buffer
		if _, err := out.ReadFrom(s.DecodeMessage(bytes.NewReader(p), 0)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		got = append(got, out.Bytes())
		encodeSession(t, s, msg)
		s.ReleaseIdle()
	}
	equalMessages(t, "after ReleaseIdle", got, [][]byte{msg, msg})
}
