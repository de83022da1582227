package broadcast_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/ws/broadcast"
	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// TestJoinBeforeRead runs the documented order (chatRoom: Join right after
// Accept) and the mistake it prevents (Join after handling the first
// message) over loopback TCP. The client sends two messages the moment the
// handshake completes. Joined before the first read, it receives both; joined
// after, it misses its own first message, which the room broadcast while
// it was not yet a member.
func TestJoinBeforeRead(t *testing.T) {
	joinAfterFirstMessage := func(room *broadcast.Group) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := context.Background()
			for joined := false; ; joined = true {
				typ, msg, err := c.ReadMessage(ctx, nil)
				if err != nil {
					return
				}
				room.Broadcast(typ, msg)
				if !joined {
					room.Join(c) // too late: the first message has gone out
					defer room.Leave(c)
				}
			}
		}
	}
	tests := []struct {
		name    string
		handler func(*broadcast.Group) http.HandlerFunc
		want    []string
	}{
		{"join before the first read", chatRoom, []string{"first", "second"}},
		{"join after the first message", joinAfterFirstMessage, []string{"second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			room := broadcast.New(nil)
			defer room.Close()
			s := httptest.NewServer(tt.handler(room))
			defer s.Close()

			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.DialOptions{
				Header: http.Header{"Origin": {s.URL}},
				Proxy:  client.NoProxy,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			for _, m := range []string{"first", "second"} {
				if err := c.WriteMessage(ctx, conn.Text, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readAll(c, "second")
			if err != nil {
				t.Fatalf("reading the room: %v (after %q)", err, got)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages received (-want +got):\n%s", diff)
			}
		})
	}
}
