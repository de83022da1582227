package conn

import (
	"context"
	"fmt"
	"net"
	"testing"
)

var echoSizes = []int{16, 1 << 10, 64 << 10}

// BenchmarkEcho measures a client writing a binary message and reading the
// server's echo, over net.Pipe and over loopback TCP. Bytes per op count
// the message once.
func BenchmarkEcho(b *testing.B) {
	transports := []struct {
		name string
		pair func(testing.TB) (net.Conn, net.Conn)
	}{
		{"pipe", func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }},
		{"tcp", tcpPair},
	}
	for _, tr := range transports {
		for _, n := range echoSizes {
			b.Run(fmt.Sprintf("%s/%s", tr.name, sizeLabel(n)), func(b *testing.B) {
				a, c := tr.pair(b)
				srv := New(a, Setup{Role: Server})
				cli := New(c, Setup{Role: Client})
				defer srv.CloseNow()
				defer cli.CloseNow()
				go echo(srv)
				msg := payload(n, false)
				buf := make([]byte, 0, n)
				ctx := context.Background()
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if err := cli.WriteMessage(ctx, Binary, msg); err != nil {
						b.Fatal(err)
					}
					var err error
					if _, buf, err = cli.ReadMessage(ctx, buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func sizeLabel(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkEchoCancellableContext shows the cost of a context that can be
// cancelled: context.AfterFunc's allocations, per read and per write.
func BenchmarkEchoCancellableContext(b *testing.B) {
	a, c := tcpPair(b)
	srv := New(a, Setup{Role: Server})
	cli := New(c, Setup{Role: Client})
	defer srv.CloseNow()
	defer cli.CloseNow()
	go echo(srv)
	msg := payload(1<<10, false)
	buf := make([]byte, 0, len(msg))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := cli.WriteMessage(ctx, Binary, msg); err != nil {
			b.Fatal(err)
		}
		var err error
		if _, buf, err = cli.ReadMessage(ctx, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
