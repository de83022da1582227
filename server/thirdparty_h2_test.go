package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/server"
)

// nodeClient is an RFC 8441 client on Node.js's http2 module (nghttp2):
// it waits for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL, opens an
// extended CONNECT, sends one masked text frame, answers the echo with a
// masked close 1000, ends its half at the server's close, and prints what
// it saw. It speaks only the small unfragmented frames this test needs.
const nodeClient = `
const http2 = require('http2');
const url = new URL(process.argv[2]);
const session = http2.connect(url.origin);
session.on('error', e => { console.log(JSON.stringify({error: e.message})); process.exit(1); });
const mask = (p, m) => Buffer.from(p.map((b, i) => b ^ m[i % 4]));
const frame = (op, p) => { const m = Buffer.from([1, 2, 3, 4]); return Buffer.concat([Buffer.from([0x80 | op, 0x80 | p.length]), m, mask(p, m)]); };
session.on('remoteSettings', s => {
  if (!s.enableConnectProtocol) { console.log(JSON.stringify({error: 'no SETTINGS_ENABLE_CONNECT_PROTOCOL'})); process.exit(1); }
  const req = session.request({':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': url.pathname,
    ':authority': url.host, 'sec-websocket-version': '13'});
  const out = {frames: []};
  let buf = Buffer.alloc(0);
  req.on('response', h => { out.status = h[':status']; req.write(frame(1, Buffer.from('hello from node'))); });
  req.on('data', d => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + (buf[1] & 0x7f)) {
      const op = buf[0] & 0x0f, n = buf[1] & 0x7f, p = buf.subarray(2, 2 + n);
      buf = buf.subarray(2 + n);
      out.frames.push(op === 8 ? {op, code: p.readUInt16BE(0)} : {op, text: p.toString()});
      if (op === 1) req.write(frame(8, Buffer.from([0x03, 0xe8])));
      if (op === 8) req.end();
    }
  });
  req.on('close', () => { out.rst = req.rstCode; console.log(JSON.stringify(out)); session.close(); });
});
`

// TestHTTP2NodeClient: Node.js's HTTP/2 client (nghttp2), an independent
// RFC 8441 implementation, opens a WebSocket on our server, echoes and
// closes cleanly.
func TestHTTP2NodeClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("WS_REQUIRE_PEERS") != "" {
			t.Fatalf("WS_REQUIRE_PEERS is set and %s is not installed: %v", "node", err)
		}
		t.Skip("node is not installed: the Node.js HTTP/2 client test is skipped")
	}
	ends := make(chan error, 1)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Accept(w, r, nil)
		if err != nil {
			ends <- err
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage(r.Context(), nil)
			if err == nil {
				err = c.WriteMessage(r.Context(), typ, msg)
			}
			if err != nil {
				ends <- err
				return
			}
		}
	}))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	defer s.Close()

	script := filepath.Join(t.TempDir(), "client.js")
	if err := os.WriteFile(script, []byte(nodeClient), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script, s.URL+"/ws").CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Error  string
		Status int
		Frames []struct {
			Op   int
			Text string
			Code int
		}
		Rst int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	t.Logf("node: %+v", got)
	if got.Error != "" || got.Status != 200 || len(got.Frames) != 2 ||
		got.Frames[0].Op != 1 || got.Frames[0].Text != "hello from node" ||
		got.Frames[1].Op != 8 || got.Frames[1].Code != 1000 || got.Rst != 0 {
		t.Errorf("node saw %+v; want 200, the echo, a close 1000 and no RST_STREAM", got)
	}
	var ce *conn.CloseError
	select {
	case err := <-ends:
		if !errors.As(err, &ce) || ce.Code != conn.StatusNormalClosure {
			t.Errorf("the server's end: %v, want a close with 1000", err)
		}
	case <-ctx.Done():
		t.Fatal("the server's handler did not end")
	}
}
