package proto

import "github.com/rfc6455/ws/frame"

// PeerClose is a close frame received from the peer (RFC 6455 §5.5.1).
type PeerClose struct {
	Code   frame.StatusCode // StatusNoStatusReceived for an empty payload
	Reason string
}

// Reply returns the status code of the close frame owed in answer: the
// peer's own code, echoed as §5.5.1 suggests, and an empty close frame
// (StatusNoStatusReceived) for an empty one.
func (c PeerClose) Reply() frame.StatusCode { return c.Code }

// ParsePeerClose parses the payload of a close frame from the peer. A
// malformed payload (one byte, a code that may not be sent, a reason that
// is not UTF-8) is a *frame.ProtocolError whose Code is the code to close
// with (§7.4.1).
func ParsePeerClose(p []byte) (PeerClose, error) {
	code, reason, err := frame.ParseClosePayload(p)
	if err != nil {
		return PeerClose{}, err
	}
	return PeerClose{Code: code, Reason: reason}, nil
}
