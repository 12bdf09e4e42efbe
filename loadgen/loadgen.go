package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"
)

// Result is everything one run measured.
type Result struct {
	Config  Config
	Started time.Time
	Images  []int64 // sizes of the distinct images uploaded
	Seed    PhaseResult
	Phases  []PhaseResult
	Notes   []string // what the reader of the tables should know
}

// Run seeds the keys, runs the scenario's phases and prints the tables;
// with cfg.Report it writes the HTML report and the CSV. It returns an
// error when the run could not be made (bad config, target down, a
// scenario's configure_cache refused); failed requests are results, not
// errors. Whatever was measured before an error is still printed,
// written and returned.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	res, err := measure(ctx, cfg)
	if res == nil {
		return nil, err
	}
	WriteTables(res.Config.Out, res)
	if res.Config.Report != "" {
		csvPath, rerr := WriteReport(res)
		if rerr != nil {
			return res, errors.Join(err, rerr)
		}
		fmt.Fprintf(res.Config.Out, "report: %s (raw numbers: %s)\n", res.Config.Report, csvPath)
	}
	return res, err
}

// measure is Run without the output: the requests and their samples.
func measure(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	target, err := CheckTarget(cfg.Target, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	sc := scenarios[cfg.Scenario]
	res := &Result{Config: cfg, Started: time.Now()}
	c := newClient(target, cfg.Token, cfg.Concurrency, res.Started)
	defer c.close()
	if err := c.healthy(ctx, 10*time.Second); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	r := rand.New(rand.NewPCG(seed, 0x10ad))
	var images []Image
	if cfg.ImagesDir != "" {
		images, err = LoadImages(cfg.ImagesDir, cfg.Keys)
	} else {
		fmt.Fprintf(cfg.Out, "generating %d images of %s…\n", min(cfg.Keys, maxDistinctImages), cfg.Sizes)
		images, err = GenerateImages(r, cfg.Keys, cfg.Sizes)
	}
	if err != nil {
		return nil, err
	}
	env := scenarioEnv{cfg: cfg, nodes: 1}
	for _, img := range images {
		res.Images = append(res.Images, int64(len(img.Data)))
	}
	rn := &runner{cfg: cfg, c: c, images: images, progress: newProgress(cfg.Out, cfg.Terminal)}
	for i := range cfg.Keys {
		rn.keyNames = append(rn.keyNames, keyName(i))
		size := int64(len(images[i%len(images)].Data))
		env.keySizes = append(env.keySizes, size)
		env.dataset += size
	}
	var restore url.Values
	if sc.configures {
		s, st := c.state(ctx)
		if !s.OK() {
			return nil, fmt.Errorf("loadgen: scenario %s changes the pool, but reading its configuration failed: %s (status %d); "+
				"configure_cache needs the process that owns the pool: picpool dev, or the manager (a gallery hands the change to it)", cfg.Scenario, s.Err, s.Status)
		}
		env.nodes = *st.NumNodes
		restore = values("mode", st.Mode, "numNodes", fmt.Sprint(*st.NumNodes), "cacheSize", fmt.Sprint(*st.CacheSize), "policy", st.Policy)
		if st.Policy == "" {
			restore.Del("policy")
		}
		defer func() {
			// Put the pool back as it was (its thresholds are not readable
			// through the API, so they keep the scenario's values).
			s := c.configure(context.WithoutCancel(ctx), restore)
			note := "the pool's configuration was restored: " + restore.Encode()
			if !s.OK() {
				note = "restoring the pool's configuration failed: " + s.Err
			}
			res.Notes = append(res.Notes, note)
		}()
	}
	fmt.Fprintf(cfg.Out, "scenario %s against %s: %d keys, %d workers\n", cfg.Scenario, target, cfg.Keys, cfg.Concurrency)
	res.Seed = rn.seed(ctx)
	if seeded := res.Seed.Row(TypeSeed); seeded.Requests > 0 && seeded.Failures == seeded.Requests {
		// Nothing to read: the run would only repeat this failure.
		k := seeded.FailureKinds[0]
		return res, fmt.Errorf("loadgen: all %d uploads failed, most often with status %d: %s", seeded.Requests, k.Status, k.Message)
	}
	for i, ph := range sc.build(env) {
		if ctx.Err() != nil {
			break
		}
		pr, err := rn.run(ctx, ph, seed+uint64(i)+1)
		res.Phases = append(res.Phases, pr)
		if err != nil {
			return res, err
		}
		if pr.Stopped != "" {
			res.Notes = append(res.Notes, pr.Name+": "+pr.Stopped)
			break
		}
	}
	return res, nil
}
