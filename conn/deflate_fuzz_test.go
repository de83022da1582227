package conn

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
)

// referenceReceiveDeflate extends referenceReceive to a connection that
// negotiated permessage-deflate (RFC 7692): RSV1 is allowed on the first
// frame of a data message and marks it compressed (§6); a compressed
// message is inflated whole, with the read limit applied to its inflated
// size and a quarter more than the limit to its size on the wire, and its
// text checked after inflating. compressedNext reports
// whether the message that follows the delivered ones, if any was begun,
// is compressed.
func referenceReceiveDeflate(in []byte, server, takeover bool, limit int) (out outcome, compressedNext bool) {
	var msg []byte
	var typ frame.Opcode
	inMsg, compressed := false, false
	d := deflate.NewDecompressor(15, takeover)
	defer d.Release()
	fail := func(code StatusCode) (outcome, bool) {
		out.end = fmt.Sprintf("fail %d", code)
		return out, inMsg && compressed
	}
	for {
		h, n, err := frame.ParseHeader(in)
		if err != nil {
			var pe *frame.ProtocolError
			errors.As(err, &pe)
			return fail(pe.Code)
		}
		if n == 0 {
			out.end = "abnormal"
			return out, inMsg && compressed
		}
		in = in[n:]
		if h.RSV&^frame.RSV1 != 0 || h.Masked != server {
			return fail(1002)
		}
		control := h.Opcode.IsControl()
		if h.RSV != 0 && (control || h.Opcode == frame.OpContinuation) {
			return fail(1002)
		}
		if !control {
			if (h.Opcode == frame.OpContinuation) != inMsg {
				return fail(1002)
			}
			if h.Opcode != frame.OpContinuation {
				typ, msg, compressed = h.Opcode, msg[:0], h.RSV != 0
				inMsg = true
			}
			if !compressed && int64(len(msg))+h.Length > int64(limit) {
				return fail(1009)
			}
			// A compressed message may take a quarter more than the
			// limit, plus 1 KiB, on the wire (Options.ReadLimit).
			if compressed && int64(len(msg))+h.Length > int64(limit+limit/4+1024) {
				return fail(1009)
			}
		}
		avail := int64(len(in))
		truncated := avail < h.Length
		p := bytes.Clone(in[:min(avail, h.Length)])
		in = in[len(p):]
		if h.Masked {
			frame.Mask(h.Key, 0, p)
		}
		if !control {
			msg = append(msg, p...)
			if typ == frame.OpText && !compressed && !utf8Completable(msg) {
				return fail(1007)
			}
		}
		if truncated {
			out.end = "abnormal"
			return out, inMsg && compressed
		}
		if control {
			if h.Opcode == frame.OpClose {
				code, _, err := frame.ParseClosePayload(p)
				if err != nil {
					var pe *frame.ProtocolError
					errors.As(err, &pe)
					return fail(pe.Code)
				}
				out.end = fmt.Sprintf("close %d", code)
				return out, inMsg && compressed
			}
			continue
		}
		inMsg = !h.Fin
		if !h.Fin {
			continue
		}
		data := msg
		if compressed {
			d.Reset(bytes.NewReader(msg), int64(limit))
			if data, err = io.ReadAll(d); err != nil {
				return fail(deflate.CloseCode(err))
			}
		}
		if typ == frame.OpText && !utf8.Valid(data) {
			return fail(1007)
		}
		out.msgs = append(out.msgs, fmt.Sprintf("%v:%s", typ, data))
		compressed = false
	}
}

// receiveDeflate feeds in to a Conn that negotiated permessage-deflate
// (15-bit windows, the peer's context takeover as given) over net.Pipe.
func receiveDeflate(t *testing.T, in []byte, server, takeover bool, limit int) outcome {
	ext := deflate.NewSession(deflate.Config{
		CompressWindowBits: 15, CompressContextTakeover: true,
		DecompressWindowBits: 15, DecompressContextTakeover: takeover, Level: deflate.BestSpeed,
	})
	return receiveWith(t, in, server, ext, limit)
}

// FuzzReadPathDeflate feeds arbitrary byte streams to a server and a
// client Conn that negotiated permessage-deflate, with and without the
// peer's context takeover, and compares what they deliver with
// referenceReceiveDeflate. A Conn inflates while it reads, so it may fail
// a corrupt or oversized compressed message before it has read a later
// violation that the model, which inflates whole messages, meets first;
// so the Conn's messages must be a prefix of the model's, and equal to
// them, with the same ending, whenever the stream holds no compressed
// message that the Conn failed.
func FuzzReadPathDeflate(f *testing.F) {
	mk := func(h frame.Header, p []byte) []byte {
		h.Length = int64(len(p))
		b := bytes.Clone(p)
		if h.Masked {
			frame.Mask(h.Key, 0, b)
		}
		return append(frame.AppendHeader(nil, h), b...)
	}
	deflated := func(s string) []byte {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w.Write([]byte(s))
		w.Flush()
		return buf.Bytes()[:buf.Len()-4]
	}
	key := [4]byte{1, 2, 3, 4}
	for _, server := range []bool{false, true} {
		fr := func(fin bool, rsv byte, op frame.Opcode, p []byte) []byte {
			return mk(frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: server, Key: key}, p)
		}
		hello := deflated("Hello")
		f.Add(bytes.Join([][]byte{fr(true, frame.RSV1, frame.OpText, hello), fr(true, 0, frame.OpClose, []byte("\x03\xe8"))}, nil), server, true)
		f.Add(bytes.Join([][]byte{fr(false, frame.RSV1, frame.OpText, hello[:3]), fr(true, 0, frame.OpPing, nil),
			fr(true, 0, frame.OpContinuation, hello[3:]), fr(true, 0, frame.OpBinary, []byte("raw"))}, nil), server, false)
		f.Add(fr(true, frame.RSV1, frame.OpBinary, deflated(strings.Repeat("a", 1000))), server, true)
		f.Add(fr(true, frame.RSV1, frame.OpText, deflated("\xff\xfe")), server, true)
		f.Add(fr(true, frame.RSV1, frame.OpText, []byte{0xff, 0xff, 0xff}), server, false)
		f.Add(bytes.Join([][]byte{fr(false, frame.RSV1, frame.OpText, hello[:2]), fr(true, frame.RSV1, frame.OpContinuation, hello[2:])}, nil), server, true)
		f.Add(fr(true, frame.RSV1, frame.OpPing, nil), server, true)
	}
	f.Fuzz(func(t *testing.T, in []byte, server, takeover bool) {
		const limit = 256
		want, compressedNext := referenceReceiveDeflate(in, server, takeover, limit)
		got := receiveDeflate(t, in, server, takeover, limit)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		// Only a compressed message may be failed early, and only for
		// its data (1007) or its inflated size (1009).
		early := (got.end == "fail 1007" || got.end == "fail 1009") &&
			(len(got.msgs) < len(want.msgs) || compressedNext)
		prefix := len(got.msgs) <= len(want.msgs) && fmt.Sprint(got.msgs) == fmt.Sprint(want.msgs[:len(got.msgs)])
		if !prefix || !early {
			t.Fatalf("input % x (server %v, takeover %v):\n got  %v\n want %v", in, server, takeover, got, want)
		}
		for _, m := range got.msgs {
			if len(m) > len("binary:")+limit {
				t.Fatalf("delivered a message over the limit: %d bytes", len(m))
			}
		}
	})
}
