package handshake_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/rfc6455/ws/handshake"
)

func ExampleAcceptKey() {
	// The example of RFC 6455 §1.3.
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleParseExtensions() {
	exts, err := handshake.ParseExtensions([]string{
		`permessage-deflate; client_max_window_bits="10", permessage-deflate`,
		"x-webkit-deflate-frame",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range exts {
		fmt.Printf("%s %+v\n", e.Name, e.Params)
	}
	fmt.Printf("%s\n", handshake.AppendExtensions(nil, exts))

	_, err = handshake.ParseExtensions([]string{`permessage-deflate; client_max_window_bits="1 0"`})
	fmt.Println(errors.Is(err, handshake.ErrMalformedExtensions))
	// Output:
	// permessage-deflate [{Name:client_max_window_bits Value:10 HasValue:true}]
	// permessage-deflate []
	// x-webkit-deflate-frame []
	// permessage-deflate; client_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame
	// true
}

// A server on a raw listener reads the request from the connection,
// validates it and writes the response; on failure it writes the error
// response and closes the connection.
func ExampleReadRequest() {
	conn := strings.NewReader("GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n")
	br := bufio.NewReader(conn)

	var out []byte
	r, err := handshake.ReadRequest(br, 0)
	var req *handshake.Request
	if err == nil {
		req, err = handshake.ParseRequest(r)
	}
	if err == nil {
		policy := &handshake.OriginPolicy{Patterns: []string{"example.com"}}
		err = policy.Verify(r)
	}
	var herr *handshake.Error
	switch {
	case errors.As(err, &herr):
		out = handshake.AppendErrorResponse(out, herr)
	case err != nil:
		return // the connection failed; close it
	default:
		proto := handshake.SelectSubprotocol([]string{"chat"}, req.Protocols)
		out = handshake.AppendResponse(out, req.Key, proto, nil)
	}
	os.Stdout.WriteString(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

func ExampleParseRequest_versionMismatch() {
	r, _ := http.NewRequest("GET", "http://example.com/", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Version", "8")

	_, err := handshake.ParseRequest(r)
	var herr *handshake.Error
	if errors.As(err, &herr) {
		fmt.Println(herr.Status, herr.Header.Get("Sec-WebSocket-Version"))
	}
	// Output: 426 13
}

func ExampleSelectSubprotocol() {
	// The server prefers v2; the client listed v1 first.
	fmt.Println(handshake.SelectSubprotocol([]string{"v2.chat", "v1.chat"}, []string{"v1.chat", "v2.chat"}))
	// Output: v2.chat
}

// A client builds its request, sends it, then reads and checks the
// server's answer.
func ExampleCheckResponse() {
	key := "dGhlIHNhbXBsZSBub25jZQ==" // from handshake.NewKey() in real use
	u, _ := url.Parse("ws://server.example.com/chat")
	req, err := handshake.NewClientRequest(u, key, []string{"chat", "superchat"}, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// req.Write(conn) would send it; here the server's answer is canned.
	conn := strings.NewReader("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n")
	resp, err := handshake.ReadResponse(bufio.NewReader(conn), req, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := handshake.CheckResponse(resp, key, []string{"chat", "superchat"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("subprotocol %q, %d extensions\n", res.Protocol, len(res.Extensions))
	// Output: subprotocol "chat", 0 extensions
}

func ExampleResponseError() {
	conn := strings.NewReader("HTTP/1.1 403 Forbidden\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Length: 19\r\n" +
		"\r\n" +
		"origin not allowed\n")
	resp, _ := handshake.ReadResponse(bufio.NewReader(conn), nil, 0)
	_, err := handshake.CheckResponse(resp, "dGhlIHNhbXBsZSBub25jZQ==", nil)
	var rerr *handshake.ResponseError
	if errors.As(err, &rerr) {
		fmt.Println(rerr.Response.StatusCode, rerr.Response.Header.Get("Content-Type"))
		fmt.Printf("%q\n", rerr.Body)
		fmt.Println(err)
	}
	// Output:
	// 403 text/plain
	// "origin not allowed\n"
	// handshake: the server did not switch protocols (HTTP 403 Forbidden)
}
