package proto

import "github.com/rfc6455/ws/frame"

// EventKind says what a call to Receiver.Receive produced.
type EventKind uint8

const (
	// NeedMore: every byte given was consumed and more are needed for
	// the next event.
	NeedMore EventKind = iota
	// Data: a piece of the open data message's payload, unmasked.
	Data
	// Ping, Pong: a control frame and its payload (RFC 6455 §5.5.2-3).
	Ping
	Pong
	// Close: the peer's close frame (§5.5.1), parsed.
	Close
)

func (k EventKind) String() string {
	switch k {
	case NeedMore:
		return "need more"
	case Data:
		return "data"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	case Close:
		return "close"
	}
	return "invalid event"
}

// Event is what the receiver found in the bytes it consumed.
type Event struct {
	Kind EventKind
	// Data: the message's opcode (frame.OpText or frame.OpBinary), whether
	// its first frame carried the extension's bit (the payload is encoded),
	// and whether this piece ends the message. A message's pieces follow
	// each other, maybe split by control frames; an empty message is one
	// empty final piece.
	Type       frame.Opcode
	Compressed bool
	Final      bool
	// Payload is the piece of data or the control frame's payload. It
	// points into the caller's input (unmasked in place) or, for a control
	// frame split across calls, a buffer of the receiver's; it is valid
	// until the next call.
	Payload []byte
	// Close: the peer's status and reason.
	Close PeerClose
}

// Receiver is the receiving half of a WebSocket endpoint, driven by pushes
// of bytes: an event loop hands it what a read returned, in pieces of any
// size, and it returns one event at a time. Between calls it holds at
// most a frame header's bytes and, only while a control frame is split
// across calls, that frame's payload; never a message: the driver decides
// where payload goes. It applies Rules to
// every header, unmasks payload in place (§5.3) and validates text that no
// extension encodes as UTF-8 as it arrives (§8.1); text an extension
// decodes is the driver's to validate after decoding, with
// frame.UTF8Validator or utf8.Valid.
//
// Any error is a *frame.ProtocolError carrying the close code to fail the
// connection with (§7.1.7), and is sticky.
type Receiver struct {
	rules     Rules
	hdr       [frame.MaxHeaderSize]byte // a header split across calls
	nhdr      int
	h         frame.Header // frame whose payload is being received
	inFrame   bool
	remaining int64
	pos       int                            // masking key position of the next payload byte
	ctrl      *[frame.MaxControlPayload]byte // a control payload split across calls; nil otherwise
	nctrl     int
	typ       frame.Opcode // opcode of the open data message
	encoded   bool         // the open message carries the extension's bit
	utf8      frame.UTF8Validator
	err       error
}

// NewReceiver returns the receiver of an endpoint with the given rules.
func NewReceiver(rules Rules) Receiver { return Receiver{rules: rules} }

// Err returns the error that stopped the receiver, or nil.
func (r *Receiver) Err() error { return r.err }

// Idle reports whether the receiver is between frames with nothing
// buffered: no partial header, no control payload, no open message.
func (r *Receiver) Idle() bool { return !r.inFrame && r.nhdr == 0 && !r.rules.inMessage }

// Receive consumes bytes from the front of p and returns how many it
// consumed and the event they complete. Call it again with p[n:] until it
// returns NeedMore, which means all of p was consumed. It unmasks data
// payload in place in p.
func (r *Receiver) Receive(p []byte) (n int, ev Event, err error) {
	if r.err != nil {
		return 0, Event{}, r.err
	}
	for {
		if !r.inFrame {
			hn, empty, err := r.header(p[n:])
			n += hn
			if err != nil {
				return n, Event{}, r.fail(err)
			}
			if !r.inFrame {
				return n, Event{}, nil // header incomplete: all of p consumed
			}
			if empty {
				r.inFrame = false
				if r.typ == frame.OpText && !r.encoded && !r.utf8.Complete() {
					return n, Event{}, r.fail(frame.ErrInvalidUTF8)
				}
				return n, Event{Kind: Data, Type: r.typ, Compressed: r.encoded, Final: true}, nil
			}
			continue
		}
		if r.h.Opcode.IsControl() {
			var payload []byte
			if r.nctrl == 0 && int64(len(p)-n) >= r.h.Length {
				// The whole payload is here, the usual case: a view of p.
				payload = p[n : n+int(r.h.Length)]
				n += len(payload)
			} else {
				if r.ctrl == nil {
					r.ctrl = new([frame.MaxControlPayload]byte)
				}
				k := copy(r.ctrl[r.nctrl:r.h.Length], p[n:])
				n += k
				r.nctrl += k
				if int64(r.nctrl) < r.h.Length {
					return n, Event{}, nil
				}
				payload = r.ctrl[:r.nctrl]
				r.ctrl = nil // needed again only if a control frame is split again
			}
			r.inFrame = false
			if r.h.Masked {
				frame.Mask(r.h.Key, 0, payload)
			}
			switch r.h.Opcode {
			case frame.OpPing:
				return n, Event{Kind: Ping, Payload: payload}, nil
			case frame.OpPong:
				return n, Event{Kind: Pong, Payload: payload}, nil
			default:
				pc, err := ParsePeerClose(payload)
				if err != nil {
					return n, Event{}, r.fail(err)
				}
				return n, Event{Kind: Close, Payload: payload, Close: pc}, nil
			}
		}
		if n == len(p) {
			return n, Event{}, nil
		}
		chunk := p[n : n+int(min(r.remaining, int64(len(p)-n)))]
		n += len(chunk)
		r.remaining -= int64(len(chunk))
		if r.h.Masked {
			r.pos = frame.Mask(r.h.Key, r.pos, chunk)
		}
		final := r.remaining == 0 && r.h.Fin
		if r.remaining == 0 {
			r.inFrame = false
		}
		if r.typ == frame.OpText && !r.encoded {
			if !r.utf8.Write(chunk) || (final && !r.utf8.Complete()) {
				return n, Event{}, r.fail(frame.ErrInvalidUTF8)
			}
		}
		return n, Event{Kind: Data, Type: r.typ, Compressed: r.encoded, Final: final, Payload: chunk}, nil
	}
}

// header parses the next frame header from the bytes kept from earlier
// calls and p, and admits it. It returns how many bytes of p it consumed
// and, for a data frame without payload, empty. r.inFrame says whether a
// header was completed.
func (r *Receiver) header(p []byte) (n int, empty bool, err error) {
	var h frame.Header
	var hn int
	if r.nhdr == 0 {
		if h, hn, err = frame.ParseHeader(p); err != nil {
			return 0, false, err
		}
		if hn == 0 {
			r.nhdr = copy(r.hdr[:], p) // fewer than MaxHeaderSize bytes
			return len(p), false, nil
		}
		n = hn
	} else {
		k := copy(r.hdr[r.nhdr:], p)
		if h, hn, err = frame.ParseHeader(r.hdr[:r.nhdr+k]); err != nil {
			return 0, false, err
		}
		if hn == 0 {
			r.nhdr += k
			return k, false, nil
		}
		n = hn - r.nhdr
		r.nhdr = 0
	}
	kind, err := r.rules.Check(&h)
	if err != nil {
		return n, false, err
	}
	r.h, r.inFrame, r.remaining, r.pos, r.nctrl = h, true, h.Length, 0, 0
	if kind == KindFirst {
		r.typ, r.encoded = h.Opcode, h.RSV != 0
		r.utf8.Reset()
	}
	return n, kind != KindControl && h.Length == 0 && h.Fin, nil
}

// fail makes err sticky and returns it.
func (r *Receiver) fail(err error) error {
	r.err = err
	return err
}
