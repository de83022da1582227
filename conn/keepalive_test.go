package conn

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/ws/frame"
)

// A peer that answers pings keeps the connection open for good.
func TestKeepAliveAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		opts := &Options{KeepAliveInterval: 10 * time.Second, KeepAliveTimeout: 5 * time.Second}
		srv := New(a, Setup{Role: Server, Options: opts})
		cli := New(b, Setup{Role: Client})
		defer cli.CloseNow()
		srvErr := make(chan error, 1)
		go func() { _, _, err := srv.ReadMessage(context.Background(), nil); srvErr <- err }()
		// The client reads, so it answers pings automatically.
		go cli.ReadMessage(context.Background(), nil)

		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case err := <-srvErr:
			t.Fatalf("connection dropped although the peer answers: %v", err)
		default:
		}

		// Pings went out and were answered: the keepalive is still armed.
		if cli.live == nil || srv.live == nil || srv.live.stopped {
			t.Fatal("keepalive not running on the server")
		}
	})
}

// A peer whose TCP stays up but that never answers pings is dropped with
// ErrKeepAliveTimeout.
func TestKeepAliveSilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		start := time.Now()
		srv := New(a, Setup{Role: Server, Options: &Options{KeepAliveInterval: time.Second}})
		// The peer reads raw bytes (so writes don't block) but never answers.
		go func() {
			buf := make([]byte, 256)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		_, _, err := srv.ReadMessage(context.Background(), nil)
		if !errors.Is(err, ErrKeepAliveTimeout) {
			t.Fatalf("err = %v, want ErrKeepAliveTimeout", err)
		}
		// Interval 1 s, timeout defaults to the interval, then a second
		// look a quarter of it later: dropped at 2.25 s.
		if elapsed := time.Since(start); elapsed != 2250*time.Millisecond {
			t.Fatalf("dropped after %v, want 2.25s", elapsed)
		}
	})
}

func TestReceiveRules(t *testing.T) {
	masked := func(h frame.Header) frame.Header { h.Masked = true; return h }
	tests := []struct {
		name   string
		rules  receiveRules
		frames []frame.Header
		want   []frameKind // kinds of the frames that pass
		err    error       // error of the frame after them
	}{
		{"single text", receiveRules{server: true}, []frame.Header{masked(frame.Header{Fin: true, Opcode: frame.OpText})}, []frameKind{kindFirst}, nil},
		{"fragments with ping", receiveRules{server: true}, []frame.Header{
			masked(frame.Header{Opcode: frame.OpText}),
			masked(frame.Header{Fin: true, Opcode: frame.OpPing}),
			masked(frame.Header{Fin: true, Opcode: frame.OpContinuation}),
			masked(frame.Header{Fin: true, Opcode: frame.OpBinary}),
		}, []frameKind{kindFirst, kindControl, kindContinuation, kindFirst}, nil},
		{"continuation first", receiveRules{}, []frame.Header{{Fin: true, Opcode: frame.OpContinuation}}, nil, ErrUnexpectedContinuation},
		{"binary inside text", receiveRules{}, []frame.Header{{Opcode: frame.OpText}, {Fin: true, Opcode: frame.OpBinary}}, []frameKind{kindFirst}, ErrExpectedContinuation},
		{"RSV1 negotiated on first", receiveRules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Opcode: frame.OpText}, {Fin: true, Opcode: frame.OpContinuation}}, []frameKind{kindFirst, kindContinuation}, nil},
		{"RSV1 on continuation", receiveRules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Opcode: frame.OpText}, {RSV: frame.RSV1, Fin: true, Opcode: frame.OpContinuation}}, []frameKind{kindFirst}, ErrExtensionBitOnControl},
		{"RSV1 on ping", receiveRules{rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Fin: true, Opcode: frame.OpPing}}, nil, ErrExtensionBitOnControl},
		{"limit on sum of fragments", receiveRules{limit: 10}, []frame.Header{{Opcode: frame.OpBinary, Length: 6}, {Fin: true, Opcode: frame.OpContinuation, Length: 5}}, []frameKind{kindFirst}, ErrMessageTooBig},
		{"limit resets per message", receiveRules{limit: 10}, []frame.Header{{Fin: true, Opcode: frame.OpBinary, Length: 10}, {Fin: true, Opcode: frame.OpBinary, Length: 10}}, []frameKind{kindFirst, kindFirst}, nil},
		{"compressed message not counted on the wire", receiveRules{limit: 10, rsv: frame.RSV1}, []frame.Header{{RSV: frame.RSV1, Fin: true, Opcode: frame.OpBinary, Length: 100}}, []frameKind{kindFirst}, nil},
	}
	for _, tt := range tests {
		r := tt.rules
		var kinds []frameKind
		var err error
		for _, h := range tt.frames {
			var k frameKind
			if k, err = r.check(&h); err != nil {
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
