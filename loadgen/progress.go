package loadgen

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// progress prints a live line per phase: on a terminal one line that
// rewrites itself every second, otherwise a line every few seconds (logs
// and CI output would fill with carriage returns).
type progress struct {
	out      io.Writer
	terminal bool
	every    time.Duration
}

func newProgress(out io.Writer, terminal bool) *progress {
	p := &progress{out: out, terminal: terminal, every: 5 * time.Second}
	if terminal {
		p.every = time.Second
	}
	return p
}

// start reports on rec until the returned stop is called; stop prints the
// phase's last line.
func (p *progress) start(name string, rec *Recorder) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	t0 := time.Now()
	var seen, errs int
	line := func(final bool) {
		fresh := rec.Since(seen)
		seen += len(fresh)
		lat := make([]time.Duration, len(fresh))
		for i, s := range fresh {
			lat[i] = s.Latency
			if !s.OK() {
				errs++
			}
		}
		slices.Sort(lat)
		elapsed := time.Since(t0)
		text := fmt.Sprintf("%-14s %6.1fs  requests %7d  rps %7.1f  p50 %6sms  p99 %6sms  errors %d",
			name, elapsed.Seconds(), seen, float64(len(fresh))/p.every.Seconds(), ms(Percentile(lat, 50)), ms(Percentile(lat, 99)), errs)
		if final {
			text = fmt.Sprintf("%-14s %6.1fs  requests %7d  rps %7.1f  errors %d  done",
				name, elapsed.Seconds(), seen, float64(seen)/elapsed.Seconds(), errs)
		}
		switch {
		case p.terminal && final:
			fmt.Fprintf(p.out, "\r%s\x1b[K\n", text)
		case p.terminal:
			fmt.Fprintf(p.out, "\r%s\x1b[K", text)
		default:
			fmt.Fprintln(p.out, text)
		}
	}
	wg.Go(func() {
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				line(false)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		line(true)
	}
}

// IsTerminal reports whether w is a terminal (progress then rewrites one
// line instead of printing a line every few seconds).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
