package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// fakeEnv is an Env with a manual clock: timers run when the test advances
// time, all on the test's goroutine.
type fakeEnv struct {
	now     time.Time
	out     bytes.Buffer
	writes  []int // length of each Write
	dropped bool
	abort   bool
	timers  []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeEnv() *fakeEnv { return &fakeEnv{now: time.Unix(1e9, 0)} }

func (e *fakeEnv) Write(p []byte) {
	if !e.dropped {
		e.out.Write(p)
		e.writes = append(e.writes, len(p))
	}
}
func (e *fakeEnv) Drop(abort bool) { e.dropped, e.abort = true, abort }
func (e *fakeEnv) Now() time.Time  { return e.now }
func (e *fakeEnv) Post(f func())   { f() }
func (e *fakeEnv) AfterFunc(d time.Duration, f func()) func() {
	t := &fakeTimer{at: e.now.Add(d), f: f}
	e.timers = append(e.timers, t)
	return func() { t.stopped = true }
}

// advance moves the clock forward, running due timers in order.
func (e *fakeEnv) advance(d time.Duration) {
	end := e.now.Add(d)
	for {
		sort.SliceStable(e.timers, func(i, j int) bool { return e.timers[i].at.Before(e.timers[j].at) })
		if len(e.timers) == 0 || e.timers[0].at.After(end) {
			break
		}
		t := e.timers[0]
		e.timers = e.timers[1:]
		e.now = t.at
		if !t.stopped {
			t.f()
		}
	}
	e.now = end
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// openServer returns a session where the suite is the server, with the
// opening handshake done and the case's Open run.
func openServer(t *testing.T, c *Case) (*Session, *fakeEnv, *[]*Result) {
	t.Helper()
	env := newFakeEnv()
	var results []*Result
	s := NewSession(Config{IsServer: true, Options: DefaultOptions(), Env: env,
		Connect: func(s *Session, req *Request) error { s.Case, s.Agent = c, "t"; return nil },
		Done:    func(r *Result) { results = append(results, r) }})
	s.Start()
	s.Receive([]byte("GET /runCase?case=1&agent=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	if s.State() != StateOpen {
		t.Fatalf("handshake failed: %q", env.out.String())
	}
	resp := env.out.String()
	if !strings.Contains(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") {
		t.Fatalf("bad accept in %q", resp)
	}
	env.out.Reset()
	return s, env, &results
}

// clientFrame encodes a masked frame as a testee client sends it.
func clientFrame(b0 byte, payload []byte) []byte {
	h := []byte{b0, 0x80}
	switch n := len(payload); {
	case n <= 125:
		h[1] |= byte(n)
	case n <= 0xffff:
		h[1] |= 126
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h[1] |= 127
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	key := [4]byte{1, 2, 3, 4}
	h = append(h, key[:]...)
	p := bytes.Clone(payload)
	maskBytes(key, 0, p)
	return append(h, p...)
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

type wireFrame struct {
	fin     bool
	rsv     byte
	op      byte
	payload []byte
}

// parseFrames decodes the unmasked frames the suite sent as a server.
func parseFrames(t *testing.T, b []byte) []wireFrame {
	t.Helper()
	var out []wireFrame
	for len(b) > 0 {
		if len(b) < 2 || b[1]&0x80 != 0 {
			t.Fatalf("bad or masked frame in % x", b)
		}
		n, length := 2, int(b[1]&0x7f)
		switch length {
		case 126:
			n, length = 4, int(binary.BigEndian.Uint16(b[2:]))
		case 127:
			n, length = 10, int(binary.BigEndian.Uint64(b[2:]))
		}
		out = append(out, wireFrame{b[0]&0x80 != 0, b[0] >> 4 & 7, b[0] & 0x0f, b[n : n+length]})
		b = b[n+length:]
	}
	return out
}

// Like the original, a message whose length is a multiple of the fragment
// size ends with an empty final frame.
func TestSendMessageFragments(t *testing.T) {
	tests := []struct {
		n, frag int
		want    []int // payload lengths; the last frame has FIN
	}{
		{0, 0, []int{0}},
		{10, 0, []int{10}},
		{10, 10, []int{10}},
		{11, 10, []int{10, 1}},
		{20, 10, []int{10, 10, 0}},
		{3, 1, []int{1, 1, 1, 0}},
		{65536, 1300, append(repeatInt(1300, 50), 536)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n, "/", tt.frag), func(t *testing.T) {
			s, env, _ := openServer(t, &Case{ID: "x", Open: func(*Session) {}})
			s.Post(func() { s.SendMessage(bytes.Repeat([]byte("*"), tt.n), false, tt.frag) })
			fs := parseFrames(t, env.out.Bytes())
			if len(fs) != len(tt.want) {
				t.Fatalf("%d frames, want %d", len(fs), len(tt.want))
			}
			for i, f := range fs {
				wantOp := byte(0)
				if i == 0 {
					wantOp = 1
				}
				if len(f.payload) != tt.want[i] || f.op != wantOp || f.fin != (i == len(fs)-1) {
					t.Errorf("frame %d: op %d fin %v len %d", i, f.op, f.fin, len(f.payload))
				}
			}
		})
	}
}

// What one step sends goes to the transport in one write, as the
// original's reactor sends what one callback wrote; chopped and
// synchronized frames are queued, and each later piece goes out in a
// step of its own after the original's 10 µs pause.
func TestOneWritePerStep(t *testing.T) {
	tests := []struct {
		name string
		send func(s *Session)
		want []int // lengths of the writes
	}{
		{"frames of a message", func(s *Session) { s.SendMessage(bytes.Repeat([]byte("*"), 300), false, 100) },
			[]int{4*2 + 300}},
		{"two frames", func(s *Session) {
			s.SendFrame(fr(1, "ab"))
			s.SendFrame(fr(9, "c"))
		}, []int{4 + 3}},
		{"chopped frame", func(s *Session) { s.SendFrame(Frame{Opcode: 1, Fin: true, Payload: []byte("abcdefgh"), Chop: 4}) },
			[]int{4, 4, 2}},
		{"frame before a chopped one", func(s *Session) {
			s.SendFrame(fr(1, "ab"))
			s.SendFrame(Frame{Opcode: 1, Fin: true, Payload: []byte("abcdefgh"), Chop: 4})
		}, []int{4 + 4, 4, 2}},
		{"two synced frames", func(s *Session) {
			s.SendFrame(Frame{Opcode: 1, Fin: true, Payload: []byte("ab"), Sync: true})
			s.SendFrame(Frame{Opcode: 1, Fin: true, Payload: []byte("cd"), Sync: true})
		}, []int{4, 4}},
		// As in the original: the first synced frame is written at once
		// and the queue is empty again, so a plain frame joins it.
		{"synced frame, then a plain one", func(s *Session) {
			s.SendFrame(Frame{Opcode: 1, Fin: true, Payload: []byte("ab"), Sync: true})
			s.SendFrame(fr(1, "cd"))
		}, []int{4 + 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env, _ := openServer(t, &Case{ID: "x", Open: func(*Session) {}})
			env.writes = nil
			s.Post(func() { tt.send(s) })
			env.advance(time.Second)
			if fmt.Sprint(env.writes) != fmt.Sprint(tt.want) {
				t.Errorf("writes of %v octets, want %v", env.writes, tt.want)
			}
		})
	}
}

func fr(op int, payload string) Frame { return Frame{Opcode: op, Fin: true, Payload: []byte(payload)} }

func repeatInt(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Malformed input from the testee: each row is bytes a testee client
// sends and the close code the suite answers with (the original fails the
// connection with a close frame, not a TCP drop).
func TestSuiteFailsMalformedInput(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 126)
	tests := []struct {
		name   string
		in     []byte
		code   int
		reason string
	}{
		{"rsv1", clientFrame(0xC1, []byte("a")), 1002, "RSV = 4 and no extension negotiated"},
		{"rsv3", clientFrame(0x91, nil), 1002, "RSV = 1 and no extension negotiated"},
		{"unmasked", []byte{0x81, 0x01, 'a'}, 1002, "unmasked client-to-server frame"},
		{"reserved data opcode", clientFrame(0x83, nil), 1002, "data frame using reserved opcode 3"},
		{"reserved control opcode", clientFrame(0x8B, nil), 1002, "control frame using reserved opcode 11"},
		{"fragmented ping", clientFrame(0x09, nil), 1002, "fragmented control frame"},
		{"long ping", clientFrame(0x89, long), 1002, "control frame with payload length > 125 octets"},
		// The close frame the violation earns never leaves: the testee's
		// close that follows makes the suite, a server in the closing
		// state, abort TCP, which discards the step's bytes, as the
		// original's abortConnection discards Twisted's write buffer.
		{"close of one byte", clientFrame(0x88, []byte{3}), 0, ""},
		{"lone continuation", clientFrame(0x80, nil), 1002, "received continuation data frame outside fragmented message"},
		{"text inside message", append(clientFrame(0x01, []byte("a")), clientFrame(0x81, []byte("b"))...), 1002,
			"received non-continuation data frame while inside fragmented message"},
		{"invalid utf-8", clientFrame(0x81, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}), 1007, "encountered invalid UTF-8 while processing text message"},
		{"truncated utf-8", clientFrame(0x81, []byte{0xce}), 1007, "UTF-8 text message payload ended within Unicode code point"},
		{"non-minimal length", []byte{0x81, 0xFE, 0x00, 0x05, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}, 1002,
			"invalid data frame length (not using minimal length encoding)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env, _ := openServer(t, &Case{ID: "x", Open: func(*Session) {}})
			s.Receive(tt.in)
			fs := parseFrames(t, env.out.Bytes())
			if tt.code == 0 {
				if len(fs) != 0 || !env.dropped || !env.abort {
					t.Errorf("sent % x, dropped %v abort %v; want nothing sent and an abort", env.out.Bytes(), env.dropped, env.abort)
				}
				if !s.failedByMe || !s.closedByMe {
					t.Errorf("failedByMe %v closedByMe %v", s.failedByMe, s.closedByMe)
				}
				return
			}
			if len(fs) == 0 || fs[0].op != 8 {
				t.Fatalf("no close frame sent: % x", env.out.Bytes())
			}
			code := int(binary.BigEndian.Uint16(fs[0].payload))
			if code != tt.code || string(fs[0].payload[2:]) != tt.reason {
				t.Errorf("close %d %q, want %d %q", code, fs[0].payload[2:], tt.code, tt.reason)
			}
			if !s.failedByMe || !s.closedByMe {
				t.Errorf("failedByMe %v closedByMe %v", s.failedByMe, s.closedByMe)
			}
		})
	}
}

// Like the original, invalid UTF-8 that arrives in several pieces fails
// the connection again at each piece; once a close was sent, that drops
// TCP.
func TestInvalidUTF8AgainDrops(t *testing.T) {
	s, env, _ := openServer(t, &Case{ID: "x", Open: func(*Session) {}})
	in := clientFrame(0x81, []byte{0xce, 0xba, 0xed, 0xa0, 0x80, 'a', 'b'})
	s.Receive(in[:10])
	if s.State() != StateClosing || env.dropped {
		t.Fatalf("after the first piece: state %v dropped %v", s.State(), env.dropped)
	}
	s.Receive(in[10:])
	if !env.dropped || env.abort || !s.droppedByMe {
		t.Fatalf("after the second piece: dropped %v abort %v", env.dropped, env.abort)
	}
}

// scenario cases: the suite sends nothing and waits for a close.
func waitCase(ec CloseExpectation) *Case {
	return &Case{ID: "x", Open: func(s *Session) {
		s.Expect(OK)
		s.ExpectedClose = ec
		s.KillAfter(time.Second)
	}}
}

// The verdict on how the connection closed, for the close sequences that
// matter, with the suite as server.
func TestCloseVerdicts(t *testing.T) {
	byPeer := CloseExpectation{ClosedByMe: false, CloseCode: []int{1002}}
	tests := []struct {
		name          string
		ec            CloseExpectation
		run           func(s *Session, env *fakeEnv)
		behavior      string
		behaviorClose string
		remoteCode    *int
	}{
		{"peer fails with the right code", byPeer, func(s *Session, env *fakeEnv) {
			s.Receive(clientFrame(0x88, closePayload(1002, "")))
			s.ConnectionLost()
		}, OK, OK, ptr(1002)},
		{"peer fails with another code", byPeer, func(s *Session, env *fakeEnv) {
			s.Receive(clientFrame(0x88, closePayload(1000, "")))
			s.ConnectionLost()
		}, OK, WrongCode, ptr(1000)},
		{"peer closes without a code", byPeer, func(s *Session, env *fakeEnv) {
			s.Receive(clientFrame(0x88, nil))
			s.ConnectionLost()
		}, OK, OK, nil},
		{"peer never fails: the suite kills", byPeer, func(s *Session, env *fakeEnv) {
			env.advance(time.Second)
			s.Receive(clientFrame(0x88, closePayload(1001, "")))
			s.ConnectionLost()
		}, OK, Failed, ptr(1001)},
		{"peer drops TCP", byPeer, func(s *Session, env *fakeEnv) {
			s.ConnectionLost()
		}, OK, OK, nil},
		{"fatal wrong endpoint", CloseExpectation{CloseCode: []int{1007}, ClosedByWrongEndpointIsFatal: true}, func(s *Session, env *fakeEnv) {
			env.advance(time.Second)
			s.Receive(clientFrame(0x88, closePayload(1001, "")))
			s.ConnectionLost()
		}, Failed, Failed, ptr(1001)},
		{"clean close required, no answer", CloseExpectation{ClosedByMe: true, CloseCode: []int{1000}, RequireClean: true}, func(s *Session, env *fakeEnv) {
			s.SendClose(1000, "")
			env.advance(time.Second) // close handshake timeout
			s.ConnectionLost()
		}, OK, Unclean, nil},
		{"clean close", CloseExpectation{ClosedByMe: true, CloseCode: []int{1000}, RequireClean: true}, func(s *Session, env *fakeEnv) {
			s.SendClose(1000, "")
			s.Receive(clientFrame(0x88, closePayload(1000, "")))
			s.ConnectionLost()
		}, OK, OK, ptr(1000)},
		{"invalid close code from the peer", CloseExpectation{ClosedByMe: true, CloseCode: []int{1000}}, func(s *Session, env *fakeEnv) {
			s.SendClose(1000, "")
			s.Receive(clientFrame(0x88, closePayload(1005, "")))
			s.ConnectionLost()
		}, OK, WrongCode, ptr(1005)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env, results := openServer(t, waitCase(tt.ec))
			tt.run(s, env)
			if len(*results) != 1 {
				t.Fatalf("%d results", len(*results))
			}
			r := (*results)[0]
			if r.Behavior != tt.behavior || r.BehaviorClose != tt.behaviorClose {
				t.Errorf("verdict %s/%s (%s), want %s/%s", r.Behavior, r.BehaviorClose, r.ResultClose, tt.behavior, tt.behaviorClose)
			}
			if (r.RemoteCloseCode == nil) != (tt.remoteCode == nil) || (r.RemoteCloseCode != nil && *r.RemoteCloseCode != *tt.remoteCode) {
				t.Errorf("remote close code %v, want %v", r.RemoteCloseCode, tt.remoteCode)
			}
		})
	}
}

func ptr(v int) *int { return &v }

// The suite as client waits for the server to drop TCP after the closing
// handshake, and drops it itself (FAILED BY CLIENT) when it does not.
func TestClientWaitsForServerDrop(t *testing.T) {
	env := newFakeEnv()
	var r *Result
	c := &Case{ID: "x", Open: func(s *Session) {
		s.Expect(OK)
		s.ExpectedClose = CloseExpectation{ClosedByMe: true, CloseCode: []int{1000}}
		s.SendClose(1000, "")
	}}
	s := NewSession(Config{Options: DefaultOptions(), Env: env, Case: c, Host: "h", Port: 1, Resource: "/",
		Done: func(res *Result) { r = res }})
	s.Start()
	req := env.out.String()
	key := req[strings.Index(req, "Sec-WebSocket-Key: ")+19:]
	key = key[:strings.Index(key, "\r\n")]
	s.Receive([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"))
	if s.State() != StateClosing {
		t.Fatalf("state %v", s.State())
	}
	s.Receive([]byte{0x88, 0x02, 0x03, 0xe8}) // the server's close reply
	env.advance(999 * time.Millisecond)
	if env.dropped {
		t.Fatal("dropped before the server drop timeout")
	}
	env.advance(time.Millisecond)
	if !env.dropped || !env.abort {
		t.Fatal("not dropped at the server drop timeout")
	}
	s.ConnectionLost()
	if r.BehaviorClose != Unclean && r.BehaviorClose != FailedByClient {
		t.Errorf("close verdict %s", r.BehaviorClose)
	}
	if !r.WasServerConnectionDropTimeout {
		t.Error("wasServerConnectionDropTimeout not set")
	}
}

func TestParseExtensions(t *testing.T) {
	exts := parseExtensions(`permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo;A=b=c , `)
	if len(exts) != 2 {
		t.Fatalf("%d extensions", len(exts))
	}
	pd := exts[0]
	if pd.Name != "permessage-deflate" || pd.Params["client_max_window_bits"][0].HasValue ||
		pd.Params["server_max_window_bits"][0].Value != "10" {
		t.Errorf("%+v", pd)
	}
	if exts[1].Name != "x-foo" || exts[1].Params["a"][0].Value != "b=c" {
		t.Errorf("%+v", exts[1])
	}
	o, err := parseDeflateOffer(pd)
	if err != nil || !o.AcceptMaxWindowBits || o.RequestMaxWindowBits != 10 || !o.AcceptNoContextTakeover {
		t.Errorf("offer %+v, %v", o, err)
	}
	for _, bad := range []string{
		"permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; server_max_window_bits",
		"permessage-deflate; client_no_context_takeover=1",
		"permessage-deflate; foo",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	} {
		if _, err := parseDeflateOffer(parseExtensions(bad)[0]); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if got := DefaultDeflateOffer().String(); got != "permessage-deflate; client_no_context_takeover; client_max_window_bits" {
		t.Errorf("default offer %q", got)
	}
	a := DeflateAccept{Offer: DeflateOffer{RequestMaxWindowBits: 10}, RequestNoContextTakeover: true, RequestMaxWindowBits: 9}
	if got := a.String(); got != "permessage-deflate; server_max_window_bits=10; client_no_context_takeover; client_max_window_bits=9" {
		t.Errorf("accept %q", got)
	}
}

// The suite's compressor and decompressor agree for every window and
// context takeover setting, and below 15 bits the compressed data keeps to
// that window.
func TestDeflateRoundTrip(t *testing.T) {
	msgs := [][]byte{[]byte("Hello"), bytes.Repeat([]byte("abcdefgh"), 5000), {}, []byte(strings.Repeat("The quick brown fox ", 300))}
	for _, bits := range []int{9, 12, 15} {
		for _, noCtx := range []bool{false, true} {
			t.Run(fmt.Sprint(bits, noCtx), func(t *testing.T) {
				// The suite as server compresses; as client it inflates.
				srv := newDeflate(DeflateParams{IsServer: true, ServerMaxWindowBits: bits, ServerNoContextTakeover: noCtx})
				cli := newDeflate(DeflateParams{IsServer: false, ServerMaxWindowBits: bits, ServerNoContextTakeover: noCtx})
				for i, m := range msgs {
					c := srv.compress(m)
					got, err := cli.decompress(c, 1<<20)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("message %d: %v, got %d bytes want %d", i, err, len(got), len(m))
					}
					if bits < 15 {
						if err := checkWindow(c, finalEmpty, 1<<bits, new(windowScratch)); err != nil {
							t.Fatalf("message %d: %v", i, err)
						}
					}
				}
			})
		}
	}
}

func TestDecompressLimit(t *testing.T) {
	d := newDeflate(DeflateParams{IsServer: true})
	c := d.compress(bytes.Repeat([]byte{0}, 1<<20))
	if _, err := newDeflate(DeflateParams{}).decompress(c, 1000); err != errDecompressLimit {
		t.Errorf("err = %v", err)
	}
}

func TestEventJSON(t *testing.T) {
	for _, tt := range []struct {
		e    Event
		want string
	}{
		{Message([]byte("hi"), false), `["message","hi",false]`},
		{Message([]byte{0xff, 0xfe}, true), `["message","0xfffe",true]`},
		{Pong(nil), `["pong",""]`},
		{Timeout("A"), `["timeout","A"]`},
		{Message(bytes.Repeat([]byte("*"), 100), false), `["message","` + strings.Repeat("*", 64) + ` ...",false]`},
	} {
		b, err := tt.e.MarshalJSON()
		if err != nil || string(b) != tt.want {
			t.Errorf("%s, want %s (%v)", b, tt.want, err)
		}
	}
}
