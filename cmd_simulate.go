package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// runSimulate replays a trace (a file, or a generated Zipf workload) through
// cache engines and prints each one's hit ratio and byte hit ratio, so that
// an operator can pick the policy for their own traffic.
func runSimulate(_ context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("simulate", "Replays a trace through the cache engines and prints, per policy and capacity,\n"+
		"the object hit ratio and the byte hit ratio. A trace file has one request a line,\n"+
		"\"key size\" (size in bytes); blank lines and lines starting with # are skipped.\n"+
		"Each request is a Get, and on a miss a Set of a value of that size, as a node sees it.\n"+
		"Sizes take B, KB, MB, GB or TB (all powers of 1024; KiB, MiB... also accepted).", getenv, stdout)
	tracePath := f.String("trace", "", `trace file to replay ("-" for standard input); or use --generate`)
	generate := f.String("generate", "", `"zipf": replay a generated trace instead (see --objects, --requests, --zipf-s, --min-size, --max-size, --seed)`)
	write := f.String("write", "", "with --generate: also write the generated trace to this file, to replay it later with --trace")
	capacities := f.String("capacity", "256MB", "cache capacity, or several separated by commas (256MB,1GB): each is simulated")
	policyList := f.String("policies", strings.Join(cache.Policies(), ","), "policies to compare, separated by commas")
	warmup := f.String("warmup", "20%", "requests at the start that fill the cache and are not counted: a number, or a percentage of the trace")
	objects := f.Int("objects", 200_000, "--generate: distinct images")
	requests := f.Int("requests", 2_000_000, "--generate: requests in the trace")
	zipfS := f.Float64("zipf-s", 1.01, "--generate: Zipf exponent of popularity (above 1; higher is more skewed)")
	minSize := f.String("min-size", "10KB", "--generate: smallest image (sizes are log-uniform between min and max)")
	maxSize := f.String("max-size", "1MB", "--generate: largest image")
	seed := f.Uint64("seed", 1, "--generate: random seed (the same seed gives the same trace)")
	if err := f.parse(args); err != nil {
		return err
	}

	caps, err := parseByteList(*capacities)
	if err != nil {
		return fmt.Errorf("simulate: --capacity: %w", err)
	}
	var policies []string
	for _, p := range strings.Split(*policyList, ",") {
		name, ok := cache.CanonicalPolicy(p)
		if !ok {
			return fmt.Errorf("simulate: --policies: unknown policy %q (known: %s)", strings.TrimSpace(p), strings.Join(cache.Policies(), ", "))
		}
		policies = append(policies, name)
	}

	var trace []sim.Request
	switch {
	case (*tracePath == "") == (*generate == ""):
		return errors.New("simulate: give either --trace FILE or --generate zipf")
	case *generate != "":
		if *generate != "zipf" {
			return fmt.Errorf("simulate: --generate %q: the only generator is zipf", *generate)
		}
		lo, err1 := parseBytes(*minSize)
		hi, err2 := parseBytes(*maxSize)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("simulate: --min-size/--max-size: %w", err)
		}
		z := sim.ZipfTrace{Objects: *objects, Requests: *requests, S: *zipfS, MinSize: int(lo), MaxSize: int(hi), Seed: *seed}
		if trace, err = z.Generate(); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		if *write != "" {
			if err := writeTraceFile(*write, trace); err != nil {
				return fmt.Errorf("simulate: --write: %w", err)
			}
		}
	default:
		if trace, err = readTraceFile(*tracePath); err != nil {
			return fmt.Errorf("simulate: %s: %w", *tracePath, err)
		}
		if len(trace) == 0 {
			return fmt.Errorf("simulate: %s holds no requests (one \"key size\" a line)", *tracePath)
		}
	}
	skip, err := parseWarmup(*warmup, len(trace))
	if err != nil {
		return fmt.Errorf("simulate: --warmup: %w", err)
	}

	keys := map[string]struct{}{}
	for _, r := range trace {
		keys[r.Key] = struct{}{}
	}
	for _, c := range caps {
		results, err := sim.Simulate(policies, c, trace, skip)
		if err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		fmt.Fprintf(stdout, "capacity %s: %d requests of %d keys, the first %d not counted (warm-up)\n",
			formatBytes(c), len(trace), len(keys), min(skip, len(trace)))
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "policy\thit ratio\tbyte hit ratio\titems held\tbytes held\t")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%.2f%%\t%.2f%%\t%d\t%s\t\n", r.Policy, 100*r.HitRatio(), 100*r.ByteHitRatio(), r.Len, formatBytes(r.Size))
		}
		tw.Flush()
		fmt.Fprintln(stdout)
	}
	return nil
}

func readTraceFile(path string) ([]sim.Request, error) {
	if path == "-" {
		return sim.ReadTrace(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return sim.ReadTrace(f)
}

func writeTraceFile(path string, trace []sim.Request) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := sim.WriteTrace(f, trace); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseWarmup reads "20%" (of n requests) or a count.
func parseWarmup(s string, n int) (int, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct < 0 || pct > 100 {
			return 0, fmt.Errorf("%q: want a percentage from 0%% to 100%%", s)
		}
		return int(float64(n) * pct / 100), nil
	}
	k, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || k < 0 {
		return 0, fmt.Errorf("%q: want a number of requests or a percentage", s)
	}
	return k, nil
}

var byteUnits = []struct {
	suffix string
	shift  uint
}{
	{"tib", 40}, {"gib", 30}, {"mib", 20}, {"kib", 10},
	{"tb", 40}, {"gb", 30}, {"mb", 20}, {"kb", 10},
	{"t", 40}, {"g", 30}, {"m", 20}, {"k", 10}, {"b", 0},
}

// parseBytes reads a size such as 256MB or 1GiB (powers of 1024, as the
// manager's MB) or a plain number of bytes.
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := uint(0)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = strings.TrimSpace(num), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q: want a size such as 256MB, 1GB or 65536", s)
	}
	return n << shift, nil
}

func parseByteList(s string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		n, err := parseBytes(part)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// formatBytes prints n in the largest unit that divides it, or in MiB with
// one decimal.
func formatBytes(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
