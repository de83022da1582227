package engine

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The opening handshake (RFC 6455 §4) on the suite's side, with the checks
// and the messages of the original suite. It is written here rather than
// taken from the library's handshake package so that the suite stays an
// independent implementation of the protocol it tests.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// maxHandshake bounds the size of an opening handshake message.
const maxHandshake = 64 << 10

// parseHTTPHeader splits a request or response head into its first line and
// headers, lower-casing names and joining repeated headers with ", ".
func parseHTTPHeader(head string) (line string, headers map[string]string, counts map[string]int) {
	lines := strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n")
	line = strings.TrimSpace(lines[0])
	headers, counts = map[string]string{}, map[string]int{}
	for _, h := range lines[1:] {
		i := strings.IndexByte(h, ':')
		if i <= 0 {
			continue
		}
		k := strings.ToLower(strings.TrimSpace(h[:i]))
		v := strings.TrimSpace(h[i+1:])
		if _, ok := headers[k]; ok {
			headers[k] += ", " + v
		} else {
			headers[k] = v
		}
		counts[k]++
	}
	return line, headers, counts
}

func hasToken(list, token string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// startHandshake sends the suite's opening handshake request.
func (s *Session) startHandshake() {
	var k [16]byte
	rand.Read(k[:])
	s.key = base64.StdEncoding.EncodeToString(k[:])
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", s.cfg.Resource)
	if s.cfg.UserAgent != "" {
		fmt.Fprintf(&b, "User-Agent: %s\r\n", s.cfg.UserAgent)
	}
	fmt.Fprintf(&b, "Host: %s:%d\r\n", s.cfg.Host, s.cfg.Port)
	b.WriteString("Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", s.key)
	if s.cfg.Origin != "" {
		fmt.Fprintf(&b, "Origin: %s\r\n", s.cfg.Origin)
	}
	if len(s.cfg.Protocols) > 0 {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(s.cfg.Protocols, ","))
	}
	if len(s.DeflateOffers) > 0 {
		offers := make([]string, len(s.DeflateOffers))
		for i, o := range s.DeflateOffers {
			offers[i] = o.String()
		}
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", strings.Join(offers, ", "))
	}
	b.WriteString("Sec-WebSocket-Version: 13\r\n\r\n")
	s.httpRequest = b.String()
	s.sendData([]byte(s.httpRequest), false, 0)
}

// failHandshake gives up on a response from the testee server.
func (s *Session) failClientHandshake(reason string) {
	s.wasNotCleanReason = reason
	s.dropConnection(true)
}

func (s *Session) headEnd() int {
	i := bytes.Index(s.in, []byte("\r\n\r\n"))
	if i < 0 && len(s.in) > maxHandshake {
		return -2
	}
	return i
}

// processResponse checks the testee server's handshake response.
func (s *Session) processResponse() {
	end := s.headEnd()
	if end == -2 {
		s.failClientHandshake("HTTP response header too large")
		return
	}
	if end < 0 {
		return
	}
	s.httpResponse = string(s.in[:end+4])
	line, hdr, cnt := parseHTTPHeader(s.httpResponse)
	sl := strings.Fields(line)
	if len(sl) < 2 {
		s.failClientHandshake(fmt.Sprintf("Bad HTTP response status line '%s'", line))
		return
	}
	if sl[0] != "HTTP/1.1" {
		s.failClientHandshake(fmt.Sprintf("Unsupported HTTP version ('%s')", sl[0]))
		return
	}
	status, err := strconv.Atoi(sl[1])
	if err != nil {
		s.failClientHandshake(fmt.Sprintf("Bad HTTP status code ('%s')", sl[1]))
		return
	}
	if status != 101 {
		reason := ""
		if len(sl) > 2 {
			reason = " - " + strings.Join(sl[2:], "")
		}
		s.failClientHandshake(fmt.Sprintf("WebSocket connection upgrade failed (%d%s)", status, reason))
		return
	}
	up, ok := hdr["upgrade"]
	if !ok {
		s.failClientHandshake("HTTP Upgrade header missing")
		return
	}
	if strings.ToLower(strings.TrimSpace(up)) != "websocket" {
		s.failClientHandshake("HTTP Upgrade header different from 'websocket' (case-insensitive) : " + up)
		return
	}
	conn, ok := hdr["connection"]
	if !ok {
		s.failClientHandshake("HTTP Connection header missing")
		return
	}
	if !hasToken(conn, "upgrade") {
		s.failClientHandshake("HTTP Connection header does not include 'upgrade' value (case-insensitive) : " + conn)
		return
	}
	acc, ok := hdr["sec-websocket-accept"]
	if !ok {
		s.failClientHandshake("HTTP Sec-WebSocket-Accept header missing in opening handshake reply")
		return
	}
	if cnt["sec-websocket-accept"] > 1 {
		s.failClientHandshake("HTTP Sec-WebSocket-Accept header appears more than once in opening handshake reply")
		return
	}
	if want := acceptKey(s.key); acc != want {
		s.failClientHandshake(fmt.Sprintf("HTTP Sec-WebSocket-Accept bogus value : expected %s / got %s", want, acc))
		return
	}
	if ext, ok := hdr["sec-websocket-extensions"]; ok {
		if cnt["sec-websocket-extensions"] > 1 {
			s.failClientHandshake("HTTP Sec-WebSocket-Extensions header appears more than once in opening handshake reply")
			return
		}
		for _, e := range parseExtensions(ext) {
			if e.Name != deflateName {
				s.failClientHandshake(fmt.Sprintf("server wants to use extension '%s' we did not request, haven't implemented or did not enable", e.Name))
				return
			}
			if s.deflate != nil {
				s.failClientHandshake("multiple occurrence of a permessage-compress extension")
				return
			}
			r, err := parseDeflateResponse(e)
			if err != nil {
				s.failClientHandshake(err.Error())
				return
			}
			// Like the original's cases, accept whatever the server
			// answers, but only when something was offered.
			if len(s.DeflateOffers) == 0 {
				s.failClientHandshake("WebSocket permessage-compress extension response from server denied by client")
				return
			}
			s.deflate = newDeflate(DeflateParams{
				IsServer:                false,
				ServerNoContextTakeover: r.serverNoContextTakeover,
				ClientNoContextTakeover: r.clientNoContextTakeover,
				ServerMaxWindowBits:     r.serverMaxWindowBits,
				ClientMaxWindowBits:     r.clientMaxWindowBits,
			})
		}
	}
	if sp, ok := hdr["sec-websocket-protocol"]; ok {
		if cnt["sec-websocket-protocol"] > 1 {
			s.failClientHandshake("HTTP Sec-WebSocket-Protocol header appears more than once in opening handshake reply")
			return
		}
		if sp != "" && !containsString(s.cfg.Protocols, sp) {
			s.failClientHandshake(fmt.Sprintf("subprotocol selected by server (%s) not in subprotocol list requested by client (%v)", sp, s.cfg.Protocols))
			return
		}
	}
	s.advance(end + 4)
	if s.Agent == "" {
		s.Agent = hdr["server"]
		if s.Agent == "" {
			s.Agent = "UnknownServer"
		}
	}
	s.opened()
	if len(s.in) > 0 {
		s.consume()
	}
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// HTTPError refuses a testee client's handshake with a status code.
type HTTPError struct {
	Code   int
	Reason string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

// failServerHandshake answers a bad request with an HTTP error and drops.
func (s *Session) failServerHandshake(code int, reason string, extra ...string) {
	s.wasNotCleanReason = reason
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\n", code, reason)
	for i := 0; i+1 < len(extra); i += 2 {
		resp += extra[i] + ": " + extra[i+1] + "\r\n"
	}
	resp += "\r\n"
	s.httpResponse = resp
	s.sendData([]byte(resp), false, 0)
	s.dropConnection(false)
}

// processRequest checks a testee client's handshake request and answers it.
func (s *Session) processRequest() {
	end := s.headEnd()
	if end == -2 {
		s.failServerHandshake(431, "Request Header Fields Too Large")
		return
	}
	if end < 0 {
		return
	}
	s.httpRequest = string(s.in[:end+4])
	line, hdr, cnt := parseHTTPHeader(s.httpRequest)
	rl := strings.Fields(line)
	if len(rl) != 3 {
		s.failServerHandshake(400, fmt.Sprintf("Bad HTTP request status line '%s'", line))
		return
	}
	if rl[0] != "GET" {
		s.failServerHandshake(405, fmt.Sprintf("HTTP method '%s' not allowed", rl[0]))
		return
	}
	if rl[2] != "HTTP/1.1" {
		s.failServerHandshake(505, fmt.Sprintf("Unsupported HTTP version '%s'", rl[2]))
		return
	}
	u, err := url.ParseRequestURI(rl[1])
	if err != nil {
		s.failServerHandshake(400, fmt.Sprintf("Bad HTTP request resource - could not parse '%s'", rl[1]))
		return
	}
	if u.Fragment != "" {
		s.failServerHandshake(400, fmt.Sprintf("HTTP requested resource contains a fragment identifier '%s'", u.Fragment))
		return
	}
	req := &Request{Path: u.Path, Query: u.Query(), Header: hdr}
	s.request = req
	if _, ok := hdr["host"]; !ok {
		s.failServerHandshake(400, "HTTP Host header missing in opening handshake request")
		return
	}
	if cnt["host"] > 1 {
		s.failServerHandshake(400, "HTTP Host header appears more than once in opening handshake request")
		return
	}
	up, ok := hdr["upgrade"]
	if !ok {
		s.sendStatusPage()
		return
	}
	if !hasToken(up, "websocket") {
		s.failServerHandshake(400, "HTTP Upgrade headers do not include 'websocket' value (case-insensitive) : "+up)
		return
	}
	conn, ok := hdr["connection"]
	if !ok {
		s.failServerHandshake(400, "HTTP Connection header missing")
		return
	}
	if !hasToken(conn, "upgrade") {
		s.failServerHandshake(400, "HTTP Connection headers do not include 'upgrade' value (case-insensitive) : "+conn)
		return
	}
	v, ok := hdr["sec-websocket-version"]
	if !ok {
		s.failServerHandshake(400, "WebSocket connection denied - Hixie76 protocol mode disabled.")
		return
	}
	if cnt["sec-websocket-version"] > 1 {
		s.failServerHandshake(400, "HTTP Sec-WebSocket-Version header appears more than once in opening handshake request")
		return
	}
	ver, err := strconv.Atoi(v)
	if err != nil {
		s.failServerHandshake(400, fmt.Sprintf("could not parse HTTP Sec-WebSocket-Version header '%s' in opening handshake request", v))
		return
	}
	if ver != 13 && ver != 8 {
		s.failServerHandshake(400, fmt.Sprintf("WebSocket version %d not supported (supported versions: 13,8)", ver), "Sec-WebSocket-Version", "13,8")
		return
	}
	// No subprotocol is ever selected; only duplicates are refused.
	if p, ok := hdr["sec-websocket-protocol"]; ok {
		seen := map[string]bool{}
		for _, x := range strings.Split(p, ",") {
			x = strings.TrimSpace(x)
			if seen[x] {
				s.failServerHandshake(400, fmt.Sprintf("duplicate protocol '%s' specified in HTTP Sec-WebSocket-Protocol header", x))
				return
			}
			seen[x] = true
		}
	}
	if cnt["origin"] > 1 {
		s.failServerHandshake(400, "HTTP Origin header appears more than once in opening handshake request")
		return
	}
	key, ok := hdr["sec-websocket-key"]
	if !ok {
		s.failServerHandshake(400, "HTTP Sec-WebSocket-Key header missing")
		return
	}
	if cnt["sec-websocket-key"] > 1 {
		s.failServerHandshake(400, "HTTP Sec-WebSocket-Key header appears more than once in opening handshake request")
		return
	}
	if len(key) != 24 {
		s.failServerHandshake(400, fmt.Sprintf("bad Sec-WebSocket-Key (length must be 24 ASCII chars) '%s'", key))
		return
	}
	if !strings.HasSuffix(key, "==") {
		s.failServerHandshake(400, fmt.Sprintf("bad Sec-WebSocket-Key (invalid base64 encoding) '%s'", key))
		return
	}
	for _, c := range key[:22] {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", c) {
			s.failServerHandshake(400, fmt.Sprintf("bad character '%c' in Sec-WebSocket-Key (invalid base64 encoding) '%s'", c, key))
			return
		}
	}
	var exts []extension
	if e, ok := hdr["sec-websocket-extensions"]; ok {
		if cnt["sec-websocket-extensions"] > 1 {
			s.failServerHandshake(400, "HTTP Sec-WebSocket-Extensions header appears more than once in opening handshake request")
			return
		}
		exts = parseExtensions(e)
	}
	s.advance(end + 4)

	if s.cfg.Connect != nil {
		if err := s.cfg.Connect(s, req); err != nil {
			code, reason := 400, err.Error()
			if he, ok := err.(*HTTPError); ok {
				code, reason = he.Code, he.Reason
			}
			s.failServerHandshake(code, reason)
			return
		}
	}
	if s.Case != nil && !s.running {
		s.running = true
		if s.Case.Init != nil {
			s.Case.Init(s)
		}
	}

	var offers []DeflateOffer
	for _, e := range exts {
		if e.Name != deflateName {
			continue
		}
		o, err := parseDeflateOffer(e)
		if err != nil {
			s.failServerHandshake(400, err.Error())
			return
		}
		offers = append(offers, o)
	}
	var extResponse string
	if len(offers) > 0 && s.DeflateAccept != nil {
		if a := s.DeflateAccept(offers); a != nil {
			s.deflate = newDeflate(DeflateParams{
				IsServer:                true,
				ServerNoContextTakeover: a.Offer.RequestNoContextTakeover,
				ClientNoContextTakeover: a.RequestNoContextTakeover,
				ServerMaxWindowBits:     a.Offer.RequestMaxWindowBits,
				ClientMaxWindowBits:     a.RequestMaxWindowBits,
			})
			extResponse = a.String()
		}
	}

	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	if s.cfg.ServerName != "" {
		fmt.Fprintf(&b, "Server: %s\r\n", s.cfg.ServerName)
	}
	b.WriteString("Upgrade: WebSocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", acceptKey(key))
	if extResponse != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extResponse)
	}
	b.WriteString("\r\n")
	s.httpResponse = b.String()
	s.sendData([]byte(s.httpResponse), false, 0)
	s.opened()
	if len(s.in) > 0 {
		s.consume()
	}
}

// sendStatusPage answers a plain HTTP GET with a short page.
func (s *Session) sendStatusPage() {
	body := "<!DOCTYPE html>\n<html><head><title>Autobahn fuzzing server</title></head><body>\n" +
		"<h1>Autobahn|Testsuite fuzzing server (Go)</h1>\n" +
		"<p>I am not a Web server, but a <b>WebSocket endpoint</b> for testee clients: " +
		"/getCaseCount, /getCaseInfo?case=N, /runCase?case=N&amp;agent=A, " +
		"/getCaseStatus?case=N&amp;agent=A, /updateReports?agent=A.</p>\n</body></html>\n"
	resp := "HTTP/1.1 200 OK\r\n"
	if s.cfg.ServerName != "" {
		resp += "Server: " + s.cfg.ServerName + "\r\n"
	}
	resp += fmt.Sprintf("Content-Type: text/html; charset=UTF-8\r\nContent-Length: %d\r\n\r\n", len(body))
	s.httpResponse = resp
	s.sendData([]byte(resp+body), false, 0)
	s.dropConnection(false)
}
