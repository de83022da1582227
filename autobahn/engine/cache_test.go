package engine

import (
	"bytes"
	"compress/flate"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// deflateMessage compresses msg as a testee without context takeover
// would (RFC 7692 §7.2.1).
func deflateMessage(t *testing.T, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(msg)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// cacheRun runs one session of a case that sends count messages of seq
// and expects them echoed, against a testee client (the test) whose echo
// of message i is echo(i). It returns what the case received.
func cacheRun(t *testing.T, cache *Cache, seq *Sequence, count int, echo func(i int) []byte) [][]byte {
	t.Helper()
	var got [][]byte
	c := &Case{ID: "x",
		Init: func(s *Session) {
			s.DeflateAccept = func(offers []DeflateOffer) *DeflateAccept {
				return &DeflateAccept{Offer: offers[0], RequestNoContextTakeover: true}
			}
		},
		Open: func(s *Session) {
			s.ExpectSequence(seq)
			sent := 0
			s.OnMessage(func(p []byte, binary bool) {
				got = append(got, bytes.Clone(p))
				if sent < count {
					s.SendSequenceMessage(seq, sent, true)
					sent++
				}
			})
			s.SendSequenceMessage(seq, sent, true)
			sent++
		}}
	env := newFakeEnv()
	s := NewSession(Config{IsServer: true, Options: DefaultOptions(), Env: env, Cache: cache,
		Connect: func(s *Session, req *Request) error { s.Case, s.Agent = c, "t"; return nil }})
	s.Start()
	s.Receive([]byte("GET /runCase?case=1&agent=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n"))
	if s.State() != StateOpen || s.Deflate() == nil {
		t.Fatalf("no permessage-deflate connection: %q", env.out.String())
	}
	for i := range count {
		s.Receive(clientFrame(0xC2, echo(i)))
	}
	s.ConnectionLost()
	return got
}

// The cache must not make a verdict weaker: echoes whose octets were
// checked before are recognized, any other echo is inflated and checked,
// and a wrong echo still reaches the case as it is.
func TestCacheKeepsChecking(t *testing.T) {
	seq := &Sequence{Name: "test/100", Message: func(i int) []byte {
		return []byte(strings.Repeat(fmt.Sprintf("message %d, ", i), 10)[:100])
	}}
	const count = 3
	right := func(i int) []byte { return deflateMessage(t, seq.Message(i)) }
	cache := NewCache(0)

	for run, tt := range []struct {
		name string
		echo func(i int) []byte
		want CacheStats // counts after the run
		bad  []int      // the messages that come back wrong
	}{
		{"first run: all compressed, all inflated", right, CacheStats{Compressed: 3, Inflated: 3}, nil},
		{"same echo: sent from the cache, recognized", right, CacheStats{Compressed: 3, Reused: 3, Inflated: 3, Recognized: 3}, nil},
		{"message 1 echoed wrong", func(i int) []byte {
			if i == 1 {
				return deflateMessage(t, []byte("not what was sent"))
			}
			return right(i)
		}, CacheStats{Compressed: 3, Reused: 6, Inflated: 3, Recognized: 4}, []int{1}},
		// Every echo is octets the cache knows, each at the wrong place.
		{"known octets in the wrong order", func(i int) []byte {
			return right((i + 1) % count)
		}, CacheStats{Compressed: 3, Reused: 9, Inflated: 3, Recognized: 4}, []int{0, 1, 2}},
	} {
		got := cacheRun(t, cache, seq, count, tt.echo)
		if len(got) != count {
			t.Fatalf("%s: %d messages, want %d", tt.name, len(got), count)
		}
		for i, p := range got {
			if same := bytes.Equal(p, seq.Message(i)); same == slices.Contains(tt.bad, i) {
				t.Errorf("%s: message %d delivered as %q", tt.name, i, p)
			}
		}
		st := cache.Stats()
		st.Bytes = 0
		if st != tt.want {
			t.Errorf("run %d, %s: cache stats %+v, want %+v", run, tt.name, st, tt.want)
		}
	}
}
