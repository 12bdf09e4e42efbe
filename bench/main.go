// Command bench compares PicPool's cache engines, every policy of
// cache.Policies, with otter, ristretto, golang-lru and a naive mutex LRU:
// throughput of a 90 % Get / 10 % Set Zipf workload on two cores, and the
// hit ratio and byte hit ratio of a Zipf trace of images under a byte
// bound. It also checks that picpool's lru matches an exact LRU hit for
// hit. It prints markdown tables and ends with a one-line summary.
//
// It is a module of its own, so that PicPool's go.mod never carries the
// libraries it is compared with; its go.mod replaces the PicPool module
// with the checkout around it, so it always measures the engines beside
// it. Run it from the repository with go tool task bench:engines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is one run's sizes; --quick shrinks them.
type config struct {
	tpItems   []int         // throughput capacities, in items
	rounds    int           // throughput rounds: each measures every contender once
	benchtime time.Duration // per contender, capacity and round
	objects   int           // hit ratio: distinct images
	requests  int           // hit ratio: requests in the trace
	hrCaps    []int64       // hit ratio: capacities in bytes
	seed      uint64
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := flag.NewFlagSet("bench", flag.ContinueOnError)
	f.SetOutput(stderr)
	f.Usage = func() {
		fmt.Fprint(stderr, `Usage: go tool task bench:engines [-- FLAGS]   (or, in bench/: go run . [FLAGS])

Compares every PicPool engine (cache.Policies) with otter, ristretto,
golang-lru and a naive mutex LRU, and checks picpool's lru against an exact
LRU. Markdown goes to standard output, progress to standard error; the
last line is a one-line summary. It exits with 1 if lru differs from the
exact LRU. Compare ratios within one run: absolute Mops/s move with the
machine's load, which the summary prints.

Flags:
`)
		f.PrintDefaults()
	}
	quick := f.Bool("quick", false, "a smoke run of under a minute: 100k items only, one round of 300ms, hit ratio of 1M requests at 256 MiB only")
	rounds := f.Int("rounds", 3, "throughput rounds; the tables give the median")
	benchtime := f.Duration("benchtime", time.Second, "how long each contender runs at each capacity in each round")
	seed := f.Uint64("seed", 1, "seed of the hit-ratio trace (the throughput trace is fixed)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		f.Usage()
		return fmt.Errorf("unexpected argument %q: every option is a flag", f.Arg(0))
	}
	if *rounds < 1 || *benchtime <= 0 {
		return errors.New("--rounds must be at least 1 and --benchtime above zero")
	}
	cfg := config{
		tpItems: []int{10_000, 100_000, 1_000_000}, rounds: *rounds, benchtime: *benchtime,
		objects: 200_000, requests: 2_000_000, hrCaps: []int64{256 << 20, 1 << 30}, seed: *seed,
	}
	if *quick {
		cfg.tpItems, cfg.rounds, cfg.benchtime = []int{100_000}, 1, 300*time.Millisecond
		cfg.requests, cfg.hrCaps = 1_000_000, []int64{256 << 20}
	}
	// The workload is two goroutines on two CPUs, as go test -cpu 2 runs it.
	runtime.GOMAXPROCS(tpWorkers)

	began, load0 := time.Now(), loadavg()
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	progress("%s, %d CPUs, load average %s", runtime.Version(), runtime.NumCPU(), load0)
	rep, err := measure(ctx, cfg, progress)
	if err != nil {
		return err
	}
	mode := "full"
	if *quick {
		mode = "quick"
	}
	mode += fmt.Sprintf(" run, throughput %d round(s) of %v", cfg.rounds, cfg.benchtime)
	fmt.Fprintf(stdout, "# PicPool's cache engines against peers\n\nA %s; %s, GOMAXPROCS %d of %d CPUs, load average %s at start and %s at end, %.0f s in all.\n\n",
		mode, runtime.Version(), tpWorkers, runtime.NumCPU(), load0, loadavg(), time.Since(began).Seconds())
	rep.write(stdout)
	fmt.Fprintf(stdout, "\n%s (%s, load %s)\n", rep.summary(), mode, strings.Fields(loadavg())[0])
	return rep.lruErr
}

// measure runs the throughput rounds, then the hit-ratio replays.
func measure(ctx context.Context, cfg config, progress func(string, ...any)) (report, error) {
	rep := report{cs: contenders(), tpItems: cfg.tpItems, hrCaps: cfg.hrCaps}
	w := newTPWorkload(42)
	samples := make([][][]tpSample, len(cfg.tpItems)) // [capacity][contender][round]
	for i := range samples {
		samples[i] = make([][]tpSample, len(rep.cs))
	}
	for round := range cfg.rounds {
		for i, items := range cfg.tpItems {
			progress("throughput round %d/%d, %s items, load average %s", round+1, cfg.rounds, count(items), loadavg())
			for j, c := range rep.cs {
				s, err := measureThroughput(ctx, c, w, items, cfg.benchtime)
				if err != nil {
					return rep, fmt.Errorf("throughput of %s: %w", c.name, err)
				}
				samples[i][j] = append(samples[i][j], s)
			}
		}
	}
	for i := range samples {
		rep.tp = append(rep.tp, nil)
		for j := range rep.cs {
			rep.tp[i] = append(rep.tp[i], summarize(samples[i][j]))
		}
	}

	trace, err := imageTrace(cfg.objects, cfg.requests, cfg.seed)
	if err != nil {
		return rep, err
	}
	rep.hrTrace = fmt.Sprintf("%dk images of 10 KiB–1 MiB (log-uniform), Zipf %.2f, %s requests (seed %d), the first 20 %% only filling the cache",
		cfg.objects/1000, zipfS, count(cfg.requests), cfg.seed)
	for _, capacity := range cfg.hrCaps {
		progress("hit-ratio replay at %s, load average %s", mib(capacity), loadavg())
		res, err := replayAll(ctx, rep.cs, trace, capacity)
		if err != nil {
			return rep, fmt.Errorf("hit ratio at %s: %w", mib(capacity), err)
		}
		rep.hr = append(rep.hr, res)
	}
	rep.lruDiff, rep.lruErr = lruCheck(rep.hr, rep.hrCaps)
	return rep, nil
}

// loadavg is the machine's load over 1, 5 and 15 minutes, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
