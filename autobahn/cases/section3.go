package cases

import "github.com/rfc6455/ws/autobahn/engine"

// Section 3: reserved bits (RFC 6455 §5.2: RSV1-3 must be 0 unless an
// extension defines them).
func section3() []*engine.Case {
	const hello = "Hello, world!"
	const failed = "The connection is failed immediately, since RSV must be 0."
	const echoThenFail = "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received."
	// echoThenRSV sends a good message, the same with reserved bits set,
	// then a ping, each frame as mode says.
	echoThenRSV := func(id, desc string, rsv int, mode func(engine.Frame) engine.Frame) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: echoThenFail,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg(hello, false))
				s.Expect(engine.NonStrict)
				failedByPeer(s, engine.CloseProtocolError)
				bad := fr(opText, hello)
				bad.RSV = rsv
				sendAll(s, mode(fr(opText, hello)), mode(bad), mode(fr(opPing, "")))
				s.KillAfter(1 * sec)
			}}
	}
	single := func(id, desc, exp string, f engine.Frame) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				failedByPeer(s, engine.CloseProtocolError)
				s.SendFrame(f)
				s.KillAfter(1 * sec)
			}}
	}
	withRSV := func(f engine.Frame, rsv int) engine.Frame { f.RSV = rsv; return f }
	asIs := func(f engine.Frame) engine.Frame { return f }
	return []*engine.Case{
		single("3.1", "Send small text message with <b>RSV = 1</b>.",
			"The connection is failed immediately (1002/protocol error), since RSV must be 0, when no extension defining RSV meaning has been negotiated.",
			withRSV(fr(opText, hello), 1)),
		echoThenRSV("3.2", "Send small text message, then send again with <b>RSV = 2</b>, then send Ping.", 2, asIs),
		echoThenRSV("3.3", "Send small text message, then send again with <b>RSV = 3</b>, then send Ping. Octets are sent in frame-wise chops. Octets are sent in octet-wise chops.", 3,
			func(f engine.Frame) engine.Frame { return synced(f, true) }),
		echoThenRSV("3.4", "Send small text message, then send again with <b>RSV = 4</b>, then send Ping. Octets are sent in octet-wise chops.", 4,
			func(f engine.Frame) engine.Frame { return chopped(f, 1) }),
		single("3.5", "Send small binary message with <b>RSV = 5</b>.", failed,
			withRSV(fr(opBinary, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), 5)),
		single("3.6", "Send Ping with <b>RSV = 6</b>.", failed, withRSV(fr(opBinary, hello), 6)),
		single("3.7", "Send Close with <b>RSV = 7</b>.", failed, withRSV(fr(opClose, ""), 7)),
	}
}
