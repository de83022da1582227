package deflate_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/rfc6455/ws/deflate"
)

// A connection with context takeover compresses each message with the
// same Compressor; the second "Hello" refers back to the first (RFC 7692
// §7.2.3.1, §7.2.3.2).
func Example() {
	c := deflate.NewCompressor(15, deflate.BestSpeed, true)
	d := deflate.NewDecompressor(15, true)
	for range 2 {
		var payload bytes.Buffer
		c.Reset(&payload)
		io.WriteString(c, "Hello")
		if err := c.Close(); err != nil {
			panic(err)
		}
		fmt.Printf("% x\n", payload.Bytes())

		d.Reset(&payload, 1<<20)
		msg, err := io.ReadAll(d)
		fmt.Printf("%q %v\n", msg, err)
	}
	c.Release()
	d.Release()
	// Output:
	// f2 48 cd c9 c9 07 00
	// "Hello" <nil>
	// 02 13 00 00
	// "Hello" <nil>
}

// A message prepared once for many connections that negotiated the same
// window and no context takeover for our side.
func ExampleAppendCompressed() {
	payload := deflate.AppendCompressed(nil, []byte("broadcast broadcast broadcast"), 15, deflate.BestSpeed)
	fmt.Println(len(payload), "bytes")

	d := deflate.NewDecompressor(15, false)
	d.Reset(bytes.NewReader(payload), 0)
	msg, _ := io.ReadAll(d)
	fmt.Printf("%s\n", msg)
	// Output:
	// 14 bytes
	// broadcast broadcast broadcast
}

// The read limit counts decompressed bytes.
func ExampleDecompressor_Reset_limit() {
	payload := deflate.AppendCompressed(nil, make([]byte, 1<<20), 15, deflate.BestSpeed)
	fmt.Println(len(payload), "bytes on the wire")

	d := deflate.NewDecompressor(15, false)
	d.Reset(bytes.NewReader(payload), 64<<10)
	_, err := io.Copy(io.Discard, d)
	fmt.Println(errors.Is(err, deflate.ErrMessageTooBig), uint16(deflate.CloseCode(err)))
	// Output:
	// 1033 bytes on the wire
	// true 1009
}
