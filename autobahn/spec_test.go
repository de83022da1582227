package autobahn

import (
	"context"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
)

func TestSelectCases(t *testing.T) {
	set := cases.Default()
	tests := []struct {
		cases, exclude []string
		want           string // first IDs, comma separated, then "...N" for the count
	}{
		{[]string{"1.1.*"}, nil, "1.1.1,1.1.2,1.1.3,1.1.4,1.1.5,1.1.6,1.1.7,1.1.8"},
		{[]string{"6.4.*", "2.1"}, []string{"6.4.2"}, "2.1,6.4.1,6.4.3,6.4.4"},
		// Patterns match at the start of an ID, like the original's.
		{[]string{"1*"}, []string{"1.*", "12.*", "13.*"}, "10.1.1"},
		{[]string{"*"}, []string{"9.*", "12.*", "13.*"}, "...247"},
		{[]string{"*"}, nil, "...517"},
		{[]string{"7.13.2", "7.13.2"}, nil, "7.13.2"},
	}
	for _, tt := range tests {
		s := &Spec{Cases: tt.cases, ExcludeCases: tt.exclude}
		ids, err := s.SelectCases(set)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(ids, ",")
		if strings.HasPrefix(tt.want, "...") {
			got = "..." + itoa(len(ids))
		}
		if got != tt.want {
			t.Errorf("%v minus %v = %s, want %s", tt.cases, tt.exclude, got, tt.want)
		}
	}
	if _, err := (&Spec{Cases: []string{"99.1"}}).SelectCases(set); err == nil {
		t.Error("unknown case accepted")
	}
}

func TestAgentExclusions(t *testing.T) {
	s := &Spec{ExcludeAgentCases: map[string][]string{"Autobahn*": {"12.*", "6.4.1"}, "other": {"*"}}}
	ex, err := s.agentExcluder()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		agent, id string
		want      bool
	}{
		{"AutobahnPython", "12.1.1", true}, {"AutobahnPython", "6.4.1", true}, {"AutobahnPython", "6.4.10", false},
		{"xAutobahn", "12.1.1", false}, {"other", "1.1.1", true}, {"others", "1.1.1", false},
	} {
		if got := ex(tt.agent, tt.id); got != tt.want {
			t.Errorf("%s %s: %v", tt.agent, tt.id, got)
		}
	}
}

func TestParseWSURL(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want wsURL
	}{
		{"ws://localhost:9001", wsURL{host: "localhost", dialHost: "localhost", port: 9001, resource: "/"}},
		{"wss://example.com/path?a=b", wsURL{secure: true, host: "example.com", dialHost: "example.com", port: 443, resource: "/path?a=b"}},
		{"ws://[::1]/x", wsURL{host: "[::1]", dialHost: "::1", port: 80, resource: "/x"}},
	} {
		got, err := parseWSURL(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"http://x", "ws://x#f", "ws://x:port"} {
		if _, err := parseWSURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	o, err := options(map[string]any{"failByDrop": true, "closeHandshakeTimeout": 2.5}, map[string]any{"version": 18.0})
	if err != nil || !o.FailByDrop || o.CloseHandshakeTimeout.Seconds() != 2.5 {
		t.Errorf("%+v %v", o, err)
	}
	if _, err := options(map[string]any{"nope": 1.0}); err == nil {
		t.Error("unknown option accepted")
	}
	if _, err := options(map[string]any{"failByDrop": "yes"}); err == nil {
		t.Error("bad option type accepted")
	}
}

// Like the original, a server that cannot be reached is given up with an
// error and its cases do not run.
func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := NewResults()
	c := &Client{Spec: &Spec{Cases: []string{"1.1.1", "1.1.2"}, Servers: []ServerSpec{{Agent: "gone", URL: "ws://" + addr}}},
		Set: cases.Default(), Parallel: 1, DialTimeout: time.Second}
	if err := c.Run(context.Background(), res); err == nil {
		t.Error("no error for an unreachable server")
	}
	if len(res.Snapshot()) != 0 {
		t.Errorf("results for an unreachable server: %v", res.Agents())
	}
}
