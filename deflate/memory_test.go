package deflate

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// measureHeapPerConnection creates n connections' worth of compression
// state (a Compressor and a Decompressor), has each exchange a few chat
// messages, and returns the growth of HeapInuse per connection once the
// garbage (and the pools, which two collections empty) is gone. This is
// the measurement the issue asks for.
func measureHeapPerConnection(tb testing.TB, n, wbits int, takeover bool) float64 {
	tb.Helper()
	msgs := corpusMessages(tb, "chat.jsonl")[:4]
	type conn struct {
		c *Compressor
		d *Decompressor
	}
	conns := make([]conn, n)
	var buf bytes.Buffer
	var r bytes.Reader
	sink := make([]byte, 4096)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range conns {
		c := NewCompressor(wbits, BestSpeed, takeover)
		d := NewDecompressor(wbits, takeover)
		for _, m := range msgs {
			buf.Reset()
			c.Reset(&buf)
			c.Write(m)
			if err := c.Close(); err != nil {
				tb.Fatal(err)
			}
			r.Reset(buf.Bytes())
			d.Reset(&r, 0)
			for {
				_, err := d.Read(sink)
				if err == io.EOF {
					break
				}
				if err != nil {
					tb.Fatal(err)
				}
			}
		}
		conns[i] = conn{c, d}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(conns)
	return (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(n)
}

// memoryBudget is the goal for one connection's compression
// state with context takeover both ways: 2*2^W + 16 KiB.
func memoryBudget(wbits int) int { return 2<<wbits + 16<<10 }

func TestMemoryPerConnection(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates about 80 MB; heap figures are not meaningful under the race detector")
	}
	for _, wbits := range []int{8, 12, 15} {
		for _, takeover := range []bool{true, false} {
			got := measureHeapPerConnection(t, 1000, wbits, takeover)
			limit := float64(memoryBudget(wbits))
			if !takeover {
				limit = 1024
			}
			t.Logf("W=%d takeover=%t: %.0f bytes of heap per connection (limit %.0f)", wbits, takeover, got, limit)
			if got > limit {
				t.Errorf("W=%d takeover=%t: %.0f bytes per connection, over the budget of %.0f", wbits, takeover, got, limit)
			}
		}
	}
}

// TestHeldBytes checks the exact accounting of what an idle compressor
// and decompressor hold between messages.
func TestHeldBytes(t *testing.T) {
	msgs := corpusMessages(t, "chat.jsonl")[:3]
	big := corpusMessages(t, "doc.json")[0]
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		for _, takeover := range []bool{true, false} {
			c := NewCompressor(wbits, BestSpeed, takeover)
			d := NewDecompressor(wbits, takeover)
			payloads := compressAll(t, c, append(msgs, big), nil)
			for _, p := range payloads {
				d.Reset(bytes.NewReader(p), 0)
				if _, err := io.Copy(io.Discard, d); err != nil {
					t.Fatal(err)
				}
			}
			ch, dh := c.heldBytes(), d.heldBytes()
			wantC, wantD := 0, 0
			if takeover {
				wantC = smallSize(wbits) + 2<<hashBits(wbits)
				wantD = 1 << max(wbits, minRingBits)
			}
			if ch != wantC || dh != wantD {
				t.Errorf("W=%d takeover=%t: idle compressor holds %d bytes, decompressor %d; want %d and %d",
					wbits, takeover, ch, dh, wantC, wantD)
			}
			if takeover && ch+dh > memoryBudget(wbits) {
				t.Errorf("W=%d: %d bytes held, over the budget of %d", wbits, ch+dh, memoryBudget(wbits))
			}
			c.Release()
			d.Release()
			if c.heldBytes() != 0 || d.heldBytes() != 0 {
				t.Errorf("W=%d takeover=%t: after Release: %d and %d bytes held", wbits, takeover, c.heldBytes(), d.heldBytes())
			}
		}
	}
}

// TestZeroAllocs checks that a message costs no allocation in steady
// state, with context takeover and without (pools), in both directions.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msg := corpusMessages(t, "chat.jsonl")[5]
	for _, takeover := range []bool{true, false} {
		for _, level := range []int{NoCompression, BestSpeed, 4} {
			t.Run(fmt.Sprintf("takeover=%t/level=%d", takeover, level), func(t *testing.T) {
				c := NewCompressor(15, level, takeover)
				d := NewDecompressor(15, takeover)
				var buf bytes.Buffer
				buf.Grow(4096)
				var r bytes.Reader
				sink := make([]byte, 4096)
				allocs := testing.AllocsPerRun(200, func() {
					buf.Reset()
					c.Reset(&buf)
					c.Write(msg)
					if err := c.Close(); err != nil {
						t.Fatal(err)
					}
					r.Reset(buf.Bytes())
					d.Reset(&r, 0)
					for {
						_, err := d.Read(sink)
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
					}
				})
				if allocs != 0 {
					t.Errorf("%.1f allocations per message, want 0", allocs)
				}
			})
		}
	}
	out := make([]byte, 0, 4096)
	if allocs := testing.AllocsPerRun(200, func() { out = AppendCompressed(out[:0], msg, 15, BestSpeed) }); allocs != 0 {
		t.Errorf("AppendCompressed: %.1f allocations, want 0", allocs)
	}
}
