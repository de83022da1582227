package server

import (
	"net/http"
	"testing"
)

// TestCheckFraming: what net/http lets through to Accept and the raw path
// refuses: a body in any form, and a protocol other than HTTP/1.x.
func TestCheckFraming(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    http.Request
		want int // 0: accepted
	}{
		{"no body", http.Request{ProtoMajor: 1, ProtoMinor: 1}, 0},
		{"Content-Length: 14", http.Request{ProtoMajor: 1, ProtoMinor: 1, ContentLength: 14}, http.StatusBadRequest},
		{"length unknown", http.Request{ProtoMajor: 1, ProtoMinor: 1, ContentLength: -1}, http.StatusBadRequest},
		{"chunked", http.Request{ProtoMajor: 1, ProtoMinor: 1, ContentLength: -1, TransferEncoding: []string{"chunked"}}, http.StatusBadRequest},
		{"identity transfer coding", http.Request{ProtoMajor: 1, ProtoMinor: 1, TransferEncoding: []string{"identity"}}, http.StatusBadRequest},
		{"HTTP/2", http.Request{ProtoMajor: 2}, http.StatusHTTPVersionNotSupported},
		{"HTTP/3", http.Request{ProtoMajor: 3}, http.StatusHTTPVersionNotSupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			he := checkFraming(&tt.r)
			switch {
			case tt.want == 0 && he != nil:
				t.Errorf("refused: %v", he)
			case tt.want != 0 && (he == nil || he.Status != tt.want):
				t.Errorf("got %v, want a %d", he, tt.want)
			case tt.want == http.StatusBadRequest && he.Header.Get("Connection") != "close":
				t.Errorf("the answer does not close the connection: %v", he.Header)
			}
		})
	}
}
