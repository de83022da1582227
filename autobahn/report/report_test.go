package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

func TestCaseFile(t *testing.T) {
	for _, tt := range []struct{ agent, id, want string }{
		{"AutobahnPython/0.6.0", "1.1.1", "autobahnpython_0_6_0_case_1_1_1.json"},
		{"  My Server (v2) ", "12.3.18", "my_server_v2_case_12_3_18.json"},
		{"gorilla", "6.4.1", "gorilla_case_6_4_1.json"},
	} {
		if got := CaseFile(tt.agent, tt.id, "json"); got != tt.want {
			t.Errorf("%q %s: %s, want %s", tt.agent, tt.id, got, tt.want)
		}
	}
}

func result(agent, id, behavior, behaviorClose string, code int) *engine.Result {
	return &engine.Result{Agent: agent, ID: id, Behavior: behavior, BehaviorClose: behaviorClose,
		RemoteCloseCode: &code, Duration: 3, Received: []engine.Event{}, Expected: engine.Expectations{}}
}

func TestWriteReports(t *testing.T) {
	dir := t.TempDir()
	res := Results{"a/1": {
		"1.1.1":  result("a/1", "1.1.1", engine.OK, engine.OK, 1000),
		"6.4.1":  result("a/1", "6.4.1", engine.NonStrict, engine.OK, 1007),
		"12.1.1": result("a/1", "12.1.1", engine.Unimplemented, engine.OK, 1000),
	}}
	if err := Write(dir, cases.Default(), res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The original's layout: agent -> case -> five keys.
	var idx map[string]map[string]map[string]any
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	e := idx["a/1"]["6.4.1"]
	if len(e) != 5 || e["behavior"] != "NON-STRICT" || e["behaviorClose"] != "OK" || e["remoteCloseCode"] != 1007.0 ||
		e["duration"] != 3.0 || e["reportfile"] != "a_1_case_6_4_1.json" {
		t.Errorf("index entry %v", e)
	}
	// Numeric case order in the file.
	s := string(b)
	if !(strings.Index(s, `"1.1.1"`) < strings.Index(s, `"6.4.1"`) && strings.Index(s, `"6.4.1"`) < strings.Index(s, `"12.1.1"`)) {
		t.Errorf("cases out of order:\n%s", s)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="a_1_case_6_4_1.html"`, "Non-Strict", "Unimplemented", "6.4 Fail-fast on invalid UTF-8", "UTF-8 Handling"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a_1_case_6_4_1.html")); err != nil {
		t.Error(err)
	}
}

func TestCompare(t *testing.T) {
	m := map[string]*engine.Result{
		"1.1.1": result("a", "1.1.1", engine.OK, engine.OK, 1000),
		"6.4.1": result("a", "6.4.1", engine.NonStrict, engine.OK, 1007),
		"2.1":   result("a", "2.1", engine.OK, engine.OK, 1000),
	}
	exp := Expected{
		"1.1.1": {Behavior: "OK", BehaviorClose: "OK"},
		"6.4.1": {Behavior: "NON-STRICT", BehaviorClose: "OK"},
		"3.1":   {Behavior: "OK", BehaviorClose: "OK"},
	}
	diffs := Compare(m, exp)
	want := []string{
		"2.1: got OK/OK, not in the expected results",
		"3.1: expected OK/OK but the case did not run",
		"6.4.1: expected NON-STRICT/OK without a written reason",
	}
	if strings.Join(diffs, "\n") != strings.Join(want, "\n") {
		t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(diffs, "\n"), strings.Join(want, "\n"))
	}
	e := FromResults(m, Expected{"6.4.1": {Behavior: "NON-STRICT", BehaviorClose: "OK", Reason: "validates per message"}})
	if e["6.4.1"].Reason != "validates per message" || e["1.1.1"].Reason != "" {
		t.Errorf("FromResults: %+v", e)
	}
	if d := Compare(m, e); len(d) != 0 {
		t.Errorf("results differ from the file made from them: %v", d)
	}
}

// index.html opens with the counts per verdict per agent and the cases
// that are not OK with their reasons and links, before the full table.
func TestIndexSummary(t *testing.T) {
	dir := t.TempDir()
	bad := result("b", "7.1.1", engine.Failed, engine.Unclean, 1002)
	bad.Result, bad.ResultClose = "Got a pong for no ping.", "The peer did not close."
	wrong := result("b", "6.4.1", engine.OK, engine.WrongCode, 1002)
	wrong.ResultClose = "Close code 1002 not among 1007."
	a1, a2 := result("a", "1.1.1", engine.OK, engine.OK, 1000), result("a", "7.1.1", engine.OK, engine.OK, 1000)
	a1.Duration, a1.SuiteCPU = 1500, 250
	a2.Duration, a2.SuiteCPU = 1500, 0.5
	res := Results{
		"a": {"1.1.1": a1, "7.1.1": a2},
		"b": {"1.1.1": result("b", "1.1.1", engine.OK, engine.OK, 1000), "6.4.1": wrong, "7.1.1": bad},
	}
	if err := WriteHTML(dir, cases.Default(), res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	full := strings.Index(html, `id="agent_case_results"`)
	order := []string{
		`id="summary_counts"`,
		// agent, cases, OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED, close OK, close not OK,
		// case time, suite CPU (unknown for b)
		"<tr><td>a</td><td>2</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td><td>0</td><td>3.0</td><td>0.3</td></tr>",
		"<tr><td>b</td><td>3</td><td>2</td><td>0</td><td>0</td><td>0</td><td>1</td><td>1</td><td>2</td><td>0.0</td><td>?</td></tr>",
		`<a href="b_case_6_4_1.html">6.4.1</a>`,
		"Close: Close code 1002 not among 1007.",
		`<a href="b_case_7_1_1.html">7.1.1</a>`,
		"Got a pong for no ping. Close: The peer did not close.",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(html[at:], want)
		if i < 0 {
			t.Fatalf("index.html lacks %q after byte %d", want, at)
		}
		at += i + len(want)
	}
	if full < at {
		t.Errorf("the summary is not above the case table (table at %d, summary ends at %d)", full, at)
	}
	if strings.Contains(html[:full], `href="a_case_`) {
		t.Error("an OK case of agent a is listed in the summary")
	}
}
