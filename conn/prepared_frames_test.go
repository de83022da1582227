package conn

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
)

// wireFrame is a frame as it crossed the wire, decoded by readWireFrame
// below rather than by the frame package, so a bug there cannot hide here.
type wireFrame struct {
	fin     bool
	rsv     byte // the three reserved bits, RSV1 = 4
	opcode  byte
	payload []byte // unmasked
}

// readWireFrame reads one frame from r (RFC 6455 §5.2), unmasking its
// payload byte by byte.
func readWireFrame(t *testing.T, r io.Reader) wireFrame {
	t.Helper()
	var h [14]byte
	read := func(b []byte) {
		t.Helper()
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatalf("raw read: %v", err)
		}
	}
	read(h[:2])
	f := wireFrame{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, opcode: h[0] & 0x0f}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		read(h[2:4])
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		read(h[2:10])
		n = binary.BigEndian.Uint64(h[2:10])
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		read(key[:])
	}
	if n > 1<<24 {
		t.Fatalf("frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	read(f.payload)
	if masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f
}

// WritePrepared with permessage-deflate and no context takeover (so the
// message is compressed once and reused), as server and as client, with a
// MaxFrameSize smaller than the compressed message and without one: RSV1
// on the first frame only, continuations with opcode 0 and no reserved
// bits (RFC 7692 §6.1), and the payload inflates back to the message. The
// message is sent twice so the second send uses the prepared form.
func TestWritePreparedCompressedFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	msg := make([]byte, 20000)
	for i := range msg {
		msg[i] = 'a' + byte(rng.IntN(16))
	}
	for _, tc := range []struct {
		role     Role
		maxFrame int
	}{
		{Server, 0}, {Server, 1000}, {Server, 1}, {Client, 0}, {Client, 1000},
	} {
		t.Run(fmt.Sprintf("%v MaxFrameSize %d", tc.role, tc.maxFrame), func(t *testing.T) {
			peer := Client
			if tc.role == Client {
				peer = Server
			}
			c, p := newRawPeer(t, peer, &Options{MaxFrameSize: tc.maxFrame})
			c.ext = deflate.NewSession(deflate.Config{CompressWindowBits: 15, CompressContextTakeover: false,
				DecompressWindowBits: 15, DecompressContextTakeover: true, Level: deflate.BestSpeed})
			c.rules.AllowRSV(frame.RSV1)
			pm, err := NewPreparedMessage(Text, msg)
			if err != nil {
				t.Fatal(err)
			}
			for send := range 2 {
				errc := make(chan error, 1)
				go func() { errc <- c.WritePrepared(context.Background(), pm) }()
				p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
				var payload []byte
				frames := 0
				for {
					f := readWireFrame(t, p.nc)
					if frames == 0 {
						if f.opcode != 1 || f.rsv != 4 {
							t.Fatalf("send %d, first frame: opcode %d, RSV %03b; want 1 (text) with RSV1", send, f.opcode, f.rsv)
						}
					} else if f.opcode != 0 || f.rsv != 0 {
						t.Fatalf("send %d, frame %d: opcode %d, RSV %03b; want a continuation with no reserved bit", send, frames, f.opcode, f.rsv)
					}
					if tc.maxFrame > 0 && len(f.payload) > tc.maxFrame {
						t.Fatalf("send %d, frame %d: %d bytes, MaxFrameSize %d", send, frames, len(f.payload), tc.maxFrame)
					}
					frames++
					payload = append(payload, f.payload...)
					if f.fin {
						break
					}
				}
				select {
				case err := <-errc:
					if err != nil {
						t.Fatalf("send %d: WritePrepared: %v", send, err)
					}
				case <-time.After(2 * time.Second):
					t.Fatalf("send %d: WritePrepared did not return", send)
				}
				if tc.maxFrame > 0 && tc.maxFrame < len(payload) && frames < 2 {
					t.Errorf("send %d: %d compressed bytes in %d frame(s) with MaxFrameSize %d", send, len(payload), frames, tc.maxFrame)
				}
				if len(payload) >= len(msg) {
					t.Errorf("send %d: %d bytes for a %d-byte message: not compressed", send, len(payload), len(msg))
				}
				if got := inflate(t, payload); !bytes.Equal(got, msg) {
					t.Fatalf("send %d: inflates to %d bytes, want the %d-byte message", send, len(got), len(msg))
				}
			}
		})
	}
}
