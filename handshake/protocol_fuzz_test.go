package handshake

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// protocolsModel is RFC 6455 §4.1 item 10 read literally: the
// Sec-WebSocket-Protocol field values, each a comma-separated list
// (RFC 7230 §7: empty elements and optional whitespace allowed) of
// tokens. It returns nil and false when an element is not a token.
func protocolsModel(values []string) ([]string, bool) {
	var list []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			elem = strings.Trim(elem, " \t")
			if elem == "" {
				continue
			}
			for i := 0; i < len(elem); i++ {
				if c := elem[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
					return nil, false
				}
			}
			list = append(list, elem)
		}
	}
	return list, true
}

// FuzzSubprotocols checks Sec-WebSocket-Protocol on both sides of the
// handshake (RFC 6455 §4.1 item 10, §4.2.1 item 8, §4.2.2 step 4):
//
//   - the server's ParseRequest reads one or two field lines as the model
//     does, refusing with 400 exactly when the model finds a non-token,
//     and the list it returns, written back as one field, reads the same;
//   - SelectSubprotocol picks a protocol the client offered;
//   - the client's CheckResponse accepts a response field exactly when it
//     is a single field holding one token, optional whitespace around it,
//     that the client offered, and reports that token.
func FuzzSubprotocols(f *testing.F) {
	for _, s := range [][2]string{
		{"chat, superchat", ""},
		{"chat", "superchat"},
		{" , chat ,,\tv2.json ,", ""},
		{"chat superchat", ""},
		{`"chat"`, ""},
		{"chat,", "soap;v=1"},
		{"\xe2\x82\xac", ""},
		{"", ""},
	} {
		f.Add(s[0], s[1], "chat", uint8(0))
	}
	f.Add("chat, superchat", "", " superchat\t", uint8(1))
	f.Add("chat", "", "chat, superchat", uint8(1))
	f.Add("a", "", "a", uint8(2))
	f.Fuzz(func(t *testing.T, v1, v2, answer string, mode uint8) {
		// Server side.
		values := []string{v1}
		if v2 != "" {
			values = append(values, v2)
		}
		want, ok := protocolsModel(values)
		r := &http.Request{
			Method: "GET", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com",
			Header: http.Header{
				hdrUpgrade:    {"websocket"},
				hdrConnection: {"Upgrade"},
				hdrVersion:    {"13"},
				hdrKey:        {rfcKey},
				hdrProtocol:   values,
			},
		}
		req, err := ParseRequest(r)
		if !ok {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("Sec-WebSocket-Protocol %q: ParseRequest = %v, want a 400", values, err)
			}
		} else {
			if err != nil {
				t.Fatalf("Sec-WebSocket-Protocol %q: ParseRequest: %v", values, err)
			}
			if !slices.Equal(req.Protocols, want) {
				t.Fatalf("Sec-WebSocket-Protocol %q: protocols %q, want %q", values, req.Protocols, want)
			}
			again, ok := parseTokenList([]string{strings.Join(req.Protocols, ", ")})
			if !ok || !slices.Equal(again, req.Protocols) {
				t.Fatalf("protocols %q do not read back: %q, %v", req.Protocols, again, ok)
			}
			prefs := []string{answer, "chat", ""}
			if p := SelectSubprotocol(prefs, req.Protocols); p != "" && !slices.Contains(req.Protocols, p) {
				t.Fatalf("SelectSubprotocol chose %q from offers %q", p, req.Protocols)
			}
		}

		// Client side: the client offered want (when it is a valid
		// offer), the server answers with one or more fields.
		offered := want
		if !ok || checkProtocolOffers(offered) != nil {
			offered = []string{"chat"}
		}
		var answers []string
		switch mode % 3 {
		case 0:
			answers = nil
		case 1:
			answers = []string{answer}
		case 2:
			answers = []string{answer, answer}
		}
		resp := &http.Response{
			StatusCode: http.StatusSwitchingProtocols,
			Status:     "101 Switching Protocols",
			Header: http.Header{
				hdrUpgrade:    {"websocket"},
				hdrConnection: {"Upgrade"},
				hdrAccept:     {AcceptKey(rfcKey)},
			},
		}
		if answers != nil {
			resp.Header[hdrProtocol] = answers
		}
		got, err := CheckResponse(resp, rfcKey, offered)
		chosen := strings.Trim(answer, " \t")
		single, _ := protocolsModel([]string{chosen})
		wantOK := len(answers) == 0 ||
			len(answers) == 1 && len(single) == 1 && single[0] == chosen && slices.Contains(offered, chosen)
		switch {
		case wantOK && err != nil:
			t.Fatalf("offered %q, answer %q: CheckResponse: %v", offered, answers, err)
		case !wantOK && err == nil:
			t.Fatalf("offered %q, answer %q: accepted as %q", offered, answers, got.Protocol)
		case err != nil:
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("CheckResponse error %T %v", err, err)
			}
		case len(answers) == 0 && got.Protocol != "", len(answers) == 1 && got.Protocol != chosen:
			t.Fatalf("answer %q: protocol %q", answers, got.Protocol)
		}
	})
}
