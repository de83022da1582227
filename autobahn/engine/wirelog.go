package engine

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"time"
)

// Wire log row kinds, as in the original's reports.
const (
	LogRxOctets     = "RO"  // octets received
	LogTxOctets     = "TO"  // octets sent
	LogRxFrame      = "RF"  // frame received
	LogTxFrame      = "TF"  // frame sent
	LogDelay        = "CT"  // a case wait started
	LogDelayDone    = "CTE" // a case wait ran out
	LogKillAfter    = "KL"  // the connection will be failed after a delay
	LogKill         = "KLE" // failing the connection now
	LogCloseAfter   = "TI"  // a close will be sent after a delay
	LogClose        = "TIE" // sending that close now
	LogWirelogCtl   = "WLM" // wire logging switched on or off
	LogWatchdog     = "WD"  // the suite's own safety timeout dropped the connection (not in the original)
	wireLogDataSize = 256   // bytes of payload kept per row
)

// WireEntry is one row of a case's wire log. It encodes to JSON as the
// original's tuple, with the time of the row in seconds since the TCP
// connection was made appended as the last element.
type WireEntry struct {
	Kind string
	At   time.Duration

	Len    int    // RO, TO, RF, TF: payload or octet count
	Data   string // RO, TO: hex; RF, TF: text or 0x-hex
	Sync   bool   // TO, TF
	Opcode int    // RF, TF
	Fin    bool   // RF, TF
	RSV    int    // RF, TF
	Masked bool   // RF
	Mask   string // RF, TF: hex key, "" for none
	Repeat int    // TF: payload repeated to this length, 0 for none
	Chop   int    // TF: chop size, 0 for none

	Delay  time.Duration // CT, KL, TI
	Tag    string        // CT, CTE
	Enable bool          // WLM
}

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1e6) / 1e6
}

// MarshalJSON writes the row as the original's tuple plus a timestamp.
func (e WireEntry) MarshalJSON() ([]byte, error) {
	at := seconds(e.At)
	var v []any
	switch e.Kind {
	case LogRxOctets:
		v = []any{e.Kind, []any{e.Len, e.Data}, at}
	case LogTxOctets:
		v = []any{e.Kind, []any{e.Len, e.Data}, e.Sync, at}
	case LogRxFrame:
		v = []any{e.Kind, []any{e.Len, e.Data}, e.Opcode, e.Fin, e.RSV, e.Masked, nullableString(e.Mask), at}
	case LogTxFrame:
		v = []any{e.Kind, []any{e.Len, e.Data}, e.Opcode, e.Fin, e.RSV, nullableString(e.Mask), nullableInt(e.Repeat), nullableInt(e.Chop), e.Sync, at}
	case LogDelay:
		v = []any{e.Kind, seconds(e.Delay), nullableString(e.Tag), at}
	case LogDelayDone:
		v = []any{e.Kind, nullableString(e.Tag), at}
	case LogKillAfter, LogCloseAfter:
		v = []any{e.Kind, seconds(e.Delay), at}
	case LogWirelogCtl:
		v = []any{e.Kind, e.Enable, at}
	default:
		v = []any{e.Kind, at}
	}
	return json.Marshal(v)
}

// hexKey renders a masking key.
func hexKey(k []byte) string { return hex.EncodeToString(k) }
