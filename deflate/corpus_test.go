package deflate

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/corpus")

// The benchmark and test corpus, generated deterministically by
// generateCorpus and checked in under testdata/corpus (256 KiB in all):
//
//	chat.jsonl  chat messages as JSON, 64 B to 2 KiB, one per line
//	doc.json    one 64 KiB JSON document
//	log.txt     server log lines
//	random.bin  64 KiB of random bytes (incompressible)
//
// Run "go test -run TestCorpus -update ./deflate/" after changing the
// generator.
var corpusFiles = []string{"chat.jsonl", "doc.json", "log.txt", "random.bin"}

const corpusFileSize = 64 << 10

var words = strings.Fields(`the be to of and a in that have I it for not on with he as you do at
this but his by from they we say her she or an will my one all would there their what so up out
if about who get which go me when make can like time no just him know take people into year your
good some could them see other than then now look only come its over think also back after use two
how our work first well way even new want because any these give day most us deploy server build
release queue cache latency websocket ping ok thanks lol great meeting tomorrow please review merge
branch test failing fixed ticket customer order invoice shipped payment refund alert dashboard`)

var names = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda"}

func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

func genChat(r *rand.Rand) []byte {
	var out bytes.Buffer
	rooms := []string{"general", "random", "engineering", "support", "ops-alerts"}
	id := 100000
	for out.Len() < corpusFileSize-2200 {
		id += 1 + r.IntN(7)
		var text string
		switch r.IntN(10) {
		case 0: // long message, up to about 2 KiB
			text = sentence(r, 100+r.IntN(220))
		case 1, 2:
			text = sentence(r, 15+r.IntN(40))
		default:
			text = sentence(r, 1+r.IntN(8))
		}
		u := names[r.IntN(len(names))]
		var msg string
		switch r.IntN(4) {
		case 0:
			msg = fmt.Sprintf(`{"type":"typing","room":%q,"user":%q}`, rooms[r.IntN(len(rooms))], u)
		default:
			msg = fmt.Sprintf(`{"type":"message","id":%d,"room":%q,"user":{"id":"u%d","name":%q},"ts":"2024-05-%02dT%02d:%02d:%02d.%03dZ","text":%q,"reactions":[%s]}`,
				id, rooms[r.IntN(len(rooms))], 1000+r.IntN(50), u, 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000), text,
				strings.Repeat(`{"emoji":"thumbsup","count":1},`, r.IntN(3))+`{"emoji":"eyes","count":2}`)
		}
		for len(msg) < 64 { // the smallest messages are 64 bytes
			msg = strings.TrimSuffix(msg, "}") + `,"pad":" "}`
		}
		out.WriteString(msg)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func genDoc(r *rand.Rand) []byte {
	var out bytes.Buffer
	out.WriteString(`{"generated":"2024-05-01T00:00:00Z","orders":[`)
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"id":%d,"customer":{"name":%q,"email":"%s@example.com","tier":%q},"items":[`,
			50000+i*3+r.IntN(3), names[r.IntN(len(names))], names[r.IntN(len(names))], []string{"free", "pro", "enterprise"}[r.IntN(3)])
		for j := range 1 + r.IntN(4) {
			if j > 0 {
				rec += ","
			}
			rec += fmt.Sprintf(`{"sku":"SKU-%05d","qty":%d,"price":%d.%02d}`, r.IntN(3000), 1+r.IntN(5), r.IntN(200), r.IntN(100))
		}
		rec += fmt.Sprintf(`],"status":%q,"note":%q}`, []string{"paid", "shipped", "refunded", "pending"}[r.IntN(4)], sentence(r, r.IntN(6)))
		if out.Len()+len(rec)+3 > corpusFileSize {
			break
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(rec)
	}
	out.WriteString("]}")
	for out.Len() < corpusFileSize {
		out.WriteByte(' ')
	}
	return out.Bytes()
}

func genLog(r *rand.Rand) []byte {
	var out bytes.Buffer
	paths := []string{"/api/v1/users/%d", "/api/v1/orders/%d/items", "/healthz", "/ws/chat", "/static/app.%d.js", "/api/v1/search?q=%d"}
	levels := []string{"INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"}
	sec := 0
	for out.Len() < corpusFileSize-300 {
		sec += r.IntN(3)
		path := paths[r.IntN(len(paths))]
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, r.IntN(100000))
		}
		line := fmt.Sprintf("2024-05-01T%02d:%02d:%02d.%03dZ %s [http] %s %s %d %d.%dms ip=10.%d.%d.%d req=%016x",
			sec/3600%24, sec/60%60, sec%60, r.IntN(1000), levels[r.IntN(len(levels))],
			[]string{"GET", "GET", "POST", "PUT"}[r.IntN(4)], path, []int{200, 200, 200, 201, 304, 404, 500}[r.IntN(7)],
			r.IntN(300), r.IntN(10), r.IntN(4), r.IntN(256), r.IntN(256), r.Uint64())
		if r.IntN(8) == 0 {
			line += " msg=" + fmt.Sprintf("%q", sentence(r, 3+r.IntN(10)))
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func genRandom(r *rand.Rand) []byte {
	b := make([]byte, corpusFileSize)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// generateCorpus returns the corpus files. The generator is seeded and
// uses only math/rand/v2's PCG, whose output is fixed by its definition.
func generateCorpus() map[string][]byte {
	return map[string][]byte{
		"chat.jsonl": genChat(rand.New(rand.NewPCG(7692, 1))),
		"doc.json":   genDoc(rand.New(rand.NewPCG(7692, 2))),
		"log.txt":    genLog(rand.New(rand.NewPCG(7692, 3))),
		"random.bin": genRandom(rand.New(rand.NewPCG(7692, 4))),
	}
}

func TestCorpusUpToDate(t *testing.T) {
	dir := filepath.Join("testdata", "corpus")
	gen := generateCorpus()
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range gen {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range corpusFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (run go test -run TestCorpus -update)", err)
		}
		if !bytes.Equal(got, gen[name]) {
			t.Errorf("%s differs from the generator's output (run go test -run TestCorpus -update)", name)
		}
	}
}

// corpusMessages returns a corpus file split into the messages the tests
// and benchmarks send: one per line for chat and log files, the whole file
// otherwise.
func corpusMessages(tb testing.TB, name string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		tb.Fatal(err)
	}
	if strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".txt") {
		return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	}
	return [][]byte{data}
}

func TestCorpusShape(t *testing.T) {
	msgs := corpusMessages(t, "chat.jsonl")
	lo, hi := 1<<30, 0
	for _, m := range msgs {
		lo, hi = min(lo, len(m)), max(hi, len(m))
	}
	if lo < 64 || hi > 2048 {
		t.Errorf("chat messages range over %d..%d bytes, want within 64..2048", lo, hi)
	}
	t.Logf("chat: %d messages of %d..%d bytes", len(msgs), lo, hi)
}
