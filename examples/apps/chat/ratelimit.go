package main

import "time"

// tokenBucket limits the rate of requests of one connection: it holds up
// to burst tokens, gains rate tokens per second, and each request takes
// one. It is used by the connection's reading goroutine only, so it has no
// lock, and it takes the time as an argument so tests control the clock.
type tokenBucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// allow reports whether a request at time now may proceed, and takes a
// token if so.
func (b *tokenBucket) allow(now time.Time) bool {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens += dt.Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
