package deflate

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/ws/handshake"
)

func parseHeader(t *testing.T, s string) []handshake.Extension {
	t.Helper()
	exts, err := handshake.ParseExtensions([]string{s})
	if err != nil {
		t.Fatalf("ParseExtensions(%q): %v", s, err)
	}
	return exts
}

func formatExtension(ext handshake.Extension) string {
	return string(handshake.AppendExtensions(nil, []handshake.Extension{ext}))
}

func TestAcceptOffer(t *testing.T) {
	def := func(c, d int, ct, dt bool) Config {
		cfg := Config{CompressWindowBits: c, DecompressWindowBits: d, CompressContextTakeover: ct, DecompressContextTakeover: dt, Level: BestSpeed}
		cfg.Threshold = threshold(0, ct)
		return cfg
	}
	tests := []struct {
		name   string
		offers string
		opts   *ServerOptions
		want   string // the response; "" when declined
		cfg    Config
	}{
		{"plain", "permessage-deflate", nil, "permessage-deflate", def(15, 15, true, true)},
		{"browser", "permessage-deflate; client_max_window_bits", nil, "permessage-deflate", def(15, 15, true, true)},
		{"all parameters", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9", nil,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9", def(10, 9, false, false)},
		{"server window 8 honoured", "permessage-deflate; server_max_window_bits=8", nil, "permessage-deflate; server_max_window_bits=8", def(8, 15, true, true)},
		{"quoted value", `permessage-deflate; server_max_window_bits="12"`, nil, "permessage-deflate; server_max_window_bits=12", def(12, 15, true, true)},
		{"client window with value", "permessage-deflate; client_max_window_bits=12", nil, "permessage-deflate; client_max_window_bits=12", def(15, 12, true, true)},
		{"server caps its window", "permessage-deflate", &ServerOptions{ServerMaxWindowBits: 11}, "permessage-deflate; server_max_window_bits=11", def(11, 15, true, true)},
		{"server cap vs smaller offer", "permessage-deflate; server_max_window_bits=9", &ServerOptions{ServerMaxWindowBits: 11}, "permessage-deflate; server_max_window_bits=9", def(9, 15, true, true)},
		{"server caps client window", "permessage-deflate; client_max_window_bits", &ServerOptions{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10", def(15, 10, true, true)},
		{"client cap vs smaller offer", "permessage-deflate; client_max_window_bits=9", &ServerOptions{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=9", def(15, 9, true, true)},
		{"client cap not offered: accepted at 15", "permessage-deflate", &ServerOptions{ClientMaxWindowBits: 10}, "permessage-deflate", def(15, 15, true, true)},
		{"client cap not offered: required", "permessage-deflate, permessage-deflate; client_max_window_bits", &ServerOptions{ClientMaxWindowBits: 10, RequireClientMaxWindowBits: true},
			"permessage-deflate; client_max_window_bits=10", def(15, 10, true, true)},
		{"client cap required, never offered", "permessage-deflate", &ServerOptions{ClientMaxWindowBits: 10, RequireClientMaxWindowBits: true}, "", Config{}},
		{"server imposes no context takeover", "permessage-deflate", &ServerOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", def(15, 15, false, false)},
		{"level and threshold", "permessage-deflate", &ServerOptions{Level: 6, Threshold: 500}, "permessage-deflate",
			Config{CompressWindowBits: 15, DecompressWindowBits: 15, CompressContextTakeover: true, DecompressContextTakeover: true, Level: 6, Threshold: 500}},
		{"threshold off", "permessage-deflate; server_no_context_takeover", &ServerOptions{Threshold: -1}, "permessage-deflate; server_no_context_takeover",
			Config{CompressWindowBits: 15, DecompressWindowBits: 15, CompressContextTakeover: false, DecompressContextTakeover: true, Level: BestSpeed, Threshold: 0}},
		{"disabled", "permessage-deflate", &ServerOptions{Disable: true}, "", Config{}},
		{"other extensions first", "x-foo; bar=1, permessage-deflate; server_max_window_bits=13", nil, "permessage-deflate; server_max_window_bits=13", def(13, 15, true, true)},
		{"no offer", "x-foo", nil, "", Config{}},

		// Declined offers (RFC 7692 §7.1); the next acceptable one wins.
		{"unknown parameter", "permessage-deflate; foo, permessage-deflate; server_max_window_bits=9", nil, "permessage-deflate; server_max_window_bits=9", def(9, 15, true, true)},
		{"duplicate parameter", "permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate", nil, "permessage-deflate", def(15, 15, true, true)},
		{"duplicate window", "permessage-deflate; client_max_window_bits; client_max_window_bits=10", nil, "", Config{}},
		{"value on a flag", "permessage-deflate; server_no_context_takeover=1", nil, "", Config{}},
		{"value on client flag", "permessage-deflate; client_no_context_takeover=true", nil, "", Config{}},
		{"server window without value", "permessage-deflate; server_max_window_bits", nil, "", Config{}},
		{"window 7", "permessage-deflate; server_max_window_bits=7", nil, "", Config{}},
		{"window 16", "permessage-deflate; client_max_window_bits=16", nil, "", Config{}},
		{"window 0", "permessage-deflate; server_max_window_bits=0", nil, "", Config{}},
		{"leading zero", "permessage-deflate; server_max_window_bits=09", nil, "", Config{}},
		{"sign", "permessage-deflate; server_max_window_bits=+9", nil, "", Config{}},
		{"not a number", "permessage-deflate; client_max_window_bits=ten", nil, "", Config{}},
		{"huge number", "permessage-deflate; client_max_window_bits=100000000000000000000", nil, "", Config{}},
		{"empty quoted", `permessage-deflate; server_max_window_bits=""`, nil, "", Config{}},
		{"all declined, then a plain one", "permessage-deflate; x=1, permessage-deflate; server_max_window_bits=5, permessage-deflate; client_max_window_bits", nil, "permessage-deflate", def(15, 15, true, true)},
		{"case matters", "Permessage-Deflate", nil, "", Config{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exts, err := handshake.ParseExtensions([]string{tc.offers})
			if err != nil {
				if tc.want != "" {
					t.Fatalf("ParseExtensions: %v", err)
				}
				return
			}
			resp, cfg, ok := AcceptOffer(exts, tc.opts)
			if !ok {
				if tc.want != "" {
					t.Fatalf("declined, want %q", tc.want)
				}
				return
			}
			if tc.want == "" {
				t.Fatalf("accepted with %q, want declined", formatExtension(resp))
			}
			if got := formatExtension(resp); got != tc.want {
				t.Errorf("response %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.cfg, cfg); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			// The client that made the accepted offer agrees with the
			// response, and the two configs mirror each other.
			for _, e := range exts {
				if e.Name != ExtensionName {
					continue
				}
				if _, err := parseOffer(e, false); err != nil {
					continue
				}
				copts := clientOptionsFor(t, e)
				ccfg, ok, err := AcceptResponse([]handshake.Extension{resp}, copts)
				if err != nil || !ok {
					t.Fatalf("client rejects the response to its offer: %v", err)
				}
				if ccfg.CompressWindowBits != cfg.DecompressWindowBits && cfg.DecompressWindowBits != 15 ||
					ccfg.CompressWindowBits > cfg.DecompressWindowBits ||
					ccfg.DecompressWindowBits != cfg.CompressWindowBits ||
					ccfg.CompressContextTakeover != cfg.DecompressContextTakeover && ccfg.CompressContextTakeover ||
					ccfg.DecompressContextTakeover != cfg.CompressContextTakeover {
					t.Errorf("client config %+v does not mirror server config %+v", ccfg, cfg)
				}
				break
			}
		})
	}
}

// clientOptionsFor returns the ClientOptions whose Offer is ext (up to the
// form of client_max_window_bits).
func clientOptionsFor(t *testing.T, ext handshake.Extension) *ClientOptions {
	off, err := parseOffer(ext, false)
	if err != nil {
		t.Fatal(err)
	}
	o := &ClientOptions{
		ServerNoContextTakeover: off.serverNoContextTakeover,
		ClientNoContextTakeover: off.clientNoContextTakeover,
		ServerMaxWindowBits:     off.serverMaxWindowBits,
	}
	if off.clientMaxWindowBits > 0 {
		o.ClientMaxWindowBits = off.clientMaxWindowBits
	}
	return o
}

func TestOffer(t *testing.T) {
	tests := []struct {
		opts *ClientOptions
		want string
	}{
		{nil, "permessage-deflate; client_max_window_bits"},
		{&ClientOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 8},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8"},
		{&ClientOptions{ServerMaxWindowBits: 99}, "permessage-deflate; server_max_window_bits=15; client_max_window_bits"},
	}
	for _, tc := range tests {
		if got := formatExtension(Offer(tc.opts)); got != tc.want {
			t.Errorf("Offer(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestAcceptResponse(t *testing.T) {
	cfg := func(c, d int, ct, dt bool) Config {
		return Config{CompressWindowBits: c, DecompressWindowBits: d, CompressContextTakeover: ct, DecompressContextTakeover: dt, Level: BestSpeed, Threshold: threshold(0, ct)}
	}
	tests := []struct {
		name     string
		opts     *ClientOptions
		response string
		ok       bool
		bad      bool // must fail the connection
		cfg      Config
	}{
		{"not accepted", nil, "", false, false, Config{}},
		{"other extension only", nil, "x-foo", false, false, Config{}},
		{"plain", nil, "permessage-deflate", true, false, cfg(15, 15, true, true)},
		{"server window", nil, "permessage-deflate; server_max_window_bits=9", true, false, cfg(15, 9, true, true)},
		{"server window 8", nil, "permessage-deflate; server_max_window_bits=8", true, false, cfg(15, 8, true, true)},
		{"client window chosen by server", nil, "permessage-deflate; client_max_window_bits=10", true, false, cfg(10, 15, true, true)},
		{"server imposes no context takeover", nil, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, false, cfg(15, 15, false, false)},
		{"requested window honoured", &ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10", true, false, cfg(15, 10, true, true)},
		{"requested window lowered", &ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=9", true, false, cfg(15, 9, true, true)},
		{"our window kept when not answered", &ClientOptions{ClientMaxWindowBits: 11}, "permessage-deflate", true, false, cfg(11, 15, true, true)},
		{"our window lowered", &ClientOptions{ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits=9", true, false, cfg(9, 15, true, true)},
		{"our no context takeover", &ClientOptions{ClientNoContextTakeover: true}, "permessage-deflate", true, false, cfg(15, 15, false, true)},
		{"requested no context takeover granted", &ClientOptions{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover", true, false, cfg(15, 15, true, false)},

		{"requested no context takeover ignored", &ClientOptions{ServerNoContextTakeover: true}, "permessage-deflate", false, true, Config{}},
		{"requested window ignored", &ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate", false, true, Config{}},
		{"requested window exceeded", &ClientOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11", false, true, Config{}},
		{"our window exceeded", &ClientOptions{ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits=12", false, true, Config{}},
		{"client window without value", nil, "permessage-deflate; client_max_window_bits", false, true, Config{}},
		{"server window without value", nil, "permessage-deflate; server_max_window_bits", false, true, Config{}},
		{"window out of range", nil, "permessage-deflate; server_max_window_bits=16", false, true, Config{}},
		{"window 7", nil, "permessage-deflate; client_max_window_bits=7", false, true, Config{}},
		{"leading zero", nil, "permessage-deflate; server_max_window_bits=010", false, true, Config{}},
		{"unknown parameter", nil, "permessage-deflate; foo=bar", false, true, Config{}},
		{"duplicate parameter", nil, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", false, true, Config{}},
		{"value on a flag", nil, "permessage-deflate; client_no_context_takeover=1", false, true, Config{}},
		{"accepted twice", nil, "permessage-deflate, permessage-deflate", false, true, Config{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var exts []handshake.Extension
			if tc.response != "" {
				exts = parseHeader(t, tc.response)
			}
			got, ok, err := AcceptResponse(exts, tc.opts)
			if tc.bad {
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("error %v, want ErrBadResponse", err)
				}
				return
			}
			if err != nil || ok != tc.ok {
				t.Fatalf("ok=%t err=%v, want ok=%t", ok, err, tc.ok)
			}
			if diff := cmp.Diff(tc.cfg, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNegotiatedStreams runs messages through the compressors and
// decompressors of negotiated configs, both directions.
func TestNegotiatedStreams(t *testing.T) {
	msgs := mixedMessages(t)[:30]
	for _, h := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
		"permessage-deflate; server_no_context_takeover; client_max_window_bits=11",
	} {
		exts := parseHeader(t, h)
		resp, scfg, ok := AcceptOffer(exts, &ServerOptions{ClientMaxWindowBits: 12})
		if !ok {
			t.Fatalf("%q declined", h)
		}
		ccfg, ok, err := AcceptResponse([]handshake.Extension{resp}, clientOptionsFor(t, exts[0]))
		if err != nil || !ok {
			t.Fatalf("%q: response %q rejected: %v", h, formatExtension(resp), err)
		}
		for _, dir := range []struct {
			name string
			c    *Compressor
			d    *Decompressor
			bits int
		}{
			{"server to client", scfg.NewCompressor(), ccfg.NewDecompressor(), scfg.CompressWindowBits},
			{"client to server", ccfg.NewCompressor(), scfg.NewDecompressor(), ccfg.CompressWindowBits},
		} {
			payloads := compressAll(t, dir.c, msgs, nil)
			checkWithRef(t, payloads, msgs, dir.bits, dir.c.takeover)
			got := decompressAll(t, dir.d, payloads, newRand(1))
			equalMessages(t, h+" "+dir.name, got, msgs)
		}
	}
}

// FuzzNegotiate checks, for arbitrary offers, that whatever AcceptOffer
// answers is accepted by the client that made the offer, and that the
// windows it sets are in range.
func FuzzNegotiate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", 0, 0)
	f.Add("permessage-deflate; server_no_context_takeover; client_max_window_bits=9, permessage-deflate", 10, 12)
	f.Add(`permessage-deflate; server_max_window_bits="8"; foo`, 0, 9)
	f.Fuzz(func(t *testing.T, header string, serverCap, clientCap int) {
		exts, err := handshake.ParseExtensions([]string{header})
		if err != nil {
			return
		}
		opts := &ServerOptions{ServerMaxWindowBits: serverCap % 16, ClientMaxWindowBits: clientCap % 16}
		resp, cfg, ok := AcceptOffer(exts, opts)
		if !ok {
			return
		}
		for _, b := range []int{cfg.CompressWindowBits, cfg.DecompressWindowBits} {
			if b < MinWindowBits || b > MaxWindowBits {
				t.Fatalf("window bits %d in %+v", b, cfg)
			}
		}
		for _, e := range exts {
			if e.Name != ExtensionName {
				continue
			}
			if _, err := parseOffer(e, false); err != nil {
				continue
			}
			if _, ok, err := AcceptResponse([]handshake.Extension{resp}, clientOptionsFor(t, e)); !ok || err != nil {
				t.Fatalf("offer %q, response %q: client says %v", header, formatExtension(resp), err)
			}
			return
		}
		t.Fatalf("accepted %q without an acceptable offer", header)
	})
}
