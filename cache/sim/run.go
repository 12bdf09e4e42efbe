package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/picpool/picpool/cache"
)

// Options is one run of `picpool simulate`: a trace, from a file or
// generated, replayed at each capacity through each policy.
type Options struct {
	Trace      string    // a trace file, "-" for standard input; or Generate
	Generate   string    // "zipf": replay Zipf, generated, instead of Trace
	Zipf       ZipfTrace // the generated trace
	Write      string    // with Generate: also write the trace here
	Capacities []int64   // bytes
	Policies   []string  // names cache.CanonicalPolicy takes
	Warmup     string    // requests not counted: a number, or a percentage of the trace
	Stdin      io.Reader // for Trace "-"
	// FormatSize writes a size for people (the caller's one byte-size
	// formatter: this package imports the standard library only).
	// Default: a number of bytes.
	FormatSize func(int64) string
}

// Run replays the trace and writes, per capacity, a table of every
// policy's object and byte hit ratio to out.
func Run(o Options, out io.Writer) error {
	trace, err := o.Requests()
	if err != nil {
		return err
	}
	return RunOn(o, trace, out)
}

// RunOn is Run on a trace read already (see Requests).
func RunOn(o Options, trace []Request, out io.Writer) error {
	formatSize := o.SizeFormatter()
	policies, err := o.CanonicalPolicies()
	if err != nil {
		return err
	}
	skip, err := warmup(o.Warmup, len(trace))
	if err != nil {
		return fmt.Errorf("--warmup: %w", err)
	}
	keys := map[string]struct{}{}
	for _, r := range trace {
		keys[r.Key] = struct{}{}
	}
	for _, c := range o.Capacities {
		results, err := Simulate(policies, c, trace, skip)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "capacity %s: %d requests of %d keys, the first %d not counted (warm-up)\n",
			formatSize(c), len(trace), len(keys), min(skip, len(trace)))
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "policy\thit ratio\tbyte hit ratio\titems held\tbytes held\t")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%.2f%%\t%.2f%%\t%d\t%s\t\n", r.Policy, 100*r.HitRatio(), 100*r.ByteHitRatio(), r.Len, formatSize(r.Size))
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	return nil
}

// SizeFormatter is FormatSize, or its default.
func (o Options) SizeFormatter() func(int64) string {
	if o.FormatSize == nil {
		return func(n int64) string { return strconv.FormatInt(n, 10) + " bytes" }
	}
	return o.FormatSize
}

// CanonicalPolicies returns Policies by their canonical names, or an
// error naming one cache.New does not know.
func (o Options) CanonicalPolicies() ([]string, error) {
	var out []string
	for _, p := range o.Policies {
		name, ok := cache.CanonicalPolicy(p)
		if !ok {
			return nil, fmt.Errorf("--policies: unknown policy %q (known: %s)", strings.TrimSpace(p), strings.Join(cache.Policies(), ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

// Requests reads or generates the trace (and writes a generated one).
func (o Options) Requests() ([]Request, error) {
	switch {
	case (o.Trace == "") == (o.Generate == ""):
		return nil, errors.New("give either --trace FILE or --generate zipf")
	case o.Generate != "" && o.Generate != "zipf":
		return nil, fmt.Errorf("--generate %q: the only generator is zipf", o.Generate)
	}
	if o.Trace == "" {
		trace, err := o.Zipf.Generate()
		if err != nil {
			return nil, err
		}
		if o.Write != "" {
			if err := writeFile(o.Write, trace); err != nil {
				return nil, fmt.Errorf("--write: %w", err)
			}
		}
		return trace, nil
	}
	var r io.Reader = o.Stdin
	if o.Trace != "-" {
		f, err := os.Open(o.Trace)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	trace, err := ReadTrace(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Trace, err)
	}
	if len(trace) == 0 {
		return nil, fmt.Errorf("%s holds no requests (one \"key size\" a line)", o.Trace)
	}
	return trace, nil
}

func writeFile(path string, trace []Request) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(WriteTrace(f, trace), f.Close())
}

// warmup reads "20%" (of n requests) or a count.
func warmup(s string, n int) (int, error) {
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
