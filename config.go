package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/partition"
	"github.com/picpool/picpool/cache/sim"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/internal/cli"
	"github.com/picpool/picpool/loadgen"
	"github.com/picpool/picpool/photo"
	"github.com/picpool/picpool/scaling"
)

// Config is every setting of every command. The flag table below binds
// each to its flag and PICPOOL_* variable, for the commands that take it.
type Config struct {
	GalleryAddr, ManagerAddr, NodeAddr, NodeDataAddr      string
	DB, Blobs, Metrics, Provider, Partitioner, Policy     string
	NodeToken, APIToken, Password, ManagerURL, LogLevel   string
	NodeName, DataAuth                                    string
	Nodes, CapacityMB, MaxCapacityMB, NodePort, MaxItemMB int
	MaxUploadMB, MaxMegapixels, MinRateKB, Uploads        int
	OpenTestAPI, Autoscale                                bool
	Period, Settle, ForwardWait, ReconcileEvery           time.Duration
	ReadHeader, Idle, Stall, Read, Write                  time.Duration
	Load                                                  loadgen.Config
	Sim                                                   sim.Options
}

// role is a set of commands; a flag is taken by the commands of its role.
type role = uint

const (
	dev role = 1 << iota
	galleryCmd
	managerCmd
	autoscalerCmd
	nodeCmd
	loadgenCmd
	simulateCmd

	servers = dev | galleryCmd | managerCmd
	owners  = dev | managerCmd | autoscalerCmd
	stored  = servers | autoscalerCmd
)

// table is every flag, each with the roles that take it.
func (c *Config) table() []cli.Def {
	return []cli.Def{
		cli.Of(dev, &c.GalleryAddr, "gallery-addr", "PICPOOL_GALLERY_ADDR", "127.0.0.1:5000", "address the gallery listens on"),
		cli.Of(dev, &c.ManagerAddr, "manager-addr", "PICPOOL_MANAGER_ADDR", "127.0.0.1:5001", "address the manager listens on"),
		cli.Of(galleryCmd, &c.GalleryAddr, "addr", "PICPOOL_GALLERY_ADDR", ":5000", "address the gallery listens on"),
		cli.Of(managerCmd, &c.ManagerAddr, "addr", "PICPOOL_MANAGER_ADDR", ":5001", "address the manager listens on"),
		cli.Of(nodeCmd, &c.NodeAddr, "addr", "PICPOOL_NODE_ADDR", ":5100", "address of the node's HTTP API"),
		cli.Of(nodeCmd, &c.NodeDataAddr, "data-addr", "PICPOOL_NODE_DATA_ADDR", ":11211", `address of the data port, which speaks memcached's text and meta protocol ("" to serve items over HTTP only)`),
		cli.Of(nodeCmd, &c.DataAuth, "data-auth", "PICPOOL_NODE_DATA_AUTH", "token", "token: a connection to the data port authenticates first, as memcached -Y asks (a set whose data is \"<user> <token>\"); none: it does not, so memcached's own tools work (refused unless --data-addr is a loopback address)"),
		cli.Of(stored, &c.DB, "db", "PICPOOL_DB", "sqlite:data/picpool.db", "database: sqlite:PATH, postgres://user@host:5432/db?sslmode=disable or mysql://user:pass@host:3306/db"),
		cli.Of(nodeCmd, &c.DB, "db", "PICPOOL_DB", "", "database of the db metrics backend (see picpool manager --help)"),
		cli.Of(stored, &c.Blobs, "blobs", "PICPOOL_BLOBS", "file:data/blobs", "where image files go: file:DIR or s3://bucket/prefix (S3 honours AWS_ENDPOINT_URL and the usual AWS credentials)"),
		cli.Of(owners, &c.Metrics, "metrics", "PICPOOL_METRICS", "db", "metrics backend: db (samples in the database) or cloudwatch:NAMESPACE"),
		cli.Of(nodeCmd, &c.Metrics, "metrics", "PICPOOL_METRICS", "none", "where the node publishes its statistics every 5 s: none, db (with --db) or cloudwatch:NAMESPACE"),
		cli.Of(stored, &c.NodeToken, "node-token", "PICPOOL_NODE_TOKEN", "", "shared secret of the cache nodes (generated when empty and the nodes are local)"),
		cli.Of(nodeCmd, &c.NodeToken, "token", "PICPOOL_NODE_TOKEN", "", "shared secret clients present as a bearer token (required)"),
		cli.Of(owners, &c.Provider, "provider", "PICPOOL_PROVIDER", "local", "where nodes come from: local (served in this process on loopback), static:HOST:PORT,HOST:PORT,… (standalone picpool node processes at those addresses) or asg:GROUP (an EC2 Auto Scaling group)"),
		cli.OfRange(owners, &c.Nodes, "nodes", "PICPOOL_NODES", 2, scaling.MinNodes, scaling.MaxNodes, "nodes of a new pool (1 to 8); an existing pool keeps its size"),
		cli.OfRange(owners, &c.CapacityMB, "capacity-mb", "PICPOOL_CAPACITY_MB", 64, 0, gallery.MaxCacheMB, "each node's capacity in MB, for a new pool (the manager changes it)"),
		cli.OfMin(nodeCmd, &c.CapacityMB, "capacity-mb", "PICPOOL_NODE_CAPACITY_MB", 64, 0, "memory for cached values, in MB of 1,048,576 bytes (the manager can change it)"),
		cli.Of(owners, &c.Policy, "policy", "PICPOOL_POLICY", cache.DefaultPolicy, fmt.Sprintf("replacement policy of a new pool, one of %v (the manager changes it)", cache.Policies())),
		cli.Of(nodeCmd, &c.Policy, "policy", "PICPOOL_NODE_POLICY", cache.DefaultPolicy, fmt.Sprintf("replacement policy, one of %v (the manager can change it)", cache.Policies())),
		cli.OfMin(nodeCmd, &c.MaxCapacityMB, "max-capacity-mb", "PICPOOL_NODE_MAX_CAPACITY_MB", 0, 0, "most capacity the node accepts, in MB (0: what fits in the machine's or the cgroup's memory, with room for the process); more is refused with a message"),
		cli.OfMin(nodeCmd, &c.MaxItemMB, "max-item-mb", "PICPOOL_NODE_MAX_ITEM_MB", 64, 1, "largest single value accepted, in MB"),
		cli.Of(nodeCmd, &c.NodeName, "name", "PICPOOL_NODE_NAME", "", "name in published statistics (default: the HTTP address)"),
		cli.Of(owners, &c.Partitioner, "partitioner", "PICPOOL_PARTITIONER", partition.DefaultName, "how keys map to nodes in a new pool: rendezvous (moves ~1/N on a resize) or ece1779 (p mod N)"),
		cli.Of(owners, &c.NodePort, "node-port", "PICPOOL_NODE_PORT", scaling.DefaultNodePort, "port of every node in an Auto Scaling group"),
		cli.OfMin(owners, &c.ReconcileEvery, "reconcile-every", "PICPOOL_RECONCILE_EVERY", 30*time.Second, time.Second, "with asg:GROUP, how often the pool checks its table against the group: nodes the group terminated are replaced, instances the pool does not use are removed"),
		cli.Of(dev, &c.Settle, "resize-settle", "PICPOOL_RESIZE_SETTLE", 100*time.Millisecond, "how long a resize waits, twice, for processes that follow the pool to route by the new table (none do in dev)"),
		cli.Of(managerCmd|autoscalerCmd, &c.Settle, "resize-settle", "PICPOOL_RESIZE_SETTLE", 2*time.Second, "how long a resize waits, twice, for galleries in other processes to route by the new table (they reload it every second)"),
		cli.Of(servers, &c.OpenTestAPI, "open-test-api", "PICPOOL_OPEN_TEST_API", false, "serve the state-changing /api routes (upload, delete_all, configure_cache) without a token even when not on loopback; on loopback it also lifts the check that requests name localhost, 127.0.0.1 or [::1] (for a reverse proxy on the same machine; it lets DNS rebinding through)"),
		cli.Of(servers, &c.APIToken, "api-token", "PICPOOL_MANAGER_API_TOKEN", "", "bearer token of the state-changing /api routes when the server is not on loopback (generated and printed when empty)"),
		cli.Of(dev, &c.Password, "manager-password", "PICPOOL_MANAGER_PASSWORD", "", "the manager's password (generated and printed when empty)"),
		cli.Of(managerCmd, &c.Password, "password", "PICPOOL_MANAGER_PASSWORD", "", "the manager's password (required)"),
		cli.Of(galleryCmd, &c.ManagerURL, "manager-url", "PICPOOL_MANAGER_URL", "", "the manager's URL, linked from the home page (optional)"),
		cli.Of(galleryCmd, &c.ForwardWait, "forward-wait", "PICPOOL_FORWARD_WAIT", 60*time.Second, "how long configure_cache on this gallery waits for the manager's answer (a resize that starts machines takes minutes); after that it answers 504, and the manager still completes the change"),
		cli.Of(managerCmd, &c.Autoscale, "autoscaler", "PICPOOL_AUTOSCALER", false, "run the autoscaler in this process"),
		cli.Of(dev|managerCmd, &c.Period, "autoscale-period", "PICPOOL_AUTOSCALE_PERIOD", 60*time.Second, "how often the autoscaler decides, in automatic mode"),
		cli.Of(autoscalerCmd, &c.Period, "period", "PICPOOL_AUTOSCALE_PERIOD", 60*time.Second, "how often the autoscaler decides"),
		cli.OfMin(servers, &c.MaxUploadMB, "max-upload-mb", "PICPOOL_MAX_UPLOAD_MB", 10, 1, "largest image accepted, in MB"),
		cli.OfMin(servers, &c.MaxMegapixels, "max-megapixels", "PICPOOL_MAX_MEGAPIXELS", photo.DefaultMaxPixels/1_000_000, 1, fmt.Sprintf("largest image accepted, in megapixels: its canvas, and every frame of an animation together; larger ones are refused (413) before they are decoded. Decodes in flight hold at most %d bytes a pixel of it between them (%d MB at the default)", photo.MaxDecodeBytesPerPixel, photo.MaxDecodeBytesPerPixel*photo.DefaultMaxPixels/1_000_000)),
		cli.OfMin(servers, &c.ReadHeader, "read-header-timeout", "PICPOOL_READ_HEADER_TIMEOUT", 10*time.Second, time.Millisecond, "how long a request's headers may take to arrive"),
		cli.OfMin(servers, &c.Idle, "idle-timeout", "PICPOOL_IDLE_TIMEOUT", 60*time.Second, time.Millisecond, "how long a keep-alive connection may wait for its next request before the server closes it"),
		cli.OfMin(servers, &c.MinRateKB, "min-transfer-rate-kb", "PICPOOL_MIN_TRANSFER_RATE_KB", 16, 1, "slowest a request body (an upload) may arrive, in KiB/s: one that falls --stall-timeout behind this rate is answered 408. The read and write timeouts are derived from it"),
		cli.OfMin(servers, &c.Stall, "stall-timeout", "PICPOOL_STALL_TIMEOUT", 15*time.Second, time.Millisecond, "how far a request body may fall behind --min-transfer-rate-kb, so its longest pause, before it is answered 408"),
		cli.OfMin(servers, &c.Read, "read-timeout", "PICPOOL_READ_TIMEOUT", 0, 0, "the longest a request may take to arrive, headers and body; 0 derives it: --read-header-timeout + --stall-timeout + the largest upload at --min-transfer-rate-kb (12m9s with the defaults)"),
		cli.OfMin(servers, &c.Write, "write-timeout", "PICPOOL_WRITE_TIMEOUT", 0, 0, "the longest an answer may take to send, from the end of its request; 0 derives it: --stall-timeout + the largest answer (an image in base64) at --min-transfer-rate-kb (14m28s with the defaults)"),
		cli.OfMin(servers, &c.Uploads, "concurrent-uploads", "PICPOOL_CONCURRENT_UPLOADS", 8, 1, "uploads (bodies over 64 KiB) read at once, each holding up to --max-upload-mb of memory until it is stored; more wait up to 5s for their turn, then get 503 with Retry-After"),
		cli.Of(stored|nodeCmd, &c.LogLevel, "log-level", "PICPOOL_LOG_LEVEL", "info", "debug, info, warn or error"),
		cli.Of(loadgenCmd, &c.Load.Target, "target", "PICPOOL_LOADGEN_TARGET", "http://127.0.0.1:5000", "base URL of the gallery, manager or dev to load"),
		cli.Of(loadgenCmd, &c.Load.Duration, "duration", "PICPOOL_LOADGEN_DURATION", 60*time.Second, "how long the whole run lasts (a scenario splits it among its sub-runs)"),
		cli.Of(loadgenCmd, &c.Load.Concurrency, "concurrency", "PICPOOL_LOADGEN_CONCURRENCY", 16, "requests in flight at once (workers)"),
		cli.OfText(loadgenCmd, &c.Load.Ratio, "rw", "PICPOOL_LOADGEN_RW", "80:20", "reads:writes, e.g. 80:20 (rw-ratios and autoscale set their own)"),
		cli.Of(loadgenCmd, &c.Load.Keys, "keys", "PICPOOL_LOADGEN_KEYS", 500, "distinct keys uploaded first, then read and written (Zipf-distributed)"),
		cli.OfText(loadgenCmd, &c.Load.Sizes, "sizes", "PICPOOL_LOADGEN_SIZES", "10KB-1MB", "sizes of the generated images, MIN-MAX or one size (B, KB, MB; KB=1024 B)"),
		cli.Of(loadgenCmd, &c.Load.ImagesDir, "images", "PICPOOL_LOADGEN_IMAGES", "", "folder of images to upload instead of generated noise (PNG, JPEG, GIF, WebP)"),
		cli.Of(loadgenCmd, &c.Load.Scenario, "scenario", "PICPOOL_LOADGEN_SCENARIO", "mix", "which scenario to run (listed above)"),
		cli.Of(loadgenCmd, &c.Load.Report, "report", "PICPOOL_LOADGEN_REPORT", "", "write the HTML report here (e.g. out.html; the CSV goes beside it as out.csv)"),
		cli.Of(loadgenCmd, &c.Load.AllowRemote, "allow-remote", "PICPOOL_LOADGEN_ALLOW_REMOTE", false, "allow a --target that is not on loopback (it is loaded hard and reconfigured)"),
		cli.Of(simulateCmd, &c.Sim.Trace, "trace", "", "", `trace file to replay ("-" for standard input); or use --generate`),
		cli.Of(simulateCmd, &c.Sim.Generate, "generate", "", "", `"zipf": replay a generated trace instead (see --objects, --requests, --zipf-s, --min-size, --max-size, --seed)`),
		cli.Of(simulateCmd, &c.Sim.Write, "write", "", "", "with --generate: also write the generated trace to this file, to replay it later with --trace"),
		cli.OfText(simulateCmd, (*bytesize.List)(&c.Sim.Capacities), "capacity", "", "256MB", "cache capacity, or several separated by commas (256MB,1GB): each is simulated"),
		cli.OfText(simulateCmd, (*cli.List)(&c.Sim.Policies), "policies", "", strings.Join(cache.Policies(), ","), "policies to compare, separated by commas"),
		cli.Of(simulateCmd, &c.Sim.Warmup, "warmup", "", "20%", "requests at the start that fill the cache and are not counted: a number, or a percentage of the trace"),
		cli.Of(simulateCmd, &c.Sim.Zipf.Objects, "objects", "", 200_000, "--generate: distinct images"),
		cli.Of(simulateCmd, &c.Sim.Zipf.Requests, "requests", "", 2_000_000, "--generate: requests in the trace"),
		cli.Of(simulateCmd, &c.Sim.Zipf.S, "zipf-s", "", 1.01, "--generate: Zipf exponent of popularity (above 1; higher is more skewed)"),
		cli.OfText(simulateCmd, (*bytesize.Size)(&c.Sim.Zipf.MinSize), "min-size", "", "10KB", "--generate: smallest image (sizes are log-uniform between min and max)"),
		cli.OfText(simulateCmd, (*bytesize.Size)(&c.Sim.Zipf.MaxSize), "max-size", "", "1MB", "--generate: largest image"),
		cli.Of(simulateCmd, &c.Sim.Zipf.Seed, "seed", "", 1, "--generate: random seed (the same seed gives the same trace)"),
	}
}
