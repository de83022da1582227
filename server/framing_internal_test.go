package server

import (
	"net/http"
	"testing"
)

// TestCheckHTTP1: net/http lets a request of any HTTP version through to
// Accept; only HTTP/1.x connections can be taken over.
func TestCheckHTTP1(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    http.Request
		want int // 0: accepted
	}{
		{"HTTP/1.1", http.Request{ProtoMajor: 1, ProtoMinor: 1}, 0},
		{"HTTP/2", http.Request{ProtoMajor: 2}, http.StatusHTTPVersionNotSupported},
		{"HTTP/3", http.Request{ProtoMajor: 3}, http.StatusHTTPVersionNotSupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			he := checkHTTP1(&tt.r)
			switch {
			case tt.want == 0 && he != nil:
				t.Errorf("refused: %v", he)
			case tt.want != 0 && (he == nil || he.Status != tt.want):
				t.Errorf("got %v, want a %d", he, tt.want)
			}
		})
	}
}
