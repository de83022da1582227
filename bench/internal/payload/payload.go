// Package payload builds the message bodies every benchmark sends, so that
// wsbench, the go test benchmarks and the tests send the same bytes.
//
// A body is a piece of JSON-like chat traffic, one object per line,
//
//	{"seq":1234,"user":"maria","room":"ops","text":"the build is ready for review","ok":true}
//
// with the user, room and words of the text drawn from a fixed word list by
// a seeded generator, so a body is the same on every run. It is
// compressible the way real traffic is (DEFLATE finds the repeated keys
// and words, not one repeating period: to about a quarter at BestSpeed)
// and valid UTF-8 with a few two- and three-byte characters, so text
// validation leaves its ASCII fast path now and then. Text and binary
// messages carry the same bytes.
package payload

import (
	"math/rand/v2"
	"strconv"
	"unicode/utf8"
)

var words = [...]string{
	"the", "build", "is", "ready", "for", "review", "deploy", "failed", "on", "staging",
	"please", "check", "logs", "again", "after", "lunch", "meeting", "moved", "to", "friday",
	"café", "naïve", "zoë", "señor", "déjà", "vu", "—", "ok", "thanks", "merged",
	"latency", "spiked", "at", "noon", "rollback", "done", "ticket", "closed", "cache", "miss",
	"database", "migration", "running", "slowly", "queue", "backlog", "cleared", "alert", "fired", "twice",
	"new", "release", "tagged", "tests", "green", "flaky", "again", "dashboard", "updated", "metrics",
	"customer", "reported", "timeout",
}

var users = [...]string{"maria", "chen", "amadou", "olga", "priya", "lucas", "yuki", "fatima"}

var rooms = [...]string{"ops", "dev", "support", "random"}

// New returns n bytes of body: Series(n, 1)[0].
func New(n int) []byte { return Series(n, 1)[0] }

// Series returns count distinct bodies of n bytes each: consecutive n-byte
// pieces of one stream of lines, so that a compressor with context
// takeover finds shared words and keys in earlier messages but not the
// message itself. A multi-byte character cut at either end of a piece
// becomes spaces.
func Series(n, count int) [][]byte {
	s := stream(n * count)
	b := make([][]byte, count)
	for i := range b {
		p := s[i*n : (i+1)*n : (i+1)*n]
		for k := 0; k < n && !utf8.RuneStart(p[k]); k++ {
			p[k] = ' '
		}
		j := n - 1
		for j > 0 && !utf8.RuneStart(p[j]) {
			j--
		}
		if j >= 0 && !utf8.FullRune(p[j:]) {
			for k := j; k < n; k++ {
				p[k] = ' '
			}
		}
		b[i] = p
	}
	return b
}

// stream returns at least n bytes of lines, the same on every call.
func stream(n int) []byte {
	rng := rand.New(rand.NewPCG(6455, 7692))
	p := make([]byte, 0, n+256)
	for seq := 1; len(p) < n; seq++ {
		p = append(p, `{"seq":`...)
		p = strconv.AppendInt(p, int64(seq), 10)
		p = append(p, `,"user":"`...)
		p = append(p, users[rng.IntN(len(users))]...)
		p = append(p, `","room":"`...)
		p = append(p, rooms[rng.IntN(len(rooms))]...)
		p = append(p, `","text":"`...)
		for w := range 4 + rng.IntN(8) {
			if w > 0 {
				p = append(p, ' ')
			}
			p = append(p, words[rng.IntN(len(words))]...)
		}
		p = append(p, `","ok":`...)
		p = strconv.AppendBool(p, rng.IntN(4) != 0)
		p = append(p, "}\n"...)
	}
	return p
}
