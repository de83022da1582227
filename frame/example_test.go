package frame_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/rfc6455/ws/frame"
)

// The masked "Hello" text frame from RFC 6455 §5.7.
func ExampleParseHeader() {
	wire := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	h, n, err := frame.ParseHeader(wire)
	if err != nil {
		panic(err)
	}
	payload := wire[n : n+int(h.Length)]
	frame.Mask(h.Key, 0, payload)
	fmt.Println(h.Opcode, h.Fin, h.Masked, string(payload))
	// Output: text true true Hello
}

func ExampleAppendHeader() {
	buf := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 256})
	fmt.Printf("% x\n", buf)
	// Output: 82 7e 01 00
}

func ExampleUTF8Validator() {
	var v frame.UTF8Validator
	fmt.Println(v.Write([]byte("κό")), v.Write([]byte{0xcf}), v.Complete()) // split inside "σ"
	fmt.Println(v.Write([]byte{0x83}), v.Complete())
	fmt.Println(v.Write([]byte{0xed, 0xa0})) // a surrogate can never complete
	// Output:
	// true true false
	// true true
	// false
}

func ExampleReader() {
	var wire bytes.Buffer
	w, _ := frame.NewWriter(&wire, make([]byte, 64))
	_ = w.WriteFrame(frame.Header{Opcode: frame.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte("Hel"))
	_ = w.WriteFrame(frame.Header{Fin: true, Opcode: frame.OpContinuation, Masked: true, Key: [4]byte{5, 6, 7, 8}}, []byte("lo"))
	_ = w.Flush()

	r, _ := frame.NewReader(&wire, make([]byte, 64))
	for {
		h, err := r.NextHeader()
		if err != nil {
			break
		}
		p, _ := io.ReadAll(r)
		fmt.Printf("%v fin=%v %q\n", h.Opcode, h.Fin, p)
	}
	// Output:
	// text fin=false "Hel"
	// continuation fin=true "lo"
}

func ExampleParseClosePayload() {
	code, reason, err := frame.ParseClosePayload(frame.AppendClosePayload(nil, frame.StatusGoingAway, "server restart"))
	fmt.Println(code, reason, err)
	_, _, err = frame.ParseClosePayload([]byte{0x03, 0xed}) // 1005 must not be sent
	fmt.Println(err)
	// Output:
	// going away server restart <nil>
	// ws: close code not valid on the wire
}
