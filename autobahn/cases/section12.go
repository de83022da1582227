package cases

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/ws/autobahn/engine"
)

// Sections 12 and 13: permessage-deflate (RFC 7692). 12.x sends messages
// of each test data set with the default offer; 13.x sends the JSON data
// set under each combination of offer and accept parameters.

type msgSize struct {
	n, count int
	wait     time.Duration
	autoFrag int
}

var compressionSizes = []msgSize{
	{16, 1000, 60 * sec, 0}, {64, 1000, 60 * sec, 0}, {256, 1000, 120 * sec, 0}, {1024, 1000, 240 * sec, 0},
	{4096, 1000, 480 * sec, 0}, {8192, 1000, 480 * sec, 0}, {16384, 1000, 480 * sec, 0}, {32768, 1000, 480 * sec, 0},
	{65536, 1000, 480 * sec, 0}, {131072, 1000, 480 * sec, 0},
	{8192, 1000, 480 * sec, 256}, {16384, 1000, 480 * sec, 256}, {32768, 1000, 480 * sec, 256}, {65536, 1000, 480 * sec, 256},
	{131072, 1000, 480 * sec, 256}, {131072, 1000, 480 * sec, 1024}, {131072, 1000, 480 * sec, 4096}, {131072, 1000, 480 * sec, 32768},
}

// acceptFunc is the suite's choice among a testee client's offers.
type acceptFunc func(offers []engine.DeflateOffer) *engine.DeflateAccept

// acceptWith accepts the first offer that allows what it requests.
func acceptWith(noContext bool, bits int) acceptFunc {
	return func(offers []engine.DeflateOffer) *engine.DeflateAccept {
		for _, o := range offers {
			if noContext && !o.AcceptNoContextTakeover {
				continue
			}
			if bits != 0 && !o.AcceptMaxWindowBits {
				continue
			}
			return &engine.DeflateAccept{Offer: o, RequestNoContextTakeover: noContext, RequestMaxWindowBits: bits}
		}
		return nil
	}
}

func firstOf(fs ...acceptFunc) acceptFunc {
	return func(offers []engine.DeflateOffer) *engine.DeflateAccept {
		for _, f := range fs {
			if a := f(offers); a != nil {
				return a
			}
		}
		return nil
	}
}

type deflateParams struct {
	accept     acceptFunc
	acceptDesc string
	offers     []engine.DeflateOffer
}

func offer(noContext bool, bits int) engine.DeflateOffer {
	o := engine.DefaultDeflateOffer()
	o.RequestNoContextTakeover, o.RequestMaxWindowBits = noContext, bits
	return o
}

var section13Params = []deflateParams{
	{acceptWith(false, 0), "[(False, 0)]", []engine.DeflateOffer{offer(false, 0)}},
	{acceptWith(true, 0), "[(True, 0)]", []engine.DeflateOffer{offer(true, 0)}},
	{acceptWith(false, 9), "[(False, 9)]", []engine.DeflateOffer{offer(false, 9)}},
	{acceptWith(false, 15), "[(False, 15)]", []engine.DeflateOffer{offer(false, 15)}},
	{acceptWith(true, 9), "[(True, 9)]", []engine.DeflateOffer{offer(true, 9)}},
	{acceptWith(true, 15), "[(True, 15)]", []engine.DeflateOffer{offer(true, 15)}},
	{firstOf(acceptWith(true, 9), acceptWith(true, 0), acceptWith(false, 0)), "[(True, 9), (True, 0), (False, 0)]",
		[]engine.DeflateOffer{offer(true, 9), offer(true, 0), offer(false, 0)}},
}

func offersDesc(offers []engine.DeflateOffer) string {
	s := "["
	for i, o := range offers {
		if i > 0 {
			s += ", "
		}
		s += "(" + pyBool(o.RequestNoContextTakeover) + ", " + strconv.Itoa(o.RequestMaxWindowBits) + ")"
	}
	return s + "]"
}

func section12(data *TestData) []*engine.Case {
	var out []*engine.Case
	for j, td := range data.Sets {
		for i, sz := range compressionSizes {
			out = append(out, compressionCase(fmt.Sprintf("12.%d.%d", j+1, i+1),
				fmt.Sprintf("Send %d compressed messages each of payload size %d, auto-fragment to %d octets. Use default permessage-deflate offer.", sz.count, sz.n, sz.autoFrag),
				fmt.Sprintf("Receive echo'ed messages (with payload as sent). Timeout case after %d secs.", int(sz.wait/sec)),
				sz, td, []engine.DeflateOffer{engine.DefaultDeflateOffer()}, acceptWith(false, 0)))
		}
	}
	return out
}

func section13(data *TestData) []*engine.Case {
	var out []*engine.Case
	td := data.Sets[0] // json_data1
	for j, p := range section13Params {
		for i, sz := range compressionSizes {
			out = append(out, compressionCase(fmt.Sprintf("13.%d.%d", j+1, i+1),
				fmt.Sprintf("Send %d compressed messages each of payload size %d, auto-fragment to %d octets. Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): %s",
					sz.count, sz.n, sz.autoFrag, offersDesc(p.offers)),
				fmt.Sprintf("Receive echo'ed messages (with payload as sent). Timeout case after %d secs.", int(sz.wait/sec)),
				sz, td, p.offers, p.accept))
		}
	}
	return out
}

func subcategories12and13(data *TestData) map[string]string {
	m := map[string]string{}
	for j, td := range data.Sets {
		m["12."+strconv.Itoa(j+1)] = td.Desc + fmt.Sprintf(" (%s, %d bytes)", td.kind(), td.Size)
	}
	td := data.Sets[0]
	for j, p := range section13Params {
		m["13."+strconv.Itoa(j+1)] = td.Desc + fmt.Sprintf(" (%s, %d bytes)", td.kind(), td.Size) +
			" - client offers (requestNoContextTakeover, requestMaxWindowBits): " + offersDesc(p.offers) +
			" / server accept (requestNoContextTakeover, requestMaxWindowBits): " + p.acceptDesc
	}
	return m
}

// sequence returns the messages a compression case sends: n units at a
// time from the start of the data set, wrapping around its end. Cases
// with the same data set and size send the same sequence, which lets the
// suite compress it once and recognize its echoes (engine.Cache).
func sequence(td *DataSet, n int) *engine.Sequence {
	return &engine.Sequence{Name: fmt.Sprintf("%s/%d", td.Name, n),
		Message: func(i int) []byte { return td.slice(i*n%td.units(), n) }}
}

func compressionCase(id, desc, exp string, sz msgSize, td *DataSet, offers []engine.DeflateOffer, accept acceptFunc) *engine.Case {
	seq := sequence(td, sz.n)
	return &engine.Case{ID: id, Description: desc, Expectation: exp,
		Init: func(s *engine.Session) {
			s.ReportTime = true
			s.ReportCompressionRatio = true
			closeNormal(s)
			if s.IsServer() {
				s.DeflateAccept = accept
			} else {
				s.DeflateOffers = offers
			}
		},
		Open: func(s *engine.Session) {
			s.EnableWirelog(false)
			s.SetAutoFragmentSize(sz.autoFrag)
			if s.Deflate() == nil {
				s.Behavior = engine.Unimplemented
				s.SendClose(engine.CloseNormal, "")
				return
			}
			s.Behavior = engine.Failed
			s.Result = fmt.Sprintf("Case did not finish within %d seconds.", int(sz.wait/sec))
			s.CloseAfter(sz.wait)
			var (
				count int
				sent  []byte
			)
			sendOne := func() {
				sent = s.SendSequenceMessage(seq, count, td.Binary)
				count++
			}
			s.ExpectSequence(seq)
			s.OnMessage(func(p []byte, binary bool) {
				// The original compares SHA-1 digests; comparing the bytes
				// is the same test, and the digests are only needed to
				// report a difference.
				if binary != td.Binary || !bytes.Equal(p, sent) {
					s.Behavior = engine.Failed
					s.EnableWirelog(true)
					s.SendClose(engine.CloseNormal, "")
					n := len(p)
					if !td.Binary {
						n = utf8.RuneCount(p)
					}
					switch got, want := sha1.Sum(p), sha1.Sum(sent); {
					case binary != td.Binary:
						s.Result = fmt.Sprintf("Echo'ed message type differs from what I sent (got binary %s, expected binary %s).", pyBool(binary), pyBool(td.Binary))
					case n != sz.n:
						s.Result = fmt.Sprintf("Echo'ed message length differs from what I sent (got length %d, expected length %d).", n, sz.n)
					default:
						s.Result = fmt.Sprintf("Echo'ed message contents differs from what I sent (got SHA1 %s, expected SHA1 %s).", hex.EncodeToString(got[:]), hex.EncodeToString(want[:]))
					}
					return
				}
				if count < sz.count {
					sendOne()
					return
				}
				s.Behavior = engine.OK
				s.Result = "Ok, received all echo'ed messages in time."
				t := s.Traffic()
				s.TrafficSnapshot = &t
				s.EnableWirelog(true)
				s.SendClose(engine.CloseNormal, "")
			})
			sendOne()
		}}
}
