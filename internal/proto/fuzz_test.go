package proto

import (
	"fmt"
	"testing"

	"github.com/rfc6455/ws/frame"
)

// FuzzReceiver feeds arbitrary bytes to a server's Receiver whole and one
// byte at a time: it must not panic, and both must find the same events
// and the same error, since a peer chooses how its bytes are split.
func FuzzReceiver(f *testing.F) {
	f.Add(clientFrame(true, 0, frame.OpText, []byte("hello")), false)
	f.Add(append(clientFrame(false, 0, frame.OpText, []byte("\xce")), clientFrame(true, 0, frame.OpContinuation, []byte("\xba"))...), false)
	f.Add(clientFrame(true, 0, frame.OpPing, []byte("p")), false)
	f.Add(clientFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8, 'x'}), false)
	f.Add(clientFrame(true, frame.RSV1, frame.OpBinary, []byte{1, 2, 3}), true)
	f.Add([]byte{0x81, 0xfe, 0x00, 0x05}, false)
	f.Fuzz(func(t *testing.T, in []byte, deflate bool) {
		var rsv byte
		if deflate {
			rsv = frame.RSV1
		}
		whole := NewReceiver(NewRules(true, rsv, 1<<16, 64))
		wantEvents, wantErr := receiveAll(&whole, in, 0)
		split := NewReceiver(NewRules(true, rsv, 1<<16, 64))
		gotEvents, gotErr := receiveAll(&split, in, 1)
		if fmt.Sprint(gotEvents) != fmt.Sprint(wantEvents) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("one byte at a time: %q, %v\nwhole: %q, %v", gotEvents, gotErr, wantEvents, wantErr)
		}
	})
}
