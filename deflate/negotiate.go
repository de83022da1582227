package deflate

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/rfc6455/ws/handshake"
)

// ExtensionName is the extension token of permessage-deflate (RFC 7692 §7).
const ExtensionName = "permessage-deflate"

// Extension parameter names (RFC 7692 §7.1).
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// ErrBadResponse is wrapped by the errors AcceptResponse returns for a
// server response that RFC 7692 §7.1 requires the client to reject: the
// client must _Fail the WebSocket Connection_ instead of using it.
var ErrBadResponse = errors.New("deflate: invalid permessage-deflate response")

// Config is the outcome of negotiation for one connection: how this
// endpoint compresses what it sends and decompresses what it receives.
type Config struct {
	// CompressWindowBits and CompressContextTakeover govern our messages
	// (server_max_window_bits and server_no_context_takeover for a
	// server, the client_ ones for a client).
	CompressWindowBits      int
	CompressContextTakeover bool
	// DecompressWindowBits and DecompressContextTakeover govern the
	// peer's messages.
	DecompressWindowBits      int
	DecompressContextTakeover bool
	// Level is the compression level (see NewCompressor).
	Level int
	// Threshold is the size below which a message is sent uncompressed
	// (RSV1 clear, RFC 7692 §6): see ServerOptions.Threshold.
	Threshold int
}

// NewCompressor returns a Compressor for our messages.
func (c Config) NewCompressor() *Compressor {
	return NewCompressor(c.CompressWindowBits, c.Level, c.CompressContextTakeover)
}

// NewDecompressor returns a Decompressor for the peer's messages.
func (c Config) NewDecompressor() *Decompressor {
	return NewDecompressor(c.DecompressWindowBits, c.DecompressContextTakeover)
}

// threshold resolves a Threshold option: 0 selects the default, a
// negative value compresses every message.
//
// The default depends on context takeover for our messages. Without it a
// message is compressed on its own, and on our corpus messages under 128
// bytes shrink by less than 15% (log lines under 128 bytes not at all),
// so they are sent as they are. With it, even 64-byte chat messages
// shrink to about a fifth by referring to earlier ones, so only messages
// under 32 bytes, which have little to gain, are sent as they are.
func threshold(t int, takeover bool) int {
	switch {
	case t < 0:
		return 0
	case t > 0:
		return t
	case takeover:
		return 32
	}
	return 128
}

// ServerOptions configures the server side of the negotiation. The zero
// value accepts the first acceptable offer with context takeover and
// 15-bit windows in both directions, unless the offer asks for less.
type ServerOptions struct {
	// Disable declines every offer.
	Disable bool

	// ServerNoContextTakeover makes the server compress each message on
	// its own, answering with server_no_context_takeover, which a server
	// may always do (RFC 7692 §7.1.1.1). It saves the compressor's
	// window per connection (about 40 KiB at 15 bits) at a cost in
	// compression of small messages.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to do the same with
	// client_no_context_takeover, which a server may always include
	// (RFC 7692 §7.1.1.2); the server then keeps no window for the
	// client's messages (32 KiB at 15 bits).
	ClientNoContextTakeover bool

	// ServerMaxWindowBits caps the window the server compresses with
	// (8..15; 0 means 15). The server announces it with
	// server_max_window_bits (RFC 7692 §7.1.2.1), so that the client can
	// allocate a smaller window too.
	ServerMaxWindowBits int
	// ClientMaxWindowBits caps the window the client may compress with,
	// and so the server's decompression window (8..15; 0 means 15). It
	// can only be sent if the offer has client_max_window_bits (RFC 7692
	// §7.1.2.2); an offer without it is accepted with a 15-bit window
	// unless RequireClientMaxWindowBits is set.
	ClientMaxWindowBits        int
	RequireClientMaxWindowBits bool

	// Level is the compression level (0 means BestSpeed).
	Level int
	// Threshold is the size below which a message is sent uncompressed:
	// 0 selects 128 bytes without context takeover for the server's
	// messages and 32 bytes with it; a negative value compresses all.
	Threshold int
}

// offer is a parsed permessage-deflate offer or response.
type offer struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int // 0: absent
	clientMaxWindowBits     int // 0: absent; -1: present without a value
}

// parseWindowBits parses a max_window_bits value: a decimal integer from
// 8 to 15 without leading zeros (RFC 7692 §7.1.2.1, §7.1.2.2).
func parseWindowBits(p handshake.Param) (int, error) {
	v := p.Value
	if !p.HasValue {
		return 0, fmt.Errorf("%s needs a value", p.Name)
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' || (i == 0 && v[i] == '0') || i == 2 {
			return 0, fmt.Errorf("%s=%q is not a window size", p.Name, v)
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < MinWindowBits || n > MaxWindowBits {
		return 0, fmt.Errorf("%s=%q is not in 8..15", p.Name, v)
	}
	return n, nil
}

// parseOffer parses the parameters of a permessage-deflate element. An
// unknown or repeated parameter, or an invalid value, is an error (RFC
// 7692 §7.1). A bare client_max_window_bits is valid only in an offer.
func parseOffer(ext handshake.Extension, isResponse bool) (offer, error) {
	var o offer
	var seen [4]bool
	for _, p := range ext.Params {
		var i int
		switch p.Name {
		case paramServerNoContextTakeover, paramClientNoContextTakeover:
			if p.HasValue {
				return o, fmt.Errorf("%s has a value", p.Name)
			}
			if p.Name == paramServerNoContextTakeover {
				o.serverNoContextTakeover = true
			} else {
				o.clientNoContextTakeover, i = true, 1
			}
		case paramServerMaxWindowBits:
			i = 2
			n, err := parseWindowBits(p)
			if err != nil {
				return o, err
			}
			o.serverMaxWindowBits = n
		case paramClientMaxWindowBits:
			i = 3
			if !p.HasValue && !isResponse {
				o.clientMaxWindowBits = -1
				break
			}
			n, err := parseWindowBits(p)
			if err != nil {
				return o, err
			}
			o.clientMaxWindowBits = n
		default:
			return o, fmt.Errorf("unknown parameter %q", p.Name)
		}
		if seen[i] {
			return o, fmt.Errorf("repeated parameter %q", p.Name)
		}
		seen[i] = true
	}
	return o, nil
}

func capBits(b int) int {
	if b == 0 {
		return MaxWindowBits
	}
	return min(max(b, MinWindowBits), MaxWindowBits)
}

// AcceptOffer is the server side of the negotiation (RFC 7692 §5, §7.1).
// offers is the client's Sec-WebSocket-Extensions list in order (see
// handshake.ParseExtensions); AcceptOffer takes the first
// permessage-deflate offer it can accept and returns the element to put
// in the response and the connection's Config. An offer with an unknown or
// repeated parameter or an invalid value is declined and the next one
// tried (RFC 7692 §7.1). ok is false if none is accepted; the connection
// then proceeds without compression. opts may be nil.
func AcceptOffer(offers []handshake.Extension, opts *ServerOptions) (response handshake.Extension, cfg Config, ok bool) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Disable {
		return response, cfg, false
	}
	for _, ext := range offers {
		if ext.Name != ExtensionName {
			continue
		}
		off, err := parseOffer(ext, false)
		if err != nil {
			continue
		}
		response, cfg, ok = answer(off, &o)
		if ok {
			return response, cfg, true
		}
	}
	return handshake.Extension{}, Config{}, false
}

// answer builds the response to an acceptable offer.
func answer(off offer, o *ServerOptions) (handshake.Extension, Config, bool) {
	resp := handshake.Extension{Name: ExtensionName}
	cfg := Config{
		CompressContextTakeover:   !(off.serverNoContextTakeover || o.ServerNoContextTakeover),
		DecompressContextTakeover: !(off.clientNoContextTakeover || o.ClientNoContextTakeover),
		Level:                     o.Level,
	}
	if cfg.Level == 0 {
		cfg.Level = BestSpeed
	}
	if !cfg.CompressContextTakeover {
		resp.Params = append(resp.Params, handshake.Param{Name: paramServerNoContextTakeover})
	}
	if !cfg.DecompressContextTakeover {
		resp.Params = append(resp.Params, handshake.Param{Name: paramClientNoContextTakeover})
	}

	// Our window: the smaller of the offer's and ours. The parameter is
	// echoed when offered (§7.1.2.1 requires it) or when we cap below 15.
	cfg.CompressWindowBits = capBits(o.ServerMaxWindowBits)
	if off.serverMaxWindowBits != 0 {
		cfg.CompressWindowBits = min(cfg.CompressWindowBits, off.serverMaxWindowBits)
	}
	if off.serverMaxWindowBits != 0 || cfg.CompressWindowBits < MaxWindowBits {
		resp.Params = append(resp.Params, windowParam(paramServerMaxWindowBits, cfg.CompressWindowBits))
	}

	// The client's window: only what the offer allows (§7.1.2.2).
	cfg.DecompressWindowBits = MaxWindowBits
	limit := capBits(o.ClientMaxWindowBits)
	switch {
	case off.clientMaxWindowBits == 0:
		if limit < MaxWindowBits && o.RequireClientMaxWindowBits {
			return handshake.Extension{}, Config{}, false
		}
	case off.clientMaxWindowBits > 0 || limit < MaxWindowBits:
		if off.clientMaxWindowBits > 0 {
			limit = min(limit, off.clientMaxWindowBits)
		}
		cfg.DecompressWindowBits = limit
		resp.Params = append(resp.Params, windowParam(paramClientMaxWindowBits, limit))
	}
	cfg.Threshold = threshold(o.Threshold, cfg.CompressContextTakeover)
	return resp, cfg, true
}

func windowParam(name string, bits int) handshake.Param {
	return handshake.Param{Name: name, Value: strconv.Itoa(bits), HasValue: true}
}

// ClientOptions configures the client's offer. The zero value offers
// "permessage-deflate; client_max_window_bits", as browsers do: context
// takeover both ways, and the server may choose the client's window.
type ClientOptions struct {
	// ServerNoContextTakeover asks the server to compress each message
	// on its own (server_no_context_takeover, RFC 7692 §7.1.1.1), so that
	// the client keeps no window for the server's messages (32 KiB at 15
	// bits). A server that accepts the offer must honour it.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover makes the client compress each message on
	// its own and says so (client_no_context_takeover, §7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, if not 0, asks the server to compress with a
	// window of at most 2^ServerMaxWindowBits bytes (8..15,
	// server_max_window_bits, §7.1.2.1), which is then the client's
	// decompression window.
	ServerMaxWindowBits int
	// ClientMaxWindowBits, if not 0, limits the client's compression
	// window (8..15) and is sent as client_max_window_bits=N; otherwise
	// the parameter is sent without a value, letting the server choose
	// (§7.1.2.2).
	ClientMaxWindowBits int
	// Level is the compression level (0 means BestSpeed).
	Level int
	// Threshold: see ServerOptions.Threshold, for the client's messages.
	Threshold int
}

// Offer returns the permessage-deflate element the client sends in
// Sec-WebSocket-Extensions (RFC 7692 §5, §7.1). opts may be nil.
func Offer(opts *ClientOptions) handshake.Extension {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	ext := handshake.Extension{Name: ExtensionName}
	if o.ServerNoContextTakeover {
		ext.Params = append(ext.Params, handshake.Param{Name: paramServerNoContextTakeover})
	}
	if o.ClientNoContextTakeover {
		ext.Params = append(ext.Params, handshake.Param{Name: paramClientNoContextTakeover})
	}
	if o.ServerMaxWindowBits != 0 {
		ext.Params = append(ext.Params, windowParam(paramServerMaxWindowBits, capBits(o.ServerMaxWindowBits)))
	}
	if o.ClientMaxWindowBits != 0 {
		ext.Params = append(ext.Params, windowParam(paramClientMaxWindowBits, capBits(o.ClientMaxWindowBits)))
	} else {
		ext.Params = append(ext.Params, handshake.Param{Name: paramClientMaxWindowBits})
	}
	return ext
}

// AcceptResponse is the client side of the negotiation: it checks the
// extensions the server accepted (its Sec-WebSocket-Extensions, parsed)
// against the offer made with opts, and returns the connection's Config.
// ok is false if the server did not accept permessage-deflate. An error,
// wrapping ErrBadResponse, means the client must fail the connection
// (RFC 7692 §7.1): the element is repeated, or has a parameter that is
// unknown, repeated, has an invalid value, or that the offer did not
// allow, or leaves out a parameter the offer requires the server to
// accept. opts may be nil and must be what Offer was given.
func AcceptResponse(accepted []handshake.Extension, opts *ClientOptions) (cfg Config, ok bool, err error) {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	var ext *handshake.Extension
	for i := range accepted {
		if accepted[i].Name == ExtensionName {
			if ext != nil {
				return Config{}, false, fmt.Errorf("%w: %s accepted twice", ErrBadResponse, ExtensionName)
			}
			ext = &accepted[i]
		}
	}
	if ext == nil {
		return Config{}, false, nil
	}
	r, err := parseOffer(*ext, true)
	if err != nil {
		return Config{}, false, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if o.ServerNoContextTakeover && !r.serverNoContextTakeover {
		return Config{}, false, fmt.Errorf("%w: %s requested but not in the response", ErrBadResponse, paramServerNoContextTakeover)
	}
	cfg = Config{
		CompressWindowBits:        capBits(o.ClientMaxWindowBits),
		CompressContextTakeover:   !(o.ClientNoContextTakeover || r.clientNoContextTakeover),
		DecompressWindowBits:      MaxWindowBits,
		DecompressContextTakeover: !r.serverNoContextTakeover,
		Level:                     o.Level,
	}
	if cfg.Level == 0 {
		cfg.Level = BestSpeed
	}
	switch {
	case r.serverMaxWindowBits != 0:
		if o.ServerMaxWindowBits != 0 && r.serverMaxWindowBits > capBits(o.ServerMaxWindowBits) {
			return Config{}, false, fmt.Errorf("%w: %s=%d exceeds the %d requested", ErrBadResponse, paramServerMaxWindowBits, r.serverMaxWindowBits, capBits(o.ServerMaxWindowBits))
		}
		cfg.DecompressWindowBits = r.serverMaxWindowBits
	case o.ServerMaxWindowBits != 0:
		return Config{}, false, fmt.Errorf("%w: %s requested but not in the response", ErrBadResponse, paramServerMaxWindowBits)
	}
	if r.clientMaxWindowBits != 0 {
		// The offer always has client_max_window_bits; a value in it
		// bounds the response's (§7.1.2.2).
		if r.clientMaxWindowBits > cfg.CompressWindowBits {
			return Config{}, false, fmt.Errorf("%w: %s=%d exceeds the %d offered", ErrBadResponse, paramClientMaxWindowBits, r.clientMaxWindowBits, cfg.CompressWindowBits)
		}
		cfg.CompressWindowBits = r.clientMaxWindowBits
	}
	cfg.Threshold = threshold(o.Threshold, cfg.CompressContextTakeover)
	return cfg, true, nil
}
