package loadgen

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Request types, as the tables and the CSV name them.
const (
	TypeSeed      = "seed"            // the uploads that create the keys before a run
	TypeRead      = "read"            // POST /api/key/<key>
	TypeWrite     = "write"           // POST /api/upload of an existing key
	TypeConfigure = "configure_cache" // the scenario's changes to the pool
	TypeNodes     = "getNumNodes"     // polled where a scenario charts the pool's size
	TypeRate      = "getRate"         // polled where a scenario charts the miss rate
)

// Sample is one request and what came of it.
type Sample struct {
	Type    string
	At      time.Duration // when it started, since the run began
	Latency time.Duration
	Status  int    // HTTP status; 0 when no response came
	Err     string // why it failed; "" for a success
	Cache   string // X-Cache of a read: HIT, MISS or OFF
	Value   float64
	HasVal  bool // Value holds a polled number (nodes, miss rate)
}

// OK reports whether the request succeeded.
func (s Sample) OK() bool { return s.Err == "" }

// Recorder collects the samples of one sub-run; safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	samples []Sample
	limit   int
	full    bool
}

// NewRecorder returns a Recorder that keeps at most limit samples.
func NewRecorder(limit int) *Recorder { return &Recorder{limit: limit} }

// Add records s; it returns false, and records nothing, once the
// recorder holds its limit (the run then stops: nothing is dropped
// silently).
func (r *Recorder) Add(s Sample) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) >= r.limit {
		r.full = true
		return false
	}
	r.samples = append(r.samples, s)
	return true
}

// Full reports whether an Add was refused.
func (r *Recorder) Full() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.full
}

// Len is the number of samples recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

// Since returns a copy of the samples from index i on.
func (r *Recorder) Since(i int) []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples[min(i, len(r.samples)):])
}

// Samples returns a copy of every sample.
func (r *Recorder) Samples() []Sample { return r.Since(0) }

// Summary is one row of the final table.
type Summary struct {
	Type               string
	Requests, Failures int
	Hits, Misses, Off  int // reads by X-Cache
	Median, P99, Avg   time.Duration
	Min, Max           time.Duration
	RPS                float64 // requests per second of the window
	FailureKinds       []FailureKind
	latencies          []time.Duration
}

// FailureKind counts the failures of one type with one status and message.
type FailureKind struct {
	Type    string
	Status  int
	Message string
	Count   int
}

// Summarize returns a row per request type present in samples, in the
// order of types (others after, by name), then a row "Total"; window is
// the time the rates are taken over.
func Summarize(samples []Sample, window time.Duration) []Summary {
	byType := map[string]*Summary{}
	total := &Summary{Type: "Total"}
	failures := map[FailureKind]int{}
	for _, s := range samples {
		row := byType[s.Type]
		if row == nil {
			row = &Summary{Type: s.Type}
			byType[s.Type] = row
		}
		for _, r := range []*Summary{row, total} {
			r.Requests++
			r.latencies = append(r.latencies, s.Latency)
			if !s.OK() {
				r.Failures++
			}
			switch s.Cache {
			case "HIT":
				r.Hits++
			case "MISS":
				r.Misses++
			case "OFF":
				r.Off++
			}
		}
		if !s.OK() {
			failures[FailureKind{Type: s.Type, Status: s.Status, Message: s.Err}]++
		}
	}
	order := []string{TypeSeed, TypeRead, TypeWrite, TypeConfigure, TypeNodes, TypeRate}
	var rows []Summary
	for _, t := range order {
		if r := byType[t]; r != nil {
			rows = append(rows, *r)
			delete(byType, t)
		}
	}
	for _, t := range slices.Sorted(mapKeys(byType)) {
		rows = append(rows, *byType[t])
	}
	rows = append(rows, *total)
	for i := range rows {
		rows[i].finish(window)
		for k, n := range failures {
			if rows[i].Type == k.Type || rows[i].Type == "Total" {
				k.Count = n
				rows[i].FailureKinds = append(rows[i].FailureKinds, k)
			}
		}
		slices.SortFunc(rows[i].FailureKinds, func(a, b FailureKind) int {
			return cmp.Or(b.Count-a.Count, cmp.Compare(a.Type, b.Type), a.Status-b.Status, cmp.Compare(a.Message, b.Message))
		})
	}
	return rows
}

func (r *Summary) finish(window time.Duration) {
	if len(r.latencies) == 0 {
		return
	}
	slices.Sort(r.latencies)
	var sum time.Duration
	for _, l := range r.latencies {
		sum += l
	}
	r.Min, r.Max = r.latencies[0], r.latencies[len(r.latencies)-1]
	r.Avg = sum / time.Duration(len(r.latencies))
	r.Median = Percentile(r.latencies, 50)
	r.P99 = Percentile(r.latencies, 99)
	if window > 0 {
		r.RPS = float64(r.Requests) / window.Seconds()
	}
	r.latencies = nil
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It is 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// HitRate is the share of reads answered from the cache, or -1 without
// cached reads.
func (r Summary) HitRate() float64 {
	if r.Hits+r.Misses == 0 {
		return -1
	}
	return float64(r.Hits) / float64(r.Hits+r.Misses)
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ms formats a duration in milliseconds as the tables show it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
