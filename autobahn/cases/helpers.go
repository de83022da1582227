package cases

import (
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

const sec = time.Second

// Opcodes by number: many cases send reserved ones on purpose.
const (
	opCont   = 0
	opText   = 1
	opBinary = 2
	opClose  = 8
	opPing   = 9
	opPong   = 10
)

// fr is a final frame with a string payload.
func fr(op int, payload string) engine.Frame {
	return engine.Frame{Opcode: op, Fin: true, Payload: []byte(payload)}
}

// frag is a frame with FIN as given.
func frag(op int, fin bool, payload string) engine.Frame {
	return engine.Frame{Opcode: op, Fin: fin, Payload: []byte(payload)}
}

func chopped(f engine.Frame, n int) engine.Frame { f.Chop = n; return f }

func synced(f engine.Frame, sync bool) engine.Frame { f.Sync = sync; return f }

func msg(payload string, binary bool) engine.Event {
	return engine.Message([]byte(payload), binary)
}

func pong(payload string) engine.Event { return engine.Pong([]byte(payload)) }

// closeNormal: the suite closes with 1000 and expects a clean close.
func closeNormal(s *engine.Session) {
	s.ExpectedClose = engine.CloseExpectation{ClosedByMe: true, CloseCode: []int{engine.CloseNormal}, RequireClean: true}
}

// failedByPeer: the testee must fail the connection with code.
func failedByPeer(s *engine.Session, code int) {
	s.ExpectedClose = engine.CloseExpectation{ClosedByMe: false, CloseCode: []int{code}, RequireClean: false}
}

// failedUTF8: the testee must fail the connection with 1007; a close by the
// suite means the testee never noticed and fails the case.
func failedUTF8(s *engine.Session) {
	s.ExpectedClose = engine.CloseExpectation{ClosedByMe: false, CloseCode: []int{engine.CloseInvalidPayload},
		RequireClean: false, ClosedByWrongEndpointIsFatal: true}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// wrongCodeFails makes a WRONG CODE close a failed case (most of section 7).
func wrongCodeFails(s *engine.Session) {
	if s.BehaviorClose == engine.WrongCode {
		s.Behavior = engine.Failed
		s.Result = s.ResultClose
	}
}

// sendAll sends frames in order.
func sendAll(s *engine.Session, frames ...engine.Frame) {
	for _, f := range frames {
		s.SendFrame(f)
	}
}
