package hostile

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// smuggledFrame is the body of the upgrade-with-body attacks: a masked
// text frame "smuggled" with key 37 fa 21 3d, 14 bytes. A server that
// reads the body as the first WebSocket frame echoes it.
func smuggledFrame() []byte {
	return wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: wire.OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}}, []byte("smuggled"))
}

// oversizedRequest returns an upgrade request with 1 MiB of extra header
// fields, in lines of about 1 KiB.
func (c *Config) oversizedRequest() []byte {
	var extra []string
	filler := strings.Repeat("a", 1000)
	for i, total := 0, 0; total < 1<<20; i++ {
		line := fmt.Sprintf("X-Hostile-%05d: %s", i, filler)
		extra = append(extra, line)
		total += len(line) + 2
	}
	return wire.AppendRequest(nil, wire.Request{Host: c.Host, Path: c.Path, Key: wire.NewKey(), Extra: extra})
}

// answer sends req on a fresh connection and reads the HTTP response
// while the request is still being written (a server may answer and close
// before reading all of it). After a 101 it reads frames for the release
// bound and reports any text the server sent.
func (c *Config) answer(ctx context.Context, req []byte) (status int, text string, err error) {
	nc, err := c.dial(ctx)
	if err != nil {
		return 0, "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(c.ProbeTimeout))
	go nc.Write(req) // fails once the server closes; the read below decides
	br := bufio.NewReader(nc)
	resp, err := wire.ReadResponse(br, 64<<10)
	if err != nil {
		return 0, "", err
	}
	if resp.Status == 101 {
		nc.SetReadDeadline(time.Now().Add(c.Release))
		fr := wire.NewReader(br)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				break
			}
			if f.Opcode == wire.OpText && len(text) < 1024 {
				text += string(f.Payload)
			}
		}
	}
	return resp.Status, text, nil
}

// refusal judges an answer that must be an HTTP 4xx, never a 101.
func refusal(status int, text string, err error) outcome {
	switch {
	case err != nil:
		return fail("no HTTP answer: "+err.Error(), -1)
	case status == 101 && text != "":
		return fail(fmt.Sprintf("101 Switching Protocols, then echoed %q", trimText(text, 40)), -1)
	case status == 101:
		return fail("101 Switching Protocols", -1)
	case status >= 400 && status < 500:
		return pass(fmt.Sprintf("HTTP %d", status), -1)
	}
	return fail(fmt.Sprintf("HTTP %d", status), -1)
}

func oversizedHandshake(ctx context.Context, c *Config) outcome {
	return refusal(c.answer(ctx, c.oversizedRequest()))
}

func bodyContentLength(ctx context.Context, c *Config) outcome {
	req := wire.AppendRequest(nil, wire.Request{
		Host: c.Host, Path: c.Path, Key: wire.NewKey(),
		Extra: []string{"Content-Length: 14"}, Body: smuggledFrame(),
	})
	return refusal(c.answer(ctx, req))
}

func bodyChunked(ctx context.Context, c *Config) outcome {
	body := append([]byte("e\r\n"), smuggledFrame()...)
	body = append(body, "\r\n0\r\n\r\n"...)
	req := wire.AppendRequest(nil, wire.Request{
		Host: c.Host, Path: c.Path, Key: wire.NewKey(),
		Extra: []string{"Transfer-Encoding: chunked"}, Body: body,
	})
	return refusal(c.answer(ctx, req))
}

// slowHandshake holds c.Slow connections, each writing a valid upgrade
// request one byte per second, and checks that the server cuts every one
// within the handshake timeout (plus the release bound) while a normal
// client still gets a handshake and an echo.
func slowHandshake(ctx context.Context, c *Config) outcome {
	bound := c.HandshakeTimeout + c.Release
	req := wire.AppendRequest(nil, wire.Request{Host: c.Host, Path: c.Path, Key: wire.NewKey()})
	var (
		mu                 sync.Mutex
		cut, alive, failed int
		slowest            time.Duration
		firstErr           error
		wg                 sync.WaitGroup
		dialers            = make(chan struct{}, 32)
	)
	for i := 0; i < c.Slow; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialers <- struct{}{}
			nc, err := c.dial(ctx)
			<-dialers
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			defer nc.Close()
			elapsed, wasCut := dribble(nc, req, bound)
			mu.Lock()
			defer mu.Unlock()
			if wasCut {
				cut++
				slowest = max(slowest, elapsed)
			} else {
				alive++
			}
		}()
	}
	// While they are held, a normal client must still be served.
	time.Sleep(min(2*time.Second, c.HandshakeTimeout/2))
	probe, probeOK := c.probeNote(ctx)
	wg.Wait()
	obs := fmt.Sprintf("%d/%d cut", cut, c.Slow)
	if cut > 0 {
		obs += ", the last after " + ms(slowest)
	}
	obs += fmt.Sprintf("; %d still open after %s; while held: %s", alive, ms(bound), probe)
	if cut == 0 {
		slowest = -1
	}
	if failed > 0 {
		obs += fmt.Sprintf("; %d could not connect (%v)", failed, firstErr)
	}
	if alive > 0 || !probeOK || failed > 0 {
		return fail(obs, slowest)
	}
	return pass(obs, slowest)
}

// dribble writes req one byte per second on nc until the server answers
// or closes (cut), the request is all written, or bound passes. It
// returns the time until the cut.
func dribble(nc net.Conn, req []byte, bound time.Duration) (time.Duration, bool) {
	start := time.Now()
	var buf [512]byte
	for _, b := range req {
		if time.Since(start) > bound {
			return 0, false
		}
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := nc.Write([]byte{b}); err != nil && !isTimeout(err) {
			return time.Since(start), true
		}
		nc.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := nc.Read(buf[:]); !isTimeout(err) {
			return time.Since(start), true // an answer (408, 400) or a close
		}
	}
	return 0, false
}
