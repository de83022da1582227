package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

type testFrame struct {
	h       Header
	payload []byte
}

func encodeFrames(frames []testFrame) []byte {
	var b []byte
	for _, f := range frames {
		h := f.h
		h.Length = int64(len(f.payload))
		b = AppendHeader(b, h)
		p := bytes.Clone(f.payload)
		if h.Masked {
			Mask(h.Key, 0, p)
		}
		b = append(b, p...)
	}
	return b
}

var streamFrames = []testFrame{
	{Header{Opcode: OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte("Hel")},
	{Header{Fin: true, Opcode: OpPing}, []byte("ping")},
	{Header{Fin: true, Opcode: OpContinuation, Masked: true, Key: [4]byte{9, 8, 7, 6}}, []byte("lo")},
	{Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{0xde, 0xad, 0xbe, 0xef}}, bytes.Repeat([]byte{0x5a}, 70000)},
	{Header{Fin: true, Opcode: OpBinary}, bytes.Repeat([]byte("x"), 300)},
	{Header{Fin: true, Opcode: OpClose}, nil},
	// Unmasked frames either side of the longest 7-bit and 16-bit
	// lengths: WriteFrame writes those up to 65535 bytes on its own path
	// when they fit the buffer with 4 bytes of header.
	{Header{Opcode: OpText, RSV: RSV1}, bytes.Repeat([]byte("a"), 125)},
	{Header{Opcode: OpContinuation, RSV: RSV1}, bytes.Repeat([]byte("b"), 126)},
	{Header{Fin: true, Opcode: OpContinuation}, bytes.Repeat([]byte("d"), 65535)},
	{Header{Fin: true, Opcode: OpBinary, RSV: RSV2 | RSV3}, []byte{0}},
	{Header{Fin: true, Opcode: OpBinary}, bytes.Repeat([]byte("c"), 124)},
	{Header{Fin: true, Opcode: OpBinary}, bytes.Repeat([]byte("e"), 65536)},
}

func TestReaderShortReads(t *testing.T) {
	wire := encodeFrames(streamFrames)
	wrappers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for name, wrap := range wrappers {
		// 127 holds a 125-byte frame exactly, and 126 just fails to.
		for _, bufSize := range []int{MaxHeaderSize, 64, 126, 127, 4096} {
			r, err := NewReader(wrap(bytes.NewReader(wire)), make([]byte, bufSize))
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range streamFrames {
				h, err := r.NextHeader()
				if err != nil {
					t.Fatalf("%s/%d: frame %d: %v", name, bufSize, i, err)
				}
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, f.payload) {
					t.Fatalf("%s/%d: frame %d payload (%d bytes) %v", name, bufSize, i, len(got), err)
				}
				if h.Opcode != f.h.Opcode || h.Fin != f.h.Fin {
					t.Fatalf("%s/%d: frame %d header %+v", name, bufSize, i, h)
				}
			}
			if _, err := r.NextHeader(); err != io.EOF {
				t.Fatalf("%s/%d: after last frame: %v, want io.EOF", name, bufSize, err)
			}
		}
	}
}

// NextHeader skips unread payload.
func TestReaderSkipsPayload(t *testing.T) {
	wire := encodeFrames(streamFrames)
	r, _ := NewReader(iotest.HalfReader(bytes.NewReader(wire)), make([]byte, 32))
	for i, f := range streamFrames {
		h, err := r.NextHeader()
		if err != nil || h.Opcode != f.h.Opcode {
			t.Fatalf("frame %d: %+v %v", i, h, err)
		}
	}
}

func TestReaderTruncated(t *testing.T) {
	wire := encodeFrames(streamFrames[:1])
	for cut := 1; cut < len(wire); cut++ {
		r, _ := NewReader(bytes.NewReader(wire[:cut]), make([]byte, 64))
		_, err := r.NextHeader()
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

func TestReaderPending(t *testing.T) {
	wire := encodeFrames(streamFrames)
	for _, split := range []int{3, 100, len(wire) - 1} {
		var r Reader
		if err := r.Reset(bytes.NewReader(wire[split:]), make([]byte, 64), wire[:split]); err != nil {
			t.Fatal(err)
		}
		for i, f := range streamFrames {
			if _, err := r.NextHeader(); err != nil {
				t.Fatalf("split %d frame %d: %v", split, i, err)
			}
			if got, _ := io.ReadAll(&r); !bytes.Equal(got, f.payload) {
				t.Fatalf("split %d frame %d: wrong payload", split, i)
			}
		}
	}
}

func TestReaderBadHeader(t *testing.T) {
	r, _ := NewReader(bytes.NewReader([]byte{0x83, 0x00}), make([]byte, 64))
	if _, err := r.NextHeader(); !errors.Is(err, ErrReservedOpcode) {
		t.Fatalf("err = %v", err)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	// WriteFrame's own path for unmasked frames needs room for the frame
	// with a 4-byte header: 129 has it for a 125-byte payload and 128 just
	// misses it; 130 has it for 126 bytes, 65539 for 65535, and 65538 just
	// misses that.
	for _, bufSize := range []int{MaxHeaderSize, 64, 126, 127, 128, 129, 130, 4096, 65538, 65539, 1 << 17} {
		var out bytes.Buffer
		w, err := NewWriter(&out, make([]byte, bufSize))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range streamFrames {
			orig := bytes.Clone(f.payload)
			if err := w.WriteFrame(f.h, f.payload); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(orig, f.payload) {
				t.Fatal("WriteFrame modified the caller's payload")
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if want := encodeFrames(streamFrames); !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("buf %d: output differs from reference encoding", bufSize)
		}
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return f.n, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriterError(t *testing.T) {
	w, _ := NewWriter(&failingWriter{n: 3}, make([]byte, 64))
	if err := w.WriteFrame(Header{Fin: true, Opcode: OpText}, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush succeeded on a failing writer")
	}
	if w.Buffered() != 4 {
		t.Fatalf("Buffered = %d after short write, want 4", w.Buffered())
	}
}

func TestBufferTooSmall(t *testing.T) {
	if _, err := NewReader(bytes.NewReader(nil), make([]byte, 13)); err != ErrBufferTooSmall {
		t.Errorf("NewReader: %v", err)
	}
	if _, err := NewWriter(io.Discard, make([]byte, 13)); err != ErrBufferTooSmall {
		t.Errorf("NewWriter: %v", err)
	}
}

// repeatReader serves the same bytes forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

func TestReaderWriterAllocs(t *testing.T) {
	payload := make([]byte, 1024)
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}}
	w, _ := NewWriter(io.Discard, make([]byte, 4096))
	if n := testing.AllocsPerRun(100, func() { _ = w.WriteFrame(h, payload); _ = w.Flush() }); n != 0 {
		t.Errorf("Writer allocs = %v, want 0", n)
	}
	wire := encodeFrames([]testFrame{{h, payload}})
	r, _ := NewReader(&repeatReader{b: wire}, make([]byte, 4096))
	dst := make([]byte, 2048)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := r.NextHeader(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, dst[:1024]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Reader allocs = %v, want 0", n)
	}
}

// vectorRecorder records the calls a VectorWriter destination receives.
type vectorRecorder struct {
	bytes.Buffer
	writes, vectors int
}

func (v *vectorRecorder) Write(p []byte) (int, error) { v.writes++; return v.Buffer.Write(p) }
func (v *vectorRecorder) WriteVectors(a, b []byte) error {
	v.vectors++
	v.Buffer.Write(a)
	v.Buffer.Write(b)
	return nil
}

// A large unmasked payload goes out with the pending bytes in one call.
func TestWriterVectors(t *testing.T) {
	var dst vectorRecorder
	w, _ := NewWriter(&dst, make([]byte, 64))
	small := testFrame{Header{Fin: true, Opcode: OpText}, []byte("hi")}
	big := testFrame{Header{Fin: true, Opcode: OpBinary}, bytes.Repeat([]byte{1}, 1000)}
	w.WriteFrame(small.h, small.payload)
	w.WriteFrame(big.h, big.payload)
	w.Flush()
	if dst.vectors != 1 || dst.writes != 0 {
		t.Fatalf("%d vector writes, %d writes; want 1, 0", dst.vectors, dst.writes)
	}
	if want := encodeFrames([]testFrame{small, big}); !bytes.Equal(dst.Bytes(), want) {
		t.Fatal("output differs from reference encoding")
	}
}

// NextBufferedHeader returns a frame only when its header and payload are
// all buffered, reads nothing from the source, and leaves the Reader
// untouched otherwise.
func TestReaderNextBufferedHeader(t *testing.T) {
	whole := encodeFrames([]testFrame{{Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte("hello")}})
	for _, tt := range []struct {
		name    string
		pending []byte
		ok      bool
		err     error
	}{
		{"empty", nil, false, nil},
		{"one header byte", whole[:1], false, nil},
		{"header without payload", whole[:6], false, nil},
		{"payload cut short", whole[:len(whole)-1], false, nil},
		{"whole frame", whole, true, nil},
		{"whole frame and more", append(bytes.Clone(whole), 0x81), true, nil},
		{"reserved opcode", []byte{0x83, 0x00}, false, ErrReservedOpcode},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{}
			var r Reader
			r.Reset(src, make([]byte, 64), tt.pending)
			h, ok, err := r.NextBufferedHeader()
			if ok != tt.ok || !errors.Is(err, tt.err) {
				t.Fatalf("ok %v, err %v; want %v, %v", ok, err, tt.ok, tt.err)
			}
			if src.reads != 0 {
				t.Fatalf("%d reads from the source, want none", src.reads)
			}
			if !ok {
				if r.Buffered() != len(tt.pending) {
					t.Fatalf("%d bytes buffered after a refusal, want all %d", r.Buffered(), len(tt.pending))
				}
				return
			}
			if h.Opcode != OpText || h.Length != 5 || r.Remaining() != 5 {
				t.Fatalf("header %+v, remaining %d", h, r.Remaining())
			}
			p := make([]byte, 5)
			if n, err := r.Read(p); n != 5 || err != nil || string(p) != "hello" {
				t.Fatalf("payload %q, %d, %v", p, n, err)
			}
			// The next frame is incomplete: refused, and a frame whose
			// payload is unread refuses too.
			if _, ok, _ := r.NextBufferedHeader(); ok {
				t.Fatal("second call returned a frame that is not buffered")
			}
		})
	}
	var r Reader
	r.Reset(bytes.NewReader(nil), make([]byte, 64), append(bytes.Clone(whole), whole...))
	if _, ok, _ := r.NextBufferedHeader(); !ok {
		t.Fatal("first frame refused")
	}
	if _, ok, _ := r.NextBufferedHeader(); ok {
		t.Fatal("second frame returned before the first one's payload was read")
	}
}

// countingReader counts reads and has nothing to give.
type countingReader struct{ reads int }

func (c *countingReader) Read([]byte) (int, error) { c.reads++; return 0, io.EOF }

// AppendBuffered copies out, unmasked, only the payload already buffered,
// and the key position carries over to the rest of the frame.
func TestReaderAppendBuffered(t *testing.T) {
	whole := encodeFrames([]testFrame{{Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{0xa1, 0xb2, 0xc3, 0xd4}}, []byte("hello, world")}})
	const hdr = 6 // 2 bytes, then the key
	for _, tt := range []struct {
		name     string
		buffered int // payload bytes buffered with the header
	}{
		{"none", 0},
		{"a key's width and one", 5},
		{"all but one", 11},
		{"all", 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rest := &sliceReader{bytes.Clone(whole[hdr+tt.buffered:])}
			var r Reader
			r.Reset(rest, make([]byte, 64), whole[:hdr+tt.buffered])
			// Reset keeps pending bytes in the buffer: nothing is read
			// from rest until the header is parsed.
			if _, err := r.NextHeader(); err != nil {
				t.Fatal(err)
			}
			got := r.AppendBuffered([]byte("> "))
			if want := "> " + "hello, world"[:tt.buffered]; string(got) != want {
				t.Fatalf("AppendBuffered = %q, want %q", got, want)
			}
			if r.Remaining() != int64(12-tt.buffered) || len(rest.b) != 12-tt.buffered {
				t.Fatalf("remaining %d, source left %d; want %d for both", r.Remaining(), len(rest.b), 12-tt.buffered)
			}
			tail, err := io.ReadAll(&r)
			if err != nil || string(got[2:])+string(tail) != "hello, world" {
				t.Fatalf("the rest read %q, %v", tail, err)
			}
			if again := r.AppendBuffered(nil); len(again) != 0 {
				t.Fatalf("AppendBuffered after the frame = %q, want nothing", again)
			}
		})
	}
}

// AppendBuffered unmasks short payloads while it copies them, when the
// frame's key starts at position 0 and dst has room, and otherwise copies
// and then masks. Every length around those paths' edges (the 8-byte
// words, maskWideMin, the 2-byte length limit) must give the bytes the
// definition gives, whatever dst's room and however much of the payload a
// Read took first.
func TestReaderAppendBufferedLengths(t *testing.T) {
	key := [4]byte{0x9e, 0x37, 0x79, 0xb9}
	for n := 0; n <= 140; n++ {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i*31 + 7)
		}
		for _, masked := range []bool{true, false} {
			whole := encodeFrames([]testFrame{{Header{Fin: true, Opcode: OpBinary, Masked: masked, Key: key}, payload}})
			for _, read := range []int{0, 1, 2, 3, 4} {
				if read > n {
					continue
				}
				for _, room := range []string{"nil", "exact", "short", "spare"} {
					var r Reader
					r.Reset(&sliceReader{}, make([]byte, 256), whole)
					if _, err := r.NextHeader(); err != nil {
						t.Fatal(err)
					}
					first := make([]byte, read)
					if _, err := io.ReadFull(&r, first); err != nil {
						t.Fatal(err)
					}
					var dst []byte
					switch room {
					case "exact":
						dst = make([]byte, 3, 3+n-read)
					case "short":
						dst = make([]byte, 3, 3+max(n-read-1, 0))
					case "spare":
						dst = make([]byte, 3, 3+n+64)
					}
					prefix := bytes.Clone(dst)
					got := r.AppendBuffered(dst)
					if !bytes.Equal(got[:len(prefix)], prefix) {
						t.Fatalf("n %d masked %v read %d room %s: AppendBuffered changed dst's bytes", n, masked, read, room)
					}
					if !bytes.Equal(append(first, got[len(prefix):]...), payload) {
						t.Fatalf("n %d masked %v read %d room %s: payload differs", n, masked, read, room)
					}
					if r.Remaining() != 0 {
						t.Fatalf("n %d: remaining %d after AppendBuffered", n, r.Remaining())
					}
				}
			}
		}
	}
}

// sizeRecorder is a source that records how many bytes each Read asks for.
type sizeRecorder struct {
	src   io.Reader
	asked []int
}

func (s *sizeRecorder) Read(p []byte) (int, error) {
	s.asked = append(s.asked, len(p))
	return s.src.Read(p)
}

// After a payload read went straight into the caller's slice, the next
// read into the buffer asks for at most ReadAheadAfterLarge bytes; a small
// frame keeps the full buffer; Attach starts afresh.
func TestReaderReadAheadAfterLarge(t *testing.T) {
	const bufSize = 4096
	key := [4]byte{1, 2, 3, 4}
	large := bytes.Repeat([]byte("L"), 3*bufSize)
	small := []byte("small")
	frames := []testFrame{
		{Header{Fin: true, Opcode: OpBinary, Masked: true, Key: key}, large},
		{Header{Fin: true, Opcode: OpBinary, Masked: true, Key: key}, small},
		{Header{Fin: true, Opcode: OpBinary, Masked: true, Key: key}, large},
		{Header{Fin: true, Opcode: OpText, Masked: true, Key: key}, large},
	}
	src := &sizeRecorder{src: bytes.NewReader(encodeFrames(frames))}
	r, err := NewReader(src, make([]byte, bufSize))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 4*bufSize)
	var afterLarge []int // index in src.asked of the first read after each large payload
	for i, f := range frames {
		if i > 0 && len(frames[i-1].payload) > bufSize {
			afterLarge = append(afterLarge, len(src.asked))
		}
		if _, err := r.NextHeader(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		var got []byte
		for {
			n, err := r.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
		if !bytes.Equal(got, f.payload) {
			t.Fatalf("frame %d: payload of %d bytes differs", i, len(got))
		}
		want := bufSize
		if len(f.payload) > bufSize {
			want = ReadAheadAfterLarge
		}
		if n := r.FillSize(bufSize); n != want {
			t.Fatalf("after frame %d of %d bytes: FillSize = %d, want %d", i, len(f.payload), n, want)
		}
	}
	if src.asked[0] != bufSize {
		t.Errorf("the first read asked for %d bytes, want the whole buffer (all: %v)", src.asked[0], src.asked)
	}
	for _, i := range afterLarge {
		if src.asked[i] > ReadAheadAfterLarge {
			t.Errorf("read %d, the first after a large payload, asked for %d bytes, want at most %d (all: %v)",
				i, src.asked[i], ReadAheadAfterLarge, src.asked)
		}
	}
	if b := r.Detach(); b == nil {
		t.Fatal("Detach with no unread bytes returned nil")
	}
	if err := r.Attach(make([]byte, bufSize), 0); err != nil || r.FillSize(bufSize) != bufSize {
		t.Fatalf("after Attach: %v, FillSize %d, want %d", err, r.FillSize(bufSize), bufSize)
	}
}
