package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

// Side-by-side benchmarks. Each corpus file is sent as the messages
// corpusMessages defines (chat and log files one message per line), over
// one connection with context takeover at window bits 15: ours through a
// Compressor, compress/flate through one Writer with a Flush per message
// (how permessage-deflate is built on it). "ratio" is compressed bytes per
// input byte, without the 4 bytes of each sync marker.

func totalLen(msgs [][]byte) int {
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	return n
}

func BenchmarkCompress(b *testing.B) {
	for _, name := range corpusFiles {
		msgs := corpusMessages(b, name)
		size := totalLen(msgs)
		b.Run(name+"/ours", func(b *testing.B) { benchOurs(b, msgs, size, 15, BestSpeed, true) })
		b.Run(name+"/ours-level4", func(b *testing.B) { benchOurs(b, msgs, size, 15, 4, true) })
		b.Run(name+"/ours-W12", func(b *testing.B) { benchOurs(b, msgs, size, 12, BestSpeed, true) })
		b.Run(name+"/flate-BestSpeed", func(b *testing.B) { benchFlate(b, msgs, size, flate.BestSpeed) })
		b.Run(name+"/flate-Default", func(b *testing.B) { benchFlate(b, msgs, size, flate.DefaultCompression) })
	}
}

func benchOurs(b *testing.B, msgs [][]byte, size, wbits, level int, takeover bool) {
	c := NewCompressor(wbits, level, takeover)
	var buf bytes.Buffer
	out := 0
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		out = 0
		for _, m := range msgs {
			buf.Reset()
			c.Reset(&buf)
			c.Write(m)
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
			out += buf.Len()
		}
	}
	b.ReportMetric(float64(out)/float64(size), "ratio")
}

func benchFlate(b *testing.B, msgs [][]byte, size, level int) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, level)
	out := 0
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		out = 0
		for _, m := range msgs {
			buf.Reset()
			w.Write(m)
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			out += buf.Len() - 4
		}
	}
	b.ReportMetric(float64(out)/float64(size), "ratio")
}

// BenchmarkIncompressible compresses 64 KiB of random bytes as one message
// and compares with copying them to the same kind of destination.
func BenchmarkIncompressible(b *testing.B) {
	data := corpusMessages(b, "random.bin")[0]
	var buf bytes.Buffer
	buf.Grow(2 * len(data))
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			buf.Reset()
			buf.Write(data)
		}
	})
	b.Run("ours", func(b *testing.B) { benchOurs(b, [][]byte{data}, len(data), 15, BestSpeed, true) })
	b.Run("ours-notakeover", func(b *testing.B) { benchOurs(b, [][]byte{data}, len(data), 15, BestSpeed, false) })
	b.Run("AppendCompressed", func(b *testing.B) {
		out := make([]byte, 0, 2*len(data))
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			out = AppendCompressed(out[:0], data, 15, BestSpeed)
		}
	})
	b.Run("flate-BestSpeed", func(b *testing.B) { benchFlate(b, [][]byte{data}, len(data), flate.BestSpeed) })
}

// BenchmarkCompressIncompressible and BenchmarkCopy are the two halves of
// BenchmarkIncompressible under the names the issue uses.
func BenchmarkCompressIncompressible(b *testing.B) {
	data := corpusMessages(b, "random.bin")[0]
	benchOurs(b, [][]byte{data}, len(data), 15, BestSpeed, true)
}

func BenchmarkCopy(b *testing.B) {
	data := corpusMessages(b, "random.bin")[0]
	var buf bytes.Buffer
	buf.Grow(2 * len(data))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf.Reset()
		buf.Write(data)
	}
}

// BenchmarkDecompress decodes each corpus file as compressed by our
// Compressor (window bits 15, context takeover): ours through a
// Decompressor, compress/flate through one Reader fed the messages with
// their sync markers.
func BenchmarkDecompress(b *testing.B) {
	for _, name := range corpusFiles {
		msgs := corpusMessages(b, name)
		size := totalLen(msgs)
		payloads := compressAll(b, NewCompressor(15, BestSpeed, true), msgs, nil)
		buf := make([]byte, 32<<10)
		b.Run(name+"/ours", func(b *testing.B) {
			d := NewDecompressor(15, true)
			var r bytes.Reader
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range payloads {
					r.Reset(p)
					d.Reset(&r, 0)
					for {
						_, err := d.Read(buf)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				d.Release() // start the next round with an empty window
			}
		})
		b.Run(name+"/flate", func(b *testing.B) {
			var stream bytes.Buffer
			r := flate.NewReader(&stream)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				stream.Reset()
				r.(flate.Resetter).Reset(&stream, nil)
				for i, p := range payloads {
					stream.Write(p)
					stream.Write(syncTail[:])
					if _, err := io.ReadFull(r, buf[:min(len(buf), len(msgs[i]))]); err != nil {
						b.Fatal(err)
					}
					for n := len(msgs[i]) - len(buf); n > 0; n -= len(buf) {
						io.ReadFull(r, buf[:min(n, len(buf))])
					}
				}
			}
		})
	}
}

// BenchmarkMemoryPerConnection reports the heap held per connection (one
// compressor and one decompressor with context takeover, after a few
// messages), measured over 1000 instances; see TestMemoryPerConnection.
func BenchmarkMemoryPerConnection(b *testing.B) {
	for _, wbits := range []int{8, 12, 15} {
		for _, takeover := range []bool{true, false} {
			b.Run(fmt.Sprintf("W=%d/takeover=%t", wbits, takeover), func(b *testing.B) {
				var perConn float64
				for b.Loop() {
					perConn = measureHeapPerConnection(b, 1000, wbits, takeover)
				}
				b.ReportMetric(perConn, "B/conn")
			})
		}
	}
}
