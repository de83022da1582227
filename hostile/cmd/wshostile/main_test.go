package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rfc6455/ws/hostile"
	"github.com/rfc6455/ws/hostile/wire"
)

func TestExitStatus(t *testing.T) {
	url := ignoringServer(t)
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string // substring of the output
	}{
		{"list", []string{"-list", "-run", "^utf8/"}, 0, "utf8/split-code-point\n    sends:"},
		{"bad flag", []string{"-nope"}, 2, ""},
		{"bad pattern", []string{"-run", "("}, 2, ""},
		{"no match", []string{"-run", "^nothing$"}, 2, ""},
		{"unreadable pid", []string{"-pid", "999999999", "-list"}, 2, ""},
		{"wss refused", []string{"-url", "wss://127.0.0.1:1/"}, 2, ""},
		{"failures", []string{"-url", url, "-run", "^(frame/unmasked|close/1-byte)$", "-release", "200ms", "-json", jsonPath}, 1,
			"0 PASS, 2 FAIL, 0 SKIP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stdout, &stderr); got != tt.status {
				t.Fatalf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.status, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
		})
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep hostile.Report
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 2 || rep.URL != url {
		t.Errorf("JSON report: %v %+v", err, rep)
	}
}

// ignoringServer completes opening handshakes and then reads and ignores
// everything: every protocol violation goes unanswered.
func ignoringServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				key := ""
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line = strings.TrimSpace(line); line == "" {
						break
					}
					if name, value, _ := strings.Cut(line, ":"); strings.EqualFold(name, "Sec-WebSocket-Key") {
						key = strings.TrimSpace(value)
					}
				}
				nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wire.AcceptKey(key) + "\r\n\r\n"))
				br.WriteTo(io.Discard)
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}
