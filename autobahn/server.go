package autobahn

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rfc6455/ws/autobahn/cases"
	"github.com/rfc6455/ws/autobahn/engine"
	"github.com/rfc6455/ws/autobahn/report"
)

// ServerName is the Server header of the fuzzing server.
const ServerName = "AutobahnTestSuite-Go/1.0 (github.com/rfc6455/ws/autobahn)"

// Server runs the suite as a server for testee clients (the original's
// fuzzingserver mode). Testee clients drive it over WebSocket endpoints,
// exactly as with the original:
//
//	/getCaseCount                  sends the number of cases as a text message, then closes
//	/getCaseInfo?case=N            sends {"id": ..., "description": ...}, then closes
//	/runCase?case=N&agent=A        runs case N (1-based, in spec order) against the client
//	/getCaseStatus?case=N&agent=A  sends {"behavior": ...} once case N has run for A, then closes
//	/updateReports?agent=A         writes the reports, then closes
//
// /runCase also takes casetuple=1.2.3 instead of case=N.
type Server struct {
	Spec    *Spec
	Set     *cases.Set
	Results *Results
	// OutDir receives the reports; defaults to the spec's outdir.
	OutDir string
	// Log receives a line per request; nil for none.
	Log io.Writer
	// Watchdog bounds one connection; 0 means DefaultWatchdog.
	Watchdog time.Duration
	// Cache shares compressed messages and checked echoes between the
	// cases of sections 12 and 13 (engine.Cache); nil means a cache of
	// engine.DefaultCacheBudget for the server.
	Cache *engine.Cache

	ids      []string
	excluded func(agent, id string) bool
	opts     engine.Options

	mu       sync.Mutex
	ln       net.Listener
	shutdown bool
	reportMu sync.Mutex
}

// Cases returns the IDs of the cases the server runs, in case number order.
func (s *Server) Cases() ([]string, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return s.ids, nil
}

func (s *Server) init() error {
	if s.ids != nil {
		return nil
	}
	ids, err := s.Spec.SelectCases(s.Set)
	if err != nil {
		return err
	}
	if s.excluded, err = s.Spec.agentExcluder(); err != nil {
		return err
	}
	if s.opts, err = options(s.Spec.Options); err != nil {
		return err
	}
	if s.Results == nil {
		s.Results = NewResults()
	}
	if s.Cache == nil {
		s.Cache = engine.NewCache(0)
	}
	if s.OutDir == "" {
		s.OutDir = s.Spec.OutDir
	}
	if s.OutDir == "" {
		s.OutDir = "./reports/clients"
	}
	s.ids = ids
	return nil
}

// TLSConfig returns the TLS configuration for the spec's key and cert, or
// nil when the spec has none.
func (s *Server) TLSConfig() (*tls.Config, error) {
	if s.Spec.Key == "" || s.Spec.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.Spec.Cert, s.Spec.Key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// Serve accepts testee clients on ln until Close is called or a client
// asks the server to stop.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			down := s.shutdown
			s.mu.Unlock()
			if down || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(conn)
		}()
	}
}

// Close stops accepting clients.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

// WriteReports writes the reports of all results so far.
func (s *Server) WriteReports() error {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	return report.Write(s.OutDir, s.Set, s.Results.Snapshot())
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

func (s *Server) serveConn(conn net.Conn) {
	wd := s.Watchdog
	if wd == 0 {
		wd = DefaultWatchdog
	}
	runSession(conn, engine.Config{
		IsServer:   true,
		Options:    s.opts,
		ServerName: ServerName,
		Connect:    s.connect,
		Skip:       s.excluded,
		Done:       s.Results.Add,
		Cache:      s.Cache,
	}, wd)
}

func single(q map[string][]string, name string) (string, bool, error) {
	v, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(v) > 1 {
		return "", true, fmt.Errorf("multiple %s values", name)
	}
	return v[0], true, nil
}

// sendJSONAndClose sends v as a text message, then a close frame.
func sendJSONAndClose(ss *engine.Session, v any) {
	b, _ := json.Marshal(v)
	ss.SendMessage(b, false, 0)
	ss.SendClose(engine.NoCode, "")
}

// connect picks what a testee client's request asks for.
func (s *Server) connect(ss *engine.Session, req *engine.Request) error {
	agent, _, err := single(req.Query, "agent")
	if err != nil {
		return err
	}
	ss.Agent = agent
	num := 0
	if t, ok, err := single(req.Query, "casetuple"); err != nil {
		return err
	} else if ok {
		for i, id := range s.ids {
			if id == t {
				num = i + 1
			}
		}
		if num == 0 {
			return fmt.Errorf("invalid test case tuple %s", t)
		}
	}
	if c, ok, err := single(req.Query, "case"); err != nil {
		return err
	} else if ok {
		if num, err = strconv.Atoi(c); err != nil {
			return fmt.Errorf("invalid test case ID %s", c)
		}
	}
	shutdownOnComplete := false
	if v, ok, err := single(req.Query, "shutdownOnComplete"); err != nil {
		return err
	} else if ok {
		shutdownOnComplete = v == "true" || v == "True" || v == "yes" || v == "Yes"
	}
	var c *engine.Case
	if num != 0 {
		if num < 1 || num > len(s.ids) {
			return fmt.Errorf("case %d not found", num)
		}
		c = s.Set.ByID(s.ids[num-1])
	}
	switch req.Path {
	case "/runCase":
		if c == nil {
			return errors.New("need case to run")
		}
		if agent == "" {
			return errors.New("need agent to run case")
		}
		ss.Case, ss.CaseIndex = c, num
		s.logf("Running test case ID %s for agent %s", c.ID, agent)
	case "/updateReports":
		if agent == "" {
			return errors.New("need agent to update reports for")
		}
		ss.Control = func(ss *engine.Session) {
			s.logf("Updating reports, requested by agent %s", agent)
			if err := s.WriteReports(); err != nil {
				s.logf("writing reports: %v", err)
			}
			ss.SendClose(engine.NoCode, "")
			if shutdownOnComplete {
				s.logf("Report generation complete; shutting down server.")
				s.Close()
			}
		}
	case "/getCaseInfo":
		if c == nil {
			return errors.New("need case to get info")
		}
		ss.Control = func(ss *engine.Session) {
			sendJSONAndClose(ss, map[string]string{"id": c.ID, "description": cases.Pretty(c)})
		}
	case "/getCaseStatus":
		if c == nil {
			return errors.New("need case to get status")
		}
		if agent == "" {
			return errors.New("need agent to get status")
		}
		ss.Control = func(ss *engine.Session) {
			s.Results.Wait(agent, c.ID, func(r *engine.Result) {
				ss.Post(func() { sendJSONAndClose(ss, map[string]string{"behavior": r.Behavior}) })
			})
		}
	case "/getCaseCount":
		ss.Control = func(ss *engine.Session) { sendJSONAndClose(ss, len(s.ids)) }
	case "/stopServer":
		ss.Control = func(ss *engine.Session) {
			s.logf("Shutting down server.")
			ss.SendClose(engine.NoCode, "")
			s.Close()
		}
	default:
		return &engine.HTTPError{Code: 404, Reason: "Not Found"}
	}
	return nil
}
