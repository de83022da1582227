package echo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/client"
	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/internal/echo"
	"github.com/rfc6455/ws/server"
)

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// script is a server that sends messages to the echo client, checks each
// echo and then ends the connection with end.
func script(t *testing.T, end func(c *conn.Conn)) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, m := range []struct {
			typ conn.MessageType
			p   string
		}{{conn.Text, "héllo"}, {conn.Binary, "\x00\xff\x10"}, {conn.Text, ""}, {conn.Binary, strings.Repeat("b", 70000)}} {
			if err := c.WriteMessage(ctx, m.typ, []byte(m.p)); err != nil {
				t.Error(err)
				return
			}
			typ, p, err := c.ReadMessage(ctx, nil)
			if err != nil || typ != m.typ || string(p) != m.p {
				t.Errorf("echo of %v %d bytes: %v %d bytes, %v", m.typ, len(m.p), typ, len(p), err)
				return
			}
		}
		end(c)
	}))
}

func TestRunClient(t *testing.T) {
	opts := &client.DialOptions{Proxy: client.NoProxy}
	t.Run("clean close", func(t *testing.T) {
		s := script(t, func(c *conn.Conn) {
			if err := c.Close(conn.StatusNormalClosure, "done"); err != nil {
				t.Errorf("server Close: %v", err)
			}
		})
		defer s.Close()
		if err := echo.RunClient(context.Background(), wsURL(s), opts); err != nil {
			t.Errorf("RunClient: %v, want nil after the server's close", err)
		}
	})
	t.Run("close with another code", func(t *testing.T) {
		s := script(t, func(c *conn.Conn) { c.Close(4000, "case over") })
		defer s.Close()
		if err := echo.RunClient(context.Background(), wsURL(s), opts); err != nil {
			t.Errorf("RunClient: %v, want nil: the closing handshake completed", err)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		s := script(t, func(c *conn.Conn) { c.CloseNow() })
		defer s.Close()
		err := echo.RunClient(context.Background(), wsURL(s), opts)
		var ce *conn.CloseError
		if err == nil || errors.As(err, &ce) && ce.Code != conn.StatusAbnormalClosure {
			t.Errorf("RunClient: %v, want an abnormal closure", err)
		}
	})
	t.Run("no server", func(t *testing.T) {
		s := httptest.NewServer(http.NotFoundHandler())
		defer s.Close()
		if err := echo.RunClient(context.Background(), wsURL(s), opts); err == nil {
			t.Error("RunClient succeeded against a 404")
		}
	})
}

// TestHandlerAnyOrigin: the echo endpoint is a test server and accepts
// cross-origin requests.
func TestHandlerAnyOrigin(t *testing.T) {
	s := httptest.NewServer(echo.Handler(nil))
	defer s.Close()
	ctx := context.Background()
	c, _, err := client.Dial(ctx, wsURL(s), &client.DialOptions{
		Proxy:  client.NoProxy,
		Header: http.Header{"Origin": {"https://elsewhere.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, conn.Binary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if typ, p, err := c.ReadMessage(ctx, nil); err != nil || typ != conn.Binary || string(p) != "\x01\x02\x03" {
		t.Errorf("echo: %v %v %v", typ, p, err)
	}
}
