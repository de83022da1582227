package engine

import (
	"bytes"
	"crypto/sha256"
)

// Sending and checking the message sequences of sections 12 and 13
// through a Cache.

// SendSequenceMessage sends message i of seq as a data message, as
// SendMessage does with the automatic fragment size, and returns it.
// When the session has a Cache and permessage-deflate is in use, and
// every message the session sent so far was seq's message before it, the
// compressed form comes from the cache when another session built it with
// the same window and context takeover setting; the first session to send
// seq builds it.
func (s *Session) SendSequenceMessage(seq *Sequence, i int, binary bool) []byte {
	msg := seq.Message(i)
	if s.state != StateOpen {
		return msg
	}
	d, c := s.deflate, s.cfg.Cache
	if d == nil || c == nil {
		s.SendMessage(msg, binary, 0)
		return msg
	}
	if i == 0 && d.sent == 0 {
		s.txSeq = seq
	}
	if s.txSeq == nil || s.txSeq.Name != seq.Name || d.sent != i {
		s.SendMessage(msg, binary, 0)
		return msg
	}
	bits, noContext := d.own()
	k := comprKey{seq: seq.Name, bits: bits, noContext: noContext}
	if p, ok := c.compressed(k, i); ok {
		if d.behind == 0 {
			d.behindSeq = seq
		}
		d.behind++
		d.sent++
		c.count(func(st *CacheStats) { st.Reused++ })
		s.sendPayload(p, len(msg), binary, 0)
		return msg
	}
	if i == 0 {
		s.txBuild = c.build(k)
	}
	d.catchUp()
	p := d.compress(msg)
	d.sent++
	c.count(func(st *CacheStats) { st.Compressed++ })
	if s.txBuild != nil && !c.add(s.txBuild, p) {
		s.txBuild = nil
	}
	s.sendPayload(p, len(msg), binary, 0)
	return msg
}

// endSequence notes that the session sends something other than its
// sequence's next message: the cache entry it builds ends here.
func (s *Session) endSequence() {
	s.txSeq = nil
	if s.txBuild != nil {
		s.cfg.Cache.finish(s.txBuild)
		s.txBuild = nil
	}
}

// ExpectSequence tells the session that the testee is to send seq's
// messages in order, compressed (an echo of what SendSequenceMessage
// sends). With a Cache, a compressed message whose octets were inflated
// to the expected message before, under the same history, is delivered
// without being inflated again (see Cache); any other is inflated and
// checked as usual. Call it before the first message arrives.
func (s *Session) ExpectSequence(seq *Sequence) {
	s.rxSeq, s.rxCount = seq, 0
	s.rxChain = s.deflate != nil && s.deflate.received == 0
}

// rxKey is the Cache key of the checked echoes of the expected sequence.
func (s *Session) rxKey() verifyKey {
	bits, noContext := s.deflate.peer()
	return verifyKey{agent: s.Agent, seq: s.rxSeq.Name, bits: bits, noContext: noContext, utf8: s.validating}
}

// inflateKnown delivers the message in compressedBuf without inflating it
// when the cache knows its octets as the expected message (see
// ExpectSequence). It reports whether it did.
func (s *Session) inflateKnown(limit int64) bool {
	if s.rxSeq == nil || !s.rxChain || s.cfg.Cache == nil {
		return false
	}
	want := s.rxSeq.Message(s.rxCount)
	if int64(len(want)) > limit || !s.cfg.Cache.verifiedAs(s.rxKey(), s.rxCount, sha256.Sum256(s.compressedBuf)) {
		return false
	}
	s.deflate.remember(want)
	s.rxCount++
	s.cfg.Cache.count(func(st *CacheStats) { st.Recognized++ })
	if s.state == StateOpen {
		s.traffic.IncomingOctetsWebSocketLevel += int64(len(s.compressedBuf))
		s.traffic.IncomingOctetsAppLevel += int64(len(want))
	}
	s.msgData = want
	return true
}

// recordKnown records, after a message was inflated and validated, that
// its octets inflate to the expected message, or ends the chain when it
// is not the expected message.
func (s *Session) recordKnown(out []byte) {
	if s.rxSeq == nil || !s.rxChain || s.cfg.Cache == nil {
		return
	}
	if !bytes.Equal(out, s.rxSeq.Message(s.rxCount)) {
		s.rxChain = false
		return
	}
	s.cfg.Cache.recordVerified(s.rxKey(), s.rxCount, sha256.Sum256(s.compressedBuf))
	s.rxCount++
	s.cfg.Cache.count(func(st *CacheStats) { st.Inflated++ })
}
