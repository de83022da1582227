package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// identity is a conn.Extension that marks every message with RSV1 and
// leaves the payload as it is: enough to show that the negotiation seams
// of server and client reach the Conn, as permessage-deflate will.
type identity struct{ closed *atomic.Int32 }

func (identity) RSV() byte { return frame.RSV1 }

func (identity) DecodeMessage(src io.Reader, limit int64) io.Reader {
	if limit <= 0 {
		return src
	}
	return &limitReader{r: src, left: limit}
}

func (identity) EncodeMessage(dst io.Writer, size int) io.WriteCloser { return nopCloser{dst} }

func (x identity) Close() error { x.closed.Add(1); return nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// limitReader fails with conn.ErrMessageTooBig past the limit.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.left -= int64(n); l.left < 0 {
		return 0, conn.ErrMessageTooBig
	}
	return n, err
}

// identityServer accepts the x-identity offer and echoes its parameters.
type identityServer struct{ closed atomic.Int32 }

func (s *identityServer) Negotiate(offers []handshake.Extension) ([]handshake.Extension, conn.Extension, error) {
	for _, o := range offers {
		if o.Name == "x-identity" {
			return []handshake.Extension{o}, identity{&s.closed}, nil
		}
	}
	return nil, nil, nil
}

// identityClient offers an unknown extension, then x-identity.
type identityClient struct {
	accepted []handshake.Extension
	closed   atomic.Int32
}

func (c *identityClient) Offer() []handshake.Extension {
	return []handshake.Extension{
		{Name: "x-unknown"},
		{Name: "x-identity", Params: []handshake.Param{{Name: "level", Value: "15", HasValue: true}}},
	}
}

func (c *identityClient) Accept(accepted []handshake.Extension) (conn.Extension, error) {
	c.accepted = accepted
	if len(accepted) != 1 || accepted[0].Name != "x-identity" {
		return nil, errors.New("unexpected extensions")
	}
	return identity{&c.closed}, nil
}

func TestExtensionSeams(t *testing.T) {
	sx := &identityServer{}
	ts := startServer(t, modes[0], echo.Handler(&server.AcceptOptions{Extensions: sx}))
	ctx := testContext(t)
	cx := &identityClient{}
	var log *frameLog
	opts := ts.dialOptions()
	opts.Extensions = cx
	opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		log = &frameLog{Conn: nc}
		return log, nil
	}
	c, resp, err := client.Dial(ctx, ts.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != `x-identity; level=15` {
		t.Errorf("response Sec-WebSocket-Extensions %q", got)
	}
	wantAccepted := []handshake.Extension{{Name: "x-identity", Params: []handshake.Param{{Name: "level", Value: "15", HasValue: true}}}}
	if diff := cmp.Diff(wantAccepted, cx.accepted); diff != "" {
		t.Errorf("client accepted (-want +got):\n%s", diff)
	}
	roundTrip(t, ctx, c, conn.Text, []byte("marked with RSV1"))
	roundTrip(t, ctx, c, conn.Binary, payload(conn.Binary, 100000, 5))
	closeClean(t, c)
	var marked int
	for _, h := range log.frames() {
		if !h.Opcode.IsControl() && h.RSV&frame.RSV1 != 0 {
			marked++
		}
	}
	if marked != 2 {
		t.Errorf("%d data frames with RSV1, want 2", marked)
	}
}

// TestExtensionRefusedByClient: a server that accepts an extension the
// client's Accept refuses fails the handshake (RFC 6455 §9.1).
func TestExtensionRefusedByClient(t *testing.T) {
	ts := startServer(t, modes[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, &server.AcceptOptions{Extensions: renamer{}})
		if err == nil {
			c.CloseNow()
		}
	}))
	opts := ts.dialOptions()
	opts.Extensions = &identityClient{}
	_, _, err := client.Dial(testContext(t), ts.url, opts)
	var re *handshake.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Dial: %v, want a ResponseError", err)
	}
}

// renamer accepts x-unknown, which identityClient offers but refuses.
type renamer struct{}

func (renamer) Negotiate(offers []handshake.Extension) ([]handshake.Extension, conn.Extension, error) {
	return []handshake.Extension{{Name: "x-unknown"}}, nil, nil
}
