package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// TestContenders checks what the figures rely on: every policy is there,
// and every contender holds what it was just given and gives back the same
// bytes; otherwise its hit ratio would measure something else.
func TestContenders(t *testing.T) {
	var names []string
	for _, c := range contenders() {
		names = append(names, c.name)
		t.Run(c.name, func(t *testing.T) {
			s, err := c.build(sizing{capacity: 1 << 20, items: 1000, replay: true})
			if err != nil {
				t.Fatal(err)
			}
			defer release(s)
			for i := range 100 {
				k, v := fmt.Sprintf("img:%07d", i), []byte(fmt.Sprint("value of ", i))
				if err := s.Set(k, v); err != nil {
					t.Fatalf("Set(%s): %v", k, err)
				}
				if got, ok := s.Get(k); !ok || !bytes.Equal(got, v) {
					t.Fatalf("Get(%s) right after Set = %q, %v; want %q", k, got, ok, v)
				}
			}
		})
	}
	var want []string
	for _, p := range cache.Policies() {
		want = append(want, "picpool-"+p)
	}
	want = append(want, "otter", "ristretto", "golang-lru", "naive-lru")
	if !slices.Equal(names, want) {
		t.Errorf("contenders = %v, want %v", names, want)
	}
}

// TestMeasureThroughput runs the throughput measurement on a small
// workload: it must count operations and hits, and stop on time.
func TestMeasureThroughput(t *testing.T) {
	w := &tpWorkload{keys: make([]string, 64), trace: make([]uint32, 1024), value: make([]byte, tpValueLen)}
	for i := range w.keys {
		w.keys[i] = fmt.Sprintf("img:%07d", i)
	}
	for i := range w.trace {
		w.trace[i] = uint32(i % 64)
	}
	start := time.Now()
	s, err := measureThroughput(t.Context(), contenders()[0], w, 64, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a 50ms measurement took %v", took)
	}
	// All 64 keys fit and were Set before the run: every Get hits.
	if s.mops <= 0 || s.cpuNs <= 0 || s.hit != 1 {
		t.Errorf("sample = %+v, want positive Mops/s and CPU ns/op, and every Get a hit", s)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := measureThroughput(ctx, contenders()[0], w, 64, time.Hour); err == nil {
		t.Error("a cancelled measurement returned no error")
	}
}

func TestSummarize(t *testing.T) {
	got := summarize([]tpSample{{3, 30, 0.3}, {1, 10, 0.1}, {2, 40, 0.2}, {5, 20, 0.5}})
	want := tpSummary{mops: 2.5, mopsMin: 1, mopsMax: 5, cpuNs: 25, hit: 0.25}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
}

// TestReport fills a report by hand and checks the summary line and that
// the tables carry every contender and capacity.
func TestReport(t *testing.T) {
	cs := []contender{{name: "picpool-lru"}, {name: "picpool-sieve"}, {name: "otter", library: true}, {name: "ristretto", library: true}, {name: "naive-lru"}}
	hr := func(hits ...int64) []sim.Result {
		var rs []sim.Result
		for i, h := range hits {
			rs = append(rs, sim.Result{Policy: cs[i].name, Requests: 100, Hits: h, Bytes: 1000, HitBytes: 10 * h})
		}
		return rs
	}
	tp := func(mops ...float64) []tpSummary {
		var ts []tpSummary
		for _, m := range mops {
			ts = append(ts, tpSummary{mops: m, mopsMin: m, mopsMax: m, cpuNs: 100, hit: 0.5})
		}
		return ts
	}
	r := report{
		cs:      cs,
		tpItems: []int{10_000, 1_000_000},
		tp:      [][]tpSummary{tp(1, 4, 2, 1, 1), tp(1, 1, 2, 1, 0.5)}, // sieve: 2x and 0.5x otter, 4x and 2x naive
		hrCaps:  []int64{256 << 20, 1 << 30},
		hr:      [][]sim.Result{hr(40, 60, 50, 40, 40), hr(50, 80, 50, 80, 50)}, // sieve: 1.2x and 1x the best library
		hrTrace: "a trace",
	}
	want := "engines: lru=exact best-hit=picpool-sieve 1.10x-best-library fastest=picpool-sieve 1.00x-otter 2.83x-naive"
	if got := r.summary(); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	r.lruErr, r.lruDiff = fmt.Errorf("lru check: it differs"), -4.2
	if got := r.summary(); !strings.HasPrefix(got, "engines: lru=DIFFERS(-4.20pts) ") {
		t.Errorf("summary with lru differing = %s", got)
	}
	var buf bytes.Buffer
	r.write(&buf)
	out := buf.String()
	for _, s := range []string{"### 10k items (0.7915 MiB)", "### 1M items (79.15 MiB)", "| 256 MiB hit % | byte hit % | 1 GiB hit % | byte hit % |",
		"| picpool-sieve | 4.00 | 4.00–4.00 | 2.00 | 4.00 | 100 | 50.0 |", "| ristretto | 40.0 | 40.0 | 80.0 | 80.0 |", "**picpool-lru differs from the exact LRU**"} {
		if !strings.Contains(out, s) {
			t.Errorf("the tables lack %q:\n%s", s, out)
		}
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{{"--rounds", "0"}, {"--benchtime", "0s"}, {"stray"}, {"--nope"}} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
		if stdout.Len() > 0 {
			t.Errorf("run(%q) printed results: %s", args, stdout.String())
		}
	}
}
