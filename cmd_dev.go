package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/picpool/picpool/handlers"
)

// runDev runs every role in one process on embedded defaults: what
// `go tool task dev` starts.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("dev", "Runs the gallery, the manager, the autoscaler and a local pool of cache nodes in one\n"+
		"process, on embedded storage (SQLite and a local folder): nothing needs installing.\n"+
		"It listens on loopback by default, so the test API's state-changing routes need no token;\n"+
		"on another address they need one (--api-token, or generated and printed at start).", getenv, stdout)
	galleryAddr := f.string("gallery-addr", "PICPOOL_GALLERY_ADDR", "127.0.0.1:5000", "address the gallery listens on")
	managerAddr := f.string("manager-addr", "PICPOOL_MANAGER_ADDR", "127.0.0.1:5001", "address the manager listens on")
	sf := addStoreFlags(f)
	metrics := f.string("metrics", "PICPOOL_METRICS", "db", "metrics backend: db (samples in the database) or cloudwatch:NAMESPACE")
	pf := addPoolFlags(f, true, 100*time.Millisecond) // no other process routes by dev's table
	af := addAPIFlags(f)
	hf := addHTTPFlags(f)
	password := f.string("manager-password", "PICPOOL_MANAGER_PASSWORD", "", "the manager's password (generated and printed when empty)")
	maxUploadMB := f.int("max-upload-mb", "PICPOOL_MAX_UPLOAD_MB", defaultMaxUploadMB, "largest image accepted, in MB")
	maxMegapixels := addMaxMegapixels(f)
	period := f.duration("autoscale-period", "PICPOOL_AUTOSCALE_PERIOD", 60*time.Second, "how often the autoscaler decides, in automatic mode")
	logLevel := f.string("log-level", "PICPOOL_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := newLogger(stdout, *logLevel)
	if err != nil {
		return err
	}
	limits, err := imageLimits("dev", *maxUploadMB, *maxMegapixels)
	if err != nil {
		return err
	}
	hs, err := hf.settings(int64(*maxUploadMB) * mebibyte)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	// Listen first: a port in use is an error before anything starts.
	gl, err := listen(ctx, "gallery", *galleryAddr)
	if err != nil {
		return err
	}
	defer gl.Close()
	ml, err := listen(ctx, "manager", *managerAddr)
	if err != nil {
		return err
	}
	defer ml.Close()

	s := &system{log: log}
	defer s.close()
	if err := s.openStore(ctx, sf); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if err := s.openMetrics(ctx, *metrics); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if err := s.openPool(ctx, pf); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if err := s.startAutoscaler(*period); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	s.wireHandlers(limits)
	generated := *password == ""
	if generated {
		*password = randomSecret()[:12]
	}
	// Off loopback (--gallery-addr :5000, say) the state-changing API
	// routes need a token: generated and printed here when none was given.
	for _, ln := range []net.Listener{gl, ml} {
		if err := af.needsToken(ln.Addr().String(), stdout); err != nil {
			return err
		}
	}
	auth, err := handlers.NewAuth(*password, handlers.AuthOptions{})
	if err != nil {
		return err
	}

	slots := handlers.NewUploadSlots(hs.uploads, uploadQueueWait) // one bound for the whole process
	galleryURL, managerURL := localURL(gl), localURL(ml)
	log.Info("gallery listening", "url", galleryURL)
	log.Info("manager listening", "url", managerURL)
	fmt.Fprintf(stdout, "\nPicPool is running (Ctrl-C stops it):\n  gallery  %s\n  manager  %s\n", galleryURL, managerURL)
	if generated {
		fmt.Fprintf(stdout, "  manager password: %s (set PICPOOL_MANAGER_PASSWORD to choose one)\n", *password)
	}
	fmt.Fprintf(stdout, "  %d cache nodes on loopback; data in %s and %s\n\n", s.pool.Nodes(), *sf.db, *sf.blobs)
	return runAll(ctx, append(s.ownerLoops(pf),
		s.auto.Run,
		s.serveForwarded,
		func(ctx context.Context) error {
			prot := af.protection(gl.Addr().String(), hs, slots)
			return serve(ctx, log, "gallery", gl, s.galleryRouter(managerURL, af.guard(gl.Addr().String()), prot), hs.timeouts)
		},
		func(ctx context.Context) error {
			prot := af.protection(ml.Addr().String(), hs, slots)
			return serve(ctx, log, "manager", ml, s.managerRouter(auth, af.guard(ml.Addr().String()), prot), hs.timeouts)
		},
	)...)
}

// newLogger returns a text logger at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
