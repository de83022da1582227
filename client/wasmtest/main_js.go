//go:build js && wasm

// Command wasmtest runs in a browser page as WebAssembly and checks
// client.Dial and the Conn against the test server that served it (see
// browser_test.go): each check is a named verdict, and the list is posted
// to the server's /result endpoint, which the host test reads.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"syscall/js"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
)

// verdict is one check's result, as the host test decodes it.
type verdict struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func main() {
	loc := js.Global().Get("location")
	base := "ws://" + loc.Get("host").String()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var verdicts []verdict
	check := func(name string, err error) {
		v := verdict{Name: name, OK: err == nil}
		if err != nil {
			v.Detail = err.Error()
		}
		verdicts = append(verdicts, v)
	}
	run(ctx, base, check)

	body, _ := json.Marshal(verdicts)
	resp, err := http.Post(loc.Get("origin").String()+"/result", "application/json", bytes.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
	status := fmt.Sprintf("wasmtest: %d checks posted (err %v)", len(verdicts), err)
	js.Global().Get("document").Get("body").Set("textContent", status)
}

func run(ctx context.Context, base string, check func(string, error)) {
	// Options the browser cannot honour fail Dial before it connects.
	_, _, err := client.Dial(ctx, base+"/echo", &client.DialOptions{Header: http.Header{"Authorization": {"Bearer x"}}})
	check("header option refused", wantUnsupported(err, "DialOptions.Header"))
	_, _, err = client.Dial(ctx, base+"/echo", &client.DialOptions{Conn: &conn.Options{KeepAliveInterval: time.Second}})
	check("keepalive option refused", wantUnsupported(err, "Options.KeepAliveInterval"))

	// A refused handshake is an error, and the browser says no more.
	_, _, err = client.Dial(ctx, base+"/not-websocket", nil)
	check("refused handshake is an error", wantErr(err))

	c, resp, err := client.Dial(ctx, base+"/echo", &client.DialOptions{
		Subprotocols: []string{"nope.v0", "echo.v1"},
		// Our frames are at most 1000 bytes: longer messages leave the
		// Conn fragmented, and the adapter reassembles them for send.
		Conn: &conn.Options{MaxFrameSize: 1000},
	})
	check("dial", err)
	if err != nil {
		return
	}
	defer c.CloseNow()
	check("subprotocol negotiated", func() error {
		if c.Subprotocol() != "echo.v1" || resp.Header.Get("Sec-WebSocket-Protocol") != "echo.v1" {
			return fmt.Errorf("Subprotocol() = %q, response header %q, want echo.v1", c.Subprotocol(), resp.Header.Get("Sec-WebSocket-Protocol"))
		}
		return nil
	}())

	check("text echo", echo(ctx, c, conn.Text, []byte("héllo, browser ✓")))
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	check("binary echo", echo(ctx, c, conn.Binary, bin))

	// A message streamed through NextWriter in three writes, 10,000
	// bytes in frames of at most 1,000.
	check("fragmented message echo", func() error {
		want := []byte(strings.Repeat("fragment ", 1111)[:9999] + "!")
		w, err := c.NextWriter(ctx, conn.Text)
		if err != nil {
			return err
		}
		for _, part := range [][]byte{want[:10], want[10:5000], want[5000:]} {
			if _, err := w.Write(part); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		return readBack(ctx, c, conn.Text, want)
	}())

	// 8 MiB each way; the server echoes it in 4 KiB frames.
	large := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(21, 7))
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	check("large message echo (8 MiB)", echo(ctx, c, conn.Binary, large))

	// A read whose context ends fails alone; the Conn stays usable.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, _, err = c.ReadMessage(short, nil)
	cancelShort()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil
	} else {
		err = fmt.Errorf("ReadMessage with nothing to read: %v, want context.DeadlineExceeded", err)
	}
	check("read interrupted by its context", err)
	check("echo after interrupted read", echo(ctx, c, conn.Binary, []byte("still usable")))

	_, err = c.Ping(ctx)
	check("ping refused", wantUnsupported(err, "Ping"))
	check("echo after refused ping", echo(ctx, c, conn.Text, []byte("still here")))

	// The server records the code and reason it receives; the host test
	// checks them.
	check("close handshake", c.Close(4321, "bye from the browser"))

	// A message over the read limit fails the connection with 1009 on
	// our side; a page cannot send 1009, so the server sees 1005 (the host
	// test checks it).
	c3, _, err := client.Dial(ctx, base+"/echo-limit", &client.DialOptions{Conn: &conn.Options{ReadLimit: 1000}})
	check("dial /echo-limit", err)
	if err == nil {
		defer c3.CloseNow()
		err := c3.WriteMessage(ctx, conn.Binary, make([]byte, 2000))
		if err == nil {
			_, _, err = c3.ReadMessage(ctx, nil)
			var pe *conn.ProtocolError
			if errors.As(err, &pe) && pe.Code == conn.StatusMessageTooBig {
				err = nil
			} else {
				err = fmt.Errorf("ReadMessage of 2000 bytes with ReadLimit 1000: %v, want a ProtocolError 1009", err)
			}
		}
		check("read limit fails with 1009", err)
	}

	// Input the application does not read is bounded (twice the read
	// limit plus 1 MiB): /flood sends 2.5 MB in 500-byte messages while
	// we sleep, and the connection fails instead of holding it all.
	c4, _, err := client.Dial(ctx, base+"/flood", &client.DialOptions{Conn: &conn.Options{ReadLimit: 1000}})
	check("dial /flood", err)
	if err == nil {
		defer c4.CloseNow()
		time.Sleep(1500 * time.Millisecond)
		n := 0
		for ; n <= 5000; n++ {
			if _, _, err = c4.ReadMessage(ctx, nil); err != nil {
				break
			}
		}
		if err != nil && n < 5000 && strings.Contains(err.Error(), "more than the application read") {
			err = nil
		} else {
			err = fmt.Errorf("after %d of 5000 messages: %v, want the input bound's error", n, err)
		}
		check("unread input is bounded", err)
	}

	// A close started by the server reaches ReadMessage as a *CloseError.
	c2, _, err := client.Dial(ctx, base+"/close-me", nil)
	check("dial /close-me", err)
	if err == nil {
		defer c2.CloseNow()
		_, _, err := c2.ReadMessage(ctx, nil)
		var ce *conn.CloseError
		if errors.As(err, &ce) && ce.Code == 4002 && ce.Reason == "server says bye" {
			err = nil
		} else {
			err = fmt.Errorf("ReadMessage: %v, want a CloseError 4002 \"server says bye\"", err)
		}
		check("server's close code and reason", err)
	}
}

func echo(ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte) error {
	if err := c.WriteMessage(ctx, typ, p); err != nil {
		return err
	}
	return readBack(ctx, c, typ, p)
}

func readBack(ctx context.Context, c *conn.Conn, typ conn.MessageType, want []byte) error {
	gotTyp, got, err := c.ReadMessage(ctx, nil)
	switch {
	case err != nil:
		return err
	case gotTyp != typ:
		return fmt.Errorf("got a %v message, want %v", gotTyp, typ)
	case !bytes.Equal(got, want):
		return fmt.Errorf("got %d bytes, want %d (equal: false)", len(got), len(want))
	}
	return nil
}

func wantUnsupported(err error, what string) error {
	var ue *client.UnsupportedError
	if !errors.Is(err, client.ErrNotSupported) || !errors.As(err, &ue) || ue.What != what {
		return fmt.Errorf("got %v, want an *UnsupportedError for %s", err, what)
	}
	return nil
}

func wantErr(err error) error {
	if err == nil {
		return errors.New("got no error")
	}
	return nil
}
