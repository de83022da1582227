package autobahn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
	"github.com/rfc6455/ws/autobahn/report"
)

// fetch connects a collecting testee client to url and returns the text
// messages the fuzzing server sent before closing.
func fetch(t *testing.T, url string) []string {
	t.Helper()
	var mu sync.Mutex
	var msgs []string
	err := runTestee(url, testee{collect: func(op byte, p []byte) {
		mu.Lock()
		msgs = append(msgs, string(p))
		mu.Unlock()
	}})
	if err != nil && err.Error() != "EOF" {
		t.Logf("%s: %v", url, err)
	}
	return msgs
}

// awaitResult waits up to 10 seconds for the result of case id run by
// agent. The server records a result when its side of the connection is
// gone (as the original does), which can be just after the testee has
// seen the connection end and returned.
func awaitResult(srv *Server, agent, id string) *engine.Result {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if r := srv.Results.Get(agent, id); r != nil || time.Now().After(deadline) {
			return r
		}
	}
}

// The control endpoints answer as the original's do, so existing testee
// clients work unchanged.
func TestFuzzingServerEndpoints(t *testing.T) {
	srv, base := startFuzzingServer(t, []string{"1.1.1", "2.1", "7.*"})
	ids, _ := srv.Cases()

	if got := fetch(t, base+"/getCaseCount"); len(got) != 1 || got[0] != itoa(len(ids)) {
		t.Errorf("getCaseCount: %q, want %d", got, len(ids))
	}
	got := fetch(t, base+"/getCaseInfo?case=2")
	var info map[string]string
	if len(got) != 1 || json.Unmarshal([]byte(got[0]), &info) != nil || info["id"] != "2.1" || info["description"] != "Send ping without payload." {
		t.Errorf("getCaseInfo: %q", got)
	}
	if err := runTestee(base+"/runCase?case=1&agent=good", testee{}); err != nil {
		t.Logf("runCase: %v", err)
	}
	awaitResult(srv, "good", "1.1.1")
	got = fetch(t, base+"/getCaseStatus?case=1&agent=good")
	var status map[string]string
	if len(got) != 1 || json.Unmarshal([]byte(got[0]), &status) != nil || status["behavior"] != "OK" {
		t.Errorf("getCaseStatus: %q", got)
	}
	// casetuple names a case by its ID.
	runTestee(base+"/runCase?casetuple=2.1&agent=good", testee{})
	if r := awaitResult(srv, "good", "2.1"); r == nil || r.Behavior != "OK" || r.Case != 2 {
		t.Errorf("casetuple run: %+v", r)
	}
	fetch(t, base+"/updateReports?agent=good")
	b, err := os.ReadFile(filepath.Join(srv.OutDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]map[string]report.IndexEntry
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if e := index["good"]["1.1.1"]; e.Behavior != "OK" || e.BehaviorClose != "OK" || e.ReportFile != "good_case_1_1_1.json" {
		t.Errorf("index.json entry %+v", e)
	}
	for _, f := range []string{"good_case_1_1_1.json", "good_case_1_1_1.html", "index.html"} {
		if _, err := os.Stat(filepath.Join(srv.OutDir, f)); err != nil {
			t.Error(err)
		}
	}
	// Requests the server cannot serve are refused in the handshake.
	for _, u := range []string{"/runCase?case=99&agent=a", "/runCase?case=1", "/getCaseInfo", "/nowhere"} {
		if err := runTestee(base+u, testee{}); err == nil {
			t.Errorf("%s: handshake accepted", u)
		}
	}
}
