package hostile

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/ws/hostile/wire"
)

// violation returns an attack run that opens a connection (offering
// permessage-deflate when compressed, and skipping when the server
// declines it), writes what build returns and expects a close frame with
// one of codes and TCP released within c.Release (RFC 6455 §7.1.7: the
// server fails the connection; it need not wait for a close from a peer
// that broke the protocol).
func violation(compressed bool, build func() []byte, codes ...int) func(context.Context, *Config) outcome {
	return func(ctx context.Context, c *Config) outcome {
		ext := ""
		if compressed {
			ext = deflateOffer
		}
		s, err := c.open(ctx, ext)
		if err != nil {
			return fail(err.Error(), -1)
		}
		defer s.reset()
		if compressed && !s.deflate {
			return skip("server declined permessage-deflate")
		}
		s.nc.SetWriteDeadline(time.Now().Add(c.ProbeTimeout))
		s.nc.Write(build()) // a server may close before reading it all
		start := time.Now()
		return judgeClose(s.await(start, start.Add(c.Release)), codes)
	}
}

// judgeClose passes an ending with a close code among codes and TCP
// released in time.
func judgeClose(e ending, codes []int) outcome {
	release := time.Duration(-1)
	if e.released {
		release = e.after
	}
	if slices.Contains(codes, e.closeCode) && e.released {
		return pass(e.describe(), release)
	}
	return fail(e.describe(), release)
}

func codesText(codes []int) string {
	var s []string
	for _, c := range codes {
		s = append(s, fmt.Sprint(c))
	}
	return "close " + strings.Join(s, " or ")
}

// frames concatenates client frames, each masked with a fresh key.
func frames(fs ...[]byte) []byte { return slices.Concat(fs...) }

func text(fin bool, p string) []byte { return wire.ClientFrame(nil, wire.OpText, fin, 0, []byte(p)) }
func cont(fin bool, p string) []byte {
	return wire.ClientFrame(nil, wire.OpContinuation, fin, 0, []byte(p))
}
func closeFrame(p []byte) []byte { return wire.ClientFrame(nil, wire.OpClose, true, 0, p) }
func unmasked(op byte, p string) []byte {
	return wire.AppendFrame(nil, wire.Header{Fin: true, Opcode: op}, []byte(p))
}

// hugeHeader is a masked frame header declaring 2^62 payload bytes, and
// the first 15 of them: three empty stored DEFLATE blocks, valid whether
// or not the frame is compressed, so that only the length is wrong.
func hugeHeader(rsv byte) []byte {
	h := wire.Header{Fin: true, RSV: rsv, Opcode: wire.OpBinary, Masked: true, Key: wire.NewMaskKey(), Length: 1 << 62}
	b := wire.AppendHeader(nil, h)
	start := len(b)
	b = append(b, bytes.Repeat([]byte{0, 0, 0, 0xff, 0xff}, 3)...)
	wire.Mask(h.Key, 0, b[start:])
	return b
}

// frameAttacks are the single-connection protocol violations: each is a
// few frames, answered by a close with the code RFC 6455 §7.4.1 assigns.
func frameAttacks() []Attack {
	const (
		protocolError = 1002
		invalidData   = 1007
		tooBig        = 1009
	)
	row := func(name, sends string, compressed bool, build func() []byte, codes ...int) Attack {
		return Attack{Name: name, Sends: sends, Expect: codesText(codes) + ", TCP closed within -release",
			run: violation(compressed, build, codes...)}
	}
	closeCode := func(code uint16) Attack {
		return row(fmt.Sprintf("close/code-%d", code), fmt.Sprintf("close frame with code %d, not allowed on the wire (§7.4.1-2)", code), false,
			func() []byte { return closeFrame(wire.ClosePayload(code, "")) }, protocolError)
	}
	return []Attack{
		row("length/huge", "binary frame header declaring 2^62 payload bytes (64-bit length, §5.2)", false,
			func() []byte { return hugeHeader(0) }, tooBig),
		row("length/huge-compressed", "with permessage-deflate: RSV1 frame header declaring 2^62 bytes (RFC 7692 §6)", true,
			func() []byte { return hugeHeader(wire.RSV1) }, tooBig),
		row("frame/unmasked", "unmasked text frame \"hello\" (§5.1: a client masks every frame)", false,
			func() []byte { return unmasked(wire.OpText, "hello") }, protocolError),
		row("frame/rsv2", "text frame with RSV2 set, no extension negotiated (§5.2)", false,
			func() []byte { return wire.ClientFrame(nil, wire.OpText, true, wire.RSV2, []byte("hello")) }, protocolError),
		row("frame/rsv3", "text frame with RSV3 set (§5.2)", false,
			func() []byte { return wire.ClientFrame(nil, wire.OpText, true, wire.RSV3, []byte("hello")) }, protocolError),
		row("frame/rsv1-uncompressed", "text frame with RSV1 set, permessage-deflate not negotiated (§5.2)", false,
			func() []byte { return wire.ClientFrame(nil, wire.OpText, true, wire.RSV1, []byte("hello")) }, protocolError),
		row("frame/opcode-3", "frame with reserved data opcode 0x3 (§5.2)", false,
			func() []byte { return wire.ClientFrame(nil, 0x3, true, 0, []byte("hello")) }, protocolError),
		row("frame/opcode-b", "frame with reserved control opcode 0xB (§5.2)", false,
			func() []byte { return wire.ClientFrame(nil, 0xB, true, 0, nil) }, protocolError),
		row("frame/fragmented-ping", "ping with FIN clear, then its continuation (§5.5: control frames are not fragmented)", false,
			func() []byte {
				return frames(wire.ClientFrame(nil, wire.OpPing, false, 0, []byte("ab")), cont(true, "cd"))
			}, protocolError),
		row("frame/ping-126", "ping with a 126-byte payload (§5.5: control payloads are at most 125)", false,
			func() []byte { return wire.ClientFrame(nil, wire.OpPing, true, 0, make([]byte, 126)) }, protocolError),
		row("frame/continuation-first", "continuation frame with no message started (§5.4)", false,
			func() []byte { return cont(true, "hello") }, protocolError),
		row("utf8/single-frame", "text frame \"hello\\xffworld\" (§8.1: text is UTF-8)", false,
			func() []byte { return text(true, "hello\xffworld") }, invalidData),
		row("utf8/fragmented", "text message \"hello\" + \"\\xff\" in two frames (§8.1)", false,
			func() []byte { return frames(text(false, "hello"), cont(true, "\xff")) }, invalidData),
		row("utf8/split-code-point", "text \"ab\\xed\" + \"\\xa0\\x80cd\": surrogate U+D800 split across frames (§8.1)", false,
			func() []byte { return frames(text(false, "ab\xed"), cont(true, "\xa0\x80cd")) }, invalidData),
		row("close/1-byte", "close frame with a 1-byte payload (§5.5.1: a body starts with a 2-byte code)", false,
			func() []byte { return closeFrame([]byte{0x03}) }, protocolError),
		closeCode(999),
		closeCode(1004),
		closeCode(1005),
		closeCode(1006),
		closeCode(1015),
		closeCode(5000),
		row("close/reason-utf8", "close 1000 with reason \"bye\\xff\" (§5.5.1: the reason is UTF-8)", false,
			func() []byte { return closeFrame(wire.ClosePayload(1000, "bye\xff")) }, invalidData),
	}
}
