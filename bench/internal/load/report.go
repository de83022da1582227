package load

import (
	"fmt"
	"io"
	"slices"

	"github.com/rfc6455/ws/bench/internal/hist"
)

// Report is the result of a run; cmd/wsbench prints it as text or JSON.
type Report struct {
	Config         ReportConfig `json:"config"`
	Connected      int          `json:"connected"`
	ConnectSeconds float64      `json:"connect_seconds"`

	Seconds float64 `json:"seconds"` // measurement window
	// Messages and Bytes count the echoes received in the measurement
	// window; in idle mode, those of the warm-up.
	Messages   uint64  `json:"messages"`
	Bytes      uint64  `json:"bytes"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"` // payload bytes echoed, 10^6 per MB
	Latency    Latency `json:"latency"`

	// Compression is the outcome of the permessage-deflate offer, with
	// Config.Compress.
	Compression *CompressionReport `json:"compression,omitempty"`

	Errors        map[string]uint64 `json:"errors"`
	ErrorExamples map[string]string `json:"error_examples,omitempty"`

	// The load generator's own CPU use over the measurement window, as a
	// fraction of the CPUs it may run on: near 1 means it had no headroom
	// and the figures may be its limit rather than the server's.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	ClientCPUs       int     `json:"client_cpus"`
	ClientCPUUtil    float64 `json:"client_cpu_util"`
}

// CompressionReport describes the permessage-deflate negotiation.
type CompressionReport struct {
	Offer string `json:"offer"` // what wsbench offered
	// Extension is what the server accepted, as it answered (the first
	// connection's answer; Mixed tells whether others differed).
	Extension string `json:"extension"`
	Mixed     bool   `json:"mixed,omitempty"`
	// FrameBytes is the mean size on the wire of the messages wsbench
	// sends, header and compressed payload, over the Bodies distinct
	// bodies it cycles through.
	FrameBytes int `json:"frame_bytes"`
	Bodies     int `json:"bodies"`
	// CompressedReplies counts the echoes of the measurement window (in
	// idle mode, of the warm-up) that came back compressed (RSV1 set);
	// servers may leave some, small ones typically, uncompressed.
	CompressedReplies uint64 `json:"compressed_replies"`
}

// ReportConfig echoes the parameters of the run.
type ReportConfig struct {
	URL        string  `json:"url"`
	Mode       string  `json:"mode"` // closed, open or idle
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Text       bool    `json:"text"`
	Depth      int     `json:"depth"`
	Rate       float64 `json:"rate,omitempty"`
	Duration   float64 `json:"duration_seconds"`
	Warmup     float64 `json:"warmup_seconds"`
	FreshMasks bool    `json:"fresh_masks"`
	Compress   bool    `json:"compress"`
	// IdleWarm is the number of warm-up messages each connection
	// exchanged in idle mode before going quiet.
	IdleWarm int `json:"idle_warm,omitempty"`
}

// Latency holds percentiles in microseconds, from the intended send time
// in open loop.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p999_us"`
	Max   float64 `json:"max_us"`
}

func reportConfig(c *Config) ReportConfig {
	mode := "closed"
	switch {
	case c.Idle:
		mode = "idle"
	case c.Rate > 0:
		mode = "open"
	}
	return ReportConfig{URL: c.URL, Mode: mode, Conns: c.Conns, Size: c.Size, Text: c.Text, Depth: c.Depth,
		Rate: c.Rate, Duration: c.Duration.Seconds(), Warmup: c.Warmup.Seconds(), FreshMasks: c.FreshMasks, Compress: c.Compress, IdleWarm: c.IdleWarm}
}

func latencyOf(h *hist.Histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		Count: h.Count(),
		Mean:  h.Mean() / 1e3,
		P50:   us(h.Quantile(0.50)),
		P90:   us(h.Quantile(0.90)),
		P99:   us(h.Quantile(0.99)),
		P999:  us(h.Quantile(0.999)),
		Max:   us(h.Max()),
	}
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	c := r.Config
	kind := "binary"
	if c.Text {
		kind = "text"
	}
	fmt.Fprintf(w, "target      %s\n", c.URL)
	switch c.Mode {
	case "idle":
		fmt.Fprintf(w, "mode        idle: %d/%d connections opened in %.2fs\n", r.Connected, c.Conns, r.ConnectSeconds)
		if c.IdleWarm > 0 {
			fmt.Fprintf(w, "warm-up     each connection exchanged %d %d B %s message(s) before going quiet: %d echoes\n", c.IdleWarm, c.Size, kind, r.Messages)
		}
	case "open":
		fmt.Fprintf(w, "mode        open loop at %.0f msgs/s, %d connections, %d B %s, at most %d in flight each\n", c.Rate, c.Conns, c.Size, kind, c.Depth)
	default:
		fmt.Fprintf(w, "mode        closed loop, %d connections, %d B %s, depth %d\n", c.Conns, c.Size, kind, c.Depth)
	}
	if cr := r.Compression; cr != nil {
		mixed := ""
		if cr.Mixed {
			mixed = " (other connections negotiated differently)"
		}
		if cr.Extension == "" {
			fmt.Fprintf(w, "compression offered %q, not negotiated\n", cr.Offer)
		} else {
			fmt.Fprintf(w, "compression offered %q; server accepted %q%s\n", cr.Offer, cr.Extension, mixed)
			measured := "measured"
			if c.Mode == "idle" {
				measured = "of the warm-up"
			}
			fmt.Fprintf(w, "            %d B per message sent (%d B payload, %d distinct bodies); %d of %d echoes %s came back compressed\n",
				cr.FrameBytes, c.Size, cr.Bodies, cr.CompressedReplies, r.Messages, measured)
		}
	}
	if c.Mode != "idle" {
		fmt.Fprintf(w, "measured    %.2fs after %.2fs warm-up (%d/%d connected)\n", r.Seconds, c.Warmup, r.Connected, c.Conns)
		fmt.Fprintf(w, "throughput  %.0f msgs/s  %.2f MB/s  (%d messages)\n", r.MsgsPerSec, r.MBPerSec, r.Messages)
		l := r.Latency
		d := func(us float64) string { return fmtMicros(us) }
		fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
			d(l.P50), d(l.P90), d(l.P99), d(l.P999), d(l.Max), d(l.Mean))
		fmt.Fprintf(w, "generator   %.0f%% of %d CPU(s)", 100*r.ClientCPUUtil, r.ClientCPUs)
		if r.ClientCPUUtil > 0.9 {
			fmt.Fprint(w, "  — saturated: the figures may be wsbench's limit, not the server's")
		}
		fmt.Fprintln(w)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors      none")
		return
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "errors      %-13s %d  (first: %s)\n", k, r.Errors[k], r.ErrorExamples[k])
	}
}

// fmtMicros formats a duration given in microseconds with three
// significant figures.
func fmtMicros(us float64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%.3gµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.3gms", us/1e3)
	}
	return fmt.Sprintf("%.3gs", us/1e6)
}
