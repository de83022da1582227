package peers

import (
	"net"
	"net/http"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// nbio: lesismal/nbio's nbhttp.Engine in its default, non-blocking I/O
// mode (epoll loops, no goroutine per connection) with the websocket
// Upgrader's OnMessage echoing through Conn.WriteMessage, as its autobahn
// server and examples do (whole messages; its Upgrader validates UTF-8).
// The engine is given the listener through Config.Listen. Compression:
// Upgrader.EnableCompression(true). Server only: its client is ours.
func init() {
	register(Lib{
		Name: "nbio",
		Serve: func(ln net.Listener, o Options) error {
			u := websocket.NewUpgrader()
			u.CheckOrigin = func(*http.Request) bool { return true }
			u.MessageLengthLimit = MaxMessage
			if o.Compress {
				u.EnableCompression(true)
			}
			u.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				c.WriteMessage(typ, data)
			})
			mux := http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				u.Upgrade(w, r, nil)
			})
			engine := nbhttp.NewEngine(nbhttp.Config{
				Network: "tcp",
				Addrs:   []string{ln.Addr().String()},
				Handler: mux,
				Listen:  func(string, string) (net.Listener, error) { return ln, nil },
			})
			if err := engine.Start(); err != nil {
				return err
			}
			select {} // until the process is stopped, as the other servers
		},
		Dial:          dialOurs,
		ValidatesUTF8: true,
		Reassembles:   true,
		ServerOnly:    true,
		API:           "nbhttp.Engine (IOModNonBlocking) + websocket.Upgrader.OnMessage + Conn.WriteMessage",
		Compression:   "Upgrader.EnableCompression(true)",
	})
}
