package cases

import (
	"encoding/hex"
	"strconv"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 7: close handling (RFC 6455 §5.5.1, §7).
func section7() []*engine.Case {
	// closeCase is a case where the suite closes first, suppresses the
	// automatic close, and a wrong close code fails the case.
	closeCase := func(id, desc, exp string, open func(s *engine.Session)) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Init: func(s *engine.Session) { s.SuppressClose = true },
			Open: open, Lost: wrongCodeFails}
	}
	normalClose := func(s *engine.Session) {
		s.Expect(engine.OK)
		closeNormal(s)
	}
	closeExpect := func(s *engine.Session, clean bool, codes ...int) {
		s.Expect(engine.OK)
		s.ExpectedClose = engine.CloseExpectation{ClosedByMe: true, CloseCode: codes, RequireClean: clean}
	}
	const hello = "Hello World!"
	const badUTF8 = kosme + "\xed\xa0\x80\x65\x64\x69\x74\x65\x64"
	out := []*engine.Case{
		{ID: "7.1.1", Description: "Send a message followed by a close frame", Expectation: "Echoed message followed by clean close with normal code.",
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg(hello, false))
				closeNormal(s)
				s.SendFrame(fr(opText, hello))
				s.KillAfter(1 * sec)
			}, Lost: wrongCodeFails},
		closeCase("7.1.2", "Send two close frames", "Clean close with normal code. Second close frame ignored.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, "")
			s.SendFrame(fr(opClose, ""))
			s.KillAfter(1 * sec)
		}),
		closeCase("7.1.3", "Send a ping after close message", "Clean close with normal code, no pong.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, "")
			s.SendFrame(fr(opPing, ""))
			s.KillAfter(1 * sec)
		}),
		closeCase("7.1.4", "Send text message after sending a close frame.", "Clean close with normal code. Text message ignored.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, "")
			s.SendFrame(fr(opText, hello))
			s.KillAfter(1 * sec)
		}),
		closeCase("7.1.5", "Send message fragment1 followed by close then fragment", "Clean close with normal code.", func(s *engine.Session) {
			normalClose(s)
			s.SendFrame(frag(opText, false, "fragment1"))
			s.SendClose(engine.CloseNormal, "")
			s.SendFrame(frag(opCont, true, "fragment2"))
			s.KillAfter(1 * sec)
		}),
		{ID: "7.1.6", Description: "Send 256K message followed by close then a ping",
			Expectation: "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially received.",
			Init:        func(s *engine.Session) { s.SuppressClose = true },
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg(hello, false))
				s.Expect(engine.NonStrict)
				closeNormal(s)
				s.SendFrame(engine.Frame{Opcode: opText, Fin: true, Payload: []byte("BAsd7&jh23"), RepeatTo: 256 << 10})
				s.SendFrame(fr(opText, hello))
				s.SendClose(engine.CloseNormal, "")
				s.SendFrame(fr(opPing, ""))
				s.KillAfter(1 * sec)
			},
			Lost: func(s *engine.Session) {
				switch s.Behavior {
				case engine.OK:
					s.Result = "Text message was processed before close."
				case engine.NonStrict:
					s.Result = "Close was processed before text message could be returned."
				}
				s.Behavior = engine.Informational
				s.BehaviorClose = engine.Informational
			}},
		closeCase("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason)", "Clean close with normal code.", func(s *engine.Session) {
			normalClose(s)
			s.SendCloseFrame(engine.NoCode, nil, false)
			s.KillAfter(1 * sec)
		}),
		closeCase("7.3.2", "Send a close frame with payload length 1", "Clean close with protocol error or drop TCP.", func(s *engine.Session) {
			closeExpect(s, false, engine.CloseProtocolError)
			s.SendCloseFrame(engine.NoCode, []byte("a"), false)
			s.KillAfter(1 * sec)
		}),
		closeCase("7.3.3", "Send a close frame with payload length 2 (regular close with a code)", "Clean close with normal code.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, "")
			s.KillAfter(1 * sec)
		}),
		closeCase("7.3.4", "Send a close frame with close code and close reason", "Clean close with normal code.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, hello)
			s.KillAfter(1 * sec)
		}),
		closeCase("7.3.5", "Send a close frame with close code and close reason of maximum length (123)", "Clean close with normal code.", func(s *engine.Session) {
			normalClose(s)
			s.SendClose(engine.CloseNormal, repeat("*", 123))
			s.KillAfter(1 * sec)
		}),
		closeCase("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets",
			"Clean close with protocol error code or dropped TCP connection.", func(s *engine.Session) {
				closeExpect(s, false, engine.CloseProtocolError)
				s.SendCloseFrame(engine.CloseNormal, []byte(repeat("*", 124)), false)
				s.KillAfter(1 * sec)
			}),
	}
	c751 := closeCase("7.5.1", "Send a close frame with invalid UTF8 payload", "Clean close with protocol error or invalid utf8 code or dropped TCP.", func(s *engine.Session) {
		closeExpect(s, false, engine.CloseProtocolError, engine.CloseInvalidPayload)
		s.SendCloseFrame(engine.CloseNormal, []byte(badUTF8), false)
		s.KillAfter(1 * sec)
	})
	c751.Lost = func(s *engine.Session) {
		wrongCodeFails(s)
		// The reason sent is not UTF-8: report it in hex.
		if r, ok := s.LocalCloseReason(); ok && len(r) > 0 {
			s.SetLocalCloseReason(hex.EncodeToString(r))
		} else {
			s.SetLocalCloseReason("?")
		}
	}
	out = append(out, c751)

	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		out = append(out, &engine.Case{ID: "7.7." + strconv.Itoa(i+1),
			Description: "Send close with valid close code " + strconv.Itoa(code),
			Expectation: "Clean close with normal or echoed code",
			Open: func(s *engine.Session) {
				closeExpect(s, true, engine.CloseNormal, code)
				s.SendCloseFrame(code, nil, false)
				s.KillAfter(1 * sec)
			}, Lost: wrongCodeFails})
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		out = append(out, &engine.Case{ID: "7.9." + strconv.Itoa(i+1),
			Description: "Send close with invalid close code " + strconv.Itoa(code),
			Expectation: "Clean close with protocol error code or drop TCP",
			Open: func(s *engine.Session) {
				closeExpect(s, false, engine.CloseProtocolError)
				s.SendCloseFrame(code, nil, false)
				s.KillAfter(1 * sec)
			}, Lost: wrongCodeFails})
	}
	for i, code := range []int{5000, 65535} {
		out = append(out, &engine.Case{ID: "7.13." + strconv.Itoa(i+1),
			Description: "Send close with close code " + strconv.Itoa(code),
			Expectation: "Actual events are undefined by the spec.",
			Init:        func(s *engine.Session) { s.SuppressClose = true },
			Open: func(s *engine.Session) {
				closeExpect(s, false, engine.CloseNormal, code, engine.CloseProtocolError)
				s.SendCloseFrame(code, nil, false)
				s.KillAfter(1 * sec)
			},
			Lost: func(s *engine.Session) {
				s.Behavior = engine.Informational
				s.BehaviorClose = engine.Informational
				s.Result = "Actual events are undefined by the spec."
			}})
	}
	return out
}
