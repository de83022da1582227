package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
)

// testHub returns a hub with the in-process bus and limits loose enough
// that only tests about limits meet them.
func testHub(t *testing.T, mod func(*Config)) *Hub {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Burst, cfg.Rate = 1000, 1000
	if mod != nil {
		mod(&cfg)
	}
	return NewHub(cfg)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// peer is a client of the hub in a test: requests go straight to
// Hub.Handle and replies are read from the client's queue.
type peer struct {
	t   *testing.T
	h   *Hub
	c   *Client
	now time.Time
	id  uint64

	backlog []Envelope // events read while looking for a reply
}

func newPeer(t *testing.T, h *Hub) *peer {
	c := h.newClient(t0)
	h.Register(c)
	return &peer{t: t, h: h, c: c, now: t0}
}

// named registers a peer and says hello as name.
func named(t *testing.T, h *Hub, name string) *peer {
	p := newPeer(t, h)
	p.mustAck("hello", map[string]any{"name": name})
	p.drain()
	return p
}

func (p *peer) raw(s string) { p.h.Handle(context.Background(), p.c, conn.Text, []byte(s), p.now) }

// send sends a request with the next id and returns that id.
func (p *peer) send(event string, data any) uint64 {
	p.t.Helper()
	p.id++
	b, err := json.Marshal(map[string]any{"event": event, "id": p.id, "data": data})
	if err != nil {
		p.t.Fatal(err)
	}
	p.h.Handle(context.Background(), p.c, conn.Text, b, p.now)
	return p.id
}

// drain returns every event queued for the peer so far.
func (p *peer) drain() []Envelope {
	p.t.Helper()
	out := p.backlog
	p.backlog = nil
	for {
		select {
		case o := <-p.c.queue:
			var env Envelope
			if err := json.Unmarshal(o.data, &env); err != nil {
				p.t.Fatalf("server sent invalid JSON %q: %v", o.data, err)
			}
			out = append(out, env)
		default:
			return out
		}
	}
}

// reply finds the ack or error with id among events and returns the
// other events too.
func (p *peer) reply(id uint64) (Envelope, []Envelope) {
	p.t.Helper()
	var reply *Envelope
	var rest []Envelope
	for _, e := range p.drain() {
		if e.ID == id && (e.Event == "ack" || e.Event == "error") {
			if reply != nil {
				p.t.Fatalf("two replies to request %d", id)
			}
			reply = &e
			continue
		}
		rest = append(rest, e)
	}
	if reply == nil {
		p.t.Fatalf("no reply to request %d", id)
	}
	p.backlog = rest
	return *reply, rest
}

// mustAck sends a request, requires an ack and decodes its data into a
// map.
func (p *peer) mustAck(event string, data any) map[string]any {
	p.t.Helper()
	r, _ := p.reply(p.send(event, data))
	if r.Event != "ack" {
		p.t.Fatalf("%s %v: got %s %s, want ack", event, data, r.Event, r.Data)
	}
	var m map[string]any
	json.Unmarshal(r.Data, &m)
	return m
}

// mustFail sends a request and requires an error event with code.
func (p *peer) mustFail(event string, data any, code string) {
	p.t.Helper()
	r, _ := p.reply(p.send(event, data))
	var e errorMsg
	json.Unmarshal(r.Data, &e)
	if r.Event != "error" || e.Code != code {
		p.t.Fatalf("%s %v: got %s %s, want error %s", event, data, r.Event, r.Data, code)
	}
}

func events(envs []Envelope, name string) []json.RawMessage {
	var out []json.RawMessage
	for _, e := range envs {
		if e.Event == name {
			out = append(out, e.Data)
		}
	}
	return out
}

func messages(t *testing.T, envs []Envelope) []Message {
	t.Helper()
	var out []Message
	for _, d := range events(envs, "message") {
		var m Message
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestRoomMessagesReachMembersOnly(t *testing.T) {
	h := testHub(t, nil)
	alice, bob, carol := named(t, h, "alice"), named(t, h, "bob"), named(t, h, "carol")
	alice.mustAck("join", map[string]any{"room": "lobby"})
	bob.mustAck("join", map[string]any{"room": "lobby"})
	carol.mustAck("join", map[string]any{"room": "other"})
	alice.drain()
	bob.drain()
	carol.drain()

	ack := alice.mustAck("say", map[string]any{"room": "lobby", "text": "  hello <b>bob</b>  "})
	if ack["id"] != float64(1) {
		t.Errorf("say ack = %v, want id 1", ack)
	}
	want := Message{ID: 1, Room: "lobby", From: "alice", Text: "hello <b>bob</b>", TS: t0.UnixMilli()}
	for _, p := range []*peer{alice, bob} {
		got := messages(t, p.drain())
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s received %+v, want [%+v]", p.c.name, got, want)
		}
	}
	if got := messages(t, carol.drain()); len(got) != 0 {
		t.Errorf("carol, in another room, received %+v", got)
	}
}

func TestHistoryOnJoinKeepsLast100(t *testing.T) {
	h := testHub(t, nil)
	alice := named(t, h, "alice")
	alice.mustAck("join", map[string]any{"room": "lobby"})
	for i := 1; i <= 105; i++ {
		alice.mustAck("say", map[string]any{"room": "lobby", "text": fmt.Sprint("m", i)})
	}
	bob := named(t, h, "bob")
	var ack joinAck
	r, _ := bob.reply(bob.send("join", map[string]any{"room": "lobby"}))
	if err := json.Unmarshal(r.Data, &ack); err != nil {
		t.Fatal(err)
	}
	if len(ack.History) != 100 || ack.History[0].ID != 6 || ack.History[99].ID != 105 || ack.History[99].Text != "m105" {
		t.Fatalf("history has %d messages, ids %d..%d; want 100, ids 6..105", len(ack.History), ack.History[0].ID, ack.History[len(ack.History)-1].ID)
	}
	if !slices.Equal(ack.Members, []string{"alice", "bob"}) {
		t.Errorf("members = %v, want [alice bob]", ack.Members)
	}

	// Recovery: a join with since returns only the later messages, as does
	// the history request.
	carol := named(t, h, "carol")
	r, _ = carol.reply(carol.send("join", map[string]any{"room": "lobby", "since": 103}))
	json.Unmarshal(r.Data, &ack)
	if ids := msgIDs(ack.History); !slices.Equal(ids, []uint64{104, 105}) {
		t.Errorf("join since 103: ids %v, want [104 105]", ids)
	}
	var hist historyAck
	r, _ = carol.reply(carol.send("history", map[string]any{"room": "lobby", "since": 104}))
	json.Unmarshal(r.Data, &hist)
	if ids := msgIDs(hist.Messages); !slices.Equal(ids, []uint64{105}) {
		t.Errorf("history since 104: ids %v, want [105]", ids)
	}
}

func msgIDs(ms []Message) []uint64 {
	var ids []uint64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestAcknowledgements(t *testing.T) {
	h := testHub(t, nil)
	p := newPeer(t, h)
	// An ack carries the request's id.
	p.raw(`{"event":"hello","id":42,"data":{"name":"alice"}}`)
	r, _ := p.reply(42)
	if r.Event != "ack" || string(r.Data) != `{"name":"alice","node":"local"}` {
		t.Errorf("hello reply = %s %s", r.Event, r.Data)
	}
	// So does an error.
	p.raw(`{"event":"join","id":43,"data":{"room":"NO"}}`)
	if r, _ := p.reply(43); r.Event != "error" {
		t.Errorf("bad join reply = %s %s, want error", r.Event, r.Data)
	}
	// A request without id gets no ack, but its effect happens.
	p.raw(`{"event":"join","data":{"room":"lobby"}}`)
	for _, e := range p.drain() {
		if e.Event == "ack" || e.Event == "error" {
			t.Errorf("request without id got %s %s", e.Event, e.Data)
		}
	}
	if _, ok := p.c.rooms["lobby"]; !ok {
		t.Error("join without id had no effect")
	}
	// An error in a request without id is still reported, without id.
	p.raw(`{"event":"say","data":{"room":"lobby","text":""}}`)
	envs := p.drain()
	if len(envs) != 1 || envs[0].Event != "error" || envs[0].ID != 0 {
		t.Errorf("bad request without id: got %+v, want one error without id", envs)
	}
}

func TestValidation(t *testing.T) {
	long := strings.Repeat("x", 501)
	tests := []struct {
		name  string
		hello bool   // say hello as "alice" and join "lobby" first
		in    string // raw message
		code  string // error code expected
	}{
		{"not JSON", false, `hello`, errBadRequest},
		{"JSON array", false, `[1,2]`, errBadRequest},
		{"missing event", false, `{"id":1}`, errBadRequest},
		{"unknown envelope field", false, `{"event":"hello","id":1,"extra":1,"data":{"name":"a"}}`, errBadRequest},
		{"trailing data", false, `{"event":"hello","id":1,"data":{"name":"a"}} {}`, errBadRequest},
		{"negative id", false, `{"event":"hello","id":-1,"data":{"name":"a"}}`, errBadRequest},
		{"request before hello", false, `{"event":"join","id":1,"data":{"room":"lobby"}}`, errNotReady},
		{"unknown event", true, `{"event":"shout","id":1}`, errUnknownEvent},
		{"empty name", false, `{"event":"hello","id":1,"data":{"name":""}}`, errInvalid},
		{"markup in name", false, `{"event":"hello","id":1,"data":{"name":"<img src=x>"}}`, errInvalid},
		{"space in name", false, `{"event":"hello","id":1,"data":{"name":"a b"}}`, errInvalid},
		{"name too long", false, `{"event":"hello","id":1,"data":{"name":"abcdefghijklmnopqrstu"}}`, errInvalid},
		{"name of wrong type", false, `{"event":"hello","id":1,"data":{"name":7}}`, errBadRequest},
		{"unknown data field", false, `{"event":"hello","id":1,"data":{"name":"a","admin":true}}`, errBadRequest},
		{"second hello", true, `{"event":"hello","id":1,"data":{"name":"bob"}}`, errInvalid},
		{"upper-case room", true, `{"event":"join","id":1,"data":{"room":"Lobby"}}`, errInvalid},
		{"room with slash", true, `{"event":"join","id":1,"data":{"room":"a/b"}}`, errInvalid},
		{"room too long", true, `{"event":"join","id":1,"data":{"room":"abcdefghijklmnopqrstuvwxy"}}`, errInvalid},
		{"say in room not joined", true, `{"event":"say","id":1,"data":{"room":"other","text":"hi"}}`, errNotInRoom},
		{"say empty text", true, `{"event":"say","id":1,"data":{"room":"lobby","text":"   "}}`, errInvalid},
		{"say too long", true, `{"event":"say","id":1,"data":{"room":"lobby","text":"` + long + `"}}`, errInvalid},
		{"say control character", true, `{"event":"say","id":1,"data":{"room":"lobby","text":"a\u0007b"}}`, errInvalid},
		{"say without data", true, `{"event":"say","id":1}`, errInvalid},
		{"typing in room not joined", true, `{"event":"typing","id":1,"data":{"room":"other","active":true}}`, errNotInRoom},
		{"leave room not joined", true, `{"event":"leave","id":1,"data":{"room":"other"}}`, errNotInRoom},
		{"history of room not joined", true, `{"event":"history","id":1,"data":{"room":"other","since":0}}`, errNotInRoom},
		{"whisper to bad name", true, `{"event":"whisper","id":1,"data":{"to":"<x>","text":"hi"}}`, errInvalid},
		{"rooms with data", true, `{"event":"rooms","id":1,"data":{"x":1}}`, errBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHub(t, nil)
			p := newPeer(t, h)
			if tt.hello {
				p.mustAck("hello", map[string]any{"name": "alice"})
				p.mustAck("join", map[string]any{"room": "lobby"})
				p.drain()
			}
			p.raw(tt.in)
			envs := p.drain()
			if len(envs) != 1 || envs[0].Event != "error" {
				t.Fatalf("got %+v, want one error event", envs)
			}
			var e errorMsg
			if err := json.Unmarshal(envs[0].Data, &e); err != nil || e.Code != tt.code || e.Message == "" {
				t.Fatalf("error = %s, want code %q with a message", envs[0].Data, tt.code)
			}
		})
	}
}

func TestBinaryMessageRefused(t *testing.T) {
	h := testHub(t, nil)
	p := newPeer(t, h)
	h.Handle(context.Background(), p.c, conn.Binary, []byte(`{"event":"hello","id":1,"data":{"name":"a"}}`), t0)
	envs := p.drain()
	if len(envs) != 1 || envs[0].Event != "error" || !strings.Contains(string(envs[0].Data), errBadRequest) {
		t.Fatalf("binary message: got %+v, want a bad_request error", envs)
	}
	if p.c.name != "" {
		t.Error("binary hello took effect")
	}
}

func TestRoomLimit(t *testing.T) {
	h := testHub(t, func(c *Config) { c.MaxRooms = 2 })
	p := named(t, h, "alice")
	p.mustAck("join", map[string]any{"room": "a"})
	p.mustAck("join", map[string]any{"room": "b"})
	p.mustAck("join", map[string]any{"room": "b"}) // joining again is not a new room
	p.mustFail("join", map[string]any{"room": "c"}, errTooMany)
	p.mustAck("leave", map[string]any{"room": "a"})
	p.mustAck("join", map[string]any{"room": "c"})
}

func TestTokenBucket(t *testing.T) {
	b := newTokenBucket(2, 3, t0) // 2 per second, burst 3
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, true}, // the burst
		{0, false},                      // empty
		{100 * time.Millisecond, false}, // 0.2 token
		{500 * time.Millisecond, true},  // 1 token
		{500 * time.Millisecond, false},
		{10 * time.Second, true}, // refilled to the burst, not beyond
		{10 * time.Second, true},
		{10 * time.Second, true},
		{10 * time.Second, false},
		{9 * time.Second, false}, // a clock going back gives nothing
	}
	for i, s := range steps {
		if got := b.allow(t0.Add(s.at)); got != s.want {
			t.Errorf("step %d at %v: allow = %v, want %v", i, s.at, got, s.want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	h := testHub(t, func(c *Config) { c.Rate, c.Burst = 1, 3 })
	p := named(t, h, "alice") // hello took one token
	p.mustAck("join", map[string]any{"room": "lobby"})
	p.mustAck("say", map[string]any{"room": "lobby", "text": "1"})
	p.mustFail("say", map[string]any{"room": "lobby", "text": "2"}, errRateLimited)
	p.now = p.now.Add(time.Second)
	p.mustAck("say", map[string]any{"room": "lobby", "text": "3"})
	// The refused message was not stored.
	var hist historyAck
	p.now = p.now.Add(time.Second)
	r, _ := p.reply(p.send("history", map[string]any{"room": "lobby", "since": 0}))
	json.Unmarshal(r.Data, &hist)
	if len(hist.Messages) != 2 || hist.Messages[1].Text != "3" {
		t.Errorf("history = %+v, want messages 1 and 3", hist.Messages)
	}
}

func TestRefusedRequestsCloseConnection(t *testing.T) {
	h := testHub(t, func(c *Config) { c.MaxRejected = 3 })
	p := newPeer(t, h)
	for i := range 4 {
		select {
		case <-p.c.done:
			t.Fatalf("closed after %d refused requests, want after 4", i)
		default:
		}
		p.raw(`not json`)
	}
	select {
	case <-p.c.done:
	default:
		t.Fatal("still open after 4 refused requests")
	}
	if p.c.closeCode != conn.StatusPolicyViolation {
		t.Errorf("close code %v, want 1008", p.c.closeCode)
	}
}

func TestPrivateMessageReachesOnlyTarget(t *testing.T) {
	h := testHub(t, nil)
	alice, bob, bob2, carol := named(t, h, "alice"), named(t, h, "bob"), named(t, h, "bob"), named(t, h, "carol")
	for _, p := range []*peer{alice, bob, bob2, carol} {
		p.drain()
	}
	ack := alice.mustAck("whisper", map[string]any{"to": "bob", "text": "psst"})
	if ack["delivered"] != true {
		t.Errorf("whisper ack = %v, want delivered", ack)
	}
	want := privateMsg{From: "alice", To: "bob", Text: "psst", TS: t0.UnixMilli()}
	for _, p := range []*peer{bob, bob2} { // both of bob's connections
		got := events(p.drain(), "private")
		var pm privateMsg
		if len(got) != 1 || json.Unmarshal(got[0], &pm) != nil || pm != want {
			t.Errorf("bob's connection got %s, want %+v", got, want)
		}
	}
	for _, p := range []*peer{alice, carol} {
		if got := events(p.drain(), "private"); len(got) != 0 {
			t.Errorf("%s got private %s", p.c.name, got)
		}
	}
	if ack := alice.mustAck("whisper", map[string]any{"to": "dave", "text": "hi"}); ack["delivered"] != false {
		t.Errorf("whisper to offline user: ack = %v, want delivered false", ack)
	}
}

func TestPresenceTypingAndViews(t *testing.T) {
	h := testHub(t, nil)
	alice := named(t, h, "alice")
	alice.mustAck("join", map[string]any{"room": "lobby"})
	alice.drain()

	bob := named(t, h, "bob")
	if got := events(alice.drain(), "online"); len(got) != 1 || string(got[0]) != `{"users":["alice","bob"]}` {
		t.Errorf("online pushed to alice on bob's hello: %s", got)
	}
	bob.mustAck("join", map[string]any{"room": "lobby"})
	envs := alice.drain()
	if got := events(envs, "presence"); len(got) != 1 || string(got[0]) != `{"room":"lobby","name":"bob","action":"join"}` {
		t.Errorf("presence on join: %s", got)
	}
	if got := events(envs, "rooms"); len(got) != 1 || string(got[0]) != `{"rooms":[{"name":"lobby","members":2}]}` {
		t.Errorf("rooms on join: %s", got)
	}

	// A second connection of bob joining the room is not news.
	bob2 := named(t, h, "bob")
	bob2.mustAck("join", map[string]any{"room": "lobby"})
	if got := events(alice.drain(), "presence"); len(got) != 0 {
		t.Errorf("presence for bob's second connection: %s", got)
	}

	bob.mustAck("typing", map[string]any{"room": "lobby", "active": true})
	if got := events(alice.drain(), "typing"); len(got) != 1 || string(got[0]) != `{"room":"lobby","name":"bob","active":true}` {
		t.Errorf("typing: %s", got)
	}

	// Bob leaves when his last connection does.
	bob.mustAck("leave", map[string]any{"room": "lobby"})
	if got := events(alice.drain(), "presence"); len(got) != 0 {
		t.Errorf("presence while bob2 is still in the room: %s", got)
	}
	h.Unregister(context.Background(), bob2.c)
	envs = alice.drain()
	if got := events(envs, "presence"); len(got) != 1 || string(got[0]) != `{"room":"lobby","name":"bob","action":"leave"}` {
		t.Errorf("presence on bob's last leave: %s", got)
	}
	if got := events(envs, "rooms"); len(got) != 1 || string(got[0]) != `{"rooms":[{"name":"lobby","members":1}]}` {
		t.Errorf("rooms after bob left: %s", got)
	}
	if r, _ := alice.reply(alice.send("users", nil)); string(r.Data) != `{"users":["alice","bob"]}` {
		t.Errorf("users = %s (bob still has one connection)", r.Data)
	}
}

func TestSlowConsumerIsDisconnectedNotWaitedFor(t *testing.T) {
	h := testHub(t, func(c *Config) { c.QueueSize = 4 })
	alice, slow := named(t, h, "alice"), named(t, h, "slow")
	alice.mustAck("join", map[string]any{"room": "lobby"})
	slow.mustAck("join", map[string]any{"room": "lobby"})
	alice.drain()
	slow.drain()
	// slow never drains its queue; alice keeps reading hers.
	var got []Message
	for i := range 10 {
		alice.mustAck("say", map[string]any{"room": "lobby", "text": fmt.Sprint(i)})
		got = append(got, messages(t, alice.drain())...)
	}
	if len(got) != 10 {
		t.Errorf("alice received %d of 10 messages", len(got))
	}
	select {
	case <-slow.c.done:
		if slow.c.closeCode != 1013 {
			t.Errorf("slow consumer closed with %v, want 1013", slow.c.closeCode)
		}
	default:
		t.Fatal("slow consumer still connected with a full queue")
	}
}
