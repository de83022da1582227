package main

import (
	"errors"
	"io"
	"strings"
	"testing"
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
