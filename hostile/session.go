package hostile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// deflateOffer is the permessage-deflate offer of the attacks that need
// compression (RFC 7692 §7). Each of them sends one message per
// connection, so context takeover does not matter.
const deflateOffer = "permessage-deflate"

// session is one connection to the server, past the opening handshake.
type session struct {
	nc      *net.TCPConn
	br      *bufio.Reader
	fr      *wire.Reader
	deflate bool // the server accepted permessage-deflate
}

// dial opens a TCP connection to the server within the probe timeout.
func (c *Config) dial(ctx context.Context) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: c.ProbeTimeout}
	nc, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, err
	}
	return nc.(*net.TCPConn), nil
}

// open connects and completes an opening handshake offering extensions
// ("" for none), within the probe timeout.
func (c *Config) open(ctx context.Context, extensions string) (*session, error) {
	nc, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.handshake(nc, extensions)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

func (c *Config) handshake(nc *net.TCPConn, extensions string) (*session, error) {
	nc.SetDeadline(time.Now().Add(c.ProbeTimeout))
	key := wire.NewKey()
	req := wire.AppendRequest(nil, wire.Request{Host: c.Host, Path: c.Path, Key: key, Extensions: extensions})
	if _, err := nc.Write(req); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := wire.ReadResponse(br, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if err := wire.CheckUpgrade(resp, key); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return &session{
		nc: nc, br: br, fr: wire.NewReader(br),
		deflate: wire.HasToken(resp.Header["sec-websocket-extensions"], "permessage-deflate"),
	}, nil
}

// reset closes the connection with an RST (SO_LINGER 0) rather than a
// FIN, the way a crashed or hostile peer leaves.
func (s *session) reset() {
	s.nc.SetLinger(0)
	s.nc.Close()
}

// ending is how a connection ended as seen by the tool: the server's
// close frame, if any, and when TCP was released.
type ending struct {
	closeCode   int           // code of the server's close frame, 0 when none came
	closeReason string        // its reason
	badClose    bool          // the close payload was 1 byte long
	closeAt     time.Duration // when the close frame came, from start
	released    bool          // TCP closed or reset by the server
	after       time.Duration
	others      []string // the other frames the server sent, summarized
	data        int      // how many of them were text, binary or continuation frames
	err         error    // the read error that ended the wait, when not EOF
}

// await reads what the server sends until it closes TCP or the read
// deadline passes, and reports the close frame and when TCP was released,
// measured from start. A zero deadline leaves the read deadline as the
// caller set it, free to move it while await runs.
func (s *session) await(start, deadline time.Time) ending {
	return s.awaitNotify(start, deadline, nil)
}

// awaitNotify is await calling onClose, when not nil, as the server's
// close frame arrives.
func (s *session) awaitNotify(start, deadline time.Time, onClose func()) ending {
	var e ending
	if !deadline.IsZero() {
		s.nc.SetReadDeadline(deadline)
	}
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return e
			}
			e.released, e.after = true, time.Since(start)
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
				e.err = err
			}
			return e
		}
		if f.Opcode == wire.OpClose && e.closeCode == 0 && !e.badClose {
			code, reason, ok := wire.ParseClose(f.Payload)
			e.closeCode, e.closeReason, e.badClose = code, reason, !ok
			e.closeAt = time.Since(start)
			if onClose != nil {
				onClose()
			}
			continue
		}
		if f.Opcode <= wire.OpBinary {
			e.data++
		}
		if len(e.others) < 4 {
			e.others = append(e.others, describeFrame(f))
		}
	}
}

// describe summarizes e for the observed column.
func (e ending) describe() string {
	var parts []string
	switch {
	case e.badClose:
		parts = append(parts, "malformed 1-byte close payload")
	case e.closeCode != 0:
		p := fmt.Sprintf("close %d", e.closeCode)
		if e.closeReason != "" {
			p += fmt.Sprintf(" %q", trimText(e.closeReason, 40))
		}
		parts = append(parts, p)
	default:
		parts = append(parts, "no close frame")
	}
	if len(e.others) > 0 {
		parts = append(parts, "also got "+strings.Join(e.others, ", "))
	}
	if e.released {
		parts = append(parts, "TCP closed after "+ms(e.after))
	} else {
		parts = append(parts, "TCP still open")
	}
	if e.err != nil {
		parts = append(parts, "read error: "+e.err.Error())
	}
	return strings.Join(parts, "; ")
}

func describeFrame(f wire.Frame) string {
	name := map[byte]string{wire.OpContinuation: "continuation", wire.OpText: "text", wire.OpBinary: "binary", wire.OpPing: "ping", wire.OpPong: "pong"}[f.Opcode]
	if name == "" {
		name = fmt.Sprintf("opcode %#x", f.Opcode)
	}
	return fmt.Sprintf("%s (%d B)", name, f.Length)
}

// probe checks that the server still serves: a fresh connection, an
// opening handshake and the echo of a text message, then a clean close,
// all within the probe timeout. It returns nil when all went well.
func (c *Config) probe(ctx context.Context) error {
	s, err := c.open(ctx, "")
	if err != nil {
		return err
	}
	defer s.nc.Close()
	s.nc.SetDeadline(time.Now().Add(c.ProbeTimeout))
	msg := []byte(fmt.Sprintf("hostile probe %d", time.Now().UnixNano()))
	if _, err := s.nc.Write(wire.ClientFrame(nil, wire.OpText, true, 0, msg)); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		switch f.Opcode {
		case wire.OpPing:
			s.nc.Write(wire.ClientFrame(nil, wire.OpPong, true, 0, f.Payload))
			continue
		case wire.OpClose:
			return errors.New("echo: server closed instead of echoing")
		}
		if f.Opcode != wire.OpText || string(f.Payload) != string(msg) {
			return fmt.Errorf("echo: got %s, want the text sent", describeFrame(f))
		}
		s.nc.Write(wire.ClientFrame(nil, wire.OpClose, true, 0, wire.ClosePayload(1000, "")))
		return nil
	}
}

// probeNote runs probe and summarizes it for the observed column.
func (c *Config) probeNote(ctx context.Context) (string, bool) {
	if err := c.probe(ctx); err != nil {
		return "fresh echo FAILED: " + err.Error(), false
	}
	return "fresh echo OK", true
}

// isReset reports whether err is a connection reset or broken pipe: the
// server closed with data unread, or the tool wrote after it closed.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func ms(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func trimText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
