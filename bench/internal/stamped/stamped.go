// Package stamped records when each line of a command's output arrived,
// for the tests that hold the bench commands to "never silent for more
// than 5 s" (their live progress).
package stamped

import (
	"bytes"
	"sync"
	"time"
)

// Lines is an io.Writer that splits what it is given into lines and
// stamps each with the time it was completed. It is safe for concurrent
// writes; read Text and At once the writers are done.
type Lines struct {
	mu   sync.Mutex
	buf  []byte
	Text []string
	At   []time.Time
}

func (s *Lines) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		s.Text = append(s.Text, string(s.buf[:i]))
		s.At = append(s.At, time.Now())
		s.buf = s.buf[i+1:]
	}
}

// Gaps returns the silences longer than max between start, the lines and
// stop: for each, its length and the index of the line that ended it
// (len(Text) for the silence before stop).
func (s *Lines) Gaps(start, stop time.Time, max time.Duration) []Gap {
	var gaps []Gap
	prev := start
	for i, at := range append(s.At[:len(s.At):len(s.At)], stop) {
		if d := at.Sub(prev); d > max {
			gaps = append(gaps, Gap{Before: i, Length: d})
		}
		prev = at
	}
	return gaps
}

// Gap is a silence in the output: Length long, ended by line Before.
type Gap struct {
	Before int
	Length time.Duration
}
