package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
)

const css = `
body { background-color: #F4F4F4; color: #333; font-family: "Segoe UI", Tahoma, Arial, Verdana, sans-serif; margin: 2em; }
h1, h2, h3 { font-weight: normal; }
table { border-collapse: collapse; }
td, th { padding: 2px 6px; border: 1px solid #fff; font-size: 0.9em; }
td a { color: inherit; text-decoration: none; }
.case_ok { background-color: #0a0; color: #fff; }
.case_almost { background-color: #6d6; color: #fff; }
.case_non_strict { background-color: #9a0; color: #fff; }
.case_info { background-color: #4095bf; color: #fff; }
.case_unimplemented { background-color: #800080; color: #fff; }
.case_failed { background-color: #900; color: #fff; }
.case_missing { background-color: #aaa; color: #fff; }
.case_category { font-size: 1.2em; background-color: #333; color: #fff; }
.case_subcategory { background-color: #777; color: #fff; }
.agent { background-color: #333; color: #fff; text-align: center; }
.duration { font-size: 0.75em; }
.block { background-color: #fff; padding: 0.6em 1em; margin-bottom: 1em; }
pre { margin: 0; font-size: 0.85em; white-space: pre-wrap; word-break: break-all; }
.wl_rx { color: #036; } .wl_tx { color: #630; } .wl_tx_sync { color: #a50; } .wl_other { color: #666; }
.wl_closed { font-weight: bold; }
`

const legend = `
<table class="block">
<tr><td class="case_ok">Pass</td><td>Test case was executed and passed successfully.</td></tr>
<tr><td class="case_non_strict">Non-Strict</td><td>Test case was executed and passed non-strictly: the implementation does not follow a SHOULD of the specification, or a well-defined canonical behavior it leaves open. It still conforms.</td></tr>
<tr><td class="case_failed">Fail</td><td>Test case was executed and failed. Outside of limits and performance cases, the implementation breaks a MUST of the specification.</td></tr>
<tr><td class="case_info">Info</td><td>Informational case: behavior the specification leaves open, reported for implementers.</td></tr>
<tr><td class="case_unimplemented">Unimplemented</td><td>The implementation does not implement the feature under test (for example permessage-deflate).</td></tr>
<tr><td class="case_missing">Missing</td><td>The case did not run: excluded by the spec, or the testee could not be reached.</td></tr>
</table>`

func behaviorClass(b string) (class, text string) {
	switch b {
	case engine.OK:
		return "case_ok", "Pass"
	case engine.NonStrict:
		return "case_non_strict", "Non-Strict"
	case engine.Informational:
		return "case_info", "Info"
	case engine.Unimplemented:
		return "case_unimplemented", "Unimplemented"
	}
	return "case_failed", "Fail"
}

func closeClass(r *engine.Result) (class, text string) {
	code := "None"
	if r.RemoteCloseCode != nil {
		code = fmt.Sprint(*r.RemoteCloseCode)
	}
	switch r.BehaviorClose {
	case engine.OK:
		return "case_ok", code
	case engine.FailedByClient:
		return "case_almost", code
	case engine.WrongCode:
		return "case_non_strict", code
	case engine.Unclean:
		return "case_failed", "Unclean"
	case engine.Informational:
		return "case_info", code
	}
	return "case_failed", "Fail"
}

type cell struct {
	Missing, Unimplemented bool
	Class, Text, Link      string
	CloseClass, CloseText  string
	Detail                 string
}

type row struct {
	Category    string // set on the first row of a category or subcategory
	Subcategory string
	ID, Anchor  string
	Cells       []cell
}

type caseDesc struct {
	ID, Anchor               string
	Description, Expectation template.HTML
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Autobahn WebSocket Testsuite Report</title><style>{{.CSS}}</style></head>
<body><a id="top"></a>
<h1>Autobahn WebSocket Testsuite Report</h1>
<p class="block">Summary report generated on {{.Generated}} (UTC) by the Go port of Autobahn|Testsuite (github.com/rfc6455/ws/autobahn).
Each cell links to the case's detail page; the narrow column is the close code the testee sent.</p>
<h2>At a glance</h2>
<table id="summary_counts" class="block"><tr><th>Agent</th><th>Cases</th>{{range .Verdicts}}<th class="{{.Class}}">{{.Name}}</th>{{end}}<th>Close: OK</th><th>Close: not OK</th><th>Case time (s)</th><th>Suite CPU (s)</th></tr>
{{range .Counts}}<tr><td>{{.Agent}}</td><td>{{.Cases}}</td>{{range .ByVerdict}}<td>{{.}}</td>{{end}}<td>{{.CloseOK}}</td><td>{{.CloseNotOK}}</td><td>{{printf "%.1f" .Seconds}}</td><td>{{if .CPUKnown}}{{printf "%.1f" .SuiteCPU}}{{else}}?{{end}}</td></tr>
{{end}}</table>
<p class="block">Case time adds up the cases' durations (cases run concurrently, so it exceeds the run's wall time); suite CPU adds up the CPU time the suite's own session spent on each case (parsing, checking, inflating, compressing, framing), without the system calls that move the octets. The testee's CPU is the rest of what the machine spent. Each case page gives both figures.</p>
{{if .NotOK}}<table id="summary_not_ok" class="block"><tr><th>Agent</th><th>Case</th><th>Behavior</th><th>Close</th><th>Reason</th></tr>
{{range .NotOK}}<tr><td>{{.Agent}}</td><td><a href="{{.Link}}">{{.ID}}</a></td><td class="{{.Class}}">{{.Behavior}}</td><td class="{{.CloseClass}}">{{.BehaviorClose}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{else}}<p id="summary_not_ok" class="block">Every case is OK, with an OK closing behavior, for every agent.</p>{{end}}
<h2>All cases</h2>
{{.Legend}}
<table id="agent_case_results">
{{range .Rows}}{{if .Category}}<tr><td class="case_category">{{.Category}}</td>{{range $.Agents}}<td class="agent" colspan="2">{{.}}</td>{{end}}</tr>{{end}}
{{if .Subcategory}}<tr><td class="case_subcategory" colspan="{{$.Span}}">{{.Subcategory}}</td></tr>{{end}}
<tr><td><a href="#case_desc_{{.Anchor}}">Case {{.ID}}</a></td>{{range .Cells}}{{if .Missing}}<td class="case_missing" colspan="2">Missing</td>{{else if .Unimplemented}}<td class="case_unimplemented" colspan="2"><a href="{{.Link}}">Unimplemented</a></td>{{else}}<td class="{{.Class}}"><a href="{{.Link}}">{{.Text}}</a>{{if .Detail}}<br><span class="duration">{{.Detail}}</span>{{end}}</td><td class="{{.CloseClass}}">{{.CloseText}}</td>{{end}}{{end}}</tr>
{{end}}</table>
<h2>Case descriptions</h2>
{{range .Descs}}<div class="block"><a id="case_desc_{{.Anchor}}"></a><h3>Case {{.ID}}</h3> <a href="#top">Up</a>
<p><b>Case Description</b><br>{{.Description}}</p><p><b>Case Expectation</b><br>{{.Expectation}}</p></div>
{{end}}</body></html>
`))

// WriteHTML writes index.html and one HTML page per case into dir.
func WriteHTML(dir string, set *cases.Set, res Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	agents := make([]string, 0, len(res))
	for a := range res {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	// Rows for every case that ran for some agent, in numeric order.
	idset := map[string]bool{}
	for _, m := range res {
		for id := range m {
			idset[id] = true
		}
	}
	ids := make([]string, 0, len(idset))
	for id := range idset {
		ids = append(ids, id)
	}
	cases.SortIDs(ids)
	var rows []row
	var descs []caseDesc
	lastCat, lastSub := "", ""
	for _, id := range ids {
		parts := strings.Split(id, ".")
		cat := parts[0]
		sub := strings.Join(parts[:min(2, len(parts))], ".")
		r := row{ID: id, Anchor: strings.ReplaceAll(id, ".", "_")}
		if cat != lastCat || sub != lastSub {
			name := set.Categories[cat]
			if name == "" {
				name = "Misc"
			}
			r.Category = cat + " " + name
			lastCat = cat
		}
		if sub != lastSub {
			r.Subcategory = sub + " " + set.SubCategories[sub]
			lastSub = sub
		}
		for _, a := range agents {
			res := res[a][id]
			if res == nil {
				r.Cells = append(r.Cells, cell{Missing: true})
				continue
			}
			c := cell{Link: CaseFile(a, id, "html")}
			if res.Behavior == engine.Unimplemented {
				c.Unimplemented = true
			}
			c.Class, c.Text = behaviorClass(res.Behavior)
			c.CloseClass, c.CloseText = closeClass(res)
			var detail []string
			if res.ReportTime {
				detail = append(detail, fmt.Sprintf("%d ms", res.Duration))
			}
			if res.ReportCompressionRatio && res.TrafficStats != nil {
				f := func(p *float64) string {
					if p == nil {
						return "-"
					}
					return fmt.Sprintf("%.3f", *p)
				}
				detail = append(detail, fmt.Sprintf("[%s/%s]", f(res.TrafficStats.IncomingCompressionRatio()), f(res.TrafficStats.OutgoingCompressionRatio())))
			}
			c.Detail = strings.Join(detail, " ")
			r.Cells = append(r.Cells, c)
		}
		rows = append(rows, r)
		if c := set.ByID(id); c != nil {
			descs = append(descs, caseDesc{ID: id, Anchor: r.Anchor,
				Description: template.HTML(c.Description), Expectation: template.HTML(c.Expectation)})
		}
	}
	counts, notOK := glance(agents, ids, res)
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return err
	}
	err = indexTmpl.Execute(f, map[string]any{
		"CSS": template.CSS(css), "Legend": template.HTML(legend), "Generated": time.Now().UTC().Format("2006-01-02 15:04:05"),
		"Agents": agents, "Span": 2*len(agents) + 1, "Rows": rows, "Descs": descs,
		"Verdicts": glanceVerdicts, "Counts": counts, "NotOK": notOK,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, a := range agents {
		for id, r := range res[a] {
			if err := writeCaseHTML(filepath.Join(dir, CaseFile(a, id, "html")), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// The summary at the top of index.html: verdict counts per agent, then
// every case that is not OK (behavior or closing behavior) with the
// reasons the case gave, each linked to its page.

type glanceVerdict struct{ Name, Class string }

var glanceVerdicts = func() []glanceVerdict {
	var v []glanceVerdict
	for _, b := range behaviors {
		class, _ := behaviorClass(b)
		v = append(v, glanceVerdict{b, class})
	}
	return v
}()

type agentCounts struct {
	Agent               string
	Cases               int
	ByVerdict           []int // in the order of glanceVerdicts
	CloseOK, CloseNotOK int
	Seconds, SuiteCPU   float64 // sums of the cases' durations and suite CPU
	CPUKnown            bool
}

type notOKCase struct {
	Agent, ID, Link           string
	Behavior, BehaviorClose   string
	Class, CloseClass, Reason string
}

func glance(agents, ids []string, res Results) ([]agentCounts, []notOKCase) {
	var counts []agentCounts
	var notOK []notOKCase
	for _, a := range agents {
		c := agentCounts{Agent: a, ByVerdict: make([]int, len(behaviors))}
		for _, id := range ids {
			r := res[a][id]
			if r == nil {
				continue
			}
			c.Cases++
			c.Seconds += float64(r.Duration) / 1000
			c.SuiteCPU += r.SuiteCPU / 1000
			c.CPUKnown = c.CPUKnown || r.SuiteCPU > 0
			for i, b := range behaviors {
				if r.Behavior == b {
					c.ByVerdict[i]++
				}
			}
			if r.BehaviorClose == engine.OK {
				c.CloseOK++
			} else {
				c.CloseNotOK++
			}
			if r.Behavior == engine.OK && r.BehaviorClose == engine.OK {
				continue
			}
			n := notOKCase{Agent: a, ID: id, Link: CaseFile(a, id, "html"), Behavior: r.Behavior, BehaviorClose: r.BehaviorClose}
			n.Class, _ = behaviorClass(r.Behavior)
			n.CloseClass, _ = closeClass(r)
			var reasons []string
			if r.Behavior != engine.OK {
				reasons = append(reasons, r.Result)
			}
			if r.BehaviorClose != engine.OK {
				reasons = append(reasons, "Close: "+r.ResultClose)
			}
			n.Reason = strings.Join(reasons, " ")
			notOK = append(notOK, n)
		}
		counts = append(counts, c)
	}
	return counts, notOK
}

type kv struct{ Key, Value, Desc string }

type statRow struct {
	Key   string
	Count int
	Total int
}

type wireRow struct {
	N     int
	Class string
	Text  string
}

var caseTmpl = template.Must(template.New("case").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.R.Agent}} - Case {{.R.ID}}</title><style>{{.CSS}}</style></head>
<body><p><a href="index.html">Back to the summary</a></p>
<h1 class="{{.Class}}">&nbsp;{{.R.Agent}} - Case {{.R.ID}} : {{.Text}} - {{.R.Duration}} ms @ {{.R.Started}}{{if .R.SuiteCPU}} (suite CPU {{printf "%.1f" .R.SuiteCPU}} ms){{end}}</h1>
<div class="block"><p><b>Case Description</b><br>{{.Description}}</p>
<p><b>Case Expectation</b><br>{{.Expectation}}</p></div>
<div class="block"><p><b>Case Outcome</b><br>{{.R.Result}}</p>
<p><i>Expected:</i><br><code>{{.Expected}}</code></p><p><i>Observed:</i><br><code>{{.Received}}</code></p></div>
<div class="block"><p><b>Case Closing Behavior</b><br>{{.R.ResultClose}} ({{.R.BehaviorClose}})</p></div>
<h2>Opening Handshake</h2>
<div class="block"><pre>{{.R.HTTPRequest}}</pre></div><div class="block"><pre>{{.R.HTTPResponse}}</pre></div>
<h2>Closing Behavior</h2>
<table class="block"><tr><th>Key</th><th>Value</th><th>Description</th></tr>
{{range .Closing}}<tr><td>{{.Key}}</td><td>{{.Value}}</td><td>{{.Desc}}</td></tr>{{end}}</table>
<h2>Wire Statistics</h2>
{{range .Stats}}<h3>{{.Title}}</h3><table class="block"><tr><th>{{.Unit}}</th><th>Count</th>{{if .Octets}}<th>Octets</th>{{end}}</tr>
{{$oct := .Octets}}{{range .Rows}}<tr><td>{{.Key}}</td><td>{{.Count}}</td>{{if $oct}}<td>{{.Total}}</td>{{end}}</tr>{{end}}</table>{{end}}
<h2>Wire Log</h2>
{{if not .R.CreateWirelog}}<p><i>Wire log after handshake disabled!</i></p>{{end}}
<div class="block">{{range .Wire}}<pre class="{{.Class}}">{{.Text}}</pre>
{{end}}</div></body></html>
`))

func limitString(s string, n int) string {
	if len(s) > n-4 {
		return s[:n-4] + " ..."
	}
	return s
}

func orNone(p any) string {
	switch v := p.(type) {
	case *int:
		if v == nil {
			return "None"
		}
		return fmt.Sprint(*v)
	case *string:
		if v == nil {
			return "None"
		}
		return *v
	}
	return fmt.Sprint(p)
}

type statTable struct {
	Title, Unit string
	Octets      bool
	Rows        []statRow
}

func stats(title, unit string, m map[int]int, octets bool) statTable {
	t := statTable{Title: title, Unit: unit, Octets: octets}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var n, total int
	for _, k := range keys {
		r := statRow{Key: fmt.Sprint(k), Count: m[k]}
		if octets {
			r.Total = k * m[k]
		}
		t.Rows = append(t.Rows, r)
		n += m[k]
		total += r.Total
	}
	t.Rows = append(t.Rows, statRow{Key: "Total", Count: n, Total: total})
	return t
}

func wireRows(r *engine.Result) []wireRow {
	var rows []wireRow
	for i, e := range r.Wirelog {
		at := fmt.Sprintf("%03d %9.3fs ", i, e.At.Seconds())
		var w wireRow
		switch e.Kind {
		case engine.LogRxOctets:
			w = wireRow{Class: "wl_rx", Text: at + "RX OCTETS: " + e.Data}
		case engine.LogTxOctets:
			w = wireRow{Class: "wl_tx", Text: at + "TX OCTETS: " + e.Data}
			if e.Sync {
				w.Class = "wl_tx_sync"
			}
		case engine.LogRxFrame:
			mask := "None"
			if e.Mask != "" {
				mask = e.Mask
			}
			w = wireRow{Class: "wl_rx", Text: fmt.Sprintf("%sRX FRAME : OPCODE=%d, FIN=%v, RSV=%d, PAYLOAD-LEN=%d, MASKED=%v, MASK=%s\n%s",
				at, e.Opcode, e.Fin, e.RSV, e.Len, e.Masked, mask, e.Data)}
		case engine.LogTxFrame:
			mask := "None"
			if e.Mask != "" {
				mask = e.Mask
			}
			w = wireRow{Class: "wl_tx", Text: fmt.Sprintf("%sTX FRAME : OPCODE=%d, FIN=%v, RSV=%d, PAYLOAD-LEN=%d, MASK=%s, PAYLOAD-REPEAT-LEN=%d, CHOPSIZE=%d, SYNC=%v\n%s",
				at, e.Opcode, e.Fin, e.RSV, e.Len, mask, e.Repeat, e.Chop, e.Sync, e.Data)}
			if e.Sync || e.Chop > 0 {
				w.Class = "wl_tx_sync"
			}
		case engine.LogDelay:
			w = wireRow{Class: "wl_other", Text: fmt.Sprintf("%sDELAY %f sec for TAG %s", at, e.Delay.Seconds(), e.Tag)}
		case engine.LogDelayDone:
			w = wireRow{Class: "wl_other", Text: at + "DELAY TIMEOUT on TAG " + e.Tag}
		case engine.LogKillAfter:
			w = wireRow{Class: "wl_other", Text: fmt.Sprintf("%sFAIL CONNECTION AFTER %f sec", at, e.Delay.Seconds())}
		case engine.LogKill:
			w = wireRow{Class: "wl_other", Text: at + "FAILING CONNECTION"}
		case engine.LogCloseAfter:
			w = wireRow{Class: "wl_other", Text: fmt.Sprintf("%sCLOSE CONNECTION AFTER %f sec", at, e.Delay.Seconds())}
		case engine.LogClose:
			w = wireRow{Class: "wl_other", Text: at + "CLOSING CONNECTION"}
		case engine.LogWirelogCtl:
			w = wireRow{Class: "wl_other", Text: at + "WIRELOG ENABLED"}
			if !e.Enable {
				w.Text = at + "WIRELOG DISABLED"
			}
		case engine.LogWatchdog:
			w = wireRow{Class: "wl_other", Text: at + "SUITE TIME LIMIT REACHED, DROPPING CONNECTION"}
		default:
			w = wireRow{Class: "wl_other", Text: at + e.Kind}
		}
		rows = append(rows, w)
	}
	who := "TCP DROPPED BY PEER"
	if r.DroppedByMe {
		who = "TCP DROPPED BY ME"
	}
	return append(rows, wireRow{Class: "wl_closed", Text: fmt.Sprintf("%03d %s", len(r.Wirelog), who)})
}

func writeCaseHTML(path string, r *engine.Result) error {
	class, text := behaviorClass(r.Behavior)
	exp, _ := json.Marshal(r.Expected)
	rec, _ := json.Marshal(r.Received)
	closing := []kv{
		{"isServer", fmt.Sprint(r.IsServer), "True, iff I (the fuzzer) am a server, and the peer is a client."},
		{"closedByMe", fmt.Sprint(r.ClosedByMe), "True, iff I have initiated closing handshake (that is, did send close first)."},
		{"failedByMe", fmt.Sprint(r.FailedByMe), "True, iff I have failed the WS connection (i.e. due to protocol error). Failing can be either by initiating closing handshake or brutal drop TCP."},
		{"droppedByMe", fmt.Sprint(r.DroppedByMe), "True, iff I dropped the TCP connection."},
		{"wasClean", fmt.Sprint(r.WasClean), "True, iff full WebSocket closing handshake was performed (close frame sent and received) _and_ the server dropped the TCP (which is its responsibility)."},
		{"wasNotCleanReason", orNone(r.WasNotCleanReason), "When wasClean == False, the reason what happened."},
		{"wasServerConnectionDropTimeout", fmt.Sprint(r.WasServerConnectionDropTimeout), "When we are a client, and we expected the server to drop the TCP, but that didn't happen in time, this gets True."},
		{"wasOpenHandshakeTimeout", fmt.Sprint(r.WasOpenHandshakeTimeout), "When performing the opening handshake, but the peer did not finish in time, this gets True."},
		{"wasCloseHandshakeTimeout", fmt.Sprint(r.WasCloseHandshakeTimeout), "When we initiated a closing handshake, but the peer did not respond in time, this gets True."},
		{"localCloseCode", orNone(r.LocalCloseCode), "The close code I sent in close frame (if any)."},
		{"localCloseReason", orNone(r.LocalCloseReason), "The close reason I sent in close frame (if any)."},
		{"remoteCloseCode", orNone(r.RemoteCloseCode), "The close code the peer sent me in close frame (if any)."},
		{"remoteCloseReason", orNone(r.RemoteCloseReason), "The close reason the peer sent me in close frame (if any)."},
	}
	st := []statTable{
		stats("Octets Received by Chop Size", "Chop Size", r.RxOctetStats, true),
		stats("Octets Transmitted by Chop Size", "Chop Size", r.TxOctetStats, true),
		stats("Frames Received by Opcode", "Opcode", r.RxFrameStats, false),
		stats("Frames Transmitted by Opcode", "Opcode", r.TxFrameStats, false),
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = caseTmpl.Execute(f, map[string]any{
		"CSS": template.CSS(css), "R": r, "Class": class, "Text": text,
		"Description": template.HTML(r.Description), "Expectation": template.HTML(r.Expectation),
		"Expected": limitString(string(exp), 1000), "Received": limitString(string(rec), 1000),
		"Closing": closing, "Stats": st, "Wire": wireRows(r),
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
