package engine

import (
	"math"
	"time"
)

// Result is the outcome of one case run against one agent. It encodes to
// JSON with the keys of the original suite's per-case report.
type Result struct {
	Case        int    `json:"case"`
	ID          string `json:"id"`
	Description string `json:"description"`
	Expectation string `json:"expectation"`
	Agent       string `json:"agent"`
	Started     string `json:"started"`
	Duration    int64  `json:"duration"` // milliseconds
	// SuiteCPU is the CPU time in milliseconds the suite itself spent on
	// the case (its session, reading and writing), set by the driver
	// where the platform can measure it; 0 when unknown. The original
	// has no such field.
	SuiteCPU               float64          `json:"suiteCPU,omitempty"`
	ReportTime             bool             `json:"reportTime"`
	ReportCompressionRatio bool             `json:"reportCompressionRatio"`
	Behavior               string           `json:"behavior"`
	BehaviorClose          string           `json:"behaviorClose"`
	Expected               Expectations     `json:"expected"`
	ExpectedClose          CloseExpectation `json:"expectedClose"`
	Received               []Event          `json:"received"`
	Result                 string           `json:"result"`
	ResultClose            string           `json:"resultClose"`
	Wirelog                []WireEntry      `json:"wirelog"`
	CreateWirelog          bool             `json:"createWirelog"`

	ClosedByMe                     bool    `json:"closedByMe"`
	FailedByMe                     bool    `json:"failedByMe"`
	DroppedByMe                    bool    `json:"droppedByMe"`
	WasClean                       bool    `json:"wasClean"`
	WasNotCleanReason              *string `json:"wasNotCleanReason"`
	WasServerConnectionDropTimeout bool    `json:"wasServerConnectionDropTimeout"`
	WasOpenHandshakeTimeout        bool    `json:"wasOpenHandshakeTimeout"`
	WasCloseHandshakeTimeout       bool    `json:"wasCloseHandshakeTimeout"`
	LocalCloseCode                 *int    `json:"localCloseCode"`
	LocalCloseReason               *string `json:"localCloseReason"`
	RemoteCloseCode                *int    `json:"remoteCloseCode"`
	RemoteCloseReason              *string `json:"remoteCloseReason"`
	IsServer                       bool    `json:"isServer"`

	CreateStats  bool        `json:"createStats"`
	RxOctetStats map[int]int `json:"rxOctetStats"`
	RxFrameStats map[int]int `json:"rxFrameStats"`
	TxOctetStats map[int]int `json:"txOctetStats"`
	TxFrameStats map[int]int `json:"txFrameStats"`

	HTTPRequest  string         `json:"httpRequest"`
	HTTPResponse string         `json:"httpResponse"`
	TrafficStats *TrafficStats  `json:"trafficStats"`
	Deflate      *DeflateParams `json:"permessageDeflate,omitempty"`
}

func (s *Session) result(end time.Time) *Result {
	var dur int64
	if !s.caseStart.IsZero() {
		dur = int64(math.Round(float64(end.Sub(s.caseStart)) / float64(time.Millisecond)))
	}
	var notClean *string
	if s.wasNotCleanReason != "" {
		r := s.wasNotCleanReason
		notClean = &r
	}
	received := s.Received
	if received == nil {
		received = []Event{}
	}
	expected := s.Expected
	if expected == nil {
		expected = Expectations{}
	}
	cc := s.ExpectedClose
	if cc.CloseCode == nil {
		cc.CloseCode = []int{}
	}
	req, resp := s.httpRequest, s.httpResponse
	if req == "" {
		req = "?"
	}
	if resp == "" {
		resp = "?"
	}
	s.mu.Lock()
	wl := append([]WireEntry{}, s.wirelog...)
	s.mu.Unlock()
	return &Result{
		Case:                           s.CaseIndex,
		ID:                             s.Case.ID,
		Description:                    s.Case.Description,
		Expectation:                    s.Case.Expectation,
		Agent:                          s.Agent,
		Started:                        s.started,
		Duration:                       dur,
		ReportTime:                     s.ReportTime,
		ReportCompressionRatio:         s.ReportCompressionRatio,
		Behavior:                       s.Behavior,
		BehaviorClose:                  s.BehaviorClose,
		Expected:                       expected,
		ExpectedClose:                  cc,
		Received:                       received,
		Result:                         s.Result,
		ResultClose:                    s.ResultClose,
		Wirelog:                        wl,
		CreateWirelog:                  s.createWirelog,
		ClosedByMe:                     s.closedByMe,
		FailedByMe:                     s.failedByMe,
		DroppedByMe:                    s.droppedByMe,
		WasClean:                       s.wasClean,
		WasNotCleanReason:              notClean,
		WasServerConnectionDropTimeout: s.wasServerConnectionDropTimeout,
		WasOpenHandshakeTimeout:        s.wasOpenHandshakeTimeout,
		WasCloseHandshakeTimeout:       s.wasCloseHandshakeTimeout,
		LocalCloseCode:                 s.localCloseCode,
		LocalCloseReason:               s.localCloseReason,
		RemoteCloseCode:                s.remoteCloseCode,
		RemoteCloseReason:              s.remoteCloseReason,
		IsServer:                       s.cfg.IsServer,
		CreateStats:                    true,
		RxOctetStats:                   s.rxOctetStats,
		RxFrameStats:                   s.rxFrameStats,
		TxOctetStats:                   s.txOctetStats,
		TxFrameStats:                   s.txFrameStats,
		HTTPRequest:                    req,
		HTTPResponse:                   resp,
		TrafficStats:                   s.TrafficSnapshot,
		Deflate:                        s.Deflate(),
	}
}
