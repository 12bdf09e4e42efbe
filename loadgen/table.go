package loadgen

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTables prints the Locust-style table of the seed and of every
// phase, every failure by type, status and message, and for scenarios
// with several phases a comparison of their throughput.
func WriteTables(w io.Writer, res *Result) {
	fmt.Fprintln(w)
	for _, p := range append([]PhaseResult{res.Seed}, res.Phases...) {
		writePhase(w, p)
	}
	if len(res.Phases) > 1 {
		writeComparison(w, res.Phases)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func writePhase(w io.Writer, p PhaseResult) {
	title := fmt.Sprintf("== %s (%.1fs)", p.Name, p.Elapsed.Seconds())
	if p.Stopped != "" {
		title += " — " + p.Stopped
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Type\t# Requests\t# Fails\tMedian (ms)\tAverage (ms)\tMin (ms)\tMax (ms)\tp99 (ms)\tReq/s\tCache hits\t")
	for _, r := range p.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t\n",
			r.Type, r.Requests, r.Failures, ms(r.Median), ms(r.Avg), ms(r.Min), ms(r.Max), ms(r.P99), r.RPS, hitText(r))
	}
	tw.Flush()
	total := p.Row("Total")
	for _, f := range total.FailureKinds {
		status := fmt.Sprint(f.Status)
		if f.Status == 0 {
			status = "no answer"
		}
		fmt.Fprintf(w, "  failed %d× %s (%s): %s\n", f.Count, f.Type, status, f.Message)
	}
	fmt.Fprintln(w)
}

// hitText is the reads' hit rate, "off" when the cache was off, "" when
// the row has no reads.
func hitText(r Summary) string {
	switch {
	case r.Hits+r.Misses > 0:
		return fmt.Sprintf("%.1f%%", 100*r.HitRate())
	case r.Off > 0:
		return "off"
	}
	return ""
}

// rowMS is d in ms, or "-" when r has no requests to time.
func rowMS(r Summary, d time.Duration) string {
	if r.Requests == 0 {
		return "-"
	}
	return ms(d)
}

// writeComparison sets the phases' reads+writes per second side by side,
// each against the cache-off phase of its group where there is one.
func writeComparison(w io.Writer, phases []PhaseResult) {
	fmt.Fprintln(w, "== throughput of reads and writes by sub-run")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Sub-run\tReq/s\tvs cache off\tRead p50 (ms)\tRead p99 (ms)\tWrite p50 (ms)\tHit rate\tFails\t")
	off := map[string]float64{}
	for _, p := range phases {
		if p.Series == "none" {
			off[p.Group] = p.LoadRPS()
		}
	}
	for _, p := range phases {
		vs := ""
		if base, ok := off[p.Group]; ok && base > 0 {
			vs = fmt.Sprintf("×%.2f", p.LoadRPS()/base)
		}
		read, write := p.Row(TypeRead), p.Row(TypeWrite)
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t\n", strings.TrimSpace(p.Name), p.LoadRPS(), vs,
			rowMS(read, read.Median), rowMS(read, read.P99), rowMS(write, write.Median), hitText(read), p.Row("Total").Failures)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
