package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/mrc"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/internal/cli"
	"github.com/picpool/picpool/loadgen"
	"github.com/picpool/picpool/photo"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
)

// runServers runs dev, the gallery, the manager or the autoscaler: the
// same parts, more or fewer of them. An owner (dev, the manager, the
// autoscaler) sizes the pool and applies the changes galleries hand over;
// a gallery follows the pool's table and hands changes over.
func runServers(ctx context.Context, c Config, r role, getenv func(string) string, stdout io.Writer) error {
	log, err := cli.Logger(stdout, c.LogLevel)
	if err != nil {
		return err
	}
	own := r&owners != 0
	limits, err := c.limits()
	if err != nil && r&servers != 0 {
		return err
	}
	listeners := map[string]net.Listener{} // opened first: a port in use fails at once
	for name, addr := range map[string]string{"gallery": c.GalleryAddr, "manager": c.ManagerAddr} {
		if addr != "" { // the role has that server
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("%s: listen on %s: %w", name, addr, err)
			}
			defer ln.Close()
			listeners[name] = ln
		}
	}
	db, err := store.Open(ctx, c.DB, log)
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := store.OpenBlobs(ctx, c.Blobs)
	if err != nil {
		return err
	}
	var metrics scaling.Metrics
	if own {
		if metrics, err = scaling.OpenMetrics(ctx, c.Metrics, store.NewMetrics(db, log)); err != nil {
			return err
		}
	}
	p, closePool, err := c.openPool(ctx, own, db, metrics, log)
	if err != nil {
		return err
	}
	defer closePool()
	images := photo.Limits{MaxBytes: int64(c.MaxUploadMB) * bytesize.MiB, MaxPixels: int64(c.MaxMegapixels) * 1e6}
	g := gallery.NewService(store.NewLibrary(db, blobs, log), p, images, log)
	control := gallery.NewControl(p, db, log)
	group, ctx := errgroup.WithContext(ctx)
	group.Go(func() error { p.Run(ctx); return nil })
	api := handlers.GalleryServer{Gallery: g, Pool: p, Configurer: control, ManagerURL: c.ManagerURL, Log: log}
	if own {
		group.Go(func() error { return control.ServeForwarded(ctx, store.NewRequests(db), gallery.InboxOptions{}) })
	} else {
		api.Configurer = gallery.NewForwarder(control, store.NewRequests(db), gallery.ForwardOptions{Wait: c.ForwardWait})
	}
	manager := handlers.ManagerDeps{Control: control, Pool: p, Gallery: g, Stats: metrics, Log: log}
	if r&(dev|autoscalerCmd) != 0 || c.Autoscale {
		auto, err := scaling.NewAutoscaler(scaling.AutoscalerConfig{Pool: p, Metrics: metrics, Settings: control.Settings, Curve: control.Curve, Period: c.Period, Log: log})
		if err != nil {
			return err
		}
		manager.Decisions = auto
		group.Go(func() error { return auto.Run(ctx) })
		log.Info("autoscaler running", "period", c.Period, "nodes", p.Nodes())
	}
	if _, ok := listeners["manager"]; ok {
		if c.Password == "" && r != dev {
			return fmt.Errorf("set a password with --password or PICPOOL_MANAGER_PASSWORD: the manager can delete everything")
		}
		if manager.Auth, err = handlers.NewAuth(handlers.PasswordOrNew(c.Password, stdout), handlers.AuthOptions{}); err != nil {
			return err
		}
	}
	for name, ln := range listeners {
		access := handlers.Access{Addr: ln.Addr().String(), Open: c.OpenTestAPI, Token: c.APIToken}.WithToken(stdout)
		c.APIToken = access.Token // one token for both of dev's servers
		api.Guard, api.Protection = access.Guard(), limits.Protection(access)
		h := api.Handler()
		if name == "manager" {
			h = handlers.ManagerServer{Pages: manager, API: api}.Handler()
		}
		log.Info(name+" listening", "url", handlers.LocalURL(ln), "nodes", p.Nodes())
		group.Go(func() error { return handlers.Serve(ctx, log, name, ln, h, limits) })
	}
	if r == dev {
		fmt.Fprintf(stdout, "\nPicPool is running (Ctrl-C stops it):\n  gallery  %s\n  manager  %s\n  %d cache nodes on loopback; data in %s and %s\n\n",
			handlers.LocalURL(listeners["gallery"]), handlers.LocalURL(listeners["manager"]), p.Nodes(), c.DB, c.Blobs)
	}
	return group.Wait()
}

// limits derives the servers' limits from the flags (their bounds are
// checked with the flags).
func (c Config) limits() (handlers.Limits, error) {
	return handlers.Limits{
		ReadHeader: c.ReadHeader, Idle: c.Idle, MinRate: int64(c.MinRateKB) << 10, Stall: c.Stall, Read: c.Read, Write: c.Write,
		MaxUpload: int64(c.MaxUploadMB) * bytesize.MiB, Uploads: handlers.NewUploadSlotsFor(c.Uploads), // one bound per process
	}.Derive()
}

// openPool opens the cache pool: as its owner, with its provider, or as a
// follower of the table the owner publishes. It returns what closes it.
func (c Config) openPool(ctx context.Context, own bool, db *store.DB, metrics scaling.Metrics, log *slog.Logger) (*pool.Pool, func(), error) {
	if c.NodeToken == "" && (!own || c.Provider != "local") {
		return nil, nil, fmt.Errorf("--node-token (or PICPOOL_NODE_TOKEN) is required: the nodes check it")
	} else if c.NodeToken == "" {
		c.NodeToken = rand.Text() // the nodes are this process's own
	}
	opts, closeProvider := pool.Options{Tables: db, Token: c.NodeToken, Log: log}, func() {}
	if own {
		policy, ok := cache.CanonicalPolicy(c.Policy)
		if !ok {
			return nil, nil, fmt.Errorf("--policy %q: %w", c.Policy, cache.ErrUnknownPolicy)
		}
		var err error
		opts.Provider, closeProvider, err = pool.OpenProvider(c.Provider, node.Options{Token: c.NodeToken, Publisher: publisher(metrics), Log: log})
		if errors.Is(err, pool.ErrOtherProvider) {
			closeProvider = func() {}
			opts.Provider, err = scaling.OpenProvider(ctx, c.Provider, c.NodePort, log)
			opts.MemberWait, opts.ReconcileEvery = scaling.MemberWait, c.ReconcileEvery
		}
		if err != nil {
			return nil, nil, err
		}
		opts.InitialNodes, opts.Partitioner, opts.Settle = c.Nodes, c.Partitioner, c.Settle
		opts.Config = node.Config{Capacity: int64(c.CapacityMB) * bytesize.MiB, Policy: policy}
	}
	p, err := pool.New(ctx, opts)
	if err != nil {
		closeProvider()
		return nil, nil, err
	}
	return p, func() { p.Close(); closeProvider() }, nil
}

// runNode serves one cache node.
func runNode(ctx context.Context, c Config, _ role, _ func(string) string, stdout io.Writer) error {
	if c.NodeToken == "" {
		return fmt.Errorf("--token (or PICPOOL_NODE_TOKEN) is required: clients must present it")
	}
	log, err := cli.Logger(stdout, c.LogLevel)
	if err != nil {
		return err
	}
	var db scaling.Metrics
	if c.DB != "" {
		d, err := store.Open(ctx, c.DB, log)
		if err != nil {
			return err
		}
		defer d.Close()
		db = store.NewMetrics(d, log)
	}
	metrics, err := scaling.OpenMetrics(ctx, c.Metrics, db)
	if err != nil {
		return err
	}
	opts := node.Options{Token: c.NodeToken, DataAuth: c.DataAuth, Config: node.Config{Capacity: int64(c.CapacityMB) * bytesize.MiB, Policy: c.Policy}, MaxCapacity: int64(c.MaxCapacityMB) * bytesize.MiB,
		MaxItemBytes: int64(c.MaxItemMB) * bytesize.MiB, Name: c.NodeName, Publisher: publisher(metrics), OnConfig: node.MemoryLimit(log), Log: log}
	return node.Serve(ctx, c.NodeAddr, c.NodeDataAddr, handlers.WithNodeMetrics(opts), 10*time.Second)
}

// publisher publishes a node's statistics to the metrics backend (nil:
// none).
func publisher(m scaling.Metrics) node.StatsPublisher {
	if m == nil {
		return nil
	}
	return node.PublishFunc(func(ctx context.Context, s node.Stats) error {
		return m.Record(ctx, []scaling.Sample{{Node: s.Node, Time: s.Time, Items: s.Items, Bytes: s.Bytes, Requests: s.Requests, Hits: s.Hits, Misses: s.Misses}})
	})
}

func runLoadgen(ctx context.Context, c Config, _ role, getenv func(string) string, stdout io.Writer) error {
	c.Load.Token, c.Load.Seed, c.Load.Out, c.Load.Terminal = getenv("PICPOOL_MANAGER_API_TOKEN"), 1, stdout, loadgen.IsTerminal(stdout)
	_, err := loadgen.Run(ctx, c.Load)
	return err
}

func runSimulate(_ context.Context, c Config, _ role, _ func(string) string, stdout io.Writer) error {
	c.Sim.Stdin, c.Sim.FormatSize = os.Stdin, bytesize.Format
	return mrc.Simulate(c.Sim, stdout) // the exact replay, then the curve beside it
}
