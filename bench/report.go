package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// report is what one run measured, in the order of its contenders.
type report struct {
	cs      []contender
	tpItems []int          // throughput capacities, in items
	tp      [][]tpSummary  // [capacity][contender]
	hrCaps  []int64        // hit-ratio capacities, in bytes
	hr      [][]sim.Result // [capacity][contender]
	hrTrace string         // the hit-ratio trace, for people
	lruDiff float64        // picpool-lru minus the exact LRU, hit-ratio points
	lruErr  error          // where they differ, if they do
}

// write prints the markdown tables.
func (r report) write(w io.Writer) {
	fmt.Fprintf(w, "## Throughput\n\n90 %% Get / 10 %% Set of %d-byte values, Zipf %.2f over 2^20 keys, %d goroutines on %d CPUs; "+
		"median of the rounds, range of Mops/s beside it. CPU ns/op is the process's CPU time per operation "+
		"(GC and background goroutines included): steadier than Mops/s on a busy machine.\n", tpValueLen, zipfS, tpWorkers, tpWorkers)
	for i, items := range r.tpItems {
		otter, naive := r.tpOf(i, "otter"), r.tpOf(i, "naive-lru")
		fmt.Fprintf(w, "\n### %s items (%s)\n\n", count(items), mib(int64(items)*cache.Cost("img:0000000", make([]byte, tpValueLen))))
		fmt.Fprintln(w, "| engine | Mops/s | range | × otter | × naive-lru | CPU ns/op | Get hit % |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
		for j, c := range r.cs {
			s := r.tp[i][j]
			fmt.Fprintf(w, "| %s | %.2f | %.2f–%.2f | %.2f | %.2f | %.0f | %.1f |\n",
				c.name, s.mops, s.mopsMin, s.mopsMax, s.mops/otter.mops, s.mops/naive.mops, s.cpuNs, 100*s.hit)
		}
	}
	fmt.Fprintf(w, "\n## Hit ratio\n\n%s. Object hit %% and byte hit %%.\n\n", r.hrTrace)
	fmt.Fprint(w, "| engine |")
	for _, c := range r.hrCaps {
		fmt.Fprintf(w, " %s hit %% | byte hit %% |", mib(c))
	}
	fmt.Fprint(w, "\n|---|", strings.Repeat("---:|---:|", len(r.hrCaps)), "\n")
	for j, c := range r.cs {
		fmt.Fprintf(w, "| %s |", c.name)
		for i := range r.hrCaps {
			res := r.hr[i][j]
			fmt.Fprintf(w, " %.1f | %.1f |", 100*res.HitRatio(), 100*res.ByteHitRatio())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if r.lruErr != nil {
		fmt.Fprintf(w, "**picpool-lru differs from the exact LRU** (naive-lru, the reference): %v\n", r.lruErr)
	} else {
		fmt.Fprintln(w, "picpool-lru matches the exact LRU (naive-lru, the reference) hit for hit at every capacity.")
	}
	fmt.Fprintln(w, "golang-lru is bounded by a count of items in the throughput run (every item costs the same there) "+
		"and by bytes, kept beside its simplelru, in the hit-ratio replay; ristretto waits for each Set in the replay.")
}

// summary is the one line that ends the output: whether lru is exact, the
// picpool engine with the best hit ratio against the best library, and
// the fastest picpool engine against otter and the naive LRU (geometric
// means over the capacities).
func (r report) summary() string {
	lru := "exact"
	if r.lruErr != nil {
		lru = fmt.Sprintf("DIFFERS(%+.2fpts)", r.lruDiff)
	}
	bestHit, hitRatio := "", 0.0
	fastest, fastMops, vsOtter, vsNaive := "", 0.0, 0.0, 0.0
	for j, c := range r.cs {
		if !strings.HasPrefix(c.name, "picpool-") {
			continue
		}
		var hits []float64
		for i := range r.hrCaps {
			hits = append(hits, r.hr[i][j].HitRatio()/r.bestLibraryHit(i))
		}
		if g := geomean(hits); g > hitRatio {
			bestHit, hitRatio = c.name, g
		}
		var mops, otter, naive []float64
		for i := range r.tpItems {
			s := r.tp[i][j]
			mops = append(mops, s.mops)
			otter = append(otter, s.mops/r.tpOf(i, "otter").mops)
			naive = append(naive, s.mops/r.tpOf(i, "naive-lru").mops)
		}
		if g := geomean(mops); g > fastMops {
			fastest, fastMops, vsOtter, vsNaive = c.name, g, geomean(otter), geomean(naive)
		}
	}
	return fmt.Sprintf("engines: lru=%s best-hit=%s %.2fx-best-library fastest=%s %.2fx-otter %.2fx-naive",
		lru, bestHit, hitRatio, fastest, vsOtter, vsNaive)
}

func (r report) tpOf(capacity int, name string) tpSummary {
	for j, c := range r.cs {
		if c.name == name {
			return r.tp[capacity][j]
		}
	}
	return tpSummary{mops: math.NaN()}
}

// bestLibraryHit is the highest hit ratio of a peer library at capacity i.
func (r report) bestLibraryHit(i int) float64 {
	best := 0.0
	for j, c := range r.cs {
		if c.library {
			best = max(best, r.hr[i][j].HitRatio())
		}
	}
	return best
}

func geomean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var logs float64
	for _, x := range v {
		logs += math.Log(x)
	}
	return math.Exp(logs / float64(len(v)))
}

// mib writes a byte count in MiB, or GiB when it is a whole number of them.
func mib(b int64) string {
	if b >= 1<<30 && b%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", b>>30)
	}
	return fmt.Sprintf("%.4g MiB", float64(b)/(1<<20))
}

// count writes 10000 as 10k and 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dM", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%dk", n/1e3)
	}
	return fmt.Sprint(n)
}
