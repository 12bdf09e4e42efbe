package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
)

// mebibyte is the manager's "MB": capacities are given in MB of 2^20 bytes.
const mebibyte = 1 << 20

// runNode serves one cache node: the HTTP API and the binary data path.
func runNode(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("node", "Serves one cache node: an in-memory engine behind the node's HTTP API\n"+
		"(/v1/items, /v1/stats, /v1/config, /v1/partitions, /healthz) and its binary data path.", getenv, stdout)
	addr := f.string("addr", "PICPOOL_NODE_ADDR", ":5100", "address of the node's HTTP API")
	binAddr := f.string("binary-addr", "PICPOOL_NODE_BINARY_ADDR", ":5101", `address of the binary data path ("" to serve items over HTTP only)`)
	token := f.string("token", "PICPOOL_NODE_TOKEN", "", "shared secret clients present as a bearer token (required)")
	capacityMB := f.int("capacity-mb", "PICPOOL_NODE_CAPACITY_MB", 64, "memory for cached values, in MB of 1,048,576 bytes (the manager can change it)")
	policy := f.string("policy", "PICPOOL_NODE_POLICY", cache.DefaultPolicy, fmt.Sprintf("replacement policy, one of %v (the manager can change it)", cache.Policies()))
	maxItemMB := f.int("max-item-mb", "PICPOOL_NODE_MAX_ITEM_MB", 64, "largest single value accepted, in MB")
	name := f.string("name", "PICPOOL_NODE_NAME", "", "name in published statistics (default: the HTTP address)")
	metrics := f.string("metrics", "PICPOOL_METRICS", "none", "where the node publishes its statistics every 5 s: none, db (with --db) or cloudwatch:NAMESPACE")
	db := f.string("db", "PICPOOL_DB", "", "database of the db metrics backend (see picpool manager --help)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("node: --token (or PICPOOL_NODE_TOKEN) is required: clients must present it")
	}
	if *capacityMB < 0 || *maxItemMB <= 0 {
		return errors.New("node: --capacity-mb must be 0 or more and --max-item-mb more than 0")
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	hl, err := listen(ctx, "node", *addr)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = nodeName(hl.Addr().String())
	}
	s := &system{log: log}
	defer s.close()
	var publisher node.StatsPublisher
	if *metrics != "none" {
		if *metrics == "db" {
			if *db == "" {
				hl.Close()
				return errors.New("node: --metrics db needs --db")
			}
			if err := s.openDB(ctx, *db); err != nil {
				hl.Close()
				return fmt.Errorf("node: %w", err)
			}
		}
		if err := s.openMetrics(ctx, *metrics); err != nil {
			hl.Close()
			return fmt.Errorf("node: %w", err)
		}
		publisher = statsPublisher{s.metrics}
	}
	node, err := node.New(node.Options{
		Token:        *token,
		Config:       node.Config{Capacity: int64(*capacityMB) * mebibyte, Policy: *policy},
		MaxItemBytes: int64(*maxItemMB) * mebibyte,
		Name:         *name,
		Publisher:    publisher,
		Log:          log,
		OnConfig:     gcForCapacity(getenv, log),
	})
	if err != nil {
		hl.Close()
		return fmt.Errorf("node: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if *binAddr != "" {
		bl, err := listen(ctx, "node binary path", *binAddr)
		if err != nil {
			hl.Close()
			return err
		}
		log.Info("node binary path listening", "addr", bl.Addr().String())
		wg.Go(func() {
			if err := node.ServeBinary(ctx, bl); err != nil {
				errs <- fmt.Errorf("node binary path: %w", err)
				cancel()
			}
		})
	}
	wg.Go(func() { node.Run(ctx) })
	log.Info("node listening", "url", "http://"+hl.Addr().String(), "capacity_mb", *capacityMB, "policy", *policy)
	err = serve(ctx, log, "node", hl, node.Handler(), nodeTimeouts)
	cancel()
	wg.Wait()
	close(errs)
	return errors.Join(err, <-errs)
}

// nodeTimeouts are a node's HTTP limits: no read or write timeout (a
// partition's entries stream out for as long as a warm resize takes),
// and idle connections closed after longer than the pool client keeps
// them (net/http's 90 s), so that the client, not the node, closes them
// and never sends a request down a connection the node is closing.
var nodeTimeouts = httpTimeouts{ReadHeader: 10 * time.Second, Idle: 2 * time.Minute}

// nodeName is the name a node publishes its statistics under: its
// address as the pool lists it. Listening on all interfaces, it takes the
// host's first non-loopback IPv4 address (an EC2 instance's private IP).
func nodeName(listenAddr string) string {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil || (host != "" && host != "::" && host != "0.0.0.0") {
		return listenAddr
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return net.JoinHostPort(ip.IP.String(), port)
		}
	}
	return listenAddr
}

func (f *flags) int(name, env string, def int, help string) *int {
	v := def
	if s := f.getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.errs = append(f.errs, fmt.Sprintf("%s=%q: want a whole number", env, s))
		} else {
			v = n
		}
	}
	return f.Int(name, v, help+" (env "+env+")")
}

// gcForCapacity returns a hook that caps the Go heap from the node's
// capacity. A cache node's live heap is its cached values; with GOGC alone
// a full node's heap may grow to twice its capacity before a collection.
// A memory limit of the capacity plus headroom makes the collector work
// harder instead as the heap nears it. (Turning GOGC off as well, to
// collect only at the limit, measured far slower: every new value then
// lands on fresh pages, and the page faults cost more than the
// collections saved.) The operator's GOMEMLIMIT, when set, wins.
func gcForCapacity(getenv func(string) string, log *slog.Logger) func(node.Config) {
	if getenv("GOMEMLIMIT") != "" {
		return nil
	}
	return func(cfg node.Config) {
		limit := cfg.Capacity + max(cfg.Capacity/4, 64*mebibyte) + 64*mebibyte
		debug.SetMemoryLimit(limit)
		log.Info("node memory limit set from its capacity", "capacity_mb", cfg.Capacity/mebibyte, "limit_mb", limit/mebibyte)
	}
}
