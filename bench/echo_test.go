package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/rfc6455/ws/bench/internal/payload"
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
//
// comp=on enables permessage-deflate on both ends as each library
// recommends (peers.Lib.Compression): ours, the zero deflate.ServerOptions
// and ClientOptions (context takeover both ways); gorilla,
// EnableCompression (no context takeover); coder, CompressionContextTakeover
// (messages over 128 bytes compressed); gobwas, wsflate.DefaultParameters
// (no context takeover) with wsflate.Reader/Writer over compress/flate, a
// message-level echo; gws, PermessageDeflate{Enabled: true} (no context
// takeover, messages from 512 bytes compressed). Messages are the JSON-like
// bodies of package payload; with compression on, the client cycles
// through enough distinct ones (payload.Series) that none repeats within
// 64 KiB, so that context takeover cannot turn an echo into a reference to
// the previous identical message.
func BenchmarkEcho(b *testing.B) {
	ctx := context.Background()
	for _, name := range peers.Names() {
		lib, _ := peers.Get(name)
		for _, comp := range []string{"off", "on"} {
			o := peers.Options{Compress: comp == "on"}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go lib.Serve(ln, o)
			benchEcho(ctx, b, lib, o, "ws://"+ln.Addr().String()+"/")
			ln.Close()
		}
	}
}

// benchEcho runs the transport × type × size grid of one library with o.
func benchEcho(ctx context.Context, b *testing.B, lib peers.Lib, o peers.Options, url string) {
	comp := "off"
	if o.Compress {
		comp = "on"
	}
	for _, tr := range []string{"pipe", "tcp"} {
		dial := (&net.Dialer{}).DialContext
		if tr == "pipe" {
			dial = peers.PipeDialer(lib, o)
		}
		for _, typ := range []string{"binary", "text"} {
			for _, n := range echoSizes {
				name := fmt.Sprintf("lib=%s/net=%s/comp=%s/type=%s/size=%s", lib.Name, tr, comp, typ, sizeLabel(n))
				b.Run(name, func(b *testing.B) {
					c, err := lib.Dial(ctx, url, dial, o)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					text := typ == "text"
					count := 1
					if o.Compress && n > 0 {
						count = (64<<10)/n + 1
					}
					msgs := payload.Series(n, count)
					for _, msg := range msgs { // warm up buffers
						got, err := c.Echo(ctx, text, msg)
						if err != nil || !bytes.Equal(got, msg) {
							b.Fatalf("first echo: %v", err)
						}
					}
					b.SetBytes(int64(n))
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						got, err := c.Echo(ctx, text, msgs[i%count])
						i++
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
}
