package engine

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// Verdicts a case reports in its behavior and behaviorClose fields, spelled
// as in the original suite's reports.
const (
	OK             = "OK"
	NonStrict      = "NON-STRICT"
	Failed         = "FAILED"
	WrongCode      = "WRONG CODE"
	Unclean        = "UNCLEAN"
	FailedByClient = "FAILED BY CLIENT"
	Informational  = "INFORMATIONAL"
	Unimplemented  = "UNIMPLEMENTED"
)

// Close status codes the cases name.
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	CloseProtocolError  = 1002
	CloseInvalidPayload = 1007
	CloseMessageTooBig  = 1009
)

// NoCode stands for "no status code" where a close code is optional.
const NoCode = -1

// Case is one test case: what it does and what it expects, with the script
// the suite runs against the testee.
type Case struct {
	ID          string // "1.1.1"
	Description string // HTML, as in the original report
	Expectation string // HTML

	// Init runs when the session is created, before the opening handshake.
	// Cases of sections 12 and 13 set up permessage-deflate here.
	Init func(s *Session)
	// Open runs when the opening handshake is complete. It sets the
	// expectations and starts sending.
	Open func(s *Session)
	// Lost runs when the connection is gone, after the default verdict has
	// been computed, and may change it.
	Lost func(s *Session)
}

// Section returns the first component of the case ID ("6" for "6.4.1").
func (c *Case) Section() string {
	if i := bytes.IndexByte([]byte(c.ID), '.'); i >= 0 {
		return c.ID[:i]
	}
	return c.ID
}

// Event kinds recorded in Session.Received and named in expectations.
const (
	EventMessage = "message"
	EventPong    = "pong"
	EventTimeout = "timeout"
)

// Event is something the suite observed: a message, a pong, or one of the
// case's own waits running out while the connection was still open.
type Event struct {
	Kind    string
	Payload []byte // message or pong payload
	Binary  bool   // message only
	Tag     string // timeout only
}

// Message returns the event of receiving a message.
func Message(payload []byte, binary bool) Event {
	return Event{Kind: EventMessage, Payload: payload, Binary: binary}
}

// Pong returns the event of receiving a pong.
func Pong(payload []byte) Event { return Event{Kind: EventPong, Payload: payload} }

// Timeout returns the event of a case wait tagged tag running out.
func Timeout(tag string) Event { return Event{Kind: EventTimeout, Tag: tag} }

func (e Event) equal(o Event) bool {
	if e.Kind != o.Kind {
		return false
	}
	switch e.Kind {
	case EventMessage:
		return e.Binary == o.Binary && bytes.Equal(e.Payload, o.Payload)
	case EventPong:
		return bytes.Equal(e.Payload, o.Payload)
	}
	return e.Tag == o.Tag
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// MarshalJSON writes the event as the original report does: a tuple with the
// payload shortened and shown as text when it is UTF-8, as hex otherwise.
func (e Event) MarshalJSON() ([]byte, error) {
	switch e.Kind {
	case EventMessage:
		return json.Marshal([]any{e.Kind, asciiLogData(e.Payload, 64), e.Binary})
	case EventPong:
		return json.Marshal([]any{e.Kind, asciiLogData(e.Payload, 64)})
	}
	return json.Marshal([]any{e.Kind, e.Tag})
}

// Expectation is one acceptable sequence of events and the behavior it
// earns when it is what the suite observed.
type Expectation struct {
	Behavior string
	Events   []Event
}

// Expectations is an ordered list of acceptable outcomes. It encodes to
// JSON as an object keyed by behavior, like the original's dictionary.
type Expectations []Expectation

// MarshalJSON encodes the expectations as {"OK": [...], "NON-STRICT": [...]}.
func (x Expectations) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range x {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.Behavior)
		b.Write(k)
		b.WriteByte(':')
		ev := e.Events
		if ev == nil {
			ev = []Event{}
		}
		v, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// CloseExpectation says how the connection should end.
type CloseExpectation struct {
	// ClosedByMe: the suite (rather than the testee) is expected to send
	// the first close frame.
	ClosedByMe bool `json:"closedByMe"`
	// CloseCode lists the acceptable close codes from the testee; the
	// first is the one the suite sends when it closes.
	CloseCode []int `json:"closeCode"`
	// RequireClean: the closing handshake must complete cleanly.
	RequireClean bool `json:"requireClean"`
	// ClosedByWrongEndpointIsFatal turns a close by the wrong endpoint into
	// a FAILED behavior (the UTF-8 cases: the testee never noticed).
	ClosedByWrongEndpointIsFatal bool `json:"closedByWrongEndpointIsFatal,omitempty"`
}

// binLogData renders data as hex, shortened to maxlen bytes.
func binLogData(data []byte, maxlen int) string {
	const ellipses = " ..."
	if len(data) > maxlen-len(ellipses) {
		return hex.EncodeToString(data[:min(maxlen, len(data))]) + ellipses
	}
	return hex.EncodeToString(data)
}

// asciiLogData renders data as text when the (shortened) data is UTF-8 and
// as 0x-prefixed hex otherwise, as the original's wire log does.
func asciiLogData(data []byte, maxlen int) string {
	const ellipses = " ..."
	d := data
	if len(data) > maxlen-len(ellipses) {
		d = append(bytes.Clone(data[:min(maxlen, len(data))]), ellipses...)
	}
	if utf8.Valid(d) {
		return string(d)
	}
	return "0x" + binLogData(data, maxlen)
}

// utcnow formats t like the original's report timestamps.
func utcnow(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000") + "Z"
}
