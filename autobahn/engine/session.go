package engine

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// State is the WebSocket state of the suite's side of a connection.
type State int

// States, in the order a connection goes through them.
const (
	StateConnecting State = iota
	StateOpen
	StateClosing
	StateClosed
)

// Env is what a Session needs from the outside world: a byte transport, a
// clock and timers. All calls into a Session, including the timer functions
// it schedules, must come from one goroutine; the Env implementation runs
// that goroutine.
type Env interface {
	// Write hands bytes to the transport. The session calls it once per
	// step (a call into the session, a timer, a posted function) with all
	// the step wrote, so that they can go out in one send, and once more
	// for each chopped or synchronized write (Frame.Chop, Frame.Sync). It
	// must not block the session and must not keep a reference to p
	// beyond sending it.
	Write(p []byte)
	// Drop closes the transport. abort discards bytes not yet sent; a
	// graceful drop sends them first. ConnectionLost follows.
	Drop(abort bool)
	// AfterFunc runs f on the session goroutine after d, unless the
	// returned stop function is called first.
	AfterFunc(d time.Duration, f func()) (stop func())
	// Now returns the current time.
	Now() time.Time
	// Post runs f on the session goroutine; other goroutines use it to
	// act on the session.
	Post(f func())
}

// Config configures a Session.
type Config struct {
	IsServer bool    // the suite is the server (fuzzingserver mode)
	Options  Options // protocol options
	Env      Env

	Case      *Case // the case to run; nil for control connections
	CaseIndex int   // reported as "case"
	Agent     string

	// Suite as client: where to connect and what to ask for.
	Host      string // host as sent in the Host header (may be [v6])
	Port      int
	Resource  string // path and query
	Origin    string
	Protocols []string
	UserAgent string

	// Suite as server.
	ServerName string
	// Connect inspects the testee's request. It may set Case, CaseIndex,
	// Agent and Control on the session; an error refuses the handshake.
	Connect func(s *Session, req *Request) error

	// Skip reports whether a case is excluded for an agent by the spec;
	// the session then closes without running or reporting it.
	Skip func(agent, caseID string) bool
	// Done receives the result of a case run; it is not called for control
	// connections or skipped cases.
	Done func(*Result)
	// Lost is called when the connection is gone, after Done.
	Lost func(s *Session)

	// Cache, when set, shares compressed messages and checked echoes
	// between the sessions of a run (see Cache).
	Cache *Cache
}

// Request is a testee client's opening handshake request.
type Request struct {
	Path   string
	Query  map[string][]string
	Header map[string]string // keys lower-cased; repeated headers joined with ", "
}

// rxFrame is the header of the frame being received.
type rxFrame struct {
	opcode byte
	fin    bool
	rsv    byte
	length uint64
	masked bool
	key    [4]byte
	pos    uint64 // payload bytes consumed
	unmask bool
}

type queued struct {
	data []byte
	sync bool
}

// Session is the suite's side of one connection: an RFC 6455 endpoint that
// can also send malformed frames on purpose, with the bookkeeping the
// verdicts need (who closed, whether cleanly, with which code). Its
// behavior on bad input follows the original suite's endpoint, since the
// verdicts depend on it: a protocol violation by the testee is answered
// with a close frame (not a TCP drop), a close is answered at once, and as
// a client the suite waits for the server to drop TCP.
//
// A Session does no I/O of its own; see Env.
type Session struct {
	cfg  Config
	opts Options
	env  Env

	// Case is the case being run, Agent the testee's name.
	Case      *Case
	CaseIndex int
	Agent     string
	// Control, when set by Config.Connect, runs at open instead of a case
	// (the fuzzing server's /getCaseCount and similar endpoints).
	Control func(s *Session)

	state State

	connectionWasOpen              bool
	closedByMe                     bool
	failedByMe                     bool
	droppedByMe                    bool
	wasClean                       bool
	wasNotCleanReason              string
	wasServerConnectionDropTimeout bool
	wasOpenHandshakeTimeout        bool
	wasCloseHandshakeTimeout       bool
	localCloseCode                 *int
	localCloseReason               *string
	remoteCloseCode                *int
	remoteCloseReason              *string

	openHSStop, closeHSStop, serverDropStop func()

	// receive
	in            []byte
	cur           *rxFrame
	insideMessage bool
	msgBinary     bool
	msgData       []byte
	frameData     []byte
	msgTotal      uint64
	ctrlData      []byte
	validating    bool
	utf8          utf8Stream
	compressedMsg bool
	compressedBuf []byte
	rxSeq         *Sequence // the testee is expected to echo it (ExpectSequence)
	rxChain       bool      // every message received so far was rxSeq's next
	rxCount       int

	txSeq   *Sequence   // the sequence sent since the connection opened
	txBuild *comprEntry // the cache entry this session fills

	// send
	out       []byte // written in the current step, not yet handed to Env
	queue     []queued
	triggered bool
	sendState int
	sendOp    byte
	sendCompr bool
	sendLen   uint64
	sendPos   uint64
	sendKey   [4]byte
	sendMask  bool
	sendMPos  uint64

	// handshake
	httpRequest  string
	httpResponse string
	key          string
	deflate      *pmDeflate
	// DeflateOffers (suite as client) are offered in the handshake.
	DeflateOffers []DeflateOffer
	// DeflateAccept (suite as server) picks an offer to accept, or none.
	DeflateAccept func(offers []DeflateOffer) *DeflateAccept
	request       *Request

	// case state
	Received      []Event
	Expected      Expectations
	ExpectedClose CloseExpectation
	Behavior      string
	BehaviorClose string
	Result        string
	ResultClose   string
	// ReportTime and ReportCompressionRatio show the duration and the
	// compression ratios in the HTML index.
	ReportTime             bool
	ReportCompressionRatio bool
	// SuppressClose stops the automatic close when the expected events
	// have arrived (cases that close in their own way).
	SuppressClose bool
	// TrafficSnapshot is reported as the case's traffic statistics.
	TrafficSnapshot *TrafficStats
	onMessage       func(payload []byte, binary bool)
	onPong          func(payload []byte)
	running         bool

	traffic TrafficStats

	mu            sync.Mutex // guards wirelog for readers outside the session goroutine
	wirelog       []WireEntry
	createWirelog bool
	rxOctetStats  map[int]int
	txOctetStats  map[int]int
	rxFrameStats  map[int]int
	txFrameStats  map[int]int

	connected time.Time
	caseStart time.Time
	started   string
	done      bool
}

// queuedWriteDelay is the pause between chopped or synchronized writes,
// so that each reaches the wire on its own (the original's reactor delay).
const queuedWriteDelay = 10 * time.Microsecond

// NewSession returns a session for a new TCP connection. Call Start next.
func NewSession(cfg Config) *Session {
	s := &Session{
		cfg:           cfg,
		opts:          cfg.Options,
		env:           cfg.Env,
		Case:          cfg.Case,
		CaseIndex:     cfg.CaseIndex,
		Agent:         cfg.Agent,
		state:         StateConnecting,
		Behavior:      Failed,
		BehaviorClose: Failed,
		Result:        "Actual events differ from any expected.",
		ResultClose:   "TCP connection was dropped without close handshake",
		createWirelog: true,
		rxOctetStats:  map[int]int{},
		txOctetStats:  map[int]int{},
		rxFrameStats:  map[int]int{},
		txFrameStats:  map[int]int{},
	}
	return s
}

// Start begins the connection: the suite as client sends its opening
// handshake; both sides arm the opening handshake timeout.
func (s *Session) Start() {
	defer s.flush()
	s.connected = s.env.Now()
	s.started = utcnow(s.connected)
	if s.Case != nil {
		s.running = true
		if s.Case.Init != nil {
			s.Case.Init(s)
		}
	}
	if s.opts.OpenHandshakeTimeout > 0 {
		s.openHSStop = s.afterFunc(s.opts.OpenHandshakeTimeout, s.onOpenHandshakeTimeout)
	}
	if !s.cfg.IsServer {
		s.startHandshake()
	}
}

// Post runs f on the session goroutine; safe to call from any goroutine.
// What f writes goes out as one write, as for any other step.
func (s *Session) Post(f func()) { s.env.Post(s.step(f)) }

// step returns f as a step of the session: the bytes it writes are handed
// to the transport together when it returns (see flush).
func (s *Session) step(f func()) func() {
	return func() {
		f()
		s.flush()
	}
}

// afterFunc runs f as a step after d (see Env.AfterFunc).
func (s *Session) afterFunc(d time.Duration, f func()) (stop func()) {
	return s.env.AfterFunc(d, s.step(f))
}

// IsServer reports whether the suite is the server on this connection.
func (s *Session) IsServer() bool { return s.cfg.IsServer }

// State returns the current state.
func (s *Session) State() State { return s.state }

// Request returns the testee's handshake request (suite as server).
func (s *Session) Request() *Request { return s.request }

// Deflate returns the negotiated permessage-deflate parameters, or nil.
func (s *Session) Deflate() *DeflateParams {
	if s.deflate == nil {
		return nil
	}
	return &s.deflate.DeflateParams
}

// Traffic returns the traffic counters so far.
func (s *Session) Traffic() TrafficStats { return s.traffic }

// TxFrameStats returns how many frames of an opcode the suite sent.
func (s *Session) TxFrameStats(opcode int) int { return s.txFrameStats[opcode] }

// SetAutoFragmentSize changes the frame size the suite's messages are
// fragmented into; 0 turns fragmentation off.
func (s *Session) SetAutoFragmentSize(n int) { s.opts.AutoFragmentSize = n }

// AutoFragmentSize returns the current automatic fragment size.
func (s *Session) AutoFragmentSize() int { return s.opts.AutoFragmentSize }

// OnMessage replaces the default message handling (record the event and
// close when the expectations are met).
func (s *Session) OnMessage(f func(payload []byte, binary bool)) { s.onMessage = f }

// OnPong replaces the default pong handling.
func (s *Session) OnPong(f func(payload []byte)) { s.onPong = f }

// Expect adds an acceptable sequence of events.
func (s *Session) Expect(behavior string, events ...Event) {
	if events == nil {
		events = []Event{}
	}
	s.Expected = append(s.Expected, Expectation{Behavior: behavior, Events: events})
}

// ----------------------------------------------------------------------------
// Wire log

func (s *Session) since() time.Duration { return s.env.Now().Sub(s.connected) }

func (s *Session) log(e WireEntry) {
	e.At = s.since()
	s.mu.Lock()
	s.wirelog = append(s.wirelog, e)
	s.mu.Unlock()
}

// EnableWirelog switches the wire log on or off and records the switch.
func (s *Session) EnableWirelog(enable bool) {
	if enable != s.createWirelog {
		s.createWirelog = enable
		s.log(WireEntry{Kind: LogWirelogCtl, Enable: enable})
	}
}

// SetWirelog switches the wire log without recording the switch (section 9).
func (s *Session) SetWirelog(enable bool) { s.createWirelog = enable }

func (s *Session) logRxOctets(p []byte) {
	s.rxOctetStats[len(p)]++
	if s.createWirelog {
		s.log(WireEntry{Kind: LogRxOctets, Len: len(p), Data: binLogData(p, wireLogDataSize)})
	}
}

func (s *Session) logTxOctets(p []byte, sync bool) {
	s.txOctetStats[len(p)]++
	if s.createWirelog {
		s.log(WireEntry{Kind: LogTxOctets, Len: len(p), Data: binLogData(p, wireLogDataSize), Sync: sync})
	}
}

// ----------------------------------------------------------------------------
// Timers the cases use

// ContinueLater runs f after d unless the connection is closed by then.
func (s *Session) ContinueLater(d time.Duration, tag string, f func()) {
	s.log(WireEntry{Kind: LogDelay, Delay: d, Tag: tag})
	s.afterFunc(d, func() {
		if s.state != StateClosed {
			s.log(WireEntry{Kind: LogDelayDone, Tag: tag})
			f()
		}
	})
}

// KillAfter fails the connection after d unless it is closed by then.
func (s *Session) KillAfter(d time.Duration) {
	s.log(WireEntry{Kind: LogKillAfter, Delay: d})
	s.afterFunc(d, func() {
		if s.state != StateClosed {
			s.log(WireEntry{Kind: LogKill})
			s.failConnection(CloseGoingAway, "Going Away")
		}
	})
}

// CloseAfter sends a close frame (without status code) after d unless the
// connection is closed by then.
func (s *Session) CloseAfter(d time.Duration) {
	s.log(WireEntry{Kind: LogCloseAfter, Delay: d})
	s.afterFunc(d, func() {
		if s.state != StateClosed {
			s.log(WireEntry{Kind: LogClose})
			s.SendClose(NoCode, "")
		}
	})
}

// Watchdog drops the connection; the driver calls it when a case has run
// far longer than any of its own waits allow.
func (s *Session) Watchdog() {
	defer s.flush()
	if s.state != StateClosed {
		s.log(WireEntry{Kind: LogWatchdog})
		s.wasClean = false
		s.wasNotCleanReason = "case did not end within the suite's hard time limit"
		s.dropConnection(true)
	}
}

// ----------------------------------------------------------------------------
// Closing

func (s *Session) onOpenHandshakeTimeout() {
	s.openHSStop = nil
	if s.state == StateConnecting {
		s.wasClean = false
		s.wasNotCleanReason = "peer did not finish (in time) the opening handshake"
		s.wasOpenHandshakeTimeout = true
		s.dropConnection(true)
	}
}

func (s *Session) onCloseHandshakeTimeout() {
	s.closeHSStop = nil
	if s.state != StateClosed {
		s.wasClean = false
		s.wasNotCleanReason = "peer did not respond (in time) in closing handshake"
		s.wasCloseHandshakeTimeout = true
		s.dropConnection(true)
	}
}

func (s *Session) onServerConnectionDropTimeout() {
	s.serverDropStop = nil
	if s.state != StateClosed {
		s.wasClean = false
		s.wasNotCleanReason = "server did not drop TCP connection (in time)"
		s.wasServerConnectionDropTimeout = true
		s.dropConnection(true)
	}
}

func (s *Session) dropConnection(abort bool) {
	if s.state != StateClosed {
		s.droppedByMe = true
		s.state = StateClosed
		if abort {
			s.out = nil
		} else {
			s.flush()
		}
		s.env.Drop(abort)
	}
}

// failConnection fails the WebSocket connection: with a close frame, or by
// dropping TCP when FailByDrop is set or a close was already sent.
func (s *Session) failConnection(code int, reason string) {
	if s.state == StateClosed {
		return
	}
	s.failedByMe = true
	if s.opts.FailByDrop {
		s.wasClean = false
		s.wasNotCleanReason = "I failed the WebSocket connection by dropping the TCP connection"
		s.dropConnection(true)
		return
	}
	if s.state != StateClosing {
		r := []byte(reason)
		if len(r) > 123 {
			r = r[:123]
		}
		s.SendCloseFrame(code, r, false)
	} else {
		s.dropConnection(false)
	}
}

// protocolViolation fails the connection with 1002. It reports whether
// processing of the input must stop (only when failing by drop); otherwise
// the offending frame is skipped so the closing handshake can complete.
func (s *Session) protocolViolation(reason string) bool {
	s.failConnection(CloseProtocolError, reason)
	return s.opts.FailByDrop
}

// invalidPayload fails the connection with 1007, like protocolViolation.
func (s *Session) invalidPayload(reason string) bool {
	s.failConnection(CloseInvalidPayload, reason)
	return s.opts.FailByDrop
}

// SendCloseFrame sends a close frame with any code (NoCode for none) and
// any reason bytes, valid or not, and moves to the closing state. It does
// nothing unless the connection is open.
func (s *Session) SendCloseFrame(code int, reason []byte, isReply bool) {
	if s.state != StateOpen {
		return
	}
	var payload []byte
	if code != NoCode {
		payload = binary.BigEndian.AppendUint16(payload, uint16(code))
	}
	payload = append(payload, reason...)
	s.SendFrame(Frame{Opcode: 8, Fin: true, Payload: payload})
	s.state = StateClosing
	s.closedByMe = !isReply
	if code != NoCode {
		c := code
		s.localCloseCode = &c
	}
	if reason != nil {
		r := string(reason)
		s.localCloseReason = &r
	}
	if s.closedByMe && s.opts.CloseHandshakeTimeout > 0 {
		s.closeHSStop = s.afterFunc(s.opts.CloseHandshakeTimeout, s.onCloseHandshakeTimeout)
	}
}

// SetLocalCloseReason replaces the close reason shown in the report.
func (s *Session) SetLocalCloseReason(r string) { s.localCloseReason = &r }

// LocalCloseReason returns the close reason the suite sent, if any.
func (s *Session) LocalCloseReason() ([]byte, bool) {
	if s.localCloseReason == nil {
		return nil, false
	}
	return []byte(*s.localCloseReason), true
}

// SendClose starts the closing handshake with a code that is valid to send
// (1000 or 3000-4999, or NoCode) and an optional reason.
func (s *Session) SendClose(code int, reason string) {
	if code != NoCode && code != 1000 && !(code >= 3000 && code <= 4999) {
		panic(fmt.Sprintf("autobahn: invalid close code %d", code))
	}
	var r []byte
	if reason != "" {
		r = []byte(reason)
		if len(r)+2 > 125 {
			r = append(r[:120:120], "..."...)
		}
	}
	s.SendCloseFrame(code, r, false)
}

func (s *Session) validCloseCode(code int) bool {
	switch {
	case code < 1000, code >= 5000:
		return false
	case code <= 2999:
		switch code {
		case 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011:
			return true
		}
		return false
	}
	return true
}

// onCloseFrame handles the testee's close frame; it reports whether
// processing must stop.
func (s *Session) onCloseFrame(code *int, reason []byte) bool {
	s.remoteCloseCode = code
	if code != nil && !s.validCloseCode(*code) {
		if s.protocolViolation(fmt.Sprintf("invalid close code %d", *code)) {
			return true
		}
	}
	if reason == nil {
		s.remoteCloseReason = nil
	} else {
		var v utf8Stream
		if !v.Write(reason) || !v.Complete() {
			if s.invalidPayload("invalid close reason (non-UTF-8 payload)") {
				return true
			}
		}
		r := string(reason)
		s.remoteCloseReason = &r
	}
	switch s.state {
	case StateClosing:
		if s.closeHSStop != nil {
			s.closeHSStop()
			s.closeHSStop = nil
		}
		s.wasClean = true
		if s.cfg.IsServer {
			s.dropConnection(true)
		} else if s.opts.ServerConnectionDropTimeout > 0 {
			s.serverDropStop = s.afterFunc(s.opts.ServerConnectionDropTimeout, s.onServerConnectionDropTimeout)
		}
	case StateOpen:
		s.wasClean = true
		if s.opts.EchoCloseCodeReason {
			c := NoCode
			if code != nil {
				c = *code
			}
			var r []byte
			if s.remoteCloseReason != nil {
				r = []byte(*s.remoteCloseReason)
			}
			s.SendCloseFrame(c, r, true)
		} else {
			s.SendCloseFrame(CloseNormal, nil, true)
		}
		if s.cfg.IsServer {
			s.dropConnection(false)
		}
	case StateClosed:
		s.wasClean = false
	}
	return false
}

// ConnectionLost tells the session its TCP connection is gone. It computes
// the verdict and reports the result.
func (s *Session) ConnectionLost() {
	defer s.flush()
	if s.done {
		return
	}
	s.done = true
	s.endSequence()
	for _, stop := range []func(){s.serverDropStop, s.openHSStop, s.closeHSStop} {
		if stop != nil {
			stop()
		}
	}
	s.state = StateClosed
	if !s.wasClean && !s.droppedByMe && s.wasNotCleanReason == "" {
		s.wasNotCleanReason = "peer dropped the TCP connection without previous WebSocket closing handshake"
	}
	if s.running {
		end := s.env.Now()
		s.verdict()
		if s.Case.Lost != nil {
			s.Case.Lost(s)
		}
		if s.cfg.Done != nil {
			s.cfg.Done(s.result(end))
		}
	}
	if s.cfg.Lost != nil {
		s.cfg.Lost(s)
	}
}

// verdict is the default judgement: which expectation the received events
// match, and whether the connection closed as expected.
func (s *Session) verdict() {
	for _, e := range s.Expected {
		if eventsEqual(s.Received, e.Events) {
			s.Behavior = e.Behavior
			s.Result = "Actual events match at least one expected."
			break
		}
	}
	if !s.connectionWasOpen {
		s.BehaviorClose = Failed
		s.ResultClose = "The WebSocket opening handshake was never completed!"
		return
	}
	ec := s.ExpectedClose
	switch {
	case ec.ClosedByMe != s.closedByMe:
		s.BehaviorClose = Failed
		s.ResultClose = "The connection was failed by the wrong endpoint"
	case ec.RequireClean && !s.wasClean:
		s.BehaviorClose = Unclean
		s.ResultClose = "The spec requires the connection to be failed cleanly here"
	case s.remoteCloseCode != nil && !containsInt(ec.CloseCode, *s.remoteCloseCode):
		s.BehaviorClose = WrongCode
		codes := ""
		for i, c := range ec.CloseCode {
			if i > 0 {
				codes += ","
			}
			codes += fmt.Sprint(c)
		}
		s.ResultClose = fmt.Sprintf("The close code should have been %s or empty", codes)
	case !s.cfg.IsServer && s.droppedByMe:
		s.BehaviorClose = FailedByClient
		s.ResultClose = "It is preferred that the server close the TCP connection"
	default:
		s.BehaviorClose = OK
		s.ResultClose = "Connection was properly closed"
	}
	if ec.ClosedByWrongEndpointIsFatal && ec.ClosedByMe != s.closedByMe {
		s.Behavior = Failed
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// RemoteCloseCode returns the close code the testee sent, if any.
func (s *Session) RemoteCloseCode() (int, bool) {
	if s.remoteCloseCode == nil {
		return 0, false
	}
	return *s.remoteCloseCode, true
}

// ConnectionWasOpen reports whether the opening handshake completed.
func (s *Session) ConnectionWasOpen() bool { return s.connectionWasOpen }

// finishWhenDone closes the connection once the received events match
// every expectation, when the suite is the one expected to close.
func (s *Session) finishWhenDone() {
	for _, e := range s.Expected {
		if !eventsEqual(s.Received, e.Events) {
			return
		}
	}
	if s.ExpectedClose.ClosedByMe && !s.SuppressClose && len(s.ExpectedClose.CloseCode) > 0 {
		s.SendClose(s.ExpectedClose.CloseCode[0], "")
	}
}

// ----------------------------------------------------------------------------
// Opening

func (s *Session) opened() {
	s.state = StateOpen
	if s.openHSStop != nil {
		s.openHSStop()
		s.openHSStop = nil
	}
	s.insideMessage = false
	s.cur = nil
	s.connectionWasOpen = true
	switch {
	case s.running:
		if s.cfg.Skip != nil && s.cfg.Skip(s.Agent, s.Case.ID) {
			s.running = false
			s.SendClose(NoCode, "")
			return
		}
		s.caseStart = s.env.Now()
		s.Case.Open(s)
	case s.Control != nil:
		s.Control(s)
	}
}

// ----------------------------------------------------------------------------
// Receiving

// Receive feeds bytes read from the connection. The session takes p
// over: it may keep p and change it (frames are unmasked in place).
func (s *Session) Receive(p []byte) {
	defer s.flush()
	switch s.state {
	case StateOpen:
		s.traffic.IncomingOctetsWireLevel += int64(len(p))
	case StateConnecting:
		s.traffic.PreopenIncomingOctetsWireLevel += int64(len(p))
	}
	s.logRxOctets(p)
	if s.state == StateClosed {
		return // ignored, as after the original drops a connection
	}
	if len(s.in) == 0 {
		s.in = p[:len(p):len(p)] // appending copies
	} else {
		s.in = append(s.in, p...)
	}
	s.consume()
}

func (s *Session) consume() {
	switch s.state {
	case StateOpen, StateClosing:
		for s.processData() && s.state != StateClosed {
		}
	case StateConnecting:
		if s.cfg.IsServer {
			s.processRequest()
		} else {
			s.processResponse()
		}
	}
	// Keep the buffer from growing: consumed bytes are dropped by
	// processData through s.in = s.in[n:]; compact when it is empty.
	if len(s.in) == 0 && cap(s.in) > 1<<20 {
		s.in = nil
	}
}

func (s *Session) advance(n int) {
	s.in = s.in[n:]
}

// processData handles buffered input; it reports whether to call it again.
func (s *Session) processData() bool {
	if s.cur == nil {
		if len(s.in) < 2 {
			return false
		}
		b0, b1 := s.in[0], s.in[1]
		fin := b0&0x80 != 0
		rsv := (b0 & 0x70) >> 4
		opcode := b0 & 0x0f
		masked := b1&0x80 != 0
		len1 := b1 & 0x7f

		if rsv != 0 && !(s.deflate != nil && rsv == 4) {
			if s.protocolViolation(fmt.Sprintf("RSV = %d and no extension negotiated", rsv)) {
				return false
			}
		}
		if s.cfg.IsServer && s.opts.RequireMaskedClientFrames && !masked {
			if s.protocolViolation("unmasked client-to-server frame") {
				return false
			}
		}
		if !s.cfg.IsServer && !s.opts.AcceptMaskedServerFrames && masked {
			if s.protocolViolation("masked server-to-client frame") {
				return false
			}
		}
		if opcode > 7 {
			if !fin && s.protocolViolation("fragmented control frame") {
				return false
			}
			if len1 > 125 && s.protocolViolation("control frame with payload length > 125 octets") {
				return false
			}
			if opcode != 8 && opcode != 9 && opcode != 10 &&
				s.protocolViolation(fmt.Sprintf("control frame using reserved opcode %d", opcode)) {
				return false
			}
			if opcode == 8 && len1 == 1 && s.protocolViolation("received close control frame with payload len 1") {
				return false
			}
			if s.deflate != nil && rsv == 4 && s.protocolViolation("received compressed control frame [permessage-deflate]") {
				return false
			}
		} else {
			if opcode > 2 && s.protocolViolation(fmt.Sprintf("data frame using reserved opcode %d", opcode)) {
				return false
			}
			if !s.insideMessage && opcode == 0 && s.protocolViolation("received continuation data frame outside fragmented message") {
				return false
			}
			if s.insideMessage && opcode != 0 && s.protocolViolation("received non-continuation data frame while inside fragmented message") {
				return false
			}
			if s.deflate != nil && rsv == 4 && s.insideMessage &&
				s.protocolViolation("received continuation data frame with compress bit set [permessage-deflate]") {
				return false
			}
		}
		hlen := 2
		if masked {
			hlen += 4
		}
		switch len1 {
		case 126:
			hlen += 2
		case 127:
			hlen += 8
		}
		if len(s.in) < hlen {
			return false
		}
		i := 2
		length := uint64(len1)
		switch len1 {
		case 126:
			length = uint64(binary.BigEndian.Uint16(s.in[2:]))
			if length < 126 && s.protocolViolation("invalid data frame length (not using minimal length encoding)") {
				return false
			}
			i += 2
		case 127:
			length = binary.BigEndian.Uint64(s.in[2:])
			if length > 1<<63-1 && s.protocolViolation("invalid data frame length (>2^63)") {
				return false
			}
			if length < 65536 && s.protocolViolation("invalid data frame length (not using minimal length encoding)") {
				return false
			}
			i += 8
		}
		f := &rxFrame{opcode: opcode, fin: fin, rsv: rsv, length: length, masked: masked}
		if masked {
			copy(f.key[:], s.in[i:i+4])
			i += 4
			f.unmask = length > 0 && s.opts.ApplyMask
		}
		s.advance(i)
		s.cur = f
		s.onFrameBegin()
		return length == 0 || len(s.in) > 0
	}

	f := s.cur
	n := uint64(len(s.in))
	if rest := f.length - f.pos; n > rest {
		n = rest
	}
	data := s.in[:n]
	s.advance(int(n))
	if f.unmask && n > 0 {
		maskBytes(f.key, f.pos, data)
	}
	f.pos += n
	if !s.onFrameData(data) {
		return false
	}
	if f.pos == f.length {
		if !s.onFrameEnd() {
			return false
		}
	}
	return len(s.in) > 0
}

func (s *Session) onFrameBegin() {
	f := s.cur
	if f.opcode > 7 {
		s.ctrlData = s.ctrlData[:0]
		return
	}
	if !s.insideMessage {
		s.insideMessage = true
		s.compressedMsg = s.deflate != nil && f.rsv == 4
		s.compressedBuf = s.compressedBuf[:0]
		s.validating = f.opcode == 1 && s.opts.UTF8ValidateIncoming
		if s.validating {
			s.utf8.Reset()
		}
		s.msgBinary = f.opcode == 2
		s.msgData = nil
		s.msgTotal = 0
	}
	s.frameData = s.frameData[:0]
	s.msgTotal += f.length
	if !s.failedByMe {
		limit := uint64(HardMessageLimit)
		if m := s.opts.MaxMessagePayloadSize; m > 0 && uint64(m) < limit {
			limit = uint64(m)
		}
		switch {
		case s.msgTotal > limit:
			s.failConnection(CloseMessageTooBig, fmt.Sprintf("message exceeds payload limit of %d octets", limit))
		case s.opts.MaxFramePayloadSize > 0 && f.length > uint64(s.opts.MaxFramePayloadSize):
			s.failConnection(1008, fmt.Sprintf("frame exceeds payload limit of %d octets", s.opts.MaxFramePayloadSize))
		}
	}
}

func (s *Session) onFrameData(p []byte) bool {
	f := s.cur
	if f.opcode > 7 {
		if len(s.ctrlData)+len(p) <= 1<<16 {
			s.ctrlData = append(s.ctrlData, p...)
		}
		return true
	}
	if s.compressedMsg {
		if !s.failedByMe {
			s.compressedBuf = append(s.compressedBuf, p...)
		}
		return true
	}
	if s.state == StateOpen {
		s.traffic.IncomingOctetsWebSocketLevel += int64(len(p))
		s.traffic.IncomingOctetsAppLevel += int64(len(p))
	}
	// Like the original, every chunk after the first invalid byte fails
	// the connection again, which drops TCP once a close was sent.
	if s.validating && len(p) > 0 && !s.utf8.Write(p) {
		if s.invalidPayload("encountered invalid UTF-8 while processing text message") {
			return false
		}
	}
	if !s.failedByMe {
		s.frameData = append(s.frameData, p...)
	}
	return true
}

func (s *Session) logRxFrame(f *rxFrame, payload []byte) {
	s.rxFrameStats[int(f.opcode)]++
	if s.createWirelog {
		e := WireEntry{Kind: LogRxFrame, Len: len(payload), Data: asciiLogData(payload, wireLogDataSize),
			Opcode: int(f.opcode), Fin: f.fin, RSV: int(f.rsv), Masked: f.masked}
		if f.masked {
			e.Mask = hexKey(f.key[:])
		}
		s.log(e)
	}
}

func (s *Session) onFrameEnd() bool {
	f := s.cur
	if f.opcode > 7 {
		s.logRxFrame(f, s.ctrlData)
		cont := s.processControlFrame()
		s.cur = nil
		return cont
	}
	if s.state == StateOpen {
		s.traffic.IncomingWebSocketFrames++
	}
	if s.compressedMsg {
		// The frame's payload is still compressed: logged as received.
		s.logRxFrame(f, s.compressedBuf[max(0, len(s.compressedBuf)-int(f.length)):])
	} else {
		s.logRxFrame(f, s.frameData)
		if !s.failedByMe {
			s.msgData = append(s.msgData, s.frameData...)
		}
	}
	s.frameData = s.frameData[:0]
	if f.fin {
		if !s.compressedMsg {
			s.rxChain = false
		}
		if s.compressedMsg && !s.failedByMe {
			if !s.inflate() {
				s.cur = nil
				return false
			}
		}
		if s.validating && !s.utf8.Complete() {
			if s.invalidPayload("UTF-8 text message payload ended within Unicode code point") {
				s.cur = nil
				return false
			}
		}
		if s.state == StateOpen {
			s.traffic.IncomingWebSocketMessages++
		}
		if !s.failedByMe {
			s.deliver(s.msgData, s.msgBinary)
		}
		s.msgData = nil
		s.insideMessage = false
	}
	s.cur = nil
	return true
}

// inflate decompresses the message in compressedBuf into msgData and
// validates it. It reports whether processing continues.
func (s *Session) inflate() bool {
	limit := int64(HardMessageLimit)
	if m := s.opts.MaxMessagePayloadSize; m > 0 && m < limit {
		limit = m
	}
	if s.inflateKnown(limit) {
		return true
	}
	out, err := s.deflate.decompress(s.compressedBuf, limit)
	if err == errDecompressLimit {
		s.failConnection(CloseMessageTooBig, fmt.Sprintf("message exceeds payload limit of %d octets", limit))
		return !s.opts.FailByDrop
	}
	if err != nil {
		s.failConnection(CloseInvalidPayload, "invalid permessage-deflate data: "+err.Error())
		return !s.opts.FailByDrop
	}
	if s.state == StateOpen {
		s.traffic.IncomingOctetsWebSocketLevel += int64(len(s.compressedBuf))
		s.traffic.IncomingOctetsAppLevel += int64(len(out))
	}
	s.msgData = out
	if s.validating && len(out) > 0 && !s.utf8.Write(out) {
		s.rxChain = false
		if s.invalidPayload("encountered invalid UTF-8 while processing text message") {
			return false
		}
	}
	s.recordKnown(out)
	return true
}

func (s *Session) deliver(payload []byte, binary bool) {
	if payload == nil {
		payload = []byte{}
	}
	if !s.running {
		return
	}
	if s.onMessage != nil {
		s.onMessage(payload, binary)
		return
	}
	s.Received = append(s.Received, Message(payload, binary))
	s.finishWhenDone()
}

func (s *Session) processControlFrame() bool {
	payload := append([]byte{}, s.ctrlData...)
	switch s.cur.opcode {
	case 8:
		var code *int
		var reason []byte
		if len(payload) > 1 {
			c := int(binary.BigEndian.Uint16(payload))
			code = &c
			if len(payload) > 2 {
				reason = payload[2:]
			}
		}
		if s.onCloseFrame(code, reason) {
			return false
		}
	case 9:
		if s.state == StateOpen && len(payload) <= 125 {
			s.SendFrame(Frame{Opcode: 10, Fin: true, Payload: payload})
		}
	case 10:
		if !s.running {
			return true
		}
		if s.onPong != nil {
			s.onPong(payload)
			return true
		}
		s.Received = append(s.Received, Pong(payload))
		s.finishWhenDone()
	}
	return true
}

// ----------------------------------------------------------------------------
// Sending

// Frame is a frame the suite sends, possibly malformed on purpose.
type Frame struct {
	Opcode  int    // any value 0-15
	Fin     bool   // final fragment
	RSV     int    // reserved bits as a 3-bit number: 4 is RSV1, 2 RSV2, 1 RSV3
	Payload []byte // payload (repeated up to RepeatTo bytes when set)
	// RepeatTo, when positive, sends that many payload bytes by repeating
	// Payload (which must not be empty).
	RepeatTo int
	// Chop sends the frame's octets in writes of at most Chop bytes, each
	// reaching the wire separately; 0 sends them in one write.
	Chop int
	// Sync sends the frame in a write of its own.
	Sync bool
}

func (s *Session) maskOutgoing() bool {
	if s.cfg.IsServer {
		return s.opts.MaskServerFrames
	}
	return s.opts.MaskClientFrames
}

func newMaskKey() (k [4]byte) {
	rand.Read(k[:])
	return k
}

// SendFrame sends one frame exactly as described, valid or not.
func (s *Session) SendFrame(f Frame) {
	pl := f.Payload
	if f.RepeatTo > 0 {
		if len(f.Payload) == 0 {
			panic("autobahn: RepeatTo needs a non-empty payload")
		}
		pl = make([]byte, f.RepeatTo)
		for i := 0; i < len(pl); i += len(f.Payload) {
			copy(pl[i:], f.Payload)
		}
	}
	var key [4]byte
	masked := s.maskOutgoing()
	if masked {
		key = newMaskKey()
	}
	// A frame that goes out with the rest of the step is built in the
	// step's buffer; one that is chopped or synced in a buffer of its own.
	direct := f.Chop == 0 && !f.Sync && len(s.queue) == 0
	var wire []byte
	if direct {
		wire = s.out
		if len(wire) == 0 {
			wire = make([]byte, 0, maxFrameHeader+len(pl))
		}
	} else {
		wire = make([]byte, 0, maxFrameHeader+len(pl))
	}
	begin := len(wire)
	wire = appendFrameHeader(wire, f.Fin, byte(f.RSV%8), byte(f.Opcode%16), masked, key, uint64(len(pl)))
	start := len(wire)
	wire = append(wire, pl...)
	if masked && len(pl) > 0 && s.opts.ApplyMask {
		maskBytes(key, 0, wire[start:])
	}
	if f.Opcode <= 2 {
		s.traffic.OutgoingWebSocketFrames++
	}
	s.txFrameStats[f.Opcode]++
	if s.createWirelog {
		e := WireEntry{Kind: LogTxFrame, Len: len(f.Payload), Data: asciiLogData(f.Payload, wireLogDataSize),
			Opcode: f.Opcode, Fin: f.Fin, RSV: f.RSV, Repeat: f.RepeatTo, Chop: f.Chop, Sync: f.Sync}
		if masked {
			e.Mask = hexKey(key[:])
		}
		s.log(e)
	}
	if direct {
		s.out = wire
		s.account(wire[begin:], false)
		return
	}
	s.sendData(wire, f.Sync, f.Chop)
}

// SendRaw sends octets as they are (for handshakes and streaming frames).
func (s *Session) SendRaw(p []byte, sync bool, chop int) { s.sendData(p, sync, chop) }

func (s *Session) sendData(data []byte, sync bool, chop int) {
	switch {
	case chop > 0:
		for i := 0; i < len(data); i += chop {
			s.queue = append(s.queue, queued{data[i:min(i+chop, len(data))], true})
		}
		if len(data) == 0 {
			s.queue = append(s.queue, queued{data, true})
		}
		s.trigger()
	case sync || len(s.queue) > 0:
		s.queue = append(s.queue, queued{data, sync})
		s.trigger()
	default:
		s.write(data, false)
	}
}

// write queues p for the transport; flush hands the step's bytes over.
// The wire log and the octet statistics count each call, as the original
// does.
func (s *Session) write(p []byte, sync bool) {
	if len(s.out) == 0 {
		s.out = p[:len(p):len(p)] // appending copies: p may be a chop of a larger frame
	} else {
		s.out = append(s.out, p...)
	}
	s.account(p, sync)
}

// account counts and logs p as written.
func (s *Session) account(p []byte, sync bool) {
	switch s.state {
	case StateOpen:
		s.traffic.OutgoingOctetsWireLevel += int64(len(p))
	case StateConnecting:
		s.traffic.PreopenOutgoingOctetsWireLevel += int64(len(p))
	}
	s.logTxOctets(p, sync)
}

// flush hands what the current step wrote to the transport as one write,
// as the original's reactor sends what one callback wrote: the frames of
// one step share TCP segments, while chopped and synchronized writes,
// queued by sendData, each go out in a step of their own (sendNext).
func (s *Session) flush() {
	if len(s.out) > 0 {
		s.env.Write(s.out)
		s.out = nil
	}
}

func (s *Session) trigger() {
	if !s.triggered {
		s.triggered = true
		s.sendNext()
	}
}

func (s *Session) sendNext() {
	if len(s.queue) == 0 {
		s.triggered = false
		return
	}
	q := s.queue[0]
	s.queue[0] = queued{}
	s.queue = s.queue[1:]
	if s.state != StateClosed {
		s.write(q.data, q.sync)
	}
	s.afterFunc(queuedWriteDelay, s.sendNext)
}

// SendMessage sends a data message, compressed when permessage-deflate is
// in use, fragmented into frames of fragmentSize bytes (0: use the
// automatic fragment size). Like the original, a payload that is an exact
// multiple of the fragment size ends with an empty final frame.
func (s *Session) SendMessage(payload []byte, binary bool, fragmentSize int) {
	if s.state != StateOpen {
		return
	}
	n := len(payload)
	if s.deflate != nil {
		s.endSequence()
		s.deflate.catchUp()
		payload = s.deflate.compress(payload)
		s.deflate.sent++
	}
	s.sendPayload(payload, n, binary, fragmentSize)
}

// sendPayload sends a message's payload, compressed from n octets when
// permessage-deflate is in use, as SendMessage describes.
func (s *Session) sendPayload(payload []byte, n int, binary bool, fragmentSize int) {
	op := 1
	if binary {
		op = 2
	}
	s.traffic.OutgoingWebSocketMessages++
	s.traffic.OutgoingOctetsAppLevel += int64(n)
	s.traffic.OutgoingOctetsWebSocketLevel += int64(len(payload))
	rsv := 0
	if s.deflate != nil {
		rsv = 4
	}
	pfs := fragmentSize
	if pfs == 0 {
		pfs = s.opts.AutoFragmentSize
	}
	if pfs <= 0 || len(payload) <= pfs {
		s.SendFrame(Frame{Opcode: op, Fin: true, RSV: rsv, Payload: payload})
		return
	}
	n = len(payload)
	first := true
	for i := 0; ; i += pfs {
		j := i + pfs
		done := j > n
		if done {
			j = n
		}
		if first {
			s.SendFrame(Frame{Opcode: op, Fin: done, RSV: rsv, Payload: payload[i:j]})
			first = false
		} else {
			s.SendFrame(Frame{Opcode: 0, Fin: done, Payload: payload[i:j]})
		}
		if done {
			return
		}
	}
}

// Streaming send states.
const (
	sendGround = iota
	sendMessageBegin
	sendInsideMessage
	sendInsideFrame
)

// BeginMessage starts a message to be sent in pieces (6.4.3, 6.4.4).
func (s *Session) BeginMessage(binary bool) {
	if s.state != StateOpen {
		return
	}
	s.sendOp = 1
	if binary {
		s.sendOp = 2
	}
	s.sendState = sendMessageBegin
	s.sendCompr = false
	s.traffic.OutgoingWebSocketMessages++
}

// BeginMessageFrame sends the header of a frame of the given length. The
// header never has FIN set: EndMessage sends the final frame.
func (s *Session) BeginMessageFrame(length int) {
	if s.state != StateOpen {
		return
	}
	s.sendLen = uint64(length)
	s.sendPos = 0
	s.sendMPos = 0
	s.traffic.OutgoingWebSocketFrames++
	var opcode byte
	if s.sendState == sendMessageBegin {
		opcode = s.sendOp
		s.sendState = sendInsideMessage
	}
	s.sendMask = s.maskOutgoing()
	if s.sendMask {
		s.sendKey = newMaskKey()
	}
	s.sendData(appendFrameHeader(nil, false, 0, opcode, s.sendMask, s.sendKey, uint64(length)), false, 0)
	s.sendState = sendInsideFrame
}

// SendMessageFrameData sends payload bytes of the frame begun last.
func (s *Session) SendMessageFrameData(p []byte) {
	if s.state != StateOpen || s.sendState != sendInsideFrame {
		return
	}
	if rest := s.sendLen - s.sendPos; uint64(len(p)) > rest {
		p = p[:rest]
	}
	s.traffic.OutgoingOctetsAppLevel += int64(len(p))
	s.traffic.OutgoingOctetsWebSocketLevel += int64(len(p))
	out := append([]byte{}, p...)
	if s.sendMask && s.opts.ApplyMask {
		s.sendMPos = maskBytes(s.sendKey, s.sendMPos, out)
	}
	s.sendPos += uint64(len(p))
	s.sendData(out, false, 0)
	if s.sendPos >= s.sendLen {
		s.sendState = sendInsideMessage
	}
}

// EndMessage ends a message begun with BeginMessage with an empty final
// continuation frame.
func (s *Session) EndMessage() {
	if s.state != StateOpen {
		return
	}
	s.SendFrame(Frame{Opcode: 0, Fin: true})
	s.sendState = sendGround
}
