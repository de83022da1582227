package cases

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// The original suite's section 12 and 13 payloads come from five files
// (a German novel, a bitmap, a PDF, a JSON report, an HTML report). They
// are not redistributed here; instead each is replaced by generated data of
// the same kind and exactly the same size, so the cases, their message
// slicing and their descriptions are the same. LoadTestData reads the
// original files instead when a directory holding them is given.

// DataSet is one source of section 12/13 message payloads.
type DataSet struct {
	Name   string // key in the original suite
	Desc   string
	File   string // file name in the original suite
	Binary bool   // sent as binary messages; text sets are sliced by character
	Size   int    // bytes
	Data   []byte
	Orig   bool // the original file was loaded

	runeOff []int  // text sets: byte offset of each character
	twice   []byte // Data twice over, so that a slice across the end is contiguous
}

func (d *DataSet) kind() string {
	if d.Binary {
		return "binary"
	}
	return "utf8"
}

// units is the length of the set in slicing units (bytes or characters).
func (d *DataSet) units() int {
	if d.Binary {
		return len(d.Data)
	}
	return len(d.runeOff)
}

// off returns the byte offset of unit i.
func (d *DataSet) off(i int) int {
	switch {
	case d.Binary:
		return i
	case i == len(d.runeOff):
		return len(d.Data)
	}
	return d.runeOff[i]
}

// slice returns n units starting at unit from, wrapping around the end.
// The result may share memory with the data set: the caller must not
// change it.
func (d *DataSet) slice(from, n int) []byte {
	u := d.units()
	to := (from + n) % u
	if to > from {
		return d.Data[d.off(from):d.off(to):d.off(to)]
	}
	if n <= u && len(d.twice) == 2*len(d.Data) {
		end := len(d.Data) + d.off(to)
		return d.twice[d.off(from):end:end]
	}
	out := bytes.Clone(d.Data[d.off(from):])
	return append(out, d.Data[:d.off(to)]...)
}

func (d *DataSet) index() {
	d.twice = append(append(make([]byte, 0, 2*len(d.Data)), d.Data...), d.Data...)
	if d.Binary {
		return
	}
	d.runeOff = d.runeOff[:0]
	for i := range string(d.Data) {
		d.runeOff = append(d.runeOff, i)
	}
}

// TestData holds the data sets in the original's order.
type TestData struct {
	Sets []*DataSet
}

// Generated returns the generated stand-ins for the original data files.
func Generated() *TestData {
	td := &TestData{Sets: []*DataSet{
		{Name: "json_data1", Desc: "Large JSON data file", File: "data1.json", Size: 194056},
		{Name: "lena512", Desc: "Lena Picture, Bitmap 512x512 bw", File: "lena512.bmp", Binary: true, Size: 263222},
		{Name: "gutenberg_faust", Desc: "Human readable text, Goethe's Faust I (German)", File: "pg2229.txt", Binary: true, Size: 222218},
		{Name: "html_data1", Desc: "Large HTML file", File: "data1.html", Size: 263647},
		{Name: "ooms", Desc: "A larger PDF", File: "10.1.1.105.5439.pdf", Binary: true, Size: 1042328},
	}}
	gens := []func(int) []byte{genJSON, genBitmap, genGermanText, genHTML, genPDF}
	for i, d := range td.Sets {
		d.Data = gens[i](d.Size)
		d.index()
	}
	return td
}

// LoadTestData returns the data sets, reading the original files from dir
// where present (dir may be empty) and generating the rest.
func LoadTestData(dir string) (*TestData, error) {
	td := Generated()
	if dir == "" {
		return td, nil
	}
	for _, d := range td.Sets {
		b, err := os.ReadFile(filepath.Join(dir, d.File))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !d.Binary && !utf8.Valid(b) {
			return nil, fmt.Errorf("%s: not UTF-8", d.File)
		}
		d.Data, d.Size, d.Orig = b, len(b), true
		d.index()
	}
	return td, nil
}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// fit cuts or pads b to exactly n bytes with ASCII filler.
func fit(b []byte, n int, filler byte) []byte {
	for len(b) < n {
		b = append(b, filler)
	}
	return b[:n]
}

// genJSON writes a report index in the suite's own JSON layout.
func genJSON(n int) []byte {
	r := rng(1)
	behaviors := []string{"OK", "OK", "OK", "OK", "NON-STRICT", "FAILED", "INFORMATIONAL", "UNIMPLEMENTED"}
	var b strings.Builder
	b.WriteString("{\n")
	for a := 0; b.Len() < n; a++ {
		agent := fmt.Sprintf("AutobahnPython/0.%d.%d", a/10, a%10)
		if a > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "   %q: {\n", agent)
		for c := 0; c < 300 && b.Len() < n; c++ {
			id := fmt.Sprintf("%d.%d.%d", 1+c/40, 1+(c/8)%5, 1+c%8)
			if c > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, "      %q: {\n         \"behavior\": %q,\n         \"behaviorClose\": \"OK\",\n         \"duration\": %d,\n         \"remoteCloseCode\": %d,\n         \"reportfile\": \"%s_case_%s.json\"\n      }",
				id, behaviors[r.IntN(len(behaviors))], r.IntN(2000), 1000+r.IntN(12), strings.NewReplacer("/", "_", ".", "_").Replace(strings.ToLower(agent)), strings.ReplaceAll(id, ".", "_"))
		}
		b.WriteString("\n   }")
	}
	b.WriteString("\n}\n")
	return fit([]byte(b.String()), n, ' ')
}

// genBitmap writes an 8-bit grey 512x512 BMP of smooth shapes with grain.
func genBitmap(n int) []byte {
	const w, h = 512, 512
	r := rng(2)
	hdr := make([]byte, 0, 1078)
	le32 := func(v uint32) { hdr = binary.LittleEndian.AppendUint32(hdr, v) }
	le16 := func(v uint16) { hdr = binary.LittleEndian.AppendUint16(hdr, v) }
	hdr = append(hdr, 'B', 'M')
	le32(uint32(n))
	le32(0)
	le32(1078)
	le32(40)
	le32(w)
	le32(h)
	le16(1)
	le16(8)
	le32(0)
	le32(w * h)
	le32(2835)
	le32(2835)
	le32(256)
	le32(256)
	for i := range 256 {
		hdr = append(hdr, byte(i), byte(i), byte(i), 0)
	}
	out := hdr
	for y := range h {
		for x := range w {
			dx, dy := float64(x-256), float64(y-220)
			v := 128 + 60*((dx*dx+dy*dy)/65536-0.5) + 40*float64((x/64+y/48)%3-1)
			v += float64(r.IntN(9) - 4)
			out = append(out, byte(min(max(v, 0), 255)))
		}
	}
	return fit(out, n, 0)
}

var germanWords = strings.Fields(`der die das und ist nicht ich du er sie es wir ihr mich mir dich dir
	Faust Mephistopheles Gretchen Wagner Geist Herr Welt Himmel Erde Nacht Tag Licht Seele Herz Liebe
	Natur Wissen Teufel Stunde Zeit Leben Tod Blut Feuer Wasser Luft Traum Sinn Kraft Tat Wort
	schön süß groß klein alt jung ewig tief hoch still wild müde böse gütig fröhlich trüb
	ließ möcht wär hätt würd könnt müßt sollt dürft gäb nähm säh käm fühl führ grüß über für
	während hinüber Mädchen Brüder Mütter Väter Bücher Türen Götter Räume Bäume Blüten Füße Grüße
	heißt weiß muß Strauß Fuß groß Schoß Kuß Schluß genießen schließen fließen grüßen büßen`)

// genGermanText writes verse-like German text with umlauts and ß.
func genGermanText(n int) []byte {
	r := rng(3)
	var b bytes.Buffer
	speakers := []string{"FAUST", "MEPHISTOPHELES", "MARGARETE", "WAGNER", "CHOR DER ENGEL"}
	for b.Len() < n {
		fmt.Fprintf(&b, "\r\n%s:\r\n", speakers[r.IntN(len(speakers))])
		for range 2 + r.IntN(8) {
			words := 4 + r.IntN(6)
			for i := range words {
				w := germanWords[r.IntN(len(germanWords))]
				if i == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				b.WriteString(w)
				if i < words-1 {
					b.WriteByte(' ')
				}
			}
			b.WriteString([]string{",", ";", ".", "!", "?", ""}[r.IntN(6)] + "\r\n")
		}
	}
	return fit(b.Bytes(), n, ' ')
}

// genHTML writes a report page like the suite's own, with a few non-ASCII
// characters, ending on a character boundary.
func genHTML(n int) []byte {
	r := rng(4)
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html>\n   <head>\n      <meta charset=\"utf-8\" />\n      <style lang=\"css\">\nbody {\n   background-color: #F4F4F4;\n   color: #333;\n   font-family: Segoe UI,Tahoma,Arial,Verdana,sans-serif;\n}\n</style>\n   </head>\n   <body>\n")
	b.WriteString("      <p id=\"intro\">Summary report · generated by Autobahn WebSocket Testsuite — “Ω”.</p>\n      <table id=\"agent_case_results\">\n")
	classes := []string{"case_ok", "case_ok", "case_ok", "case_non_strict", "case_failed", "case_info"}
	texts := map[string]string{"case_ok": "Pass", "case_non_strict": "Non-Strict", "case_failed": "Fail", "case_info": "Info"}
	for c := 0; b.Len() < n-2048; c++ {
		id := fmt.Sprintf("%d.%d.%d", 1+c/40, 1+(c/8)%5, 1+c%8)
		fmt.Fprintf(&b, "         <tr class=\"agent_case_result_row\">\n            <td class=\"case\"><a href=\"#case_desc_%s\">Case %s</a></td>\n",
			strings.ReplaceAll(id, ".", "_"), id)
		for a := range 4 {
			cl := classes[r.IntN(len(classes))]
			fmt.Fprintf(&b, "            <td class=\"%s\"><a href=\"agent%d_case_%s.html\">%s</a></td><td class=\"close close_hide %s\"><span class=\"close_code\">%d</span></td>\n",
				cl, a, strings.ReplaceAll(id, ".", "_"), texts[cl], cl, 1000+r.IntN(12))
		}
		b.WriteString("         </tr>\n")
		if c%97 == 0 {
			b.WriteString("         <!-- µ§ -->\n")
		}
	}
	b.WriteString("      </table>\n   </body>\n</html>\n")
	out := b.Bytes()
	if len(out) > n {
		// Cut on a character boundary, then pad.
		out = out[:n]
		for !utf8.Valid(out) {
			out = out[:len(out)-1]
		}
	}
	return fit(out, n, '\n')
}

// genPDF writes a PDF-like file: text objects between streams of
// incompressible bytes.
func genPDF(n int) []byte {
	r := rng(5)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	for obj := 1; b.Len() < n; obj++ {
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 %d 0 R >> >> /MediaBox [0 0 612 792] /Contents %d 0 R >>\nendobj\n", obj, obj+1, obj+2)
		size := 512 + r.IntN(8192)
		fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", obj+2, size)
		for range size {
			b.WriteByte(byte(r.Uint32()))
		}
		b.WriteString("\nendstream\nendobj\n")
		for range r.IntN(20) {
			fmt.Fprintf(&b, "BT /F1 %d Tf %d %d Td (%s) Tj ET\n", 8+r.IntN(6), r.IntN(600), r.IntN(780),
				germanWords[r.IntN(len(germanWords))])
		}
	}
	return fit(b.Bytes(), n, ' ')
}
