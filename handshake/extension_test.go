package handshake

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseExtensions(t *testing.T) {
	deflate := func(params ...Param) Extension { return Extension{Name: "permessage-deflate", Params: params} }
	flag := func(name string) Param { return Param{Name: name} }
	val := func(name, value string) Param { return Param{Name: name, Value: value, HasValue: true} }
	tests := []struct {
		name   string
		values []string
		want   []Extension
	}{
		{"none", nil, nil},
		{"empty field", []string{""}, nil},
		{"only empty elements", []string{" ,\t, "}, nil},
		{"RFC 6455 §9.1 deflate-stream", []string{"deflate-stream"}, []Extension{{Name: "deflate-stream"}}},
		{"RFC 6455 §9.1 mux", []string{"mux; max-channels=4; flow-control, deflate-stream"}, []Extension{
			{Name: "mux", Params: []Param{val("max-channels", "4"), flag("flow-control")}},
			{Name: "deflate-stream"},
		}},
		{"RFC 6455 §9.1 split across fields", []string{"foo", "bar; baz=2"}, []Extension{
			{Name: "foo"}, {Name: "bar", Params: []Param{val("baz", "2")}},
		}},
		{"RFC 7692 offer", []string{"permessage-deflate; client_max_window_bits"},
			[]Extension{deflate(flag("client_max_window_bits"))}},
		{"RFC 7692 two offers", []string{"permessage-deflate; client_max_window_bits=10, permessage-deflate"},
			[]Extension{deflate(val("client_max_window_bits", "10")), deflate()}},
		{"quoted token value", []string{`permessage-deflate; client_max_window_bits="10"`},
			[]Extension{deflate(val("client_max_window_bits", "10"))}},
		{"quoted-pair escapes", []string{`x; a="1\0"; b="\a\b\c"; c="\xyz"`},
			[]Extension{{Name: "x", Params: []Param{val("a", "10"), val("b", "abc"), val("c", "xyz")}}}},
		{"no whitespace", []string{"a;b=1;c,d"},
			[]Extension{{Name: "a", Params: []Param{val("b", "1"), flag("c")}}, {Name: "d"}}},
		{"whitespace everywhere", []string{" \ta \t; \tb \t= \t1 \t; c\t ,\t d \t"},
			[]Extension{{Name: "a", Params: []Param{val("b", "1"), flag("c")}}, {Name: "d"}}},
		{"empty elements between", []string{",a,,b,"}, []Extension{{Name: "a"}, {Name: "b"}}},
		{"token characters", []string{"!#$%&'*+-.^_`|~09AZaz; !#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~"},
			[]Extension{{Name: "!#$%&'*+-.^_`|~09AZaz", Params: []Param{val("!#$%&'*+-.^_`|~", "!#$%&'*+-.^_`|~")}}}},
		{"repeated parameter kept", []string{"x; a=1; a=2"},
			[]Extension{{Name: "x", Params: []Param{val("a", "1"), val("a", "2")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.values)
			if err != nil {
				t.Fatalf("ParseExtensions(%q): %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseExtensions(%q) (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestParseExtensionsMalformed(t *testing.T) {
	tests := []struct {
		name  string
		value string
	}{
		{"trailing semicolon", "permessage-deflate;"},
		{"double semicolon", "a;;b"},
		{"leading semicolon", "; a"},
		{"missing name before params", "a, ;b"},
		{"space inside name", "permessage deflate"},
		{"missing comma", "a b"},
		{"equals without value", "a; b="},
		{"equals without name", "a; =1"},
		{"value then junk", "a; b=1 2"},
		{"empty quoted value", `a; b=""`},
		{"quoted value not a token", `a; b="1 0"`},
		{"quoted value with separator", `a; b="x,y"`},
		{"unterminated quoted-string", `a; b="10`},
		{"escape at end", `a; b="10\`},
		{"control character in quoted-string", "a; b=\"1\x010\""},
		{"escaped control character", "a; b=\"1\\\x00\""},
		{"quoted name", `"a"`},
		{"quoted parameter name", `a; "b"=1`},
		{"separator in name", "a/b"},
		{"separator in value", "a; b=c/d"},
		{"non-ASCII name", "caf\xc3\xa9"},
		{"control character", "a\x00"},
		{"double equals", "a; b==1"},
		{"param value with quote inside token", `a; b=1"`},
		{"lone equals", "="},
		{"lone semicolon", ";"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions([]string{"ok", tt.value})
			if !errors.Is(err, ErrMalformedExtensions) {
				t.Fatalf("ParseExtensions(%q) = %#v, %v; want an error wrapping ErrMalformedExtensions", tt.value, got, err)
			}
			if got != nil {
				t.Fatalf("ParseExtensions(%q) returned %#v with its error", tt.value, got)
			}
		})
	}
}

func TestAppendExtensions(t *testing.T) {
	tests := []struct {
		name string
		exts []Extension
		want string
	}{
		{"none", nil, ""},
		{"one", []Extension{{Name: "permessage-deflate"}}, "permessage-deflate"},
		{"params", []Extension{{Name: "permessage-deflate", Params: []Param{
			{Name: "server_no_context_takeover"}, {Name: "client_max_window_bits", Value: "10", HasValue: true},
		}}}, "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{"list", []Extension{{Name: "a"}, {Name: "b", Params: []Param{{Name: "c"}}}}, "a, b; c"},
		{"quoted", []Extension{{Name: "x", Params: []Param{{Name: "v", Value: `a "b" \c`, HasValue: true}}}},
			`x; v="a \"b\" \\c"`},
		{"empty value", []Extension{{Name: "x", Params: []Param{{Name: "v", HasValue: true}}}}, `x; v=""`},
		{"control characters left out", []Extension{{Name: "x", Params: []Param{{Name: "v", Value: "a\r\nb\tc", HasValue: true}}}},
			"x; v=\"ab\tc\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendExtensions([]byte("p:"), tt.exts); string(got) != "p:"+tt.want {
				t.Fatalf("AppendExtensions = %q, want %q", got, "p:"+tt.want)
			}
		})
	}
}

func TestVerifyExtensions(t *testing.T) {
	offered := []Extension{{Name: "permessage-deflate"}, {Name: "x-foo"}}
	if err := VerifyExtensions(nil, offered); err != nil {
		t.Errorf("nothing accepted: %v", err)
	}
	if err := VerifyExtensions([]Extension{{Name: "x-foo", Params: []Param{{Name: "p"}}}}, offered); err != nil {
		t.Errorf("offered extension: %v", err)
	}
	err := VerifyExtensions([]Extension{{Name: "permessage-deflate"}, {Name: "x-bar"}}, offered)
	if err == nil || !strings.Contains(err.Error(), `"x-bar"`) {
		t.Errorf("unoffered extension: err = %v, want one naming x-bar", err)
	}
	if err := VerifyExtensions([]Extension{{Name: "x-foo"}}, nil); err == nil {
		t.Error("accepted extension with nothing offered: no error")
	}
}

func TestExtensionParam(t *testing.T) {
	e := Extension{Name: "x", Params: []Param{{Name: "a"}, {Name: "b", Value: "1", HasValue: true}}}
	if p, ok := e.Param("b"); !ok || p.Value != "1" {
		t.Errorf(`Param("b") = %#v, %v`, p, ok)
	}
	if _, ok := e.Param("c"); ok {
		t.Error(`Param("c") found`)
	}
}

// FuzzParseExtensions checks that ParseExtensions never panics, that
// whatever it accepts holds only tokens, and that it round-trips:
// parse -> append -> parse gives the same list, and appending again
// gives the same bytes.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate",
		`x; a="1\0"; b="\a\b\c"`,
		"mux; max-channels=4; flow-control, deflate-stream",
		" , a ;\tb = \"c\" ,, d",
		"a;;b", `a; b="1 0"`, `a; b="10`, "a b", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exts, err := ParseExtensions([]string{s})
		if err != nil {
			if !errors.Is(err, ErrMalformedExtensions) || exts != nil {
				t.Fatalf("ParseExtensions(%q) = %#v, %v", s, exts, err)
			}
			return
		}
		for _, e := range exts {
			if !isToken(e.Name) {
				t.Fatalf("ParseExtensions(%q): name %q is not a token", s, e.Name)
			}
			for _, p := range e.Params {
				if !isToken(p.Name) || p.HasValue && !isToken(p.Value) || !p.HasValue && p.Value != "" {
					t.Fatalf("ParseExtensions(%q): bad param %#v", s, p)
				}
			}
		}
		b := AppendExtensions(nil, exts)
		again, err := ParseExtensions([]string{string(b)})
		if err != nil {
			t.Fatalf("ParseExtensions(%q) = %#v; its formatting %q does not parse: %v", s, exts, b, err)
		}
		if diff := cmp.Diff(exts, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second parse):\n%s", s, b, diff)
		}
		if b2 := AppendExtensions(nil, again); string(b2) != string(b) {
			t.Fatalf("formatting not stable: %q then %q", b, b2)
		}
	})
}
