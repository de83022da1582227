package engine

import (
	"fmt"
	"time"
)

// Options are the protocol options of the suite's side of a connection.
// Their names in a spec file's "options" object are those of the original
// (failByDrop, closeHandshakeTimeout, ...).
type Options struct {
	// FailByDrop fails a connection by dropping TCP instead of sending a
	// close frame. The original forces it off for spec conformance; a spec
	// may turn it on.
	FailByDrop bool
	// OpenHandshakeTimeout bounds the opening handshake.
	OpenHandshakeTimeout time.Duration
	// CloseHandshakeTimeout bounds the wait for the testee's close after
	// the suite sent one.
	CloseHandshakeTimeout time.Duration
	// ServerConnectionDropTimeout (suite as client) bounds the wait for the
	// server to drop TCP after the closing handshake.
	ServerConnectionDropTimeout time.Duration
	// EchoCloseCodeReason answers a close with the testee's code and reason
	// instead of 1000.
	EchoCloseCodeReason bool
	// MaskClientFrames (suite as client) masks the suite's frames.
	MaskClientFrames bool
	// MaskServerFrames (suite as server) masks the suite's frames.
	MaskServerFrames bool
	// RequireMaskedClientFrames (suite as server) fails unmasked frames.
	RequireMaskedClientFrames bool
	// AcceptMaskedServerFrames (suite as client) accepts masked frames.
	AcceptMaskedServerFrames bool
	// ApplyMask XORs payloads with their masking keys.
	ApplyMask bool
	// UTF8ValidateIncoming validates the testee's text messages.
	UTF8ValidateIncoming bool
	// AutoFragmentSize fragments the suite's messages into frames of at
	// most this many bytes; 0 sends each message in one frame.
	AutoFragmentSize int
	// MaxFramePayloadSize and MaxMessagePayloadSize fail the connection
	// (1008, 1009) when the testee exceeds them; 0 is no limit.
	MaxFramePayloadSize   int64
	MaxMessagePayloadSize int64
}

// HardMessageLimit caps any message the suite buffers, whatever
// MaxMessagePayloadSize says, so a testee cannot make it allocate without
// bound. The largest message a case sends is 16 MiB.
const HardMessageLimit = 64 << 20

// DefaultOptions returns the options the original suite runs with.
func DefaultOptions() Options {
	return Options{
		OpenHandshakeTimeout:        5 * time.Second,
		CloseHandshakeTimeout:       1 * time.Second,
		ServerConnectionDropTimeout: 1 * time.Second,
		MaskClientFrames:            true,
		RequireMaskedClientFrames:   true,
		ApplyMask:                   true,
		UTF8ValidateIncoming:        true,
	}
}

// Set sets the option called name (the original's spelling) from a value
// decoded from JSON. Options of the original that do not apply to the
// fuzzing modes (version, tcpNoDelay, ...) are accepted and ignored.
func (o *Options) Set(name string, v any) error {
	asBool := func(p *bool) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("option %s: want a boolean, got %v", name, v)
		}
		*p = b
		return nil
	}
	asNum := func() (float64, error) {
		f, ok := v.(float64)
		if !ok {
			return 0, fmt.Errorf("option %s: want a number, got %v", name, v)
		}
		return f, nil
	}
	asDur := func(p *time.Duration) error {
		f, err := asNum()
		*p = time.Duration(f * float64(time.Second))
		return err
	}
	asInt := func(p *int64) error {
		f, err := asNum()
		*p = int64(f)
		return err
	}
	switch name {
	case "failByDrop":
		return asBool(&o.FailByDrop)
	case "openHandshakeTimeout":
		return asDur(&o.OpenHandshakeTimeout)
	case "closeHandshakeTimeout":
		return asDur(&o.CloseHandshakeTimeout)
	case "serverConnectionDropTimeout":
		return asDur(&o.ServerConnectionDropTimeout)
	case "echoCloseCodeReason":
		return asBool(&o.EchoCloseCodeReason)
	case "maskClientFrames":
		return asBool(&o.MaskClientFrames)
	case "maskServerFrames":
		return asBool(&o.MaskServerFrames)
	case "requireMaskedClientFrames":
		return asBool(&o.RequireMaskedClientFrames)
	case "acceptMaskedServerFrames":
		return asBool(&o.AcceptMaskedServerFrames)
	case "applyMask":
		return asBool(&o.ApplyMask)
	case "utf8validateIncoming":
		return asBool(&o.UTF8ValidateIncoming)
	case "autoFragmentSize":
		var n int64
		err := asInt(&n)
		o.AutoFragmentSize = int(n)
		return err
	case "maxFramePayloadSize":
		return asInt(&o.MaxFramePayloadSize)
	case "maxMessagePayloadSize":
		return asInt(&o.MaxMessagePayloadSize)
	case "version", "versions", "tcpNoDelay", "allowHixie76", "webStatus", "trackTimings",
		"logOctets", "logFrames", "debug", "debugCodePaths", "autoPingInterval", "autoPingTimeout", "autoPingSize":
		return nil
	}
	return fmt.Errorf("unknown option %q", name)
}
