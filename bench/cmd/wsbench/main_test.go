package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/peers"
	"github.com/rfc6455/ws/bench/internal/stamped"
)

// TestParseArgs checks the idle warm-up flag, its defaults and the
// combinations the command refuses.
func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args       string
		warm, size int // warm-up messages per connection, defaults applied
	}{
		{"-idle", 0, 16},
		{"-idle -compress", 1, 1024},
		{"-idle -compress -size 200", 1, 200},
		{"-idle -compress -idle-warm 0", 0, 16},
		{"-idle -compress -idle-warm 4 -depth 2", 4, 1024},
		{"-idle -idle-warm 2", 2, 1024},
		{"-idle -fresh-masks", 0, 16},
		{"-compress -d 1s", 0, 16},
		{"-compress -idle-warm 0 -d 1s", 0, 16},
	} {
		c, _, err := parseArgs(strings.Fields(tc.args), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tc.args, err)
			continue
		}
		if got := c.IdleWarmMessages(); got != tc.warm || c.Size != tc.size {
			t.Errorf("%s: %d warm-up messages of %d B, want %d of %d B", tc.args, got, c.Size, tc.warm, tc.size)
		}
	}
	for _, tc := range []struct {
		args    string
		badFlag bool // rejected by the flag package, which prints the usage
	}{
		{"-idle-warm 1", false},
		{"-idle -idle-warm 1001", false},
		{"-idle -compress -fresh-masks", false},
		{"-idle -idle-warm 1 -fresh-masks", false},
		{"-idle -idle-warm -1", true},
		{"-idle -idle-warm x", true},
		{"-idle extra", false},
	} {
		_, _, err := parseArgs(strings.Fields(tc.args), io.Discard)
		if err == nil || errors.Is(err, errCommandLine) != tc.badFlag {
			t.Errorf("%s: error %v", tc.args, err)
		}
	}
}

// TestProgressNeverSilent runs wsbench off a terminal with the default
// progress interval, in load and in idle mode, and checks that stderr
// never went quiet for more than 5 s from start to end, that the progress
// lines say where the run is, and that the run ends with its verdict.
func TestProgressNeverSilent(t *testing.T) {
	l, err := peers.Get("ours")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go l.Serve(ln, peers.Options{})
	t.Cleanup(func() { ln.Close() })
	url := "ws://" + ln.Addr().String() + "/echo"

	for _, tc := range []struct {
		name, args string
		progress   []string // in some progress line
	}{
		{"load", "-c 2 -warmup 1s -d 7s", []string{"measuring", "conns 2/2", "left ~", "msgs/s", "errors 0"}},
		{"idle", "-idle -c 3 -d 7s", []string{"holding", "/7s", "conns 3/3", "left ~"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout bytes.Buffer
			var stderr stamped.Lines
			start := time.Now()
			status := run(append(strings.Fields(tc.args), "-url", url), &stdout, &stderr, false)
			end := time.Now()
			if status != 0 {
				t.Fatalf("exit status %d; stderr %q", status, stderr.Text)
			}
			for _, g := range stderr.Gaps(start, end, 5*time.Second) {
				t.Errorf("stderr silent for %v before line %d (of %d)", g.Length.Round(time.Millisecond), g.Before, len(stderr.Text))
			}
			all := strings.Join(stderr.Text, "\n")
			for _, want := range tc.progress {
				if !strings.Contains(all, want) {
					t.Errorf("no progress line contains %q; stderr:\n%s", want, all)
				}
			}
			last := stderr.Text[len(stderr.Text)-1]
			if !strings.HasPrefix(last, "wsbench: done in ") || !strings.Contains(last, "connections opened, 0 errors") {
				t.Errorf("last line %q, want the verdict", last)
			}
			if !strings.Contains(stdout.String(), "errors      none") {
				t.Errorf("report on stdout:\n%s", stdout.String())
			}
		})
	}
}
