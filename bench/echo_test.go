package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/rfc6455/ws/bench/internal/peers"
)

var echoSizes = []int{16, 1 << 10, 16 << 10, 64 << 10}

// BenchmarkEcho measures one round trip per op: the client sends a message
// and reads its echo, both ends running the same library through the API
// named in internal/peers (for ours: WriteMessage and ReadMessage into a
// reused buffer; gorilla: WriteMessage and NextReader; coder: Write and
// Reader; gobwas: frame-level ws.ReadHeader/ws.Cipher with buffered
// writes; gws: the OnMessage event API). Bytes per op count the message
// once. net=pipe runs over net.Pipe (no kernel, no buffering); net=tcp over
// loopback TCP with the library's own listening server.
func BenchmarkEcho(b *testing.B) {
	ctx := context.Background()
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go lib.Serve(ln)
		url := "ws://" + ln.Addr().String() + "/"
		for _, tr := range []string{"pipe", "tcp"} {
			dial := (&net.Dialer{}).DialContext
			if tr == "pipe" {
				dial = peers.PipeDialer(lib)
			}
			for _, typ := range []string{"binary", "text"} {
				for _, n := range echoSizes {
					name := fmt.Sprintf("lib=%s/net=%s/type=%s/size=%s", name, tr, typ, sizeLabel(n))
					b.Run(name, func(b *testing.B) {
						c, err := lib.Dial(ctx, url, dial)
						if err != nil {
							b.Fatal(err)
						}
						defer c.Close()
						text := typ == "text"
						msg := peers.Payload(n, text)
						got, err := c.Echo(ctx, text, msg) // warm up buffers
						if err != nil || !bytes.Equal(got, msg) {
							b.Fatalf("first echo: %v", err)
						}
						b.SetBytes(int64(n))
						b.ReportAllocs()
						for b.Loop() {
							got, err := c.Echo(ctx, text, msg)
							if err != nil {
								b.Fatal(err)
							}
							if len(got) != n {
								b.Fatalf("echo of %d bytes, want %d", len(got), n)
							}
						}
					})
				}
			}
		}
		ln.Close()
	}
}
