package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Envelope is every WebSocket message of the chat protocol, in both
// directions, as one JSON text message:
//
//	{"event": "say", "id": 7, "data": {"room": "lobby", "text": "hi"}}
//
// A client request that carries a non-zero id is answered by an "ack"
// event with the same id and the result as data, or by an "error" event
// with the same id, the request/response pattern of Socket.IO's
// acknowledgements. Events the server pushes (messages, presence, typing)
// carry no id.
type Envelope struct {
	Event string          `json:"event"`
	ID    uint64          `json:"id,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Client requests. Each is the data of an envelope whose event is the
// name in the comment.
type (
	// "hello": choose a name; must be the first request.
	helloReq struct {
		Name string `json:"name"`
	}
	// "join": enter a room. The ack carries the room's members and its
	// history: the last HistorySize messages, or only those with an id
	// above Since when Since is set (missed-message recovery).
	joinReq struct {
		Room  string `json:"room"`
		Since uint64 `json:"since,omitempty"`
	}
	// "leave": leave a room.
	leaveReq struct {
		Room string `json:"room"`
	}
	// "say": send a message to a room the client is in.
	sayReq struct {
		Room string `json:"room"`
		Text string `json:"text"`
	}
	// "whisper": send a private message to a user by name.
	whisperReq struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}
	// "typing": tell a room the client is (or stopped) typing.
	typingReq struct {
		Room   string `json:"room"`
		Active bool   `json:"active"`
	}
	// "history": the room's messages with an id above Since.
	historyReq struct {
		Room  string `json:"room"`
		Since uint64 `json:"since"`
	}
	// "rooms" and "users" take no data.
)

// Message is a room message as stored in the history and pushed in a
// "message" event. ID increases by one per message in its room, across
// every chat process sharing a Redis server.
type Message struct {
	ID   uint64 `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
	TS   int64  `json:"ts"` // Unix milliseconds
}

// Server pushes, the data of the event named in the comment.
type (
	// "private"
	privateMsg struct {
		From string `json:"from"`
		To   string `json:"to"`
		Text string `json:"text"`
		TS   int64  `json:"ts"`
	}
	// "typing"
	typingMsg struct {
		Room   string `json:"room"`
		Name   string `json:"name"`
		Active bool   `json:"active"`
	}
	// "presence": Action is "join" or "leave".
	presenceMsg struct {
		Room   string `json:"room"`
		Name   string `json:"name"`
		Action string `json:"action"`
	}
	// "online": every user connected to any chat process.
	onlineMsg struct {
		Users []string `json:"users"`
	}
	// "rooms": every room with members, with its member count.
	roomsMsg struct {
		Rooms []roomInfo `json:"rooms"`
	}
	roomInfo struct {
		Name    string `json:"name"`
		Members int    `json:"members"`
	}
	// "error": Code is one of the err* constants.
	errorMsg struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// Acknowledgement data of requests whose ack carries more than {}.
type (
	helloAck struct {
		Name string `json:"name"`
		Node string `json:"node"` // the chat process serving the connection
	}
	joinAck struct {
		Room    string    `json:"room"`
		Members []string  `json:"members"`
		History []Message `json:"history"`
	}
	sayAck struct {
		ID uint64 `json:"id"`
	}
	whisperAck struct {
		Delivered bool `json:"delivered"`
	}
	historyAck struct {
		Room     string    `json:"room"`
		Messages []Message `json:"messages"`
	}
)

// Error codes of "error" events.
const (
	errBadRequest   = "bad_request"   // not a valid envelope or data
	errUnknownEvent = "unknown_event" // event name not in the protocol
	errNotReady     = "not_ready"     // a request before "hello"
	errInvalid      = "invalid"       // a field fails validation
	errNotInRoom    = "not_in_room"   // say/typing/history in a room not joined
	errTooMany      = "too_many"      // room limit per connection reached
	errRateLimited  = "rate_limited"  // token bucket empty
	errInternal     = "internal"      // history or pub/sub backend failed
)

// requestError is a request that fails with an error event.
type requestError struct {
	code string
	msg  string
}

func (e *requestError) Error() string { return e.code + ": " + e.msg }

func reqErr(code, format string, args ...any) *requestError {
	return &requestError{code: code, msg: fmt.Sprintf(format, args...)}
}

// parseEnvelope decodes one client message. Unknown fields are refused so
// that a typo is reported rather than silently ignored.
func parseEnvelope(raw []byte) (Envelope, error) {
	var env Envelope
	if err := decodeStrict(raw, &env); err != nil {
		return env, reqErr(errBadRequest, "envelope: %v", err)
	}
	if env.Event == "" {
		return env, reqErr(errBadRequest, "envelope: missing event")
	}
	return env, nil
}

// decodeData decodes an envelope's data into v with the same strictness.
// Absent data decodes as {}.
func decodeData(data json.RawMessage, v any) error {
	if len(data) == 0 {
		data = []byte("{}")
	}
	if err := decodeStrict(data, v); err != nil {
		return reqErr(errBadRequest, "data: %v", err)
	}
	return nil
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Limits on names.
const (
	maxNameRunes = 20
	maxRoomLen   = 24
)

// validName accepts 1 to 20 letters, digits, '_', '-' and '.', in any
// script: enough for people's names, nothing that could be mistaken for
// markup or spoof another name with spaces or control characters.
func validName(s string) error {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > maxNameRunes {
		return reqErr(errInvalid, "name must have 1 to %d characters", maxNameRunes)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_-.", r) {
			return reqErr(errInvalid, "name may contain only letters, digits, '_', '-' and '.'")
		}
	}
	return nil
}

// validRoom accepts 1 to 24 lower-case ASCII letters, digits and '-': room
// names appear in URLs and Redis keys, so they are kept plain.
func validRoom(s string) error {
	if len(s) == 0 || len(s) > maxRoomLen {
		return reqErr(errInvalid, "room must have 1 to %d characters", maxRoomLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return reqErr(errInvalid, "room may contain only a-z, 0-9 and '-'")
		}
	}
	return nil
}

// cleanText trims surrounding space and checks that text is not empty,
// has at most max characters and no control characters other than
// newline and tab. The transport has already checked it is valid UTF-8
// (RFC 6455 §8.1), and the page shows it with textContent, so markup in it
// is displayed, never interpreted.
func cleanText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return "", reqErr(errInvalid, "text is empty")
	}
	if n > max {
		return "", reqErr(errInvalid, "text longer than %d characters", max)
	}
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			return "", reqErr(errInvalid, "text contains control characters")
		}
	}
	return s, nil
}

// encode renders a server event. The types above always marshal, so an
// error here is a programming mistake.
func encode(event string, id uint64, data any) []byte {
	raw, err := json.Marshal(data)
	if err != nil {
		panic("chat: encoding " + event + ": " + err.Error())
	}
	b, err := json.Marshal(Envelope{Event: event, ID: id, Data: raw})
	if err != nil {
		panic("chat: encoding " + event + ": " + err.Error())
	}
	return b
}
