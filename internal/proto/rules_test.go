package proto

import (
	"errors"
	"testing"

	"github.com/rfc6455/ws/frame"
)

func TestReceiveRules(t *testing.T) {
	masked := func(h frame.Header) frame.Header { h.Masked = true; return h }
	tests := []struct {
		name   string
		rules  Rules
		frames []frame.Header
		want   []FrameKind // kinds of the frames that pass
		err    error       // error of the frame after them
	}{
		{"single text", Rules{server: true}, []frame.Header{masked(frame.Header{Fin: true, Opcode: frame.OpText})}, []FrameKind{KindFirst}, nil},
		{"fragments with ping", Rules{server: true}, []frame.Header{
			masked(frame.Header{Opcode: frame.OpText}),
			masked(frame.Header{Fin: true, Opcode: frame.OpPing}),
			masked(frame.Header{Fin: true, Opcode: frame.OpContinuation}),
			masked(frame.Header{Fin: true, Opcode: frame.OpBinary}),
		}, []FrameKind{KindFirst, KindControl, KindContinuation, KindFirst}, nil},
		{"continuation first", Rules{}, []frame.Header{{Fin: true, Opcode: frame.OpContinuation}}, nil, ErrUnexpectedContinuation},
		{"binary inside text", Rules{}, []frame.Header{{Opcode: frame.OpText}, {Fin: true, Opcode: frame.OpBinary}}, []FrameKind{KindFirst}, ErrExpectedContinuation},
		{"RSV1 negotiated on first", Rules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Opcode: frame.OpText}, {Fin: true, Opcode: frame.OpContinuation}}, []FrameKind{KindFirst, KindContinuation}, nil},
		{"RSV1 on continuation", Rules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Opcode: frame.OpText}, {RSV: frame.RSV1, Fin: true, Opcode: frame.OpContinuation}}, []FrameKind{KindFirst}, ErrExtensionBitOnControl},
		{"RSV1 on ping", Rules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Fin: true, Opcode: frame.OpPing}}, nil, ErrExtensionBitOnControl},
		{"limit on sum of fragments", Rules{limit: 10}, []frame.Header{{Opcode: frame.OpBinary, Length: 6}, {Fin: true, Opcode: frame.OpContinuation, Length: 5}}, []FrameKind{KindFirst}, ErrMessageTooBig},
		{"limit resets per message", Rules{limit: 10}, []frame.Header{{Fin: true, Opcode: frame.OpBinary, Length: 10}, {Fin: true, Opcode: frame.OpBinary, Length: 10}}, []FrameKind{KindFirst, KindFirst}, nil},
		{"compressed message not counted on the wire", Rules{limit: 10, rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Fin: true, Opcode: frame.OpBinary, Length: 100}}, []FrameKind{KindFirst}, nil},
	}
	for _, tt := range tests {
		r := tt.rules
		var kinds []FrameKind
		var err error
		for _, h := range tt.frames {
			var k FrameKind
			if k, err = r.Check(&h); err != nil {
				break
			}
			kinds = append(kinds, k)
		}
		if !errors.Is(err, tt.err) || len(kinds) != len(tt.want) {
			t.Errorf("%s: kinds %v err %v; want %v, %v", tt.name, kinds, err, tt.want, tt.err)
			continue
		}
		for i := range kinds {
			if kinds[i] != tt.want[i] {
				t.Errorf("%s: frame %d kind %v, want %v", tt.name, i, kinds[i], tt.want[i])
			}
		}
	}
}
