package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// chartPoint is the median p50 and p99 latency (ms) of one target at one subscriber count.
type chartPoint struct {
	subs     float64
	p50, p99 float64
}

func runChart(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("herald-bench chart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("csv", "", "CSV written by --csv")
	out := fs.String("out", "docs/bench-latency.svg", "SVG file to write")
	prefix := fs.String("scenario-prefix", "sweep", "use the rows whose scenario starts with this (\"\": every row with latencies)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("chart: --csv is required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("open csv: %w", err)
	}
	defer f.Close()
	series, err := chartSeries(f, *prefix)
	if err != nil {
		return err
	}
	if len(series) == 0 {
		return fmt.Errorf("chart: no rows with latencies in %s (scenario prefix %q)", *in, *prefix)
	}
	svg := chartSVG(series)
	if err := os.WriteFile(*out, []byte(svg), 0o644); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// chartSeries reads the CSV and returns, per target, the points sorted by subscribers (medians
// over rounds).
func chartSeries(r io.Reader, prefix string) (map[string][]chartPoint, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(rows) < 1 {
		return nil, nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, need := range []string{"target", "scenario", "subscribers", "lat_p50_ms", "lat_p99_ms"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("csv has no %s column", need)
		}
	}
	type key struct {
		target string
		subs   float64
	}
	p50s, p99s := map[key][]float64{}, map[key][]float64{}
	for _, row := range rows[1:] {
		if len(row) != len(rows[0]) || !strings.HasPrefix(row[col["scenario"]], prefix) {
			continue
		}
		subs, err1 := strconv.ParseFloat(row[col["subscribers"]], 64)
		p50, err2 := strconv.ParseFloat(row[col["lat_p50_ms"]], 64)
		p99, err3 := strconv.ParseFloat(row[col["lat_p99_ms"]], 64)
		if err1 != nil || err2 != nil || err3 != nil || subs <= 0 {
			continue
		}
		k := key{row[col["target"]], subs}
		p50s[k] = append(p50s[k], p50)
		p99s[k] = append(p99s[k], p99)
	}
	out := map[string][]chartPoint{}
	for k := range p50s {
		out[k.target] = append(out[k.target], chartPoint{subs: k.subs, p50: median(p50s[k]), p99: median(p99s[k])})
	}
	for _, pts := range out {
		slices.SortFunc(pts, func(a, b chartPoint) int { return int(math.Copysign(1, a.subs-b.subs)) })
	}
	return out, nil
}

// chartSVG draws p50 (dashed) and p99 (solid) latency vs subscribers, both axes logarithmic,
// one colour per target.
func chartSVG(series map[string][]chartPoint) string {
	const (
		width, height          = 900.0, 600.0
		left, right, top, bott = 90.0, 200.0, 50.0, 70.0
	)
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, pts := range series {
		for _, p := range pts {
			minX, maxX = math.Min(minX, p.subs), math.Max(maxX, p.subs)
			for _, y := range []float64{p.p50, p.p99} {
				if y > 0 {
					minY, maxY = math.Min(minY, y), math.Max(maxY, y)
				}
			}
		}
	}
	if math.IsInf(minY, 1) {
		minY, maxY = 1, 10
	}
	// x: the data's range and a margin; y: whole decades around the data.
	x0, x1 := math.Log10(minX)-0.08, math.Log10(maxX)+0.08
	y0, y1 := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(maxY))
	if y1 == y0 {
		y1++
	}
	pw, ph := width-left-right, height-top-bott
	px := func(v float64) float64 { return left + (math.Log10(v)-x0)/(x1-x0)*pw }
	py := func(v float64) float64 { return top + ph - (math.Log10(math.Max(v, math.Pow(10, y0)))-y0)/(y1-y0)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%g" y="28" text-anchor="middle" font-size="16">Delivery latency vs subscribers (herald-bench)</text>`+"\n", left+pw/2)
	// Grid and ticks: 1, 2, 5 per decade.
	for d := math.Floor(x0); d <= x1; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if math.Log10(v) < x0 || math.Log10(v) > x1 {
				continue
			}
			x := px(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/>`+"\n", x, top, x, top+ph)
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", x, top+ph+18, tickLabel(v))
		}
	}
	for d := y0; d <= y1; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if math.Log10(v) > y1+1e-9 {
				break
			}
			y := py(v)
			fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+pw, y)
			fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-8, y, tickLabel(v))
		}
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="black"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">subscribers (log scale)</text>`+"\n", left+pw/2, height-20)
	fmt.Fprintf(&b, `<text transform="translate(24 %g) rotate(-90)" text-anchor="middle">delivery latency, ms (log scale)</text>`+"\n", top+ph/2)

	colours := map[string]string{"herald": "#c0392b", "naive": "#2471a3"}
	targets := make([]string, 0, len(series))
	for t := range series {
		targets = append(targets, t)
	}
	slices.Sort(targets)
	ly := top + 10
	for i, t := range targets {
		c, ok := colours[t]
		if !ok {
			c = []string{"#27ae60", "#8e44ad", "#d68910"}[i%3]
		}
		for _, q := range []struct {
			name string
			dash string
			get  func(chartPoint) float64
		}{{"p99", "", func(p chartPoint) float64 { return p.p99 }}, {"p50", ` stroke-dasharray="6 4"`, func(p chartPoint) float64 { return p.p50 }}} {
			var pts []string
			for _, p := range series[t] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.subs), py(q.get(p))))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", c, q.dash, strings.Join(pts, " "))
			for _, p := range series[t] {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(p.subs), py(q.get(p)), c)
			}
			lx := left + pw + 20
			fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+30, ly, c, q.dash)
			fmt.Fprintf(&b, `<text x="%g" y="%g" dominant-baseline="middle">%s %s</text>`+"\n", lx+38, ly, xmlEscape(t), q.name)
			ly += 22
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func tickLabel(v float64) string {
	switch {
	case v >= 1000 && math.Mod(v, 1000) == 0:
		return strconv.FormatFloat(v/1000, 'g', -1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
