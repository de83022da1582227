package cases

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Section 6: UTF-8 handling (RFC 6455 §5.6, §8.1).

const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // "κόσμε"

func hexs(s string) string { return hex.EncodeToString([]byte(s)) }

func section6() []*engine.Case {
	const echoed = "The message is echo'ed back to us."
	const helloUTF8 = "Hello-µ@ßöäüàá-UTF-8!!"
	valid := func(id, desc, exp, payload string, send func(s *engine.Session)) *engine.Case {
		return &engine.Case{ID: id, Description: desc, Expectation: exp,
			Open: func(s *engine.Session) {
				s.Expect(engine.OK, msg(payload, false))
				closeNormal(s)
				send(s)
				s.CloseAfter(1 * sec)
			}}
	}
	out := []*engine.Case{
		valid("6.1.1", "Send text message of length 0.", "A message is echo'ed back to us (with empty payload).", "",
			func(s *engine.Session) { s.SendFrame(fr(opText, "")) }),
		valid("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", "A message is echo'ed back to us (with empty payload).", "",
			func(s *engine.Session) {
				sendAll(s, frag(opText, false, ""), frag(opCont, false, ""), frag(opCont, true, ""))
			}),
		valid("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
			"A message is echo'ed back to us (with payload = payload of middle fragment).", "middle frame payload",
			func(s *engine.Session) {
				sendAll(s, frag(opText, false, ""), frag(opCont, false, "middle frame payload"), frag(opCont, true, ""))
			}),
		valid("6.2.1", "Send a valid UTF-8 text message in one fragment.<br><br>MESSAGE:<br>"+helloUTF8+"<br>"+hexs(helloUTF8), echoed, helloUTF8,
			func(s *engine.Session) { s.SendMessage([]byte(helloUTF8), false, 0) }),
		valid("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.<br><br>MESSAGE FRAGMENT 1:<br>Hello-µ@ßöä<br>"+
			hexs("Hello-µ@ßöä")+"<br><br>MESSAGE FRAGMENT 2:<br>üàá-UTF-8!!<br>"+hexs("üàá-UTF-8!!"), echoed, helloUTF8,
			func(s *engine.Session) {
				sendAll(s, frag(opText, false, "Hello-µ@ßöä"), frag(opCont, true, "üàá-UTF-8!!"))
			}),
		valid("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>"+
			helloUTF8+"<br>"+hexs(helloUTF8), echoed, helloUTF8,
			func(s *engine.Session) { s.SendMessage([]byte(helloUTF8), false, 1) }),
		valid("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>"+
			kosme+"<br>"+hexs(kosme), echoed, kosme,
			func(s *engine.Session) { s.SendMessage([]byte(kosme), false, 1) }),
	}

	// 6.3: invalid exactly on byte 12 (0xa0 after 0xed).
	const bad63 = kosme + "\xed\xa0\x80" + "\x65\x64\x69\x74\x65\x64"
	invalid := func(id, desc string, frag int) *engine.Case {
		return &engine.Case{ID: id, Description: desc,
			Expectation: "The connection is failed immediately, since the payload is not valid UTF-8.",
			Open: func(s *engine.Session) {
				s.Expect(engine.OK)
				failedUTF8(s)
				s.SendMessage([]byte(bad63), false, frag)
				s.KillAfter(1 * sec)
			}}
	}
	out = append(out,
		invalid("6.3.1", "Send invalid UTF-8 text message unfragmented.<br><br>MESSAGE:<br>"+hexs(bad63), 0),
		invalid("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>"+hexs(bad63), 1),
	)
	out = append(out, section6_4()...)

	// 6.5 and on: the sequences of Markus Kuhn's UTF-8 decoder test, one
	// message each.
	for i, g := range utf8TestSequences() {
		for j, p := range g.seqs {
			id := "6." + strconv.Itoa(i+5) + "." + strconv.Itoa(j+1)
			payload := p.s
			var desc, exp string
			if p.valid {
				desc = "Send a text message with payload which is valid UTF-8 in one fragment."
				exp = "The message is echo'ed back to us."
			} else {
				desc = "Send a text message with payload which is not valid UTF-8 in one fragment."
				exp = "The connection is failed immediately, since the payload is not valid UTF-8."
			}
			valid := p.valid
			out = append(out, &engine.Case{ID: id, Description: desc + "<br><br>Payload: 0x" + hexs(payload), Expectation: exp,
				Open: func(s *engine.Session) {
					if valid {
						s.Expect(engine.OK, msg(payload, false))
						closeNormal(s)
					} else {
						s.Expect(engine.OK)
						failedUTF8(s)
					}
					s.SendMessage([]byte(payload), false, 0)
					s.KillAfter(sec / 2)
				}})
		}
	}
	return out
}

// section6_4 is fail-fast on invalid UTF-8: the part that makes the text
// invalid is sent after a pause, and the rest after another. The testee
// should fail the connection before the second pause runs out (OK); if it
// waits for the end of the message it is NON-STRICT.
func section6_4() []*engine.Case {
	const part1 = kosme
	const part2 = "\xf4\x90\x80\x80" // U+110000: beyond Unicode
	const part3 = "\x65\x64\x69\x74\x65\x64"
	const payload = part1 + part2 + part3
	const frameExp = "The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8."
	const chopExp = "The first chop is accepted, we expect to timeout on the first wait. The 2nd chop should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8."
	parts := func(a, b, c string) string {
		return "\n<br><br>MESSAGE PARTS:<br>\nPART1 = " + hexs(a) + "<br>\nPART2 = " + hexs(b) + "<br>\nPART3 = " + hexs(c) + "<br>\n"
	}
	expect := func(s *engine.Session) {
		s.Expect(engine.OK, engine.Timeout("A"))
		s.Expect(engine.NonStrict, engine.Timeout("A"), engine.Timeout("B"))
		failedUTF8(s)
	}
	// inFrames sends p1, p2, p3 as three frames of one message.
	inFrames := func(p1, p2, p3 string) func(s *engine.Session) {
		return func(s *engine.Session) {
			expect(s)
			s.SendFrame(frag(opText, false, p1))
			s.ContinueLater(1*sec, "A", func() {
				if s.State() != engine.StateOpen {
					return
				}
				s.Received = append(s.Received, engine.Timeout("A"))
				s.SendFrame(frag(opCont, false, p2))
				s.ContinueLater(1*sec, "B", func() {
					if s.State() != engine.StateOpen {
						return
					}
					s.Received = append(s.Received, engine.Timeout("B"))
					s.SendFrame(frag(opCont, true, p3))
					s.KillAfter(1 * sec)
				})
			})
		}
	}
	// inChops sends p1, p2, p3 as three pieces of one frame's payload.
	inChops := func(p1, p2, p3 string) func(s *engine.Session) {
		return func(s *engine.Session) {
			expect(s)
			s.BeginMessage(false)
			s.BeginMessageFrame(len(payload))
			s.SendMessageFrameData([]byte(p1))
			s.ContinueLater(1*sec, "A", func() {
				if s.State() != engine.StateOpen {
					return
				}
				s.Received = append(s.Received, engine.Timeout("A"))
				s.SendMessageFrameData([]byte(p2))
				s.ContinueLater(1*sec, "B", func() {
					if s.State() != engine.StateOpen {
						return
					}
					s.Received = append(s.Received, engine.Timeout("B"))
					s.SendMessageFrameData([]byte(p3))
					s.EndMessage()
					s.KillAfter(1 * sec)
				})
			})
		}
	}
	return []*engine.Case{
		{ID: "6.4.1", Description: "Send invalid UTF-8 text message in 3 fragments (frames).\nFirst frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest.\nNote that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range)." +
			parts(part1, part2, part3), Expectation: frameExp, Open: inFrames(part1, part2, part3)},
		{ID: "6.4.2", Description: "Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid." +
			parts(payload[:12], payload[12:13], payload[13:]), Expectation: frameExp, Open: inFrames(payload[:12], payload[12:13], payload[13:])},
		{ID: "6.4.3", Description: "Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame." +
			parts(part1, part2, part3), Expectation: chopExp, Open: inChops(part1, part2, part3)},
		// The original's description shows PART3 as empty (it prints a
		// slice of PART3 past its end); kept for identical reports.
		{ID: "6.4.4", Description: "Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame." +
			parts(payload[:12], payload[12:13], ""), Expectation: chopExp, Open: inChops(payload[:12], payload[12:13], payload[13:])},
	}
}

type utf8Seq struct {
	valid bool
	s     string
}

type utf8Group struct {
	name string
	seqs []utf8Seq
}

// utf8TestSequences are the groups of cases 6.5 and on, in the original's
// order, from Markus Kuhn's UTF-8 decoder capability and stress test.
func utf8TestSequences() []utf8Group {
	v := func(s string) utf8Seq { return utf8Seq{true, s} }
	x := func(s string) utf8Seq { return utf8Seq{false, s} }
	var gs []utf8Group
	add := func(name string, seqs ...utf8Seq) { gs = append(gs, utf8Group{name, seqs}) }

	add("Some valid UTF-8 sequences",
		v("hello\x24world"), v("hello\xC2\xA2world"), v("hello\xE2\x82\xACworld"), v("hello\xF0\xA4\xAD\xA2world"), v(kosme))
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Seq{utf8.ValidString(kosme[:i]), kosme[:i]})
	}
	add("All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes...)
	add("First possible sequence of a certain length", v("\x00"), v("\xc2\x80"), v("\xe0\xa0\x80"), v("\xf0\x90\x80\x80"))
	add("First possible sequence length 5/6 (invalid codepoints)", x("\xf8\x88\x80\x80\x80"), x("\xfc\x84\x80\x80\x80\x80"))
	add("Last possible sequence of a certain length", v("\x7f"), v("\xdf\xbf"), v("\xef\xbf\xbf"), v("\xf4\x8f\xbf\xbf"))
	add("Last possible sequence length 4/5/6 (invalid codepoints)", x("\xf7\xbf\xbf\xbf"), x("\xfb\xbf\xbf\xbf\xbf"), x("\xfd\xbf\xbf\xbf\xbf\xbf"))
	add("Other boundary conditions", v("\xed\x9f\xbf"), v("\xee\x80\x80"), v("\xef\xbf\xbd"), v("\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80"))
	var all []byte
	for b := 0x80; b < 0xbf; b++ {
		all = append(all, byte(b))
	}
	add("Unexpected continuation bytes", x("\x80"), x("\xbf"), x("\x80\xbf"), x("\x80\xbf\x80"), x("\x80\xbf\x80\xbf"),
		x("\x80\xbf\x80\xbf\x80"), x("\x80\xbf\x80\xbf\x80\xbf"), x(string(all)))
	var lonely []utf8Seq
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s []byte
		for b := r[0]; b < r[1]; b++ {
			s = append(s, byte(b), 0x20)
		}
		lonely = append(lonely, x(string(s)))
	}
	add("Lonely start characters", lonely...)
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var ms []utf8Seq
	concat := ""
	for _, k := range missing {
		ms = append(ms, x(k))
		concat += k
	}
	add("Sequences with last continuation byte missing", ms...)
	add("Concatenation of incomplete sequences", x(concat))
	add("Impossible bytes", x("\xfe"), x("\xff"), x("\xfe\xfe\xff\xff"))
	add("Examples of an overlong ASCII character", x("\xc0\xaf"), x("\xe0\x80\xaf"), x("\xf0\x80\x80\xaf"), x("\xf8\x80\x80\x80\xaf"), x("\xfc\x80\x80\x80\x80\xaf"))
	add("Maximum overlong sequences", x("\xc1\xbf"), x("\xe0\x9f\xbf"), x("\xf0\x8f\xbf\xbf"), x("\xf8\x87\xbf\xbf\xbf"), x("\xfc\x83\xbf\xbf\xbf\xbf"))
	add("Overlong representation of the NUL character", x("\xc0\x80"), x("\xe0\x80\x80"), x("\xf0\x80\x80\x80"), x("\xf8\x80\x80\x80\x80"), x("\xfc\x80\x80\x80\x80\x80"))
	add("Single UTF-16 surrogates", x("\xed\xa0\x80"), x("\xed\xad\xbf"), x("\xed\xae\x80"), x("\xed\xaf\xbf"), x("\xed\xb0\x80"), x("\xed\xbe\x80"), x("\xed\xbf\xbf"))
	add("Paired UTF-16 surrogates", x("\xed\xa0\x80\xed\xb0\x80"), x("\xed\xa0\x80\xed\xbf\xbf"), x("\xed\xad\xbf\xed\xb0\x80"), x("\xed\xad\xbf\xed\xbf\xbf"),
		x("\xed\xae\x80\xed\xb0\x80"), x("\xed\xae\x80\xed\xbf\xbf"), x("\xed\xaf\xbf\xed\xb0\x80"), x("\xed\xaf\xbf\xed\xbf\xbf"))
	nonchars := []utf8Seq{v("\xef\xbf\xbe"), v("\xef\xbf\xbf")}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // beyond U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				zz := string([]byte{z1, z2, 0xbf, z3})
				if zz == "\xf0\x8f\xbf\xbe" || zz == "\xf0\x8f\xbf\xbf" {
					continue // overlong
				}
				nonchars = append(nonchars, v(zz))
			}
		}
	}
	add("Non-character code points (valid UTF-8)", nonchars...)
	add("Unicode specials (i.e. replacement char)", v("\xef\xbf\xb9"), v("\xef\xbf\xba"), v("\xef\xbf\xbb"), v("\xef\xbf\xbc"), v("\xef\xbf\xbd"), v("\xef\xbf\xbe"), v("\xef\xbf\xbf"))
	return gs
}
