package interop

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

const testTimeout = 60 * time.Second

var sizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20}

// chunk is the fragment size of fragmented messages, on both sides.
const chunk = 1000

// payload returns n bytes for a message of type typ: ASCII for text,
// bytes from a fixed seed for binary.
func payload(text bool, n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	p := make([]byte, n)
	for i := range p {
		if text {
			p[i] = 'a' + byte(r.IntN(26))
		} else {
			p[i] = byte(r.Uint32())
		}
	}
	return p
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// gorillaEcho is a gorilla/websocket echo server. Fragmented, it streams
// each message back through a small writer, so it sends many frames.
func gorillaEcho(fragmented bool) http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if !fragmented {
				if c.WriteMessage(typ, p) != nil {
					return
				}
				continue
			}
			wr, err := c.NextWriter(typ)
			if err != nil {
				return
			}
			for len(p) > 0 {
				n := min(chunk, len(p))
				wr.Write(p[:n])
				p = p[n:]
			}
			if wr.Close() != nil {
				return
			}
		}
	})
}

// coderEcho is a coder/websocket echo server; fragmented, it writes each
// message in chunk-sized frames (coder sends one frame per Write).
func coderEcho(fragmented bool) http.Handler {
	return coderEchoMode(coder.CompressionDisabled, fragmented)
}

// coderEchoMode is coderEcho with compression negotiated per mode.
func coderEchoMode(mode coder.CompressionMode, fragmented bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: mode})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(2 << 20)
		ctx := r.Context()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := coderWrite(ctx, c, typ, p, fragmented); err != nil {
				return
			}
		}
	})
}

func coderWrite(ctx context.Context, c *coder.Conn, typ coder.MessageType, p []byte, fragmented bool) error {
	if !fragmented {
		return c.Write(ctx, typ, p)
	}
	wr, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		n := min(chunk, len(p))
		if _, err := wr.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return wr.Close()
}

// ourOptions returns connection options that fragment outgoing messages
// into chunk-sized frames when fragmented.
func ourOptions(fragmented bool) *conn.Options {
	if fragmented {
		return &conn.Options{MaxFrameSize: chunk}
	}
	return nil
}

func forModes(t *testing.T, f func(t *testing.T, fragmented bool)) {
	for _, fragmented := range []bool{false, true} {
		name := "whole"
		if fragmented {
			name = "fragmented"
		}
		t.Run(name, func(t *testing.T) { f(t, fragmented) })
	}
}

// exerciseOurClient sends every size of text and binary message with our
// client and checks each echo, then closes cleanly.
func exerciseOurClient(t *testing.T, url string, fragmented bool) {
	ctx := testContext(t)
	c, _, err := client.Dial(ctx, url, &client.DialOptions{Proxy: client.NoProxy, Conn: ourOptions(fragmented)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var buf []byte
	for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
		for i, n := range sizes {
			want := payload(typ == conn.Text, n, uint64(i))
			if err := c.WriteMessage(ctx, typ, want); err != nil {
				t.Fatalf("write %v %d: %v", typ, n, err)
			}
			var gotTyp conn.MessageType
			gotTyp, buf, err = c.ReadMessage(ctx, buf[:0])
			if err != nil {
				t.Fatalf("read echo of %v %d: %v", typ, n, err)
			}
			if gotTyp != typ || !bytes.Equal(buf, want) {
				t.Fatalf("echo of %v %d bytes: got %v %d bytes", typ, n, gotTyp, len(buf))
			}
		}
	}
	if err := c.Close(conn.StatusNormalClosure, "done"); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOurClientGorillaServer(t *testing.T) {
	forModes(t, func(t *testing.T, fragmented bool) {
		s := httptest.NewServer(gorillaEcho(fragmented))
		defer s.Close()
		exerciseOurClient(t, wsURL(s), fragmented)
	})
}

func TestOurClientCoderServer(t *testing.T) {
	forModes(t, func(t *testing.T, fragmented bool) {
		s := httptest.NewServer(coderEcho(fragmented))
		defer s.Close()
		exerciseOurClient(t, wsURL(s), fragmented)
	})
}

// ourServer is our echo endpoint, fragmenting its echoes when asked.
func ourServer(fragmented bool) *httptest.Server {
	return httptest.NewServer(echo.Handler(&server.AcceptOptions{Conn: ourOptions(fragmented)}))
}

func TestGorillaClientOurServer(t *testing.T) {
	forModes(t, func(t *testing.T, fragmented bool) {
		s := ourServer(fragmented)
		defer s.Close()
		d := websocket.Dialer{HandshakeTimeout: testTimeout}
		c, resp, err := d.Dial(wsURL(s), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		c.SetReadDeadline(time.Now().Add(testTimeout))
		for _, typ := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			for i, n := range sizes {
				want := payload(typ == websocket.TextMessage, n, uint64(i))
				if err := gorillaWrite(c, typ, want, fragmented); err != nil {
					t.Fatalf("write %d %d: %v", typ, n, err)
				}
				gotTyp, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("read echo of %d %d: %v", typ, n, err)
				}
				if gotTyp != typ || !bytes.Equal(got, want) {
					t.Fatalf("echo of type %d, %d bytes: got type %d, %d bytes", typ, n, gotTyp, len(got))
				}
			}
		}
		// Close handshake: we send 1000 and our server answers it.
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(testTimeout)); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Errorf("after our close: %v, want the server's close 1000", err)
		}
	})
}

func gorillaWrite(c *websocket.Conn, typ int, p []byte, fragmented bool) error {
	if !fragmented {
		return c.WriteMessage(typ, p)
	}
	// gorilla sends a frame each time its write buffer fills or on Flush
	// at Close; write in chunks through a writer to get several frames.
	wr, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		n := min(chunk, len(p))
		if _, err := wr.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return wr.Close()
}

func TestCoderClientOurServer(t *testing.T) {
	forModes(t, func(t *testing.T, fragmented bool) {
		s := ourServer(fragmented)
		defer s.Close()
		ctx := testContext(t)
		c, resp, err := coder.Dial(ctx, wsURL(s), &coder.DialOptions{CompressionMode: coder.CompressionDisabled})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		c.SetReadLimit(2 << 20)
		for _, typ := range []coder.MessageType{coder.MessageText, coder.MessageBinary} {
			for i, n := range sizes {
				want := payload(typ == coder.MessageText, n, uint64(i))
				if err := coderWrite(ctx, c, typ, want, fragmented); err != nil {
					t.Fatalf("write %v %d: %v", typ, n, err)
				}
				gotTyp, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("read echo of %v %d: %v", typ, n, err)
				}
				if gotTyp != typ || !bytes.Equal(got, want) {
					t.Fatalf("echo of %v %d bytes: got %v %d bytes", typ, n, gotTyp, len(got))
				}
			}
		}
		if err := c.Close(coder.StatusNormalClosure, "done"); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// TestCloseCodesAcross checks close codes and reasons in both directions
// between our server and the other clients.
func TestCloseCodesAcross(t *testing.T) {
	got := make(chan error, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			got <- err
			return
		}
		defer c.CloseNow()
		_, _, err = c.ReadMessage(r.Context(), nil)
		got <- err
	}))
	defer s.Close()
	ctx := testContext(t)

	c, _, err := coder.Dial(ctx, wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(4321, "coder leaves"); err != nil {
		t.Errorf("coder Close: %v", err)
	}
	checkClose(t, <-got, 4321, "coder leaves")

	gc, _, err := websocket.DefaultDialer.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	gc.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(3999, "gorilla leaves"), time.Now().Add(testTimeout))
	checkClose(t, <-got, 3999, "gorilla leaves")
	gc.SetReadDeadline(time.Now().Add(testTimeout))
	if _, _, err := gc.ReadMessage(); !websocket.IsCloseError(err, 3999) {
		t.Errorf("gorilla read %v, want our echo of close 3999", err)
	}

	// Our client, a server that closes with a code.
	cs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(coder.StatusGoingAway, "coder server restarting")
	}))
	defer cs.Close()
	oc, _, err := client.Dial(ctx, wsURL(cs), &client.DialOptions{Proxy: client.NoProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer oc.CloseNow()
	_, _, err = oc.ReadMessage(ctx, nil)
	checkClose(t, err, conn.StatusGoingAway, "coder server restarting")
}

func checkClose(t *testing.T, err error, code conn.StatusCode, reason string) {
	t.Helper()
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
		t.Errorf("got %v, want a CloseError{%d, %q}", err, code, reason)
	}
}
