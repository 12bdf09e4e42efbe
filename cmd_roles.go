package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/picpool/picpool/handlers"
)

// The production roles, each its own process: the gallery follows the
// pool table others own; the manager owns it (and may run the
// autoscaler); the autoscaler can also run on its own.

func runGallery(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("gallery", "Serves the gallery's pages and the test API. It follows the cache pool's table\n"+
		"from the database (the manager owns it): configure_cache is handed to the manager\n"+
		"through the database, and answered with the manager's answer.", getenv, stdout)
	addr := f.string("addr", "PICPOOL_GALLERY_ADDR", ":5000", "address the gallery listens on")
	sf := addStoreFlags(f)
	pf := addPoolFlags(f, false, 0)
	af := addAPIFlags(f)
	managerURL := f.string("manager-url", "PICPOOL_MANAGER_URL", "", "the manager's URL, linked from the home page (optional)")
	maxUploadMB := f.int("max-upload-mb", "PICPOOL_MAX_UPLOAD_MB", defaultMaxUploadMB, "largest image accepted, in MB")
	hf := addHTTPFlags(f)
	forwardWait := f.duration("forward-wait", "PICPOOL_FORWARD_WAIT", 60*time.Second, "how long configure_cache on this gallery waits for the manager's answer (a resize that starts machines takes minutes); after that it answers 504, and the manager still completes the change")
	maxMegapixels := addMaxMegapixels(f)
	logLevel := f.string("log-level", "PICPOOL_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := newLogger(stdout, *logLevel)
	if err != nil {
		return err
	}
	limits, err := imageLimits("gallery", *maxUploadMB, *maxMegapixels)
	if err != nil {
		return err
	}
	hs, err := hf.settings(int64(*maxUploadMB) * mebibyte)
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	ln, err := listen(ctx, "gallery", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	s := &system{log: log}
	defer s.close()
	if err := s.openStore(ctx, sf); err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	if err := s.openPool(ctx, pf); err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	s.wireHandlers(limits)
	s.forwardChanges(*forwardWait)
	if err := af.needsToken(ln.Addr().String(), stdout); err != nil {
		return err
	}
	log.Info("gallery listening", "url", localURL(ln), "nodes", s.pool.Nodes())
	return runAll(ctx,
		func(ctx context.Context) error { s.pool.Run(ctx); return nil },
		func(ctx context.Context) error {
			prot := af.protection(ln.Addr().String(), hs, handlers.NewUploadSlots(hs.uploads, uploadQueueWait))
			return serve(ctx, log, "gallery", ln, s.galleryRouter(*managerURL, af.guard(ln.Addr().String()), prot), hs.timeouts)
		},
	)
}

func runManager(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("manager", "Serves the operator's console (configuration, resizing, statistics) and the test API.\n"+
		"It owns the cache pool: it starts its nodes (local) or sizes its Auto Scaling group (asg:GROUP).\n"+
		"Run one manager per pool.", getenv, stdout)
	addr := f.string("addr", "PICPOOL_MANAGER_ADDR", ":5001", "address the manager listens on")
	sf := addStoreFlags(f)
	metrics := f.string("metrics", "PICPOOL_METRICS", "db", "metrics backend: db (samples in the database) or cloudwatch:NAMESPACE")
	pf := addPoolFlags(f, true, 2*time.Second)
	af := addAPIFlags(f)
	password := f.string("password", "PICPOOL_MANAGER_PASSWORD", "", "the manager's password (required)")
	autoscale := f.bool("autoscaler", "PICPOOL_AUTOSCALER", false, "run the autoscaler in this process")
	period := f.duration("autoscale-period", "PICPOOL_AUTOSCALE_PERIOD", 60*time.Second, "how often the autoscaler decides, with --autoscaler")
	maxUploadMB := f.int("max-upload-mb", "PICPOOL_MAX_UPLOAD_MB", defaultMaxUploadMB, "largest image accepted by the test API, in MB")
	hf := addHTTPFlags(f)
	maxMegapixels := addMaxMegapixels(f)
	logLevel := f.string("log-level", "PICPOOL_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	if *password == "" {
		return errors.New("manager: set a password with --password or PICPOOL_MANAGER_PASSWORD: the manager can delete everything")
	}
	log, err := newLogger(stdout, *logLevel)
	if err != nil {
		return err
	}
	limits, err := imageLimits("manager", *maxUploadMB, *maxMegapixels)
	if err != nil {
		return err
	}
	hs, err := hf.settings(int64(*maxUploadMB) * mebibyte)
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	ln, err := listen(ctx, "manager", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	s := &system{log: log}
	defer s.close()
	if err := s.openStore(ctx, sf); err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := s.openMetrics(ctx, *metrics); err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := s.openPool(ctx, pf); err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	fns := append(s.ownerLoops(pf), s.serveForwarded)
	if *autoscale {
		if err := s.startAutoscaler(*period); err != nil {
			return fmt.Errorf("manager: %w", err)
		}
		fns = append(fns, s.auto.Run)
	}
	s.wireHandlers(limits)
	auth, err := handlers.NewAuth(*password, handlers.AuthOptions{})
	if err != nil {
		return err
	}
	if err := af.needsToken(ln.Addr().String(), stdout); err != nil {
		return err
	}
	log.Info("manager listening", "url", localURL(ln), "nodes", s.pool.Nodes(), "autoscaler", *autoscale)
	fns = append(fns, func(ctx context.Context) error {
		prot := af.protection(ln.Addr().String(), hs, handlers.NewUploadSlots(hs.uploads, uploadQueueWait))
		return serve(ctx, log, "manager", ln, s.managerRouter(auth, af.guard(ln.Addr().String()), prot), hs.timeouts)
	})
	return runAll(ctx, fns...)
}

func runAutoscaler(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("autoscaler", "Runs the autoscaler on its own: every period it reads the pool's miss rate from the\n"+
		"metrics backend and, in automatic mode (set in the manager), resizes the pool. It owns the\n"+
		"pool while it runs: run it instead of `manager --autoscaler`, not beside it.", getenv, stdout)
	sf := addStoreFlags(f)
	metrics := f.string("metrics", "PICPOOL_METRICS", "db", "metrics backend: db (samples in the database) or cloudwatch:NAMESPACE")
	pf := addPoolFlags(f, true, 2*time.Second)
	period := f.duration("period", "PICPOOL_AUTOSCALE_PERIOD", 60*time.Second, "how often the autoscaler decides")
	logLevel := f.string("log-level", "PICPOOL_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := newLogger(stdout, *logLevel)
	if err != nil {
		return err
	}
	s := &system{log: log}
	defer s.close()
	if err := s.openStore(ctx, sf); err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	if err := s.openMetrics(ctx, *metrics); err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	if err := s.openPool(ctx, pf); err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	if err := s.startAutoscaler(*period); err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}
	s.wireControl() // it owns the pool, so it applies what galleries hand over
	log.Info("autoscaler running", "period", *period, "nodes", s.pool.Nodes())
	return runAll(ctx, append(s.ownerLoops(pf), s.auto.Run, s.serveForwarded)...)
}

// needsToken makes sure a server that is not on loopback, without
// --open-test-api, has a token for the state-changing API routes: it
// generates and prints one when none was given.
func (af apiFlags) needsToken(addr string, stdout io.Writer) error {
	if *af.open || handlers.IsLoopback(addr) || *af.token != "" {
		return nil
	}
	*af.token = randomSecret()
	fmt.Fprintf(stdout, "The test API's state-changing routes need \"Authorization: Bearer %s\" (set PICPOOL_MANAGER_API_TOKEN to choose it).\n", *af.token)
	return nil
}
