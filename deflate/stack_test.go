package deflate

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"testing"
)

// stackLimit is the goroutine stack that compressing and decompressing a
// message must fit in. Every goroutine that sends or receives compressed
// messages keeps the stack it grew to until the garbage collector shrinks
// it, so the encoder keeps its tables in pooled scratch, not in stack
// frames. Before that, a 2 KiB array of byte counts and two copies of the
// 1.1 KiB literal histogram (a range over an array value) made such
// goroutines grow to 8 KiB.
const stackLimit = 4 << 10

// TestStackUse runs a compressing and decompressing round trip of every
// corpus file, at the fast and the lazy levels, with and without context
// takeover, and the one-shot AppendCompressed, on a goroutine in a child
// process whose stacks may not grow beyond stackLimit: exceeding it
// crashes the child (runtime/debug.SetMaxStack).
func TestStackUse(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector enlarges stack frames")
	}
	if os.Getenv("DEFLATE_STACK_CHILD") == "1" {
		stackChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStackUse$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DEFLATE_STACK_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("round trips on a %d-byte stack limit: %v\n%.2000s", stackLimit, err, out)
	}
}

func stackChild(t *testing.T) {
	var corpus [][][]byte
	for _, name := range corpusFiles {
		corpus = append(corpus, corpusMessages(t, name))
	}
	failed := make(chan string, 1)
	old := debug.SetMaxStack(stackLimit)
	go func() {
		defer close(failed)
		for _, msgs := range corpus {
			for _, level := range []int{BestSpeed, 6} {
				for _, takeover := range []bool{true, false} {
					if !stackRoundTrip(msgs, level, takeover) {
						failed <- "round trip differs"
						return
					}
				}
			}
			for _, m := range msgs {
				z := AppendCompressed(nil, m, MaxWindowBits, BestSpeed)
				d := NewDecompressor(MaxWindowBits, false)
				d.Reset(bytes.NewReader(z), 0)
				if got, err := io.ReadAll(d); err != nil || !bytes.Equal(got, m) {
					failed <- "AppendCompressed round trip differs"
					return
				}
			}
		}
	}()
	msg, bad := <-failed
	debug.SetMaxStack(old)
	if bad {
		t.Fatal(msg)
	}
}

func stackRoundTrip(msgs [][]byte, level int, takeover bool) bool {
	c := NewCompressor(MaxWindowBits, level, takeover)
	d := NewDecompressor(MaxWindowBits, takeover)
	var z bytes.Buffer
	for _, m := range msgs {
		z.Reset()
		c.Reset(&z)
		if _, err := c.Write(m); err != nil {
			return false
		}
		if err := c.Close(); err != nil {
			return false
		}
		d.Reset(&z, 0)
		out, err := io.ReadAll(d)
		if err != nil {
			return false
		}
		if !bytes.Equal(out, m) {
			return false
		}
	}
	c.Release()
	d.Release()
	return true
}
