package engine

import (
	"bytes"
	"testing"
	"time"
)

// Whatever a testee sends, the suite's endpoint must not panic, hang or
// grow without bound; it fails the connection instead.
func FuzzReceive(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}, false)
	f.Add(clientFrame(0x88, closePayload(1000, "bye")), false)
	f.Add(clientFrame(0xC1, []byte("rsv")), true)
	f.Add([]byte{0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, false)
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00"), true)
	f.Fuzz(func(t *testing.T, in []byte, client bool) {
		env := newFakeEnv()
		c := &Case{ID: "x", Open: func(s *Session) {
			s.Expect(OK)
			s.ExpectedClose = CloseExpectation{ClosedByMe: true, CloseCode: []int{1000}}
			s.KillAfter(time.Second)
		}}
		var s *Session
		if client {
			s = NewSession(Config{Options: DefaultOptions(), Env: env, Case: c, Host: "h", Port: 1, Resource: "/",
				Skip: func(string, string) bool { return false }})
			s.Start()
		} else {
			s, env, _ = openServer(t, c)
		}
		// Feed in two pieces to exercise partial headers and payloads.
		half := len(in) / 2
		s.Receive(bytes.Clone(in[:half]))
		s.Receive(bytes.Clone(in[half:]))
		env.advance(10 * time.Second)
		s.ConnectionLost()
		if len(s.in) > len(in)+1024 {
			t.Fatalf("buffered %d bytes of %d", len(s.in), len(in))
		}
	})
}

// Extension headers from a testee never panic the parser, and an offer
// that parses prints as a header that parses to the same offer.
func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits; server_max_window_bits=10")
	f.Add(`permessage-deflate; server_no_context_takeover, permessage-deflate; x="y"`)
	f.Add(";;=,")
	f.Fuzz(func(t *testing.T, h string) {
		for _, e := range parseExtensions(h) {
			parseDeflateResponse(e)
			o, err := parseDeflateOffer(e)
			if err != nil {
				continue
			}
			again, err := parseDeflateOffer(parseExtensions(o.String())[0])
			if err != nil || again != o {
				t.Fatalf("%q: offer %+v prints as %q, parses to %+v, %v", h, o, o.String(), again, err)
			}
		}
	})
}
