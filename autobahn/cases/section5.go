package cases

import "github.com/rfc6455/ws/autobahn/engine"

// Section 5: fragmentation (RFC 6455 §5.4).
func section5() []*engine.Case {
	const noContinue = "The connection is failed immediately, since there is no message to continue."
	const echoed = "Message is processed and echo'ed back to us."
	const pongThenEcho = "A pong is received, then the message is echo'ed back to us."
	const hello = "Hello, world!"
	// failing: the testee must fail the connection after these frames.
	failing := func(id, desc, exp string, frames ...engine.Frame) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				failedByPeer(s, engine.CloseProtocolError)
				sendAll(s, frames...)
				s.KillAfter(1 * sec)
			}}
	}
	each := func(m func(engine.Frame) engine.Frame, frames ...engine.Frame) []engine.Frame {
		for i := range frames {
			frames[i] = m(frames[i])
		}
		return frames
	}
	sync := func(f engine.Frame) engine.Frame { return synced(f, true) }
	chop1 := func(f engine.Frame) engine.Frame { return chopped(f, 1) }
	asIs := func(f engine.Frame) engine.Frame { return f }
	twoFragments := func(id, desc string, m func(engine.Frame) engine.Frame) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: echoed,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg("fragment1fragment2", false))
				closeNormal(s)
				sendAll(s, each(m, frag(opText, false, "fragment1"), frag(opCont, true, "fragment2"))...)
				s.CloseAfter(1 * sec)
			}}
	}
	pingBetween := func(id, desc string, m func(engine.Frame) engine.Frame) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: pongThenEcho,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, pong("ping payload"), msg("fragment1fragment2", false))
				closeNormal(s)
				sendAll(s, each(m, frag(opText, false, "fragment1"), fr(opPing, "ping payload"), frag(opCont, true, "fragment2"))...)
				s.CloseAfter(1 * sec)
			}}
	}
	nothingToContinue := func(id, desc string, fin bool, m func(engine.Frame) engine.Frame) *engine.Case {
		return failing(id, desc, noContinue, each(m, frag(opCont, fin, "non-continuation payload"), fr(opText, hello))...)
	}
	slowFragments := func(id, desc, exp string, sync bool) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, pong("pongme 1!"), pong("pongme 2!"), msg("fragment1fragment2fragment3fragment4fragment5", false))
				closeNormal(s)
				sendAll(s, synced(frag(opText, false, "fragment1"), sync), synced(frag(opCont, false, "fragment2"), sync),
					synced(fr(opPing, "pongme 1!"), sync))
				s.ContinueLater(1*sec, "", func() {
					sendAll(s, synced(frag(opCont, false, "fragment3"), sync), synced(frag(opCont, false, "fragment4"), sync),
						synced(fr(opPing, "pongme 2!"), sync), synced(frag(opCont, true, "fragment5"), sync))
					s.CloseAfter(1 * sec)
				})
			}}
	}
	return []*engine.Case{
		failing("5.1", "Send Ping fragmented into 2 fragments.", "Connection is failed immediately, since control message MUST NOT be fragmented.",
			frag(opPing, false, "fragment1"), frag(opCont, true, "fragment2")),
		failing("5.2", "Send Pong fragmented into 2 fragments.", "Connection is failed immediately, since control message MUST NOT be fragmented.",
			frag(opPong, false, "fragment1"), frag(opCont, true, "fragment2")),
		twoFragments("5.3", "Send text Message fragmented into 2 fragments.", asIs),
		twoFragments("5.4", "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.", sync),
		twoFragments("5.5", "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.", chop1),
		pingBetween("5.6", "Send text Message fragmented into 2 fragments, one ping with payload in-between.", asIs),
		pingBetween("5.7", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in frame-wise chops.", sync),
		pingBetween("5.8", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in octet-wise chops.", chop1),
		nothingToContinue("5.9", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in one chop.", true, asIs),
		nothingToContinue("5.10", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in per-frame chops.", true, sync),
		nothingToContinue("5.11", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in octet-wise chops.", true, chop1),
		nothingToContinue("5.12", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in one chop.", false, asIs),
		nothingToContinue("5.13", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in per-frame chops.", false, sync),
		nothingToContinue("5.14", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in octet-wise chops.", false, chop1),
		{ID: "5.15", Description: "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
			Expectation: noContinue,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg("fragment1fragment2", false))
				s.Expect(engine.NonStrict)
				failedByPeer(s, engine.CloseProtocolError)
				sendAll(s, frag(opText, false, "fragment1"), frag(opCont, true, "fragment2"),
					frag(opCont, false, "fragment3"), frag(opText, true, "fragment4"))
				s.KillAfter(1 * sec)
			}},
		failing("5.16", "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), then text Message fragmented into 2 fragments.", noContinue,
			frag(opCont, false, "fragment1"), frag(opText, false, "fragment2"), frag(opCont, true, "fragment3"),
			frag(opCont, false, "fragment1"), frag(opText, false, "fragment2"), frag(opCont, true, "fragment3")),
		failing("5.17", "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), then text Message fragmented into 2 fragments.", noContinue,
			frag(opCont, true, "fragment1"), frag(opText, false, "fragment2"), frag(opCont, true, "fragment3"),
			frag(opCont, true, "fragment1"), frag(opText, false, "fragment2"), frag(opCont, true, "fragment3")),
		failing("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
			"The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.",
			frag(opText, false, "fragment1"), frag(opText, true, "fragment2")),
		slowFragments("5.19", "A fragmented text message is sent in multiple frames. After\n   sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s,\n   then we send 2 more text fragments, another Ping and then the final text fragment.\n   Everything is legal.",
			"The peer immediately answers the first Ping before\n   it has received the last text message fragment. The peer pong's back the Ping's\n   payload exactly, and echo's the payload of the fragmented message back to us.", false),
		slowFragments("5.20", "Same as Case 5.19, but send all frames with SYNC = True.\n   Note, this does not change the octets sent in any way, only how the stream\n   is chopped up on the wire.",
			"Same as Case 5.19. Implementations must be agnostic to how\n   octet stream is chopped up on wire (must be TCP clean).", true),
	}
}
