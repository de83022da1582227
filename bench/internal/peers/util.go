package peers

import (
	"context"
	"net"
)

// PipeDialer returns a DialFunc that connects over net.Pipe to l's
// ServeConn, run in a new goroutine per connection.
func PipeDialer(l Lib) DialFunc {
	return func(context.Context, string, string) (net.Conn, error) {
		a, b := net.Pipe()
		go l.ServeConn(b)
		return a, nil
	}
}

// Payload returns n bytes of message payload. Text payloads are valid
// UTF-8 shaped like JSON chat traffic: mostly ASCII, with a two- and a
// three-byte character in every 64 bytes or so, so UTF-8 validation leaves
// its ASCII fast path now and then (the tail is padded with ASCII to hit n
// exactly). Binary payloads are a byte ramp.
func Payload(n int, text bool) []byte {
	p := make([]byte, 0, n)
	if !text {
		for i := range n {
			p = append(p, byte(i*7))
		}
		return p
	}
	const chunk = `{"user":"zoë","text":"see you at 10 — ok?","seq":12345678},`
	for len(p)+len(chunk) <= n {
		p = append(p, chunk...)
	}
	for len(p) < n {
		p = append(p, ' ')
	}
	return p
}
