package conn_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/rfc6455/ws/conn"
)

// An echo loop that allocates nothing per message once buf has grown.
func Example_echo() {
	a, b := net.Pipe() // stands in for a connection after the handshake
	srv := conn.New(a, conn.Setup{Role: conn.Server})
	cli := conn.New(b, conn.Setup{Role: conn.Client})

	go func() {
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := srv.ReadMessage(ctx, buf[:0])
			if err != nil {
				return
			}
			buf = msg
			if err := srv.WriteMessage(ctx, typ, msg); err != nil {
				return
			}
		}
	}()

	ctx := context.Background()
	go cli.WriteMessage(ctx, conn.Text, []byte("hello"))
	typ, msg, _ := cli.ReadMessage(ctx, nil)
	fmt.Println(typ, string(msg))

	// Close runs the closing handshake: the server's loop answers it.
	fmt.Println(cli.Close(conn.StatusNormalClosure, "done"))
	// Output:
	// text hello
	// <nil>
}

// A close from the peer ends ReadMessage with a *CloseError.
func ExampleCloseError() {
	a, b := net.Pipe()
	srv := conn.New(a, conn.Setup{Role: conn.Server})
	cli := conn.New(b, conn.Setup{Role: conn.Client})
	defer cli.CloseNow()

	go srv.Close(conn.StatusGoingAway, "restarting")
	_, _, err := cli.ReadMessage(context.Background(), nil)
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		fmt.Println(ce.Code, ce.Reason)
	}
	// Output: going away restarting
}

func ExamplePreparedMessage() {
	a, b := net.Pipe()
	srv := conn.New(a, conn.Setup{Role: conn.Server})
	cli := conn.New(b, conn.Setup{Role: conn.Client})
	defer srv.CloseNow()
	defer cli.CloseNow()

	// Encode once, send to every subscriber.
	pm, _ := conn.NewPreparedMessage(conn.Text, []byte(`{"price":42}`))
	go srv.WritePrepared(context.Background(), pm)
	_, msg, _ := cli.ReadMessage(context.Background(), nil)
	fmt.Println(string(msg))
	// Output: {"price":42}
}
