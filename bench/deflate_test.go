package bench

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
	"github.com/rfc6455/ws/bench/internal/payload"
	"github.com/rfc6455/ws/deflate"
)

// The DEFLATE codecs the libraries compress messages with, one message per
// op, outside any connection: ours (package deflate, with and without
// context takeover), compress/flate (gorilla, gobwas's wsflate and coder)
// and klauspost/compress/flate (gws), all at BestSpeed, the level every
// endpoint in compare uses. Messages cycle through distinct bodies
// (payload.Series) filling the largest window twice, as wsbench's do, so
// a codec keeping its window finds shared words in earlier messages but
// never the same message.

var deflateSizes = []int{1 << 10, 16 << 10, 64 << 10}

// deflateMessages returns the distinct messages of n bytes a benchmark
// cycles through.
func deflateMessages(n int) [][]byte {
	return payload.Series(n, max(2, 2<<deflate.MaxWindowBits/n))
}

// syncFlusher is the writer side of compress/flate and klauspost's flate.
type syncFlusher interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

// BenchmarkDeflateCompress compresses one message per op as
// permessage-deflate does (RFC 7692 §7.2.1: a sync flush ends it). The
// flate writers are reset for each message, as the libraries that use
// them without context takeover do. wire-B/msg is the mean compressed
// size.
func BenchmarkDeflateCompress(b *testing.B) {
	for _, n := range deflateSizes {
		msgs := deflateMessages(n)
		run := func(name string, compress func(dst *bytes.Buffer, msg []byte) error) {
			b.Run(fmt.Sprintf("lib=%s/size=%s", name, sizeLabel(n)), func(b *testing.B) {
				var out bytes.Buffer
				var total int
				b.SetBytes(int64(n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					out.Reset()
					if err := compress(&out, msgs[i%len(msgs)]); err != nil {
						b.Fatal(err)
					}
					total += out.Len()
					i++
				}
				b.ReportMetric(float64(total)/float64(i), "wire-B/msg")
			})
		}
		for _, takeover := range []bool{true, false} {
			c := deflate.NewCompressor(deflate.MaxWindowBits, deflate.BestSpeed, takeover)
			name := "ours"
			if !takeover {
				name = "ours-nct"
			}
			run(name, func(dst *bytes.Buffer, msg []byte) error {
				c.Reset(dst)
				if _, err := c.Write(msg); err != nil {
					return err
				}
				return c.Close()
			})
		}
		std, err := stdflate.NewWriter(io.Discard, stdflate.BestSpeed)
		if err != nil {
			b.Fatal(err)
		}
		kl, err := kflate.NewWriter(io.Discard, kflate.BestSpeed)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct {
			name string
			w    syncFlusher
		}{{"compress-flate", std}, {"klauspost", kl}} {
			run(w.name, func(dst *bytes.Buffer, msg []byte) error {
				w.w.Reset(dst)
				if _, err := w.w.Write(msg); err != nil {
					return err
				}
				return w.w.Flush()
			})
		}
	}
}

// BenchmarkDeflateDecompress decompresses one message per op: every codec
// reads the same compressed messages (each compressed on its own by
// compress/flate, with the 00 00 ff ff tail RFC 7692 §7.2.2 has the
// receiver append) into a buffer of the message's size. The flate readers
// are reset for each message, as the libraries that use them do.
func BenchmarkDeflateDecompress(b *testing.B) {
	for _, n := range deflateSizes {
		msgs := deflateMessages(n)
		withTail := make([][]byte, len(msgs))
		for i, m := range msgs {
			var out bytes.Buffer
			w, err := stdflate.NewWriter(&out, stdflate.BestSpeed)
			if err == nil {
				_, err = w.Write(m)
			}
			if err == nil {
				err = w.Flush() // ends with 00 00 ff ff
			}
			if err != nil {
				b.Fatal(err)
			}
			withTail[i] = out.Bytes()
		}
		run := func(name string, decompress func(k int, dst []byte) error) {
			b.Run(fmt.Sprintf("lib=%s/size=%s", name, sizeLabel(n)), func(b *testing.B) {
				dst := make([]byte, n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k := i % len(msgs)
					if err := decompress(k, dst); err != nil {
						b.Fatal(err)
					}
					if !bytes.Equal(dst, msgs[k]) {
						b.Fatalf("message %d decompressed wrong", k)
					}
					i++
				}
			})
		}
		var src bytes.Reader
		d := deflate.NewDecompressor(deflate.MaxWindowBits, false)
		run("ours", func(k int, dst []byte) error {
			// Our decompressor appends the tail itself.
			m := withTail[k]
			src.Reset(m[:len(m)-4])
			d.Reset(&src, 0)
			if _, err := io.ReadFull(d, dst); err != nil {
				return err
			}
			if n, err := d.Read(dst[:1]); n != 0 || err != io.EOF {
				return fmt.Errorf("after the message: %d, %v; want 0, EOF", n, err)
			}
			return nil
		})
		std := stdflate.NewReader(nil)
		kl := kflate.NewReader(nil)
		for _, r := range []struct {
			name string
			r    io.ReadCloser
		}{{"compress-flate", std}, {"klauspost", kl}} {
			run(r.name, func(k int, dst []byte) error {
				src.Reset(withTail[k])
				if err := r.r.(stdflate.Resetter).Reset(&src, nil); err != nil {
					return err
				}
				_, err := io.ReadFull(r.r, dst)
				return err
			})
		}
	}
}
