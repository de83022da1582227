package cases

import (
	"strconv"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 4: reserved opcodes (RFC 6455 §5.2: 3-7 non-control, 11-15
// control).
func section4() []*engine.Case {
	const hello = "Hello, world!"
	var out []*engine.Case
	for _, g := range []struct {
		sub   string
		kind  string
		first int
	}{{"4.1.", "non-control", 3}, {"4.2.", "control", 11}} {
		for i := range 5 {
			op := g.first + i
			id := g.sub + strconv.Itoa(i+1)
			opb := "<b>Opcode = " + strconv.Itoa(op) + "</b>"
			switch i {
			case 0, 1:
				desc := "Send frame with reserved " + g.kind + " " + opb + "."
				payload := ""
				if i == 1 {
					desc = "Send frame with reserved " + g.kind + " " + opb + " and non-empty payload."
					payload = "reserved opcode payload"
				}
				out = append(out, &engine.Case{ID: id, Description: desc, Expectation: "The connection is failed immediately.",
					Open: func(s *engine.Session) {
						s.Expect(engine.OK)
						failedByPeer(s, engine.CloseProtocolError)
						s.SendFrame(fr(op, payload))
						s.KillAfter(1 * sec)
					}})
			default:
				desc := "Send small text message, then send frame with reserved " + g.kind + " " + opb + ", then send Ping."
				payload, chop := "", 0
				if i >= 3 {
					desc = "Send small text message, then send frame with reserved " + g.kind + " " + opb + " and non-empty payload, then send Ping."
					payload = hello
				}
				if i == 4 {
					chop = 1
				}
				out = append(out, &engine.Case{ID: id, Description: desc,
					Expectation: "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
					Open: func(s *engine.Session) {
						s.Expect(engine.OK, msg(hello, false))
						s.Expect(engine.NonStrict)
						failedByPeer(s, engine.CloseProtocolError)
						sendAll(s, chopped(fr(opText, hello), chop), chopped(fr(op, payload), chop), chopped(fr(opPing, ""), chop))
						s.KillAfter(1 * sec)
					}})
			}
		}
	}
	return out
}
