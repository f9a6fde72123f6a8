package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
)

// metric is one figure of a result, as the report and the CSV name it.
type metric struct {
	name string // CSV column
	get  func(*result) float64
	// shown says whether the scenario measured it (a figure a scenario did not measure is not
	// printed, and is empty in the CSV).
	shown func(*result) bool
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func published(r *result) bool { return r.sc.messages > 0 }
func always(*result) bool      { return true }

var metrics = []metric{
	{"delivered", func(r *result) float64 { return float64(r.delivered) }, published},
	{"expected", func(r *result) float64 { return float64(r.expected) }, published},
	{"gaps", func(r *result) float64 { return float64(r.gaps) }, published},
	{"dups", func(r *result) float64 { return float64(r.dups) }, published},
	{"lat_p50_ms", func(r *result) float64 { return ms(r.latP50) }, published},
	{"lat_p99_ms", func(r *result) float64 { return ms(r.latP99) }, published},
	{"lat_max_ms", func(r *result) float64 { return ms(r.latMax) }, published},
	{"rss_kib_per_sub", func(r *result) float64 { return r.rssPerSubKiB }, always},
	{"connect_cpu_us_per_sub", func(r *result) float64 { return us(r.connectCPUPerSub) }, always},
	{"cpu_us_per_delivery", func(r *result) float64 { return us(r.cpuPerDelivery) }, published},
	{"deliveries_per_s", func(r *result) float64 { return r.deliveriesPerS }, published},
	{"post_p50_ms", func(r *result) float64 { return ms(r.postP50) }, published},
	{"post_p99_ms", func(r *result) float64 { return ms(r.postP99) }, published},
	{"post_failed", func(r *result) float64 { return float64(r.postFailed) }, published},
	{"publishes_per_s", func(r *result) float64 { return r.publishesPerS }, published},
	{"idle_cpu_s_per_20s", func(r *result) float64 { return r.idleCPUPer20s.Seconds() }, func(r *result) bool { return r.sc.idle > 0 }},
	{"resumes", func(r *result) float64 { return float64(r.resumes) }, func(r *result) bool { return r.resumes > 0 }},
	{"resume_exact", func(r *result) float64 { return float64(r.resumeExact) }, func(r *result) bool { return r.resumes > 0 }},
	{"resume_cpu_ms", func(r *result) float64 { return ms(r.resumeCPU) }, func(r *result) bool { return r.resumes > 0 }},
	{"other_events", func(r *result) float64 { return float64(r.others) }, always},
}

// csvHeader: the scenario's parameters, then every metric.
func csvHeader() []string {
	h := []string{"target", "round", "scenario", "subscribers", "messages", "rate", "posters", "idle_s",
		"resume", "backlog", "other_chats", "log_events", "busy_after"}
	for _, m := range metrics {
		h = append(h, m.name)
	}
	return h
}

func csvRow(r *result) []string {
	sc := r.sc
	row := []string{r.target, strconv.Itoa(r.round), r.scenario, strconv.Itoa(sc.subscribers), strconv.Itoa(sc.messages),
		strconv.FormatFloat(sc.rate, 'g', -1, 64), strconv.Itoa(sc.posters), strconv.FormatFloat(sc.idle.Seconds(), 'g', -1, 64),
		strconv.Itoa(sc.resume), strconv.Itoa(sc.backlog), strconv.Itoa(sc.otherChats), strconv.Itoa(sc.logEvents), strconv.Itoa(sc.busyAfter)}
	for _, m := range metrics {
		v := ""
		if m.shown(r) {
			v = strconv.FormatFloat(m.get(r), 'f', 4, 64)
		}
		row = append(row, v)
	}
	return row
}

// appendCSV appends r's row to path, writing the header first when the file is new or empty.
func appendCSV(path string, r *result) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open csv: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat csv: %w", err)
	}
	w := csv.NewWriter(f)
	if fi.Size() == 0 {
		_ = w.Write(csvHeader())
	}
	_ = w.Write(csvRow(r))
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write csv %s: %w", path, err)
	}
	return f.Close()
}

func printResult(w io.Writer, r *result) {
	fmt.Fprintf(w, "%s round %d %s:", r.scenario, r.round, r.target)
	if published(r) {
		fmt.Fprintf(w, " delivered %d/%d (gaps %d, dups %d), latency p50 %.2f ms p99 %.2f ms max %.2f ms,",
			r.delivered, r.expected, r.gaps, r.dups, ms(r.latP50), ms(r.latP99), ms(r.latMax))
		fmt.Fprintf(w, " CPU %.1f µs/delivery, %.0f deliveries/s, POST p50 %.2f ms p99 %.2f ms, %.0f publishes/s,",
			us(r.cpuPerDelivery), r.deliveriesPerS, ms(r.postP50), ms(r.postP99), r.publishesPerS)
		if r.postFailed > 0 {
			fmt.Fprintf(w, " %d POSTS FAILED,", r.postFailed)
		}
	}
	fmt.Fprintf(w, " RSS %.1f KiB/subscriber, connect CPU %.0f µs/subscriber", r.rssPerSubKiB, us(r.connectCPUPerSub))
	if r.sc.idle > 0 {
		fmt.Fprintf(w, ", idle CPU %.4f s per 20 s", r.idleCPUPer20s.Seconds())
	}
	if r.resumes > 0 {
		fmt.Fprintf(w, ", resume %d/%d exact, %.3f ms CPU/resume", r.resumeExact, r.resumes, ms(r.resumeCPU))
	}
	fmt.Fprintf(w, ", other events %d\n", r.others)
}

// printSummary prints, per scenario, the median of each figure over the rounds for each
// target, and herald/naive when both ran.
func printSummary(w io.Writer, all []*result, baseline bool) {
	var order []string
	by := map[string]map[string][]*result{}
	for _, r := range all {
		if by[r.scenario] == nil {
			by[r.scenario] = map[string][]*result{}
			order = append(order, r.scenario)
		}
		by[r.scenario][r.target] = append(by[r.scenario][r.target], r)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "medians over rounds")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if baseline {
		fmt.Fprintln(tw, "scenario\tfigure\tnaive\therald\therald/naive\t")
	} else {
		fmt.Fprintln(tw, "scenario\tfigure\therald\t")
	}
	for _, name := range order {
		for _, m := range metrics {
			h := medianOf(by[name]["herald"], m)
			if baseline {
				n := medianOf(by[name]["naive"], m)
				if math.IsNaN(h) && math.IsNaN(n) {
					continue
				}
				ratio := "-"
				if !math.IsNaN(h) && !math.IsNaN(n) && n != 0 {
					ratio = fmt.Sprintf("%.2f", h/n)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, m.name, num(n), num(h), ratio)
			} else if !math.IsNaN(h) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t\n", name, m.name, num(h))
			}
		}
	}
	tw.Flush()
}

func medianOf(rs []*result, m metric) float64 {
	var v []float64
	for _, r := range rs {
		if m.shown(r) {
			v = append(v, m.get(r))
		}
	}
	return median(v)
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v == math.Trunc(v) && math.Abs(v) < 1e12:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}
