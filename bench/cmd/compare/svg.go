package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// Colours per library position, ours first.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}

// chart draws, for one message size with compression on or off, two
// grouped bar panels: messages/s and server CPU per message, each relative
// to ours (ours = 1), one group per (connections, depth) scenario. Plain SVG 1.1 with inline styles, which
// browsers and GitHub render.
func (r *results) chart(path string, size int, compress bool) error {
	type group struct {
		label string
		vals  [2][]float64 // [metric][lib]
	}
	var groups []group
	for _, sc := range r.o.scenarios(size, compress) {
		libs := r.closed[sc]
		ours, ok := summarize(libs["ours"])
		if !ok {
			continue
		}
		g := group{label: fmt.Sprintf("%dc d%d", sc.conns, sc.depth)}
		for _, lib := range r.o.libs {
			s, ok := summarize(libs[lib])
			m, cpu := math.NaN(), math.NaN()
			if ok {
				m, cpu = s.msgsMed/ours.msgsMed, s.cpuPerMsg/ours.cpuPerMsg
			}
			g.vals[0] = append(g.vals[0], m)
			g.vals[1] = append(g.vals[1], cpu)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return fmt.Errorf("no data")
	}
	titles := [2]string{"messages/s relative to ours (higher is better)", "server CPU per message relative to ours (lower is better)"}
	nl := len(r.o.libs)
	const panelW, panelH, top, left = 560, 240, 50, 50
	bw := 10.0
	gw := float64(nl)*bw + 14
	w := left + int(gw*float64(len(groups))) + 20
	w = max(w, panelW)
	h := top + 2*(panelH+60) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	kind := "binary"
	if compress {
		kind = "compressed text"
	}
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s %s messages: each library relative to ours</text>`+"\n", left, sizeName(size), kind)
	// Legend.
	for i, lib := range r.o.libs {
		x := left + i*90
		fmt.Fprintf(&b, `<rect x="%d" y="28" width="10" height="10" fill="%s"/><text x="%d" y="37">%s</text>`+"\n", x, palette[i%len(palette)], x+14, lib)
	}
	for m := range 2 {
		y0 := top + m*(panelH+60) + 20
		maxV := 1.0
		for _, g := range groups {
			for _, v := range g.vals[m] {
				if !math.IsNaN(v) {
					maxV = max(maxV, v)
				}
			}
		}
		maxV = math.Ceil(maxV*2) / 2
		scale := float64(panelH) / maxV
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, y0-6, titles[m])
		// Axis and gridlines every 0.5 (every 1 for tall scales).
		step := 0.5
		if maxV > 3 {
			step = 1
		}
		for v := 0.0; v <= maxV+1e-9; v += step {
			y := float64(y0+panelH) - v*scale
			stroke := "#ddd"
			if v == 1 {
				stroke = "#333"
			}
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/><text x="%d" y="%.1f" text-anchor="end">%.1f×</text>`+"\n", left, y, w-10, y, stroke, left-4, y+4, v)
		}
		for gi, g := range groups {
			gx := float64(left) + float64(gi)*gw + 7
			for li, v := range g.vals[m] {
				if math.IsNaN(v) {
					continue
				}
				bh := v * scale
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.2f×</title></rect>`+"\n",
					gx+float64(li)*bw, float64(y0+panelH)-bh, bw-1, bh, palette[li%len(palette)], r.o.libs[li], g.label, v)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx+float64(nl)*bw/2, y0+panelH+14, g.label)
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">groups: connections (c) and pipeline depth (d)</text>`+"\n", left, h-8)
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// memChart draws memory per idle connection, in KiB, per library: one
// group of bars per N, compression off, then one per N, compression on.
func (r *results) memChart(path string) error {
	type group struct {
		label string
		libs  map[string]idleResult
	}
	var groups []group
	for _, compress := range []bool{false, true} {
		data, suffix := r.idleRuns(compress), ""
		if compress {
			suffix = ", deflate"
		}
		for _, n := range r.o.idleN {
			if data[n] != nil {
				groups = append(groups, group{fmt.Sprintf("N = %d%s", n, suffix), data[n]})
			}
		}
	}
	if len(groups) == 0 {
		return fmt.Errorf("no data")
	}
	libs := r.o.idleLibs(true)
	const left, top, panelH = 60, 50, 220
	bw := 16.0
	gw := float64(len(libs))*bw + 30
	w := max(left+int(gw*float64(len(groups)))+20, 90*len(libs)+left, 480)
	h := top + panelH + 50
	maxV := 1.0
	for _, g := range groups {
		for _, m := range g.libs {
			maxV = max(maxV, m.perConn())
		}
	}
	step := math.Pow(10, math.Floor(math.Log10(maxV)))
	maxV = math.Ceil(maxV/step) * step
	scale := panelH / maxV
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">Server memory per idle connection, KiB (lower is better)</text>`+"\n", left)
	for i, lib := range libs {
		x := left + i*90
		fmt.Fprintf(&b, `<rect x="%d" y="28" width="10" height="10" fill="%s"/><text x="%d" y="37">%s</text>`+"\n", x, palette[i%len(palette)], x+14, lib)
	}
	y0 := top
	for v := 0.0; v <= maxV+1e-9; v += step {
		y := float64(y0+panelH) - v*scale
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left, y, w-10, y, left-4, y+4, v)
	}
	for gi, g := range groups {
		gx := float64(left) + float64(gi)*gw + 15
		for li, lib := range libs {
			m, ok := g.libs[lib]
			if !ok {
				continue
			}
			v := m.perConn()
			bh := max(v, 0) * scale
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.1f KiB</title></rect>`+"\n",
				gx+float64(li)*bw, float64(y0+panelH)-bh, bw-2, bh, palette[li%len(palette)], lib, g.label, v)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%.1f</text>`+"\n", gx+float64(li)*bw+bw/2-1, float64(y0+panelH)-bh-3, v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx+float64(len(libs))*bw/2, y0+panelH+16, g.label)
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
