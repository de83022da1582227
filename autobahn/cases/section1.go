package cases

import (
	"strconv"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 1: framing. Text (1.1) and binary (1.2) messages of the lengths
// where the payload length encoding changes (RFC 6455 §5.2).
func section1() []*engine.Case {
	type size struct {
		n    int
		kill time.Duration
		chop int
	}
	sizes := []size{{0, 1 * sec, 0}, {125, 1 * sec, 0}, {126, 1 * sec, 0}, {127, 1 * sec, 0},
		{128, 1 * sec, 0}, {65535, 10 * sec, 0}, {65536, 10 * sec, 0}, {65536, 10 * sec, 997}}
	var out []*engine.Case
	for _, binary := range []bool{false, true} {
		kind, sub, fill, op := "text", "1.1.", "*", opText
		if binary {
			kind, sub, fill, op = "binary", "1.2.", "\xfe", opBinary
		}
		for i, sz := range sizes {
			desc := "Send " + kind + " message message with payload of length " + strconv.Itoa(sz.n) + "."
			if sz.n == 0 {
				desc = "Send " + kind + " message with payload 0."
			}
			if sz.chop > 0 {
				desc = "Send " + kind + " message message with payload of length " + strconv.Itoa(sz.n) +
					". Sent out data in chops of " + strconv.Itoa(sz.chop) + " octets."
			}
			exp := "Receive echo'ed " + kind + " message (with payload as sent). Clean close with normal code."
			if sz.n == 0 {
				exp = "Receive echo'ed " + kind + " message (with empty payload). Clean close with normal code."
			}
			payload := repeat(fill, sz.n)
			out = append(out, &engine.Case{
				ID: sub + strconv.Itoa(i+1), Description: desc, Expectation: exp,
				Open: func(s *engine.Session) {
					s.Expect(engine.OK, msg(payload, binary))
					closeNormal(s)
					s.SendFrame(chopped(fr(op, payload), sz.chop))
					s.KillAfter(sz.kill)
				},
			})
		}
	}
	return out
}
