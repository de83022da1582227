package interop

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	coder "github.com/coder/websocket"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

// releasePeriod is the conn.Options.ReleaseCompressionAfter of the tests
// below; they wait releaseQuiet between rounds, long enough for a release.
const (
	releasePeriod = 20 * time.Millisecond
	releaseQuiet  = 10 * releasePeriod
)

// startCounted serves h on 127.0.0.1, counting the bytes its connections
// read (in) and write (out).
func startCounted(t *testing.T, h http.Handler) (*httptest.Server, *wireCount) {
	var wc wireCount
	s := httptest.NewUnstartedServer(h)
	s.Listener = &countingListener{Listener: s.Listener, count: &wc}
	s.Start()
	t.Cleanup(s.Close)
	return s, &wc
}

// releaseRounds runs three rounds of sending msg twice and reading each
// echo, quiet for releaseQuiet between rounds, and returns the bytes the
// counted side of the connection moved in each message of each round.
func releaseRounds(t *testing.T, count func() int64, echo func(round, i int)) [3][2]int64 {
	var sizes [3][2]int64
	for round := range 3 {
		if round > 0 {
			time.Sleep(releaseQuiet)
		}
		for i := range 2 {
			before := count()
			echo(round, i)
			sizes[round][i] = count() - before
		}
	}
	return sizes
}

// wantTakeoverBothWays checks that the handshake's answer leaves context
// takeover on in both directions.
func wantTakeoverBothWays(t *testing.T, resp *http.Response) {
	t.Helper()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "permessage-deflate" {
		t.Fatalf("negotiated %q, want context takeover both ways", ext)
	}
}

// checkReleased checks that the first message of each round after a
// quiet period compressed as the first message of the connection did (a
// fresh window), and that the second of each round referred back (about a
// tenth of the first: a frame header and a few back-references).
func checkReleased(t *testing.T, sizes [3][2]int64) {
	t.Helper()
	for round := range 3 {
		if sizes[round][0] != sizes[0][0] || sizes[round][1] >= sizes[0][0]/4 {
			t.Fatalf("bytes per message by round %v: want each round's first as large as the connection's first (a released window) and its second far smaller", sizes)
		}
	}
	t.Logf("bytes per message by round: %v", sizes)
}

// coder/websocket, taking over its context, decodes what our server sends
// after each release.
func TestReleaseCompressionToCoderClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, wc := startCounted(t, echo.Handler(&server.AcceptOptions{
		Compression: &deflate.ServerOptions{},
		Conn:        &conn.Options{ReleaseCompressionAfter: releasePeriod},
	}))
	c, resp, err := coder.Dial(ctx, wsURL(s), &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wantTakeoverBothWays(t, resp)
	msg := chatMessages(1, 1000)[0]
	sizes := releaseRounds(t, wc.out.Load, func(round, i int) {
		if err := c.Write(ctx, coder.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round %d, message %d: echo of %d bytes, %v", round, i, len(got), err)
		}
	})
	checkReleased(t, sizes)
	c.Close(coder.StatusNormalClosure, "")
}

// A coder/websocket server taking over its context decodes what our
// client sends after each release.
func TestReleaseCompressionToCoderServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, wc := startCounted(t, coderEchoMode(coder.CompressionContextTakeover, false))
	c, resp, err := client.Dial(ctx, wsURL(s), &client.DialOptions{
		Proxy:       client.NoProxy,
		Compression: &deflate.ClientOptions{},
		Conn:        &conn.Options{ReleaseCompressionAfter: releasePeriod},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wantTakeoverBothWays(t, resp)
	msg := chatMessages(1, 1000)[0]
	var buf []byte
	sizes := releaseRounds(t, wc.in.Load, func(round, i int) {
		if err := c.WriteMessage(ctx, conn.Text, msg); err != nil {
			t.Fatal(err)
		}
		if _, buf, err = c.ReadMessage(ctx, buf[:0]); err != nil || !bytes.Equal(buf, msg) {
			t.Fatalf("round %d, message %d: echo of %d bytes, %v", round, i, len(buf), err)
		}
	})
	checkReleased(t, sizes)
	c.Close(conn.StatusNormalClosure, "")
}
