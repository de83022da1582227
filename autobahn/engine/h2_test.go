package engine

import (
	"strings"
	"testing"
)

// TestH2TranslationClient: the suite's own request becomes an extended
// CONNECT without the fields RFC 8441 drops, and a 200 becomes the 101 the
// Session checks, with the accept value of the request's key.
func TestH2TranslationClient(t *testing.T) {
	head := "GET /runCase?case=1 HTTP/1.1\r\nUser-Agent: suite\r\nHost: 127.0.0.1:9001\r\n" +
		"Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	req, key, err := H2RequestFromHandshake(head)
	if err != nil {
		t.Fatal(err)
	}
	if req.Path != "/runCase?case=1" || req.Authority != "127.0.0.1:9001" || key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("request %+v, key %q", req, key)
	}
	for _, k := range []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Host", "Pragma", "Cache-Control"} {
		if _, ok := req.Header[k]; ok {
			t.Errorf("%s kept in the extended CONNECT", k)
		}
	}
	if v := req.Header["Sec-Websocket-Version"]; len(v) != 1 || v[0] != "13" {
		t.Errorf("Sec-WebSocket-Version %q", v)
	}

	resp := HandshakeFromH2Response(200, map[string][]string{"Sec-Websocket-Extensions": {"permessage-deflate"}}, key)
	// RFC 6455 §1.3's example key and accept value.
	for _, want := range []string{"HTTP/1.1 101 ", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", "Sec-Websocket-Extensions: permessage-deflate\r\n"} {
		if !strings.Contains(resp, want) {
			t.Errorf("translated response %q lacks %q", resp, want)
		}
	}
	if got := HandshakeFromH2Response(404, nil, key); !strings.HasPrefix(got, "HTTP/1.1 404 ") {
		t.Errorf("translated refusal %q, want a 404", got)
	}
}

// TestH2TranslationServer: a testee's extended CONNECT becomes a GET the
// Session accepts, and its 101 becomes 200 without the HTTP/1.1 fields.
func TestH2TranslationServer(t *testing.T) {
	get := HandshakeFromH2Request(H2Request{Path: "/runCase?case=3&agent=a", Authority: "127.0.0.1:9001",
		Header: map[string][]string{"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Extensions": {"permessage-deflate"}}})
	for _, want := range []string{"GET /runCase?case=3&agent=a HTTP/1.1\r\n", "Host: 127.0.0.1:9001\r\n", "Upgrade: websocket\r\n",
		"Sec-WebSocket-Key: " + h2Key + "\r\n", "Sec-Websocket-Version: 13\r\n"} {
		if !strings.Contains(get, want) {
			t.Errorf("translated request %q lacks %q", get, want)
		}
	}
	status, hdr, err := H2ResponseHead("HTTP/1.1 101 Switching Protocols\r\nServer: suite\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: x\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || len(hdr) != 2 || hdr["Server"][0] != "suite" || hdr["Sec-Websocket-Extensions"][0] != "permessage-deflate" {
		t.Errorf("H2ResponseHead = %d, %v; want 200 with Server and Sec-WebSocket-Extensions only", status, hdr)
	}
	if status, _, _ := H2ResponseHead("HTTP/1.1 404 Not Found\r\n\r\n"); status != 404 {
		t.Errorf("a refusal translated to %d, want 404", status)
	}
}
