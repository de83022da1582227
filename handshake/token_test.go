package handshake

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsTokenChar(t *testing.T) {
	// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" /
	// "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
	const tchars = "!#$%&'*+-.^_`|~0123456789" +
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := range 256 {
		want := strings.IndexByte(tchars, byte(c)) >= 0
		if got := isTokenChar(byte(c)); got != want {
			t.Errorf("isTokenChar(%#x) = %v, want %v", c, got, want)
		}
	}
}

func TestIsFieldValueByte(t *testing.T) {
	for c := range 256 {
		want := c == '\t' || c >= 0x20 && c != 0x7f
		if got := isFieldValueByte(byte(c)); got != want {
			t.Errorf("isFieldValueByte(%#x) = %v, want %v", c, got, want)
		}
	}
}

func TestContainsToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{[]string{"Upgrade"}, "upgrade", true},
		{[]string{"UPGRADE"}, "upgrade", true},
		{[]string{"keep-alive, Upgrade"}, "upgrade", true},
		{[]string{"keep-alive,Upgrade"}, "upgrade", true},
		{[]string{"keep-alive ,\tUpgrade\t, close"}, "upgrade", true},
		{[]string{",, upgrade ,,"}, "upgrade", true},
		{[]string{"keep-alive", "Upgrade"}, "upgrade", true}, // repeated field
		{[]string{"websocket"}, "websocket", true},
		{[]string{"WebSocket"}, "websocket", true},
		{nil, "upgrade", false},
		{[]string{""}, "upgrade", false},
		{[]string{"keep-alive"}, "upgrade", false},
		{[]string{"upgrades"}, "upgrade", false},
		{[]string{"upgrade2, xupgrade"}, "upgrade", false},
		{[]string{"up grade"}, "upgrade", false},
		{[]string{"websocket/13"}, "websocket", false},
		{[]string{`"websocket"`}, "websocket", false},
	}
	for _, tt := range tests {
		if got := ContainsToken(tt.values, tt.token); got != tt.want {
			t.Errorf("ContainsToken(%q, %q) = %v, want %v", tt.values, tt.token, got, tt.want)
		}
	}
}

func TestContainsTokenAllocs(t *testing.T) {
	values := []string{"keep-alive", "foo, bar ,Upgrade"}
	if n := testing.AllocsPerRun(100, func() { ContainsToken(values, "upgrade") }); n != 0 {
		t.Fatalf("ContainsToken allocates %v times per run, want 0", n)
	}
}

func TestParseTokenList(t *testing.T) {
	tests := []struct {
		values []string
		want   []string
		ok     bool
	}{
		{nil, nil, true},
		{[]string{""}, nil, true},
		{[]string{" , ,"}, nil, true},
		{[]string{"chat, superchat"}, []string{"chat", "superchat"}, true},
		{[]string{"chat,superchat", "v2.json"}, []string{"chat", "superchat", "v2.json"}, true},
		{[]string{"\tchat\t,, mqtt "}, []string{"chat", "mqtt"}, true},
		{[]string{"chat superchat"}, nil, false},
		{[]string{"chat;q=1"}, nil, false},
		{[]string{`"chat"`}, nil, false},
		{[]string{"chat/1"}, nil, false},
		{[]string{"ok", "caf\xc3\xa9"}, nil, false},
		{[]string{"a\x00b"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := parseTokenList(tt.values)
		if ok != tt.ok {
			t.Errorf("parseTokenList(%q) ok = %v, want %v", tt.values, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseTokenList(%q) (-want +got):\n%s", tt.values, diff)
		}
	}
}
