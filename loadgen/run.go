package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"
)

// phase is one sub-run of a scenario: the pool configured one way, one
// read:write mix, one stretch of time.
type phase struct {
	name, group, series string       // "20:80 LRU", charted as series "LRU" of group "20:80"
	setup               []url.Values // configure_cache calls before it starts
	changes             []change     // configure_cache calls while it runs
	ratio               Ratio
	keys                keyDist
	duration            time.Duration
	poll                bool // poll getNumNodes and getRate every second
}

// change is a configure_cache call made at a time into a phase.
type change struct {
	after  time.Duration
	label  string
	values url.Values
}

// keyDist says which keys a phase reads and writes: the first n keys,
// Zipf-distributed (a few popular keys and a long tail, so that a
// replacement policy matters) or uniformly.
type keyDist struct {
	n       int
	uniform bool
}

// picker returns a function that draws key indexes; one per worker, as
// rand.Zipf is not safe for concurrent use.
func (d keyDist) picker(r *rand.Rand) func() int {
	if d.uniform || d.n < 2 {
		return func() int { return r.IntN(max(d.n, 1)) }
	}
	z := rand.NewZipf(r, 1.1, 1, uint64(d.n-1))
	return func() int { return int(z.Uint64()) }
}

// PhaseResult is what one sub-run measured.
type PhaseResult struct {
	Name, Group, Series string
	Ratio               Ratio
	Start               time.Duration // since the run began
	Elapsed             time.Duration // from the first request to the last answer
	Samples             []Sample      // every request of the phase, configure and polls included
	Marks               []Mark        // changes made while it ran
	Rows                []Summary     // the table, per type and Total
	Stopped             string        // why it stopped early, if it did
}

// Mark is a change to the pool at a point in time.
type Mark struct {
	At    time.Duration // since the run began
	Label string
}

// LoadRPS is the phase's reads and writes per second.
func (p PhaseResult) LoadRPS() float64 {
	n := 0
	for _, r := range p.Rows {
		if r.Type == TypeRead || r.Type == TypeWrite {
			n += r.Requests
		}
	}
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(n) / p.Elapsed.Seconds()
}

// Row returns the phase's row for typ (zero if it has none).
func (p PhaseResult) Row(typ string) Summary {
	for _, r := range p.Rows {
		if r.Type == typ {
			return r
		}
	}
	return Summary{Type: typ}
}

// runner runs the phases of one scenario.
type runner struct {
	cfg      Config
	c        *client
	images   []Image
	keyNames []string
	progress *progress
	total    int // samples recorded in earlier phases, against MaxSamples
}

// keyName is the key of index i: a prefix that says who wrote it.
func keyName(i int) string { return fmt.Sprintf("loadgen-%06d", i) }

// seed uploads every key once, with cfg.Concurrency workers.
func (rn *runner) seed(ctx context.Context) PhaseResult {
	rec := NewRecorder(MaxSamples)
	start := time.Since(rn.c.start)
	next := make(chan int)
	var wg sync.WaitGroup
	stopProgress := rn.progress.start("seed", rec)
	for range rn.cfg.Concurrency {
		wg.Go(func() {
			for i := range next {
				rec.Add(rn.c.upload(ctx, TypeSeed, rn.keyNames[i], rn.images[i%len(rn.images)]))
			}
		})
	}
	t0 := time.Now()
	for i := range rn.keyNames {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	stopProgress()
	return rn.result(PhaseResult{Name: "seed", Start: start, Elapsed: time.Since(t0)}, rec)
}

// run runs one phase: its setup, then load for its duration with its
// changes on time, polling if asked. A failed setup call stops the run:
// the numbers after it would not mean what the report says.
func (rn *runner) run(ctx context.Context, ph phase, seed uint64) (PhaseResult, error) {
	rec := NewRecorder(MaxSamples - rn.total)
	res := PhaseResult{Name: ph.name, Group: ph.group, Series: ph.series, Ratio: ph.ratio}
	for _, v := range ph.setup {
		s := rn.c.configure(ctx, v)
		rec.Add(s)
		if !s.OK() {
			res = rn.result(res, rec)
			return res, fmt.Errorf("loadgen: %s: %s (status %d); configure_cache needs the process that owns the pool: picpool dev, or the manager (a gallery hands the change to it)", ph.name, s.Err, s.Status)
		}
	}
	res.Start = time.Since(rn.c.start)
	t0 := time.Now()
	deadline := t0.Add(ph.duration)
	stopProgress := rn.progress.start(ph.name, rec)
	var wg sync.WaitGroup
	for w := range rn.cfg.Concurrency {
		r := rand.New(rand.NewPCG(seed, uint64(w)))
		pick := ph.keys.picker(r)
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := pick()
				var s Sample
				if r.IntN(ph.ratio.Read+ph.ratio.Write) < ph.ratio.Read {
					s = rn.c.read(ctx, rn.keyNames[i])
				} else {
					s = rn.c.upload(ctx, TypeWrite, rn.keyNames[i], rn.images[r.IntN(len(rn.images))])
				}
				if !rec.Add(s) {
					return
				}
			}
		})
	}
	var marksMu sync.Mutex
	for _, ch := range ph.changes {
		wg.Go(func() {
			if !sleepUntil(ctx, t0.Add(ch.after)) {
				return
			}
			marksMu.Lock()
			res.Marks = append(res.Marks, Mark{At: time.Since(rn.c.start), Label: ch.label})
			marksMu.Unlock()
			rec.Add(rn.c.configure(ctx, ch.values))
		})
	}
	if ph.poll {
		wg.Go(func() {
			for next := t0; next.Before(deadline); next = next.Add(time.Second) {
				if !sleepUntil(ctx, next) {
					return
				}
				rec.Add(rn.c.numNodes(ctx))
				rec.Add(rn.c.missRate(ctx))
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(t0)
	stopProgress()
	switch {
	case ctx.Err() != nil:
		res.Stopped = "interrupted"
	case rec.Full():
		res.Stopped = fmt.Sprintf("stopped at %d recorded requests (the run's bound)", MaxSamples)
	}
	return rn.result(res, rec), nil
}

func (rn *runner) result(res PhaseResult, rec *Recorder) PhaseResult {
	res.Samples = rec.Samples()
	rn.total += len(res.Samples)
	res.Rows = Summarize(res.Samples, res.Elapsed)
	return res
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
