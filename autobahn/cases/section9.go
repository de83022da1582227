package cases

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 9: limits and performance. Each case sends large messages and
// reports how long the echo took; it fails only when the echo is wrong or
// does not come back within the case's time limit.
func section9() []*engine.Case {
	var out []*engine.Case
	type big struct {
		n    int
		name string
		wait time.Duration
	}
	// 9.1 / 9.2: one large message in one frame.
	text := []big{{64 << 10, "64 * 2**10 (64k)", 10 * sec}, {256 << 10, "256 * 2**10 (256k)", 10 * sec}, {1 << 20, "1 * 2**20 (1M)", 100 * sec},
		{4 << 20, "4 * 2**20 (4M)", 100 * sec}, {8 << 20, "8 * 2**20 (8M)", 100 * sec}, {16 << 20, "16 * 2**20 (16M)", 100 * sec}}
	binary := []big{{64 << 10, "64 * 2**10 (64k)", 10 * sec}, {256 << 10, "256 * 2**10 (256k)", 10 * sec}, {1 << 20, "1 * 2**20 (1M)", 10 * sec},
		{4 << 20, "4 * 2**20 (4M)", 10 * sec}, {8 << 20, "8 * 2**20 (16M)", 100 * sec}, {16 << 20, "16 * 2**20 (16M)", 100 * sec}}
	for i, b := range text {
		out = append(out, oneBigMessage("9.1."+strconv.Itoa(i+1), "Send text message message with payload of length "+b.name+".",
			"Receive echo'ed text message (with payload as sent).", false, "BAsd7&jh23", b.n, 0, b.wait))
	}
	for i, b := range binary {
		out = append(out, oneBigMessage("9.2."+strconv.Itoa(i+1), "Send binary message message with payload of length "+b.name+".",
			"Receive echo'ed binary message (with payload as sent).", true, "\x00\xfe\x23\xfa\xf0", b.n, 0, b.wait))
	}
	// 9.3 / 9.4: a 4 MiB message in fragments of increasing size.
	frags := []struct {
		n    int
		name string
	}{{64, "64"}, {256, "256"}, {1 << 10, "1k"}, {4 << 10, "4k"}, {16 << 10, "16k"}, {64 << 10, "64k"}, {256 << 10, "256k"}, {1 << 20, "1M"}, {4 << 20, "4M"}}
	for _, bin := range []bool{false, true} {
		kind, sub := "text", "9.3."
		if bin {
			kind, sub = "binary", "9.4."
		}
		for i, f := range frags {
			total := "4 * 2**20 (4M)"
			if !bin && i == 8 {
				total = "4 * 2**20 (8M)" // sic
			}
			fill := "*"
			if bin && i == 0 {
				fill = "\xfe"
			}
			c := fragmentedMessage(sub+strconv.Itoa(i+1),
				"Send fragmented "+kind+" message message with message payload of length "+total+". Sent out in fragments of "+f.name+".",
				"Receive echo'ed "+kind+" message (with payload as sent).", bin, fill, 4<<20, f.n)
			out = append(out, c)
		}
	}
	// 9.5 / 9.6: a 1 MiB message written in chops of increasing size.
	for _, bin := range []bool{false, true} {
		kind, sub, fill := "text", "9.5.", "BAsd7&jh23"
		if bin {
			kind, sub, fill = "binary", "9.6.", "\x00\xfe\x23\xfa\xf0"
		}
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			exp := "Receive echo'ed " + kind + " message (with payload as sent)."
			if bin && i > 0 {
				exp = "Receive echo'ed text message (with payload as sent)." // sic
			}
			out = append(out, oneBigMessage(sub+strconv.Itoa(i+1),
				"Send "+kind+" message message with payload of length 1 * 2**20 (1M). Sent out data in chops of "+strconv.Itoa(chop)+" octets.",
				exp, bin, fill, 1<<20, chop, 1000*sec))
		}
	}
	// 9.7 / 9.8: round trips of many small messages.
	rtt := []struct {
		n, count int
		wait     time.Duration
	}{{0, 1000, 60 * sec}, {16, 1000, 60 * sec}, {64, 1000, 60 * sec}, {256, 1000, 120 * sec}, {1024, 1000, 240 * sec}, {4096, 1000, 480 * sec}}
	for _, bin := range []bool{false, true} {
		kind, sub, fill, op := "text", "9.7.", "*", opText
		if bin {
			kind, sub, fill, op = "binary", "9.8.", "\xfe", opBinary
		}
		for i, r := range rtt {
			out = append(out, roundTrips(sub+strconv.Itoa(i+1),
				fmt.Sprintf("Send %d %s messages of payload size %d to measure implementation/network RTT (round trip time) / latency.", r.count, kind, r.n),
				fmt.Sprintf("Receive echo'ed %s messages (with payload as sent). Timeout case after %d secs.", kind, int(r.wait/sec)),
				bin, op, fill, r.n, r.count, r.wait))
		}
	}
	return out
}

func kindName(binary bool) string {
	if binary {
		return "binary"
	}
	return "text"
}

// bigEcho checks the echo of one large message.
func bigEcho(s *engine.Session, binary bool, n int) func([]byte, bool) {
	return func(p []byte, bin bool) {
		switch {
		case bin != binary && binary:
			s.Result = "Expected binary message with payload, but got text."
		case bin != binary:
			s.Result = "Expected text message with payload, but got binary."
		case len(p) != n:
			s.Result = fmt.Sprintf("Expected %s message with payload of length %d, but got %d.", kindName(binary), n, len(p))
		default:
			s.Behavior = engine.OK
			s.Result = fmt.Sprintf("Received %s message of length %d.", kindName(binary), len(p))
		}
		s.SetWirelog(true)
		s.SendClose(engine.CloseNormal, "")
	}
}

func oneBigMessage(id, desc, exp string, binary bool, fill string, n, chop int, wait time.Duration) *engine.Case {
	op := opText
	if binary {
		op = opBinary
	}
	return &engine.Case{ID: id, Description: desc, Expectation: exp,
		Init: func(s *engine.Session) { s.ReportTime = true },
		Open: func(s *engine.Session) {
			s.SetWirelog(false)
			s.Behavior = engine.Failed
			closeNormal(s)
			s.Result = fmt.Sprintf("Did not receive message within %d seconds.", int(wait/sec))
			s.OnMessage(bigEcho(s, binary, n))
			s.SendFrame(engine.Frame{Opcode: op, Fin: true, Payload: []byte(fill), RepeatTo: n, Chop: chop})
			s.CloseAfter(wait)
		}}
}

func fragmentedMessage(id, desc, exp string, binary bool, fill string, n, fragSize int) *engine.Case {
	const wait = 100 * sec
	return &engine.Case{ID: id, Description: desc, Expectation: exp,
		Init: func(s *engine.Session) { s.ReportTime = true },
		Open: func(s *engine.Session) {
			s.SetWirelog(false)
			s.Behavior = engine.Failed
			s.Result = fmt.Sprintf("Did not receive message within %d seconds.", int(wait/sec))
			closeNormal(s)
			s.OnMessage(bigEcho(s, binary, n))
			s.SendMessage([]byte(repeat(fill, n)), binary, fragSize)
			s.CloseAfter(wait)
		}}
}

func roundTrips(id, desc, exp string, binary bool, op int, fill string, n, count int, wait time.Duration) *engine.Case {
	return &engine.Case{ID: id, Description: desc, Expectation: exp,
		Init: func(s *engine.Session) { s.ReportTime = true },
		Open: func(s *engine.Session) {
			s.EnableWirelog(false)
			s.Behavior = engine.Failed
			closeNormal(s)
			s.Result = fmt.Sprintf("Case did not finish within %d seconds.", int(wait/sec))
			s.CloseAfter(wait)
			sent := 0
			sendOne := func() {
				f := engine.Frame{Opcode: op, Fin: true}
				if n > 0 {
					f.Payload, f.RepeatTo = []byte(fill), n
				}
				s.SendFrame(f)
				sent++
			}
			s.OnMessage(func(p []byte, bin bool) {
				switch {
				case bin != binary || len(p) != n:
					s.Behavior = engine.Failed
					s.Result = fmt.Sprintf("Echo'ed message type or length differs from what I sent (got binary = %s, payload length = %d).", pyBool(bin), len(p))
					s.EnableWirelog(true)
					s.SendClose(engine.CloseNormal, "")
				case sent < count:
					sendOne()
				default:
					s.Behavior = engine.OK
					s.Result = "Ok, received all echo'ed messages in time."
					s.EnableWirelog(true)
					s.SendClose(engine.CloseNormal, "")
				}
			})
			sendOne()
		}}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
