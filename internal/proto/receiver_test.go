package proto

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/rfc6455/ws/frame"
)

// clientFrame returns a masked frame as a client sends it.
func clientFrame(fin bool, rsv byte, op frame.Opcode, payload []byte) []byte {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Length: int64(len(payload)), Key: [4]byte{1, 2, 3, 4}}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(h.Key, 0, b[start:])
	return b
}

// receiveAll feeds in to r in pieces of step bytes (0: all at once) and
// returns the events, with data pieces of a message joined, and the error.
func receiveAll(r *Receiver, in []byte, step int) ([]string, error) {
	in = bytes.Clone(in)
	var events []string
	var msg []byte
	for len(in) > 0 {
		piece := in
		if step > 0 && len(piece) > step {
			piece = piece[:step]
		}
		in = in[len(piece):]
		for {
			n, ev, err := r.Receive(piece)
			piece = piece[n:]
			if err != nil {
				return events, err
			}
			switch ev.Kind {
			case NeedMore:
			case Data:
				msg = append(msg, ev.Payload...)
				if ev.Final {
					events = append(events, fmt.Sprintf("%v %q", ev.Type, msg))
					msg = msg[:0]
				}
				continue
			case Close:
				events = append(events, fmt.Sprintf("close %d %q", ev.Close.Code, ev.Close.Reason))
				continue
			default:
				events = append(events, fmt.Sprintf("%v %q", ev.Kind, ev.Payload))
				continue
			}
			if len(piece) != 0 {
				return events, fmt.Errorf("NeedMore with %d bytes unconsumed", len(piece))
			}
			break
		}
	}
	return events, nil
}

func TestReceiver(t *testing.T) {
	text := func(s string) []byte { return clientFrame(true, 0, frame.OpText, []byte(s)) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	long := bytes.Repeat([]byte("x"), 70000)
	tests := []struct {
		name  string
		rsv   byte
		limit int64
		in    []byte
		want  []string
		code  frame.StatusCode // 0: no error
	}{
		{"one text", 0, 0, text("hello"), []string{`text "hello"`}, 0},
		{"empty binary", 0, 0, clientFrame(true, 0, frame.OpBinary, nil), []string{`binary ""`}, 0},
		{"fragments around a ping", 0, 0, cat(
			clientFrame(false, 0, frame.OpText, []byte("he")),
			clientFrame(true, 0, frame.OpPing, []byte("p")),
			clientFrame(false, 0, frame.OpContinuation, nil),
			clientFrame(true, 0, frame.OpContinuation, []byte("llo")),
		), []string{`ping "p"`, `text "hello"`}, 0},
		{"64-bit length", 0, 0, clientFrame(true, 0, frame.OpBinary, long), []string{fmt.Sprintf("binary %q", long)}, 0},
		{"close with reason", 0, 0, clientFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}), []string{`close 1000 "bye"`}, 0},
		{"empty close", 0, 0, clientFrame(true, 0, frame.OpClose, nil), []string{`close 1005 ""`}, 0},
		{"pong", 0, 0, clientFrame(true, 0, frame.OpPong, []byte("x")), []string{`pong "x"`}, 0},

		{"unmasked", 0, 0, []byte{0x81, 0x00}, nil, frame.StatusProtocolError},
		{"reserved opcode", 0, 0, clientFrame(true, 0, 3, nil), nil, frame.StatusProtocolError},
		{"RSV1 not negotiated", 0, 0, clientFrame(true, frame.RSV1, frame.OpText, nil), nil, frame.StatusProtocolError},
		{"continuation first", 0, 0, clientFrame(true, 0, frame.OpContinuation, nil), nil, frame.StatusProtocolError},
		{"text inside text", 0, 0, cat(clientFrame(false, 0, frame.OpText, nil), text("x")), nil, frame.StatusProtocolError},
		{"fragmented ping", 0, 0, clientFrame(false, 0, frame.OpPing, nil), nil, frame.StatusProtocolError},
		{"long ping", 0, 0, clientFrame(true, 0, frame.OpPing, make([]byte, 126)), nil, frame.StatusProtocolError},
		{"bad UTF-8", 0, 0, text("a\xffb"), nil, frame.StatusInvalidPayloadData},
		{"UTF-8 cut at the end", 0, 0, cat(clientFrame(false, 0, frame.OpText, []byte("\xce")), clientFrame(true, 0, frame.OpContinuation, nil)), nil, frame.StatusInvalidPayloadData},
		{"UTF-8 split across frames", 0, 0, cat(clientFrame(false, 0, frame.OpText, []byte("\xce")), clientFrame(true, 0, frame.OpContinuation, []byte("\xba"))), []string{`text "κ"`}, 0},
		{"close of one byte", 0, 0, clientFrame(true, 0, frame.OpClose, []byte{3}), nil, frame.StatusProtocolError},
		{"close code 1005 on the wire", 0, 0, clientFrame(true, 0, frame.OpClose, []byte{0x03, 0xed}), nil, frame.StatusProtocolError},
		{"close reason not UTF-8", 0, 0, clientFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8, 0xff}), nil, frame.StatusInvalidPayloadData},
		{"over the read limit", 0, 4, text("hello"), nil, frame.StatusMessageTooBig},
		{"compressed text is not validated here", frame.RSV1, 0, clientFrame(true, frame.RSV1, frame.OpText, []byte{0xff}), []string{`text "\xff"`}, 0},
	}
	for _, tt := range tests {
		for _, step := range []int{0, 1, 3, 7} {
			t.Run(fmt.Sprintf("%s/step%d", tt.name, step), func(t *testing.T) {
				r := NewReceiver(NewRules(true, tt.rsv, tt.limit, 0))
				got, err := receiveAll(&r, tt.in, step)
				var pe *frame.ProtocolError
				switch {
				case tt.code == 0 && err != nil:
					t.Fatalf("error %v", err)
				case tt.code != 0 && !errors.As(err, &pe):
					t.Fatalf("error %v, want a *frame.ProtocolError with code %d", err, tt.code)
				case tt.code != 0 && pe.Code != tt.code:
					t.Fatalf("close code %d (%v), want %d", pe.Code, err, tt.code)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("events %q, want %q", got, tt.want)
				}
				if err == nil && !r.Idle() {
					t.Errorf("receiver not idle after whole frames")
				}
			})
		}
	}
}

// An error is sticky: later input is refused with the same error.
func TestReceiverErrorSticky(t *testing.T) {
	r := NewReceiver(NewRules(true, 0, 0, 0))
	_, _, err := r.Receive([]byte{0x81, 0x00})
	if !errors.Is(err, frame.ErrUnmaskedFrame) {
		t.Fatalf("err %v, want ErrUnmaskedFrame", err)
	}
	if n, _, err2 := r.Receive(clientFrame(true, 0, frame.OpText, nil)); n != 0 || err2 != err {
		t.Fatalf("after the error: n %d err %v, want 0, %v", n, err2, err)
	}
}

// Receiving a message buffered whole allocates nothing.
func TestReceiverAllocs(t *testing.T) {
	in := clientFrame(true, 0, frame.OpText, []byte("hello, world"))
	buf := make([]byte, len(in))
	r := NewReceiver(NewRules(true, 0, 0, 0))
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, in)
		p := buf
		for len(p) > 0 {
			n, _, err := r.Receive(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message, want 0", allocs)
	}
}
