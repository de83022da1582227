package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rfc6455/ws/handshake"
)

// FuzzFlateToOurs compresses up to three messages with compress/flate the
// way a permessage-deflate peer does (RFC 7692 §7.2.1: a sync flush with
// the 00 00 ff ff tail removed, or now and then a BFINAL block, §7.2.3.4),
// at every compress/flate level, with and without context takeover, and
// decodes them with our Decompressor for window bits 8 to 15.
//
// compress/flate always searches a 32 KiB window, so the messages are cut
// to 2^w bytes in all: then no distance in its output can reach further
// back than the window the receiver was told about, and every window size
// is exercised with a stream that is valid for it.
func FuzzFlateToOurs(f *testing.F) {
	f.Add([]byte("Hello, Hello, permessage-deflate"), uint8(15), int8(1), true, uint64(1))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 64), uint8(8), int8(9), true, uint64(2))
	f.Add(bytes.Repeat([]byte("0123456789"), 500), uint8(12), int8(-2), false, uint64(3))
	f.Add(corpusMessages(f, "chat.jsonl")[1], uint8(9), int8(6), true, uint64(4))
	f.Add(corpusMessages(f, "random.bin")[0][:3000], uint8(11), int8(0), false, uint64(5))
	f.Fuzz(flateToOurs)
}

func flateToOurs(t *testing.T, data []byte, wbits uint8, level int8, takeover bool, seed uint64) {
	w := MinWindowBits + int(wbits)%(MaxWindowBits-MinWindowBits+1)
	lvl := flate.HuffmanOnly + int(level)%(flate.BestCompression-flate.HuffmanOnly+1)
	if lvl < flate.HuffmanOnly {
		lvl += flate.BestCompression - flate.HuffmanOnly + 1
	}
	data = data[:min(len(data), 1<<w)]
	rng := rand.New(rand.NewPCG(seed, uint64(w)))
	msgs := splitMessages(data, rng)

	var payloads [][]byte
	var hist []byte // what the peer's window holds, with takeover
	var buf bytes.Buffer
	var fw *flate.Writer
	for _, m := range msgs {
		buf.Reset()
		final := rng.IntN(4) == 0
		dictWriter := false
		if fw == nil || !takeover {
			var err error
			if fw, err = flate.NewWriterDict(&buf, lvl, hist); err != nil {
				t.Fatal(err)
			}
			dictWriter = len(hist) > 0
		}
		fw.Write(m)
		if final {
			fw.Close()
		} else {
			fw.Flush()
		}
		p := buf.Bytes()
		// §7.2.1: the sender removes the 00 00 ff ff that ends the
		// data. After a final block a sender may leave it (§7.2.3.4
		// shows data after the final block), so keep it sometimes.
		if bytes.HasSuffix(p, syncTail[:]) && (!final || rng.IntN(2) == 0) {
			p = p[:len(p)-4]
		}
		if dictWriter && !flateReproduces(p, hist, m) {
			// A compress/flate Writer with a preset dictionary can emit
			// the dictionary into a stored block (golang.org/issue/80538,
			// fixed after Go 1.26): the stream is not m, for any decoder.
			t.Skip("compress/flate wrote its preset dictionary into the stream")
		}
		payloads = append(payloads, bytes.Clone(p))
		if final {
			fw = nil // the stream has ended; a new one starts with the window as dictionary
		}
		if takeover {
			hist = append(hist, m...)
		}
	}
	got := decompressAll(t, NewDecompressor(w, takeover), payloads, rng)
	equalMessages(t, fmt.Sprintf("compress/flate level %d, W=%d, takeover=%t", lvl, w, takeover), got, msgs)
}

// flateReproduces reports whether compress/flate's own reader, given the
// dictionary hist, decodes payload p (with the tail RFC 7692 §7.2.2 has the
// receiver append) to m.
func flateReproduces(p, hist, m []byte) bool {
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(p), bytes.NewReader(syncTail[:])), hist)
	got, _ := io.ReadAll(r) // no final block: io.ErrUnexpectedEOF after the data
	return bytes.Equal(got, m)
}

// flateWriters keeps one compress/flate writer per level: a new one
// allocates about a megabyte, more than the rest of an execution.
var flateWriters [flate.BestCompression - flate.HuffmanOnly + 1]*flate.Writer

// flateWriter returns a compress/flate writer at level lvl, reset to dst.
func flateWriter(dst io.Writer, lvl int) *flate.Writer {
	w := &flateWriters[lvl-flate.HuffmanOnly]
	if *w == nil {
		*w, _ = flate.NewWriter(dst, lvl)
	} else {
		(*w).Reset(dst)
	}
	return *w
}

// splitMessages cuts data into one to three messages at random points.
func splitMessages(data []byte, rng *rand.Rand) [][]byte {
	var msgs [][]byte
	for rest := data; ; {
		n := len(rest)
		if len(msgs) < 2 && n > 0 {
			n = rng.IntN(n + 1)
		}
		msgs = append(msgs, rest[:n])
		rest = rest[n:]
		if len(rest) == 0 {
			return msgs
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// FuzzDecompressLimit decodes arbitrary data, optionally followed by a run
// of zero bytes (which after a suitable prefix, such as the one bomb()
// builds, is a decompression bomb of about 1000:1), with a read limit, and
// checks that the limit holds in memory and not only in what Read returns:
//
//   - Read never returns more than limit bytes, and the decompressor never
//     decodes more than limit+1 bytes of the message (so it cannot be made
//     to inflate a bomb beyond the limit);
//   - the buffers it holds never exceed its window and per-message state,
//     and what the message allocates stays below that plus a constant,
//     however much the data claims to inflate to;
//   - ErrMessageTooBig is returned exactly when the message is longer
//     than the limit, which a decoder without a limit confirms by reading
//     limit+1 bytes; below the limit both return the same bytes.
func FuzzDecompressLimit(f *testing.F) {
	b := bomb()
	f.Add(b, uint32(1<<16), uint32(1000), uint8(15), true)
	f.Add(b, uint32(1<<14), uint32(1), uint8(8), false)
	f.Add(AppendCompressed(nil, bytes.Repeat([]byte("limit "), 1000), 10, BestSpeed), uint32(0), uint32(5999), uint8(10), false)
	f.Add(AppendCompressed(nil, bytes.Repeat([]byte("limit "), 1000), 10, BestSpeed), uint32(0), uint32(6000), uint8(10), true)
	var fl bytes.Buffer
	fw, _ := flate.NewWriter(&fl, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	f.Add(fl.Bytes()[:fl.Len()-4], uint32(0), uint32(1<<17), uint8(15), true)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o'}, uint32(0), uint32(4), uint8(9), true)
	f.Fuzz(func(t *testing.T, data []byte, zeroRun, limitSeed uint32, wbits uint8, takeover bool) {
		const maxLimit = 1 << 18
		limit := 1 + int64(limitSeed%maxLimit)
		w := MinWindowBits + int(wbits)%(MaxWindowBits-MinWindowBits+1)
		zeroes := &zeros{n: int64(zeroRun % (1 << 20))}
		src := &countingReader{r: io.MultiReader(bytes.NewReader(data), zeroes)}

		// What the decompressor may hold: its window (at least 512 bytes,
		// see minRingBits) and the per-message inflater.
		held := 1<<max(w, minRingBits) + int(reflect.TypeFor[inflater]().Size())
		d := NewDecompressor(w, takeover)
		buf := make([]byte, 4096)
		got := make([]byte, 0, limit+int64(len(buf)))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d.Reset(src, limit)
		var err error
		for err == nil {
			var n int
			n, err = d.Read(buf)
			got = append(got, buf[:n]...)
			if d.produced > limit+1 {
				t.Fatalf("decoded %d bytes of a message with a limit of %d", d.produced, limit)
			}
			if h := d.heldBytes(); h > held {
				t.Fatalf("holds %d bytes, more than the window and state (%d)", h, held)
			}
		}
		runtime.ReadMemStats(&after)
		if int64(len(got)) > limit {
			t.Fatalf("Read returned %d bytes, limit %d", len(got), limit)
		}
		if !raceEnabled {
			// 64 KiB covers the inflater's tables and the pools refilling
			// after a collection.
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			if budget := int64(held) + 64<<10; alloc > budget {
				t.Fatalf("allocated %d bytes for a message with a limit of %d and W=%d (budget %d)", alloc, limit, w, budget)
			}
		}
		switch {
		case err == io.EOF:
		case errors.Is(err, ErrMessageTooBig):
		case CloseCode(err) != 0:
			return // corrupt: FuzzDecompress compares such data with the reference decoder
		default:
			t.Fatalf("error without a close code: %v", err)
		}

		// A decoder without a limit, stopped after limit+1 bytes.
		ref := NewDecompressor(w, takeover)
		ref.Reset(io.MultiReader(bytes.NewReader(data), &zeros{n: int64(zeroRun % (1 << 20))}), 0)
		want, rerr := io.ReadAll(io.LimitReader(ref, limit+1))
		if rerr != nil {
			// Without a limit the decoder works a window ahead and may
			// meet corrupt data that the limited one stopped short of.
			if err == io.EOF {
				t.Fatalf("the message decodes with a limit of %d, but not without: %v", limit, rerr)
			}
			return
		}
		if err == io.EOF {
			if !bytes.Equal(got, want) {
				t.Fatalf("with a limit of %d: %d bytes; without: %d bytes", limit, len(got), len(want))
			}
		} else if int64(len(want)) <= limit {
			t.Fatalf("ErrMessageTooBig for a message of %d bytes with a limit of %d", len(want), limit)
		}
		ref.Release()
		d.Release()
	})
}

// FuzzAcceptResponse is the client's side of the negotiation (RFC 7692
// §7.1) against arbitrary server answers: AcceptResponse must agree with
// a direct reading of the RFC's rules about which answers to accept, and
// an accepted answer must yield a Config that interoperates with the
// server that sent it: the client decodes what the server compresses
// under the answered parameters, and the server decodes what the client
// compresses.
func FuzzAcceptResponse(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
		`permessage-deflate; client_max_window_bits="12"`,
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=08",
		"permessage-deflate, permessage-deflate",
		"x-webkit-deflate-frame, permessage-deflate; foo=1",
		"",
	} {
		f.Add(s, uint8(0), uint8(0), false, false)
	}
	f.Add("permessage-deflate; server_max_window_bits=12", uint8(11), uint8(0), false, false)
	f.Add("permessage-deflate; server_no_context_takeover", uint8(0), uint8(9), true, true)
	f.Fuzz(func(t *testing.T, header string, serverBits, clientBits uint8, serverNoCT, clientNoCT bool) {
		exts, err := handshake.ParseExtensions([]string{header})
		if err != nil {
			return
		}
		opts := &ClientOptions{
			ServerNoContextTakeover: serverNoCT,
			ClientNoContextTakeover: clientNoCT,
			ServerMaxWindowBits:     optionalBits(serverBits),
			ClientMaxWindowBits:     optionalBits(clientBits),
		}
		cfg, ok, err := AcceptResponse(exts, opts)
		want, wantOK, why := responseModel(exts, opts)
		switch {
		case err != nil && !errors.Is(err, ErrBadResponse):
			t.Fatalf("%q: error %v does not wrap ErrBadResponse", header, err)
		case why != "" && err == nil:
			t.Fatalf("%q with %+v: accepted (%+v), but %s", header, *opts, cfg, why)
		case why == "" && err != nil:
			t.Fatalf("%q with %+v: refused: %v", header, *opts, err)
		case ok != wantOK:
			t.Fatalf("%q with %+v: ok = %v", header, *opts, ok)
		case !ok:
			return
		}
		cfg.Threshold, cfg.Level = 0, 0
		if cfg != want {
			t.Fatalf("%q with %+v:\n got %+v\nwant %+v", header, *opts, cfg, want)
		}

		// The server's side of the same answer.
		server := Config{
			CompressWindowBits:        cfg.DecompressWindowBits,
			CompressContextTakeover:   cfg.DecompressContextTakeover,
			DecompressWindowBits:      cfg.CompressWindowBits,
			DecompressContextTakeover: cfg.CompressContextTakeover,
			Level:                     BestSpeed,
		}
		cfg.Level = BestSpeed
		msgs := [][]byte{[]byte(header), []byte(header + header), bytes.Repeat([]byte(header+"!"), 20)}
		for _, dir := range []struct {
			name string
			c    *Compressor
			d    *Decompressor
			bits int
		}{
			{"server to client", server.NewCompressor(), cfg.NewDecompressor(), server.CompressWindowBits},
			{"client to server", cfg.NewCompressor(), server.NewDecompressor(), cfg.CompressWindowBits},
		} {
			payloads := compressAll(t, dir.c, msgs, nil)
			checkWithRef(t, payloads, msgs, dir.bits, dir.c.takeover)
			equalMessages(t, dir.name, decompressAll(t, dir.d, payloads, newRand(1)), msgs)
		}
	})
}

// optionalBits maps a fuzz byte to a window-bits option: mostly 0 (not
// set), otherwise 8..15.
func optionalBits(b uint8) int {
	if b%3 == 0 {
		return 0
	}
	return MinWindowBits + int(b)%(MaxWindowBits-MinWindowBits+1)
}

// responseModel reads RFC 7692 §7 directly: the Config a client that made
// the offer of opts gets from the server's accepted extensions, ok false
// when permessage-deflate is not among them, or the reason to fail the
// connection.
func responseModel(exts []handshake.Extension, opts *ClientOptions) (cfg Config, ok bool, why string) {
	var ext *handshake.Extension
	for i := range exts {
		if exts[i].Name == ExtensionName {
			if ext != nil {
				return cfg, false, "permessage-deflate is accepted twice"
			}
			ext = &exts[i]
		}
	}
	if ext == nil {
		return cfg, false, ""
	}
	// The client's offer, as Offer writes it: client_max_window_bits is
	// always there, with the option's value or none.
	offeredClientBits := 15
	if opts.ClientMaxWindowBits != 0 {
		offeredClientBits = opts.ClientMaxWindowBits
	}
	cfg = Config{
		CompressWindowBits:        offeredClientBits,
		CompressContextTakeover:   !opts.ClientNoContextTakeover,
		DecompressWindowBits:      15,
		DecompressContextTakeover: true,
	}
	seen := map[string]bool{}
	sawServerBits := false
	for _, p := range ext.Params {
		if seen[p.Name] {
			return cfg, false, "a parameter is repeated (§7.1)"
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover":
			if p.HasValue {
				return cfg, false, "server_no_context_takeover has a value (§7.1.1.1)"
			}
			cfg.DecompressContextTakeover = false
		case "client_no_context_takeover":
			if p.HasValue {
				return cfg, false, "client_no_context_takeover has a value (§7.1.1.2)"
			}
			cfg.CompressContextTakeover = false
		case "server_max_window_bits", "client_max_window_bits":
			// §7.1.2: a decimal integer from 8 to 15 without leading
			// zeroes; in a response client_max_window_bits needs one too.
			v := p.Value
			n, err := strconv.Atoi(v)
			if !p.HasValue || err != nil || n < 8 || n > 15 || strings.HasPrefix(v, "0") || strings.ContainsAny(v, "+-") {
				return cfg, false, p.Name + " has no valid window size (§7.1.2)"
			}
			if p.Name == "server_max_window_bits" {
				if opts.ServerMaxWindowBits != 0 && n > opts.ServerMaxWindowBits {
					return cfg, false, "server_max_window_bits is above the offer (§7.1.2.1)"
				}
				sawServerBits = true
				cfg.DecompressWindowBits = n
			} else {
				if n > offeredClientBits {
					return cfg, false, "client_max_window_bits is above the offer (§7.1.2.2)"
				}
				cfg.CompressWindowBits = n
			}
		default:
			return cfg, false, "unknown parameter " + strconv.Quote(p.Name) + " (§7.1)"
		}
	}
	if opts.ServerNoContextTakeover && cfg.DecompressContextTakeover {
		return cfg, false, "server_no_context_takeover was offered and not answered (§7.1.1.1)"
	}
	if opts.ServerMaxWindowBits != 0 && !sawServerBits {
		return cfg, false, "server_max_window_bits was offered and not answered (§7.1.2.1)"
	}
	return cfg, true, ""
}
