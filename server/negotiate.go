package server

import (
	"net/http"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/handshake"
)

// Negotiation is what a server's opening handshake agreed for one request:
// the 101 response to send and the connection's terms.
type Negotiation struct {
	Response    []byte         // the 101 Switching Protocols response (RFC 6455 §4.2.2 step 5)
	Subprotocol string         // selected subprotocol, or ""
	Extension   conn.Extension // negotiated extension, or nil; the caller must Close it
}

// Negotiate runs the checks and the negotiation Accept and Upgrade run on
// a request (handshake.ParseRequest, the origin policy, the subprotocol,
// the extensions; RFC 6455 §4.2.1-§4.2.2) and returns the 101 response
// and the agreed terms, for a server that drives connections itself, such
// as the event loop of package server/event. It writes nothing and does
// not track the connection (Connections, MaxConnections are the caller's
// to apply). A refused request returns a *HandshakeError whose Status and
// message handshake.AppendErrorResponse turns into the answer.
func (o *AcceptOptions) Negotiate(r *http.Request) (Negotiation, error) {
	d := o.withDefaults()
	a, he := d.negotiate(r)
	if he != nil {
		return Negotiation{}, he
	}
	return Negotiation{
		Response:    handshake.AppendResponse(nil, a.key, a.protocol, a.extensions),
		Subprotocol: a.protocol,
		Extension:   a.ext,
	}, nil
}
