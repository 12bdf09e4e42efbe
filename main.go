// Command picpool is a photo gallery served through an elastic pool of
// in-memory cache nodes. One binary, several commands: see `picpool --help`.
//
// This package is the composition root and only that: one configuration
// (config.go), the parts each command runs (roles.go), and their wiring.
// The packages it wires take their dependencies as arguments.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/picpool/picpool/internal/cli"
	"github.com/picpool/picpool/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "picpool:", err)
		os.Exit(1)
	}
}

// commands are picpool's subcommands, in the order --help lists them:
// each reads the flags of its role into one Config and runs it.
func commands(getenv func(string) string, stdout io.Writer) []cli.Command {
	var c Config
	cmd := func(name, summary, synopsis string, r role, run func(ctx context.Context, c Config, r role, getenv func(string) string, stdout io.Writer) error) cli.Command {
		return cli.Command{Name: name, Summary: summary, Synopsis: synopsis,
			Flags: func(s *cli.Set) { s.Add(c.table(), r) },
			Run:   func(ctx context.Context) error { return run(ctx, c, r, getenv, stdout) }}
	}
	return []cli.Command{
		cmd("dev", "run everything in one process on embedded defaults (gallery :5000, manager :5001, local nodes)",
			"Runs the gallery, the manager, the autoscaler and a local pool of cache nodes in one\nprocess, on embedded storage (SQLite and a local folder): nothing needs installing.\nIt listens on loopback by default, so the test API's state-changing routes need no token;\non another address they need one (--api-token, or generated and printed at start).", dev, runServers),
		cmd("gallery", "serve the gallery's pages and the test API (:5000), following the pool the manager owns",
			"Serves the gallery's pages and the test API. It follows the cache pool's table\nfrom the database (the manager owns it): configure_cache is handed to the manager\nthrough the database, and answered with the manager's answer.", galleryCmd, runServers),
		cmd("manager", "serve the operator's console and the test API (:5001); owns the pool",
			"Serves the operator's console (configuration, resizing, statistics) and the test API.\nIt owns the cache pool: it starts its nodes (local), pools standalone ones (static:…) or\nsizes its Auto Scaling group (asg:GROUP). Run one manager per pool.", managerCmd, runServers),
		cmd("node", "serve one cache node (:5100, memcached's protocol on :11211)",
			"Serves one cache node: an in-memory engine behind the node's HTTP API\n(/v1/items, /v1/stats, /v1/curve, /v1/config, /v1/partitions, /metrics,\n/healthz) and its data port, which speaks memcached's text and meta protocol.", nodeCmd, runNode),
		cmd("autoscaler", "run the autoscaler on its own (resizes the pool from its miss rate)",
			"Runs the autoscaler on its own: every period it reads the pool's miss rate from the\nmetrics backend and, in automatic mode (set in the manager), resizes the pool. It owns the\npool while it runs: run it instead of `manager --autoscaler`, not beside it.", autoscalerCmd, runServers),
		cmd("loadgen", "load a server through its test API; latency and throughput tables and an HTML report",
			"Uploads images through the test API, then reads and writes them at a ratio, and prints a\ntable per request type (requests, failures, median, average, min, max, req/s) as Locust does.\nIt stops by itself after --duration. With --report it writes one HTML file with charts (it\nopens offline) and every request as CSV beside it.\n\nScenarios (a scenario's sub-runs share --duration):\n"+loadgen.ScenarioHelp()+"\nScenarios other than mix change the pool (mode, size, capacity, policy) through configure_cache\nand put mode, size, capacity and policy back at the end. Uploaded keys are named\nloadgen-NNNNNN and stay. A target that needs a token for uploads gets it from\nPICPOOL_MANAGER_API_TOKEN.", loadgenCmd, runLoadgen),
		cmd("simulate", "replay a trace (or a generated Zipf workload) through the cache engines: hit and byte hit ratios",
			"Replays a trace through the cache engines and prints, per policy and capacity,\nthe object hit ratio and the byte hit ratio. A trace file has one request a line,\n\"key size\" (size in bytes); blank lines and lines starting with # are skipped.\nEach request is a Get, and on a miss a Set of a value of that size, as a node sees it.\nSizes take B, KB, MB, GB or TB (all powers of 1024; KiB, MiB... also accepted).", simulateCmd, runSimulate),
	}
}

// run is main without the process: tests call it with their own arguments,
// environment and output, and cancel ctx to stop it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return cli.Run(ctx, "picpool: a photo gallery served through an elastic pool of in-memory cache nodes.",
		commands(getenv, stdout), args, getenv, stdout)
}
