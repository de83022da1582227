package broadcast_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/ws/broadcast"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// chatRoom returns a handler that joins every connection to room right
// after the handshake, before its first read, and broadcasts what it reads.
func chatRoom(room *broadcast.Group) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered with an error status
		}
		defer c.CloseNow()
		room.Join(c) // before the first read: nothing broadcast after it is missed
		defer room.Leave(c)
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf[:0])
			if err != nil {
				return // the peer closed or failed; room.Leave runs
			}
			buf = msg                // Broadcast copies msg: buf can be reused
			room.Broadcast(typ, msg) // never waits for a slow member
		}
	}
}

// A chat room. A member receives everything said after it joined, its own
// first message included, so a client that sees its own message come back
// knows it is in the room.
func Example_chatRoom() {
	room := broadcast.New(nil) // queues of 64 messages; a member that falls further behind is closed with 1008
	defer room.Close()
	s := httptest.NewServer(chatRoom(room))
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func() *conn.Conn {
		c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{
			Header: http.Header{"Origin": {s.URL}},
			Proxy:  client.NoProxy,
		})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	say := func(c *conn.Conn, text string) {
		if err := c.WriteMessage(ctx, conn.Text, []byte(text)); err != nil {
			log.Fatal(err)
		}
	}
	hear := func(name string, c *conn.Conn) {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s hears %q\n", name, msg)
	}

	bob := dial()
	defer bob.Close(conn.StatusNormalClosure, "")
	say(bob, "bob is here")
	hear("bob", bob) // bob is in the room

	alice := dial()
	defer alice.Close(conn.StatusNormalClosure, "")
	say(alice, "hello from alice") // sent at once: the server joined alice before reading it
	hear("alice", alice)
	hear("bob", bob)
	// Output:
	// bob hears "bob is here"
	// alice hears "hello from alice"
	// bob hears "hello from alice"
}
