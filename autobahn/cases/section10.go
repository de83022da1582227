package cases

import (
	"strconv"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 10: automatic fragmentation by the suite; the testee must
// reassemble.
func section10() []*engine.Case {
	const n, frag = 65536, 1300
	payload := repeat("*", n)
	return []*engine.Case{{ID: "10.1.1",
		Description: "Send text message with payload of length 65536 auto-fragmented with <b>autoFragmentSize = 1300</b>.",
		Expectation: "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
		Open: func(s *engine.Session) {
			s.SetAutoFragmentSize(frag)
			s.Expect(engine.OK, msg(payload, false))
			closeNormal(s)
			s.SendMessage([]byte(payload), false, 0)
			s.KillAfter(10 * sec)
		},
		Lost: func(s *engine.Session) {
			if !s.ConnectionWasOpen() {
				s.Behavior = engine.Failed
				s.Result = "WebSocket connection was never open"
				return
			}
			want0, want1 := n/frag, 0
			if n%frag > 0 {
				want1 = 1
			}
			got0, got1 := s.TxFrameStats(0), s.TxFrameStats(1)
			if got0 != want0 || got1 != want1 {
				s.Behavior = engine.Failed
				s.Result = "Frames transmitted {0: " + strconv.Itoa(got0) + ", 1: " + strconv.Itoa(got1) +
					"} does not match what we expected {0: " + strconv.Itoa(want0) + ", 1: " + strconv.Itoa(want1) + "}."
			}
		}}}
}
