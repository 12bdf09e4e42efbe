package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/picpool/picpool/loadgen"
)

// runLoadgen drives a PicPool server through its test API and reports
// latency and throughput: see package loadgen.
func runLoadgen(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("loadgen", "Uploads images through the test API, then reads and writes them at a ratio, and prints a\n"+
		"table per request type (requests, failures, median, average, min, max, req/s) as Locust does.\n"+
		"It stops by itself after --duration. With --report it writes one HTML file with charts (it\n"+
		"opens offline) and every request as CSV beside it.\n\n"+
		"Scenarios (a scenario's sub-runs share --duration):\n"+loadgen.ScenarioHelp()+"\n"+
		"Scenarios other than mix change the pool (mode, size, capacity, policy) through configure_cache\n"+
		"and put mode, size, capacity and policy back at the end: point --target at picpool dev or the\n"+
		"manager. Uploaded keys are named loadgen-NNNNNN and stay. A target that needs a token for\n"+
		"uploads gets it from PICPOOL_MANAGER_API_TOKEN.", getenv, stdout)
	target := f.string("target", "PICPOOL_LOADGEN_TARGET", "http://127.0.0.1:5000", "base URL of the gallery, manager or dev to load")
	duration := f.duration("duration", "PICPOOL_LOADGEN_DURATION", 60*time.Second, "how long the whole run lasts (a scenario splits it among its sub-runs)")
	concurrency := f.int("concurrency", "PICPOOL_LOADGEN_CONCURRENCY", 16, "requests in flight at once (workers)")
	rw := f.string("rw", "PICPOOL_LOADGEN_RW", "80:20", "reads:writes, e.g. 80:20 (rw-ratios and autoscale set their own)")
	keys := f.int("keys", "PICPOOL_LOADGEN_KEYS", 500, "distinct keys uploaded first, then read and written (Zipf-distributed)")
	sizes := f.string("sizes", "PICPOOL_LOADGEN_SIZES", "10KB-1MB", "sizes of the generated images, MIN-MAX or one size (B, KB, MB; KB=1024 B)")
	images := f.string("images", "PICPOOL_LOADGEN_IMAGES", "", "folder of images to upload instead of generated noise (PNG, JPEG, GIF, WebP)")
	scenario := f.string("scenario", "PICPOOL_LOADGEN_SCENARIO", "mix", "which scenario to run (listed above)")
	report := f.string("report", "PICPOOL_LOADGEN_REPORT", "", "write the HTML report here (e.g. out.html; the CSV goes beside it as out.csv)")
	allowRemote := f.bool("allow-remote", "PICPOOL_LOADGEN_ALLOW_REMOTE", false, "allow a --target that is not on loopback (it is loaded hard and reconfigured)")
	if err := f.parse(args); err != nil {
		return err
	}
	ratio, err := loadgen.ParseRatio(*rw)
	if err != nil {
		return err
	}
	sz, err := loadgen.ParseSizes(*sizes)
	if err != nil {
		return err
	}
	_, err = loadgen.Run(ctx, loadgen.Config{
		Target:      *target,
		Duration:    *duration,
		Concurrency: *concurrency,
		Ratio:       ratio,
		Keys:        *keys,
		Sizes:       sz,
		ImagesDir:   *images,
		Scenario:    *scenario,
		Report:      *report,
		AllowRemote: *allowRemote,
		Token:       getenv("PICPOOL_MANAGER_API_TOKEN"),
		Seed:        1,
		Out:         stdout,
		Terminal:    isTerminal(stdout),
	})
	return err
}

// isTerminal reports whether w is a terminal (progress then rewrites one
// line instead of printing a line every few seconds).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
