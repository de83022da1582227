package cases

import (
	"strconv"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 2: pings and pongs (RFC 6455 §5.5.2, §5.5.3).
func section2() []*engine.Case {
	const normal = " Clean close with normal code."
	pingCase := func(id, desc, exp, payload string, chop int, wait int) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, pong(payload))
				closeNormal(s)
				s.SendFrame(chopped(fr(opPing, payload), chop))
				s.CloseAfter(time.Duration(wait) * sec)
			}}
	}
	tenPings := func(id, desc string, chop int) *engine.Case {
		return &engine.Case{ID: id, Description: desc,
			Expectation: "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway." + normal,
			Open: func(s *engine.Session) {
				var want []engine.Event
				for i := range 10 {
					p := "payload-" + strconv.Itoa(i)
					want = append(want, pong(p))
					s.SendFrame(chopped(fr(opPing, p), chop))
				}
				s.Expect(engine.OK, want...)
				closeNormal(s)
				s.CloseAfter(3 * sec)
			}}
	}
	return []*engine.Case{
		pingCase("2.1", "Send ping without payload.", "Pong (with empty payload) is sent in reply to Ping."+normal, "", 0, 1),
		pingCase("2.2", "Send ping with small text payload.", "Pong with payload echo'ed is sent in reply to Ping."+normal, "Hello, world!", 0, 1),
		pingCase("2.3", "Send ping with small binary (non UTF-8) payload.", "Pong with payload echo'ed is sent in reply to Ping."+normal,
			"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 0, 1),
		pingCase("2.4", "Send ping with binary payload of 125 octets.", "Pong with payload echo'ed is sent in reply to Ping."+normal,
			repeat("\xfe", 125), 0, 1),
		{ID: "2.5", Description: "Send ping with binary payload of 126 octets.",
			Expectation: "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets..",
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				failedByPeer(s, engine.CloseProtocolError)
				s.SendFrame(fr(opPing, repeat("\xfe", 126)))
				s.KillAfter(1 * sec)
			}},
		pingCase("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.",
			"Pong with payload echo'ed is sent in reply to Ping. Implementations must be TCP clean."+normal, repeat("\xfe", 125), 1, 2),
		{ID: "2.7", Description: "Send unsolicited pong without payload. Verify nothing is received." + normal, Expectation: "Nothing.",
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				closeNormal(s)
				s.SendFrame(fr(opPong, ""))
				s.SendClose(engine.CloseNormal, "")
				s.CloseAfter(1 * sec)
			}},
		{ID: "2.8", Description: "Send unsolicited pong with payload. Verify nothing is received." + normal, Expectation: "Nothing.",
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				closeNormal(s)
				s.SendFrame(fr(opPong, "unsolicited pong payload"))
				s.SendClose(engine.CloseNormal, "")
				s.CloseAfter(1 * sec)
			}},
		{ID: "2.9", Description: "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
			Expectation: "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping." + normal,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, pong("ping payload"))
				closeNormal(s)
				s.SendFrame(fr(opPong, "unsolicited pong payload"))
				s.SendFrame(fr(opPing, "ping payload"))
				s.CloseAfter(1 * sec)
			}},
		tenPings("2.10", "Send 10 Pings with payload.", 0),
		tenPings("2.11", "Send 10 Pings with payload. Send out octets in octet-wise chops.", 1),
	}
}
