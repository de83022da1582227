package engine

import "encoding/json"

// TrafficStats counts data-message traffic after the opening handshake, at
// three levels: on the wire, in WebSocket payloads (compressed), and in the
// application's messages (uncompressed).
type TrafficStats struct {
	OutgoingOctetsWireLevel      int64
	OutgoingOctetsWebSocketLevel int64
	OutgoingOctetsAppLevel       int64
	OutgoingWebSocketFrames      int64
	OutgoingWebSocketMessages    int64

	IncomingOctetsWireLevel      int64
	IncomingOctetsWebSocketLevel int64
	IncomingOctetsAppLevel       int64
	IncomingWebSocketFrames      int64
	IncomingWebSocketMessages    int64

	PreopenOutgoingOctetsWireLevel int64
	PreopenIncomingOctetsWireLevel int64
}

func ratio(a, b int64) *float64 {
	if b <= 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}

// IncomingCompressionRatio is compressed over uncompressed size of the
// testee's messages, nil when nothing was received.
func (t *TrafficStats) IncomingCompressionRatio() *float64 {
	return ratio(t.IncomingOctetsWebSocketLevel, t.IncomingOctetsAppLevel)
}

// OutgoingCompressionRatio is the same for the suite's messages.
func (t *TrafficStats) OutgoingCompressionRatio() *float64 {
	return ratio(t.OutgoingOctetsWebSocketLevel, t.OutgoingOctetsAppLevel)
}

// MarshalJSON writes the counters and the derived ratios under the
// original's names.
func (t *TrafficStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"outgoingOctetsWireLevel":        t.OutgoingOctetsWireLevel,
		"outgoingOctetsWebSocketLevel":   t.OutgoingOctetsWebSocketLevel,
		"outgoingOctetsAppLevel":         t.OutgoingOctetsAppLevel,
		"outgoingCompressionRatio":       t.OutgoingCompressionRatio(),
		"outgoingWebSocketOverhead":      ratio(t.OutgoingOctetsWireLevel-t.OutgoingOctetsWebSocketLevel, t.OutgoingOctetsWebSocketLevel),
		"outgoingWebSocketFrames":        t.OutgoingWebSocketFrames,
		"outgoingWebSocketMessages":      t.OutgoingWebSocketMessages,
		"preopenOutgoingOctetsWireLevel": t.PreopenOutgoingOctetsWireLevel,
		"incomingOctetsWireLevel":        t.IncomingOctetsWireLevel,
		"incomingOctetsWebSocketLevel":   t.IncomingOctetsWebSocketLevel,
		"incomingOctetsAppLevel":         t.IncomingOctetsAppLevel,
		"incomingCompressionRatio":       t.IncomingCompressionRatio(),
		"incomingWebSocketOverhead":      ratio(t.IncomingOctetsWireLevel-t.IncomingOctetsWebSocketLevel, t.IncomingOctetsWebSocketLevel),
		"incomingWebSocketFrames":        t.IncomingWebSocketFrames,
		"incomingWebSocketMessages":      t.IncomingWebSocketMessages,
		"preopenIncomingOctetsWireLevel": t.PreopenIncomingOctetsWireLevel,
	})
}
