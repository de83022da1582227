package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
)

// acceptPlaceholder in a fuzzed response stands for the
// Sec-WebSocket-Accept value of the request's key, which the fuzzer cannot
// know: the key is random (RFC 6455 §4.1).
const acceptPlaceholder = "{accept}"

// fuzzOutcome is what a client Conn makes of the bytes after the
// handshake: its messages and how it ends.
type fuzzOutcome struct {
	msgs []string
	end  string
}

// readAll reads messages from c until it fails and classifies the end as
// conn's FuzzReadPath does.
func readAll(t *testing.T, c *conn.Conn) fuzzOutcome {
	var out fuzzOutcome
	for {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			out.msgs = append(out.msgs, fmt.Sprintf("%v:%q", typ, msg))
			continue
		}
		var pe *frame.ProtocolError
		var ce *conn.CloseError
		switch {
		case errors.As(err, &pe):
			out.end = fmt.Sprintf("fail %d", pe.Code)
		case errors.As(err, &ce) && ce.Code == frame.StatusAbnormalClosure:
			out.end = "abnormal"
		case errors.As(err, &ce):
			out.end = fmt.Sprintf("close %d", ce.Code)
		default:
			t.Fatalf("untyped error %T %v", err, err)
		}
		return out
	}
}

// servePipe plays the server on nc: it reads the handshake request,
// reports it on reqs, writes reply (with the accept key filled in), and
// closes. Whatever the client sends after the request is discarded.
func servePipe(nc net.Conn, reply []byte, reqs chan<- *http.Request, wg *sync.WaitGroup) {
	defer wg.Done()
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	reqs <- req
	if err != nil {
		return
	}
	wg.Go(func() { io.Copy(io.Discard, br) })
	key := req.Header.Get("Sec-WebSocket-Key")
	nc.Write(bytes.ReplaceAll(reply, []byte(acceptPlaceholder), []byte(handshake.AcceptKey(key))))
}

// tcpLike is the client's end of a net.Pipe with TCP's behaviour for
// deadlines: setting one succeeds after the peer has closed. net.Pipe
// refuses with io.ErrClosedPipe, which makes Dial fail (the known bug
// TestDialPeerClosedAfterResponse reproduces); with this the fuzzer gets
// past it to everything else.
type tcpLike struct{ net.Conn }

func (c tcpLike) SetDeadline(t time.Time) error      { return tcpErr(c.Conn.SetDeadline(t)) }
func (c tcpLike) SetReadDeadline(t time.Time) error  { return tcpErr(c.Conn.SetReadDeadline(t)) }
func (c tcpLike) SetWriteDeadline(t time.Time) error { return tcpErr(c.Conn.SetWriteDeadline(t)) }

func tcpErr(err error) error {
	if errors.Is(err, io.ErrClosedPipe) {
		return nil
	}
	return err
}

// directResult is what the direct reading of a response establishes.
type directResult struct {
	Protocol string
	cfg      *deflate.Config // nil: no compression
}

// directHandshake reads and checks the server's response the way Dial is
// documented to, one exported step after another, and says which step
// failed.
func directHandshake(br *bufio.Reader, req *http.Request, key string, opts *DialOptions) (*directResult, string, error) {
	resp, err := handshake.ReadResponse(br, req, 0)
	if err != nil {
		return nil, "read", err
	}
	hs, err := handshake.CheckResponse(resp, key, opts.Subprotocols)
	if err != nil {
		return nil, "check", err
	}
	r := &directResult{Protocol: hs.Protocol}
	if len(hs.Extensions) == 0 {
		return r, "", nil
	}
	var offers []handshake.Extension
	if opts.Compression != nil {
		offers = []handshake.Extension{deflate.Offer(opts.Compression)}
	}
	if err := handshake.VerifyExtensions(hs.Extensions, offers); err != nil {
		return nil, "extensions", err
	}
	cfg, ok, err := deflate.AcceptResponse(hs.Extensions, opts.Compression)
	if err != nil {
		return nil, "deflate", err
	}
	if ok {
		r.cfg = &cfg
	}
	return r, "", nil
}

// FuzzDial runs client.Dial against a server that answers with arbitrary
// bytes: a response (where "{accept}" stands for the right
// Sec-WebSocket-Accept) followed by frames. Dial must return within its
// handshake timeout, succeed exactly when reading the same bytes with
// handshake.ReadResponse, handshake.CheckResponse,
// handshake.VerifyExtensions and deflate.AcceptResponse succeeds, fail with
// the same kind of error otherwise, and on success deliver the same
// messages and ending as a client Conn built directly on the bytes after
// the response, with the extension that negotiation yields: nothing the
// server sent right after its response is lost or reordered.
func FuzzDial(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
	text := func(s string) string {
		return string(append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(s))}), s...))
	}
	closeFrame := "\x88\x02\x03\xe8"
	f.Add([]byte(ok+"\r\n"+text("Hello")+closeFrame), false, false)
	f.Add([]byte(ok+"Sec-WebSocket-Protocol: chat\r\n\r\n"+text("a")+text("b")), true, false)
	f.Add([]byte(ok+"Sec-WebSocket-Protocol: other\r\n\r\n"), true, false)
	f.Add([]byte(ok+"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"+
		"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"+closeFrame), false, true)
	f.Add([]byte(ok+"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"), false, true)
	f.Add([]byte(ok+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"), false, false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\n"+ok+"\r\n\x81\x85masked"), false, false)
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\norigin"), false, false)
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"), false, false)
	f.Add([]byte(ok), false, false)
	f.Fuzz(func(t *testing.T, reply []byte, offerProtocols, compress bool) {
		if len(reply) > 64<<10 {
			return
		}
		// Dial is bounded by its handshake timeout and the Conns by the
		// end of the input; anything still blocked after this is a hang.
		stuck := time.AfterFunc(20*time.Second, func() { panic("FuzzDial: blocked for 20 s") })
		defer stuck.Stop()
		opts := &DialOptions{
			Proxy:            NoProxy,
			HandshakeTimeout: 5 * time.Second,
			Conn:             &conn.Options{ReadLimit: 256, ReadBufferSize: 64, CloseTimeout: 100 * time.Millisecond},
		}
		if offerProtocols {
			opts.Subprotocols = []string{"chat", "superchat"}
		}
		if compress {
			opts.Compression = &deflate.ClientOptions{}
		}
		reqs := make(chan *http.Request, 1)
		var server sync.WaitGroup
		defer server.Wait()
		opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			a, b := net.Pipe()
			server.Add(1)
			go servePipe(b, reply, reqs, &server)
			return tcpLike{a}, nil
		}
		start := time.Now()
		c, _, err := Dial(context.Background(), "ws://example.com/chat", opts)
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("Dial took %v", d)
		}
		req := <-reqs
		if req == nil {
			t.Fatalf("the server could not read the handshake request")
		}

		// The model: the same bytes read directly.
		key := req.Header.Get("Sec-WebSocket-Key")
		data := bytes.ReplaceAll(reply, []byte(acceptPlaceholder), []byte(handshake.AcceptKey(key)))
		u, _ := url.Parse("ws://example.com/chat")
		mreq, err2 := handshake.NewClientRequest(u, key, opts.Subprotocols, nil, nil)
		if err2 != nil {
			t.Fatal(err2)
		}
		in := bytes.NewReader(data)
		br := bufio.NewReader(in)
		var ext conn.Extension
		hs, stage, merr := directHandshake(br, mreq, key, opts)
		if merr == nil && hs.cfg != nil {
			ext = deflate.NewSession(*hs.cfg)
		}
		if (err == nil) != (merr == nil) {
			t.Fatalf("%q: Dial: %v; direct reading: %v", data, err, merr)
		}
		if err != nil {
			if c != nil {
				t.Fatalf("Dial returned a Conn with the error %v", err)
			}
			var re *handshake.ResponseError
			switch {
			case stage == "read":
				if !errors.Is(err, merr) && !errors.Is(err, errors.Unwrap(merr)) || errors.As(err, &re) {
					t.Fatalf("%q: Dial: %v; ReadResponse: %v", data, err, merr)
				}
			case !errors.As(err, &re):
				t.Fatalf("%q: Dial: %v, not a *handshake.ResponseError; %s: %v", data, err, stage, merr)
			}
			return
		}
		if c.Subprotocol() != hs.Protocol {
			t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), hs.Protocol)
		}
		got := readAll(t, c)
		if testing.Verbose() {
			t.Logf("%v", got)
		}
		c.CloseNow()

		// The bytes after the response, fed to a client Conn directly.
		rest := data[len(data)-in.Len()-br.Buffered():]
		a, b := net.Pipe()
		direct := conn.New(a, conn.Setup{Role: conn.Client, Extension: ext, Options: opts.Conn})
		var peer sync.WaitGroup
		peer.Go(func() { b.Write(rest); b.Close() })
		peer.Go(func() { io.Copy(io.Discard, b) })
		want := readAll(t, direct)
		direct.CloseNow()
		peer.Wait()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q:\n through Dial %v\n direct       %v", data, got, want)
		}
	})
}
