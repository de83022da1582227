package interop

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
)

// benchSize is the message size of the loopback echo comparison.
const benchSize = 1 << 10

// readInto reads r to the end into buf, reusing its capacity.
func readInto(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// BenchmarkLoopbackEcho measures a round trip of a 1 KiB binary message
// over loopback TCP, client and server of the same library, each side
// written the way that library reads into a reused buffer. Allocations
// are those of both sides (they share the process).
func BenchmarkLoopbackEcho(b *testing.B) {
	msg := payload(false, benchSize, 1)

	b.Run("impl=ws", func(b *testing.B) {
		s := httptest.NewServer(echo.Handler(nil))
		defer s.Close()
		ctx := context.Background()
		c, _, err := client.Dial(ctx, wsURL(s), &client.DialOptions{Proxy: client.NoProxy})
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		var buf []byte
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteMessage(ctx, conn.Binary, msg); err != nil {
				b.Fatal(err)
			}
			if _, buf, err = c.ReadMessage(ctx, buf[:0]); err != nil || len(buf) != benchSize {
				b.Fatal(err)
			}
		}
	})

	b.Run("impl=gorilla", func(b *testing.B) {
		up := websocket.Upgrader{}
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			var buf []byte
			for {
				typ, rd, err := c.NextReader()
				if err != nil {
					return
				}
				if buf, err = readInto(rd, buf); err != nil {
					return
				}
				if c.WriteMessage(typ, buf) != nil {
					return
				}
			}
		}))
		defer s.Close()
		c, _, err := websocket.DefaultDialer.Dial(wsURL(s), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var buf []byte
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				b.Fatal(err)
			}
			_, rd, err := c.NextReader()
			if err != nil {
				b.Fatal(err)
			}
			if buf, err = readInto(rd, buf); err != nil || len(buf) != benchSize {
				b.Fatal(err)
			}
		}
	})

	b.Run("impl=coder", func(b *testing.B) {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := coder.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := r.Context()
			var buf []byte
			for {
				typ, rd, err := c.Reader(ctx)
				if err != nil {
					return
				}
				if buf, err = readInto(rd, buf); err != nil {
					return
				}
				if c.Write(ctx, typ, buf) != nil {
					return
				}
			}
		}))
		defer s.Close()
		ctx := context.Background()
		c, _, err := coder.Dial(ctx, wsURL(s), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		var buf []byte
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Write(ctx, coder.MessageBinary, msg); err != nil {
				b.Fatal(err)
			}
			_, rd, err := c.Reader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if buf, err = readInto(rd, buf); err != nil || len(buf) != benchSize {
				b.Fatal(err)
			}
		}
	})
}
