// Command testee-client is the project's WebSocket client as a testee for
// the classic Autobahn workflow: it asks a fuzzing server how many cases it
// has, runs each one by echoing every message until the server closes,
// then asks it to write its reports.
//
//	go run ./autobahn/cmd/wstest -m fuzzingserver -s spec.json
//	go run ./autobahn/cmd/testee-client -url ws://127.0.0.1:9001 -agent mine
//
// It works with the original suite's fuzzing server as well as with
// wstest's. With -h2 it connects over HTTP/2 (RFC 8441), to
// wstest -m fuzzingserver -h2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/internal/echo"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "fuzzing server URL")
	agent := flag.String("agent", "rfc6455-ws-client", "agent name for the reports")
	parallel := flag.Int("j", 1, "cases run at once (the original's testee clients run one at a time)")
	compress := flag.Bool("compress", true, "offer permessage-deflate (RFC 7692)")
	h2 := flag.Bool("h2", false, "connect over HTTP/2 (RFC 8441 extended CONNECT; prior knowledge for ws://, ALPN for wss://), every case on one shared connection while the server allows")
	flag.Parse()
	useCompression = *compress
	if *h2 {
		http2Pool = client.NewHTTP2Pool(nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *base, *agent, *parallel); err != nil {
		fmt.Fprintln(os.Stderr, "testee-client:", err)
		os.Exit(1)
	}
}

// useCompression is the -compress flag, read once in main; http2Pool is
// set by -h2.
var (
	useCompression bool
	http2Pool      *client.HTTP2Pool
)

func options() *client.DialOptions {
	opts := &client.DialOptions{Conn: &conn.Options{}}
	if useCompression {
		opts.Compression = &deflate.ClientOptions{}
	}
	if http2Pool != nil {
		opts.HTTP2, opts.HTTP2Pool, opts.Proxy = client.HTTP2Require, http2Pool, client.NoProxy
	}
	return opts
}

// control connects to a control endpoint and returns the text messages the
// server sends before it closes.
func control(ctx context.Context, url string) ([]string, error) {
	c, _, err := client.Dial(ctx, url, options())
	if err != nil {
		return nil, err
	}
	defer c.CloseNow()
	var msgs []string
	for {
		_, p, err := c.ReadMessage(ctx, nil)
		if err != nil {
			if ce := (*conn.CloseError)(nil); errors.As(err, &ce) {
				return msgs, nil
			}
			return msgs, err
		}
		msgs = append(msgs, string(p))
	}
}

func run(ctx context.Context, base, agent string, parallel int) error {
	msgs, err := control(ctx, base+"/getCaseCount")
	if err != nil {
		return err
	}
	if len(msgs) != 1 {
		return fmt.Errorf("getCaseCount: got %q", msgs)
	}
	n, err := strconv.Atoi(msgs[0])
	if err != nil {
		return fmt.Errorf("getCaseCount: %w", err)
	}
	fmt.Printf("testee-client: %d cases\n", n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				// A case may end with the server failing the connection
				// on purpose; that is the case's result, not an error.
				echo.RunClient(ctx, base+"/runCase?case="+strconv.Itoa(i)+"&agent="+agent, options())
			}
		}()
	}
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		if i%50 == 0 || i == n {
			fmt.Printf("testee-client: case %d/%d\n", i, n)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	_, err = control(ctx, base+"/updateReports?agent="+agent)
	return err
}
