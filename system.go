package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/partition"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
)

// The running system, built from flags. Each command builds the parts it
// needs: storage, metrics, the pool (as owner with a provider, or as a
// follower), the autoscaler, and the HTTP servers.

// storeFlags are the storage backends.
type storeFlags struct{ db, blobs *string }

func addStoreFlags(f *flags) storeFlags {
	return storeFlags{
		db:    f.string("db", "PICPOOL_DB", "sqlite:data/picpool.db", "database: sqlite:PATH, postgres://user@host:5432/db?sslmode=disable or mysql://user:pass@host:3306/db"),
		blobs: f.string("blobs", "PICPOOL_BLOBS", "file:data/blobs", "where image files go: file:DIR or s3://bucket/prefix (S3 honours AWS_ENDPOINT_URL and the usual AWS credentials)"),
	}
}

// poolFlags configure the cache pool.
type poolFlags struct {
	token, provider, partitioner, policy *string
	nodes, capacityMB, nodePort          *int
	settle                               *time.Duration
}

// addPoolFlags adds the pool's flags; an owner's settle default is how
// long a new table takes to reach every process that follows it.
func addPoolFlags(f *flags, owner bool, settle time.Duration) poolFlags {
	p := poolFlags{
		token: f.string("node-token", "PICPOOL_NODE_TOKEN", "", "shared secret of the cache nodes (generated when empty and the nodes are local)"),
	}
	if owner {
		p.provider = f.string("provider", "PICPOOL_PROVIDER", "local", "where nodes come from: local (served in this process on loopback), static:HOST:PORT,HOST:PORT,… (standalone picpool node processes at those addresses) or asg:GROUP (an EC2 Auto Scaling group)")
		p.nodes = f.int("nodes", "PICPOOL_NODES", 2, "nodes of a new pool (1 to 8); an existing pool keeps its size")
		p.capacityMB = f.int("capacity-mb", "PICPOOL_CAPACITY_MB", 64, "each node's capacity in MB, for a new pool (the manager changes it)")
		p.policy = f.string("policy", "PICPOOL_POLICY", cache.DefaultPolicy, fmt.Sprintf("replacement policy of a new pool, one of %v (the manager changes it)", cache.Policies()))
		p.partitioner = f.string("partitioner", "PICPOOL_PARTITIONER", partition.DefaultName, "how keys map to nodes in a new pool: rendezvous (moves ~1/N on a resize) or ece1779 (p mod N)")
		p.nodePort = f.int("node-port", "PICPOOL_NODE_PORT", scaling.DefaultNodePort, "port of every node in an Auto Scaling group")
		p.settle = f.duration("resize-settle", "PICPOOL_RESIZE_SETTLE", settle, "how long a resize waits, twice, for galleries in other processes to route by the new table (they reload it every second)")
	}
	return p
}

// system is what one process runs.
type system struct {
	log     *slog.Logger
	db      *store.DB
	lib     *store.Library
	metrics scaling.Metrics
	local   *pool.LocalProvider // when the nodes run here
	pool    *pool.Pool
	gallery *handlers.Gallery
	control *handlers.Control
	// configurer serves the test API's configure_cache: control where the
	// pool is owned, a forwarder to the owner where it is followed.
	configurer handlers.Configurer
	auto       *scaling.Autoscaler // when the autoscaler runs here
	closers    []func()
}

// close releases everything, in the reverse order of opening.
func (s *system) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func randomSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// openDB opens the database, migrations applied.
func (s *system) openDB(ctx context.Context, url string) error {
	db, err := store.Open(ctx, url, s.log)
	if err != nil {
		return err
	}
	s.db = db
	s.closers = append(s.closers, func() { db.Close() })
	return nil
}

// openStore opens the database and the blob store.
func (s *system) openStore(ctx context.Context, sf storeFlags) error {
	if err := s.openDB(ctx, *sf.db); err != nil {
		return err
	}
	blobs, err := store.OpenBlobs(ctx, *sf.blobs)
	if err != nil {
		return err
	}
	s.lib = store.NewLibrary(s.db, blobs, s.log)
	return nil
}

// openMetrics opens the metrics backend: "db" (the database) or
// "cloudwatch:NAMESPACE".
func (s *system) openMetrics(ctx context.Context, spec string) error {
	switch {
	case spec == "db":
		if s.db == nil {
			return errors.New(`--metrics db needs the database (--db)`)
		}
		s.metrics = store.NewMetrics(s.db, s.log)
	case strings.HasPrefix(spec, "cloudwatch:"):
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("metrics: AWS configuration: %w", err)
		}
		cw, err := scaling.NewCloudWatch(scaling.CloudWatchConfig{Client: cloudwatch.NewFromConfig(cfg), Namespace: strings.TrimPrefix(spec, "cloudwatch:")})
		if err != nil {
			return err
		}
		s.metrics = cw
	default:
		return fmt.Errorf("unknown metrics backend %q: use db or cloudwatch:NAMESPACE", spec)
	}
	return nil
}

// openPool builds the pool: as the owner when pf has a provider, else as
// a follower of the table in the database.
func (s *system) openPool(ctx context.Context, pf poolFlags) error {
	if *pf.token == "" {
		if pf.provider == nil || *pf.provider != "local" {
			return errors.New("--node-token (or PICPOOL_NODE_TOKEN) is required: the nodes check it")
		}
		*pf.token = randomSecret()
	}
	opts := pool.Options{Tables: s.db, Token: *pf.token, Log: s.log}
	if pf.provider != nil {
		if *pf.nodes < pool.MinNodes || *pf.nodes > pool.MaxNodes {
			return fmt.Errorf("--nodes must be from %d to %d; got %d", pool.MinNodes, pool.MaxNodes, *pf.nodes)
		}
		if *pf.capacityMB < 0 || *pf.capacityMB > handlers.MaxCacheMB {
			return fmt.Errorf("--capacity-mb must be from 0 to %d; got %d", handlers.MaxCacheMB, *pf.capacityMB)
		}
		provider, err := s.provider(ctx, *pf.provider, *pf.token, *pf.nodePort)
		if err != nil {
			return err
		}
		opts.Provider, opts.InitialNodes, opts.Partitioner, opts.Settle = provider, *pf.nodes, *pf.partitioner, *pf.settle
		opts.Config = node.Config{Capacity: int64(*pf.capacityMB) * mebibyte, Policy: *pf.policy}
		if _, ok := cache.CanonicalPolicy(*pf.policy); !ok {
			return fmt.Errorf("--policy %q: %w", *pf.policy, cache.ErrUnknownPolicy)
		}
	}
	pool, err := pool.New(ctx, opts)
	if err != nil {
		return err
	}
	s.pool = pool
	s.closers = append(s.closers, pool.Close)
	return nil
}

// provider returns the pool's node provider named by spec.
func (s *system) provider(ctx context.Context, spec, token string, nodePort int) (pool.Provider, error) {
	switch {
	case spec == "local":
		nodeOpts := node.Options{Token: token, Log: s.log}
		if s.metrics != nil {
			nodeOpts.Publisher = statsPublisher{s.metrics}
		}
		local, err := pool.NewLocalProvider(pool.LocalOptions{Node: nodeOpts})
		if err != nil {
			return nil, err
		}
		s.local = local
		s.closers = append(s.closers, func() { local.Close() })
		return local, nil
	case strings.HasPrefix(spec, "static:"):
		return pool.ParseStaticProvider(strings.TrimPrefix(spec, "static:"))
	case strings.HasPrefix(spec, "asg:"):
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("provider: AWS configuration: %w", err)
		}
		return scaling.NewASG(scaling.ASGConfig{
			AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
			Group: strings.TrimPrefix(spec, "asg:"), Port: nodePort,
		})
	}
	return nil, fmt.Errorf("unknown provider %q: use local, static:HOST:PORT,… or asg:GROUP", spec)
}

// settings returns the pool's sizing settings, the defaults until the
// manager saves some.
func (s *system) settings(ctx context.Context) (scaling.Settings, error) {
	st, ok, err := s.db.LoadSettings(ctx)
	if err != nil || !ok {
		return scaling.Settings{Mode: scaling.Manual, Policy: scaling.DefaultPolicy()}, err
	}
	return st, nil
}

// startAutoscaler builds the autoscaler; Run starts it.
func (s *system) startAutoscaler(period time.Duration) error {
	a, err := scaling.NewAutoscaler(scaling.AutoscalerConfig{
		Pool: s.pool, Metrics: s.metrics, Settings: s.settings, Period: period, Log: s.log,
	})
	if err != nil {
		return err
	}
	s.auto = a
	return nil
}

// wireHandlers builds the gallery and the control over the pool.
func (s *system) wireHandlers(limits handlers.ImageLimits) {
	s.gallery = handlers.NewGallery(imageStore{s.lib}, s.pool, limits, s.log)
	s.wireControl()
}

// wireControl builds the control over the pool and its settings.
func (s *system) wireControl() {
	s.control = handlers.NewControl(s.pool, settingsStore{s.db}, s.log)
	s.configurer = s.control
}

// apiFlags guard the state-changing routes of the test API.
type apiFlags struct {
	open  *bool
	token *string
}

func addAPIFlags(f *flags) apiFlags {
	return apiFlags{
		open:  f.bool("open-test-api", "PICPOOL_OPEN_TEST_API", false, "serve the state-changing /api routes (upload, delete_all, configure_cache) without a token even when not on loopback; on loopback it also lifts the check that requests name localhost, 127.0.0.1 or [::1] (for a reverse proxy on the same machine; it lets DNS rebinding through)"),
		token: f.string("api-token", "PICPOOL_MANAGER_API_TOKEN", "", "bearer token of the state-changing /api routes when the server is not on loopback (generated and printed when empty)"),
	}
}

// guard returns the test API's guard for a server listening on addr.
func (af apiFlags) guard(addr string) func(http.Handler) http.Handler {
	return handlers.APIGuard(*af.open || handlers.IsLoopback(addr), *af.token)
}

// protection returns the guards of a server listening on addr. A server
// whose test API is open because it is on loopback answers only requests
// addressed to loopback (against DNS rebinding, see handlers.Protection).
// --open-test-api opens the API to whoever reaches the server, a reverse
// proxy on the same machine included, so it lifts that check too.
//
// Its uploads take slots and keep the pace of hs (see handlers.Protection).
func (af apiFlags) protection(addr string, hs httpSettings, slots *handlers.UploadSlots) handlers.Protection {
	return handlers.Protection{LoopbackOnly: handlers.IsLoopback(addr) && !*af.open, Uploads: slots, Bodies: hs.pace}
}

// galleryRouter is the gallery's server: pages, images, assets, /api,
// behind prot.
func (s *system) galleryRouter(managerURL string, guard func(http.Handler) http.Handler, prot handlers.Protection) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	handlers.CommonRoutes(r)
	handlers.NewGalleryPages(s.gallery, managerURL, s.log).Routes(r)
	handlers.NewAPI(s.gallery, s.pool, s.configurer, s.log).Routes(r, guard)
	return prot.Wrap(r)
}

// managerRouter is the manager's server: login, configuration, charts,
// assets, /api, behind prot.
func (s *system) managerRouter(auth *handlers.Auth, guard func(http.Handler) http.Handler, prot handlers.Protection) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	handlers.CommonRoutes(r)
	deps := handlers.ManagerDeps{Auth: auth, Control: s.control, Pool: s.pool, Gallery: s.gallery, Stats: statsSource{s.metrics}, Log: s.log}
	if s.auto != nil {
		deps.Decisions = s.auto
	}
	handlers.NewManagerPages(deps).Routes(r)
	handlers.NewAPI(s.gallery, s.pool, s.configurer, s.log).Routes(r, guard)
	return prot.Wrap(r)
}

// localURL turns a listener's address into a URL a person can open.
func localURL(ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
