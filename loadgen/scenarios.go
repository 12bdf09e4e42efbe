package loadgen

import (
	"fmt"
	"net/url"
	"slices"
	"time"
)

// scenario is a named sequence of phases and the charts that show them.
type scenario struct {
	summary    string
	configures bool // it changes the pool's configuration (and restores it after)
	build      func(env scenarioEnv) []phase
	charts     []chartKind
}

// scenarioEnv is what a scenario is built from.
type scenarioEnv struct {
	cfg      Config
	nodes    int     // the pool's size when the run began
	dataset  int64   // bytes of every key's image together
	keySizes []int64 // bytes of each key's image, by key index
}

// Thresholds of the autoscale scenario: the miss rates it sets and draws.
const (
	AutoscaleMaxMiss    = 0.5
	AutoscaleMinMiss    = 0.2
	AutoscaleTargetMiss = 0.1 // the target rule's run
	autoscaleCacheMB    = 4   // per node: small, so that many distinct keys miss
)

var scenarios = map[string]scenario{
	"mix": {
		summary: "one run at --rw over the pool as it is configured (the default)",
		build: func(env scenarioEnv) []phase {
			return []phase{{name: "mix " + env.cfg.Ratio.String(), group: env.cfg.Ratio.String(), series: "as configured",
				ratio: env.cfg.Ratio, keys: keyDist{n: env.cfg.Keys}, duration: env.cfg.Duration}}
		},
		charts: []chartKind{chartLatencyByRequests, chartThroughputOverTime, chartHitRateOverTime},
	},
	"rw-ratios": {
		summary:    "20:80, 50:50 and 80:20 read:write, each with the cache off (none), RR and LRU: 9 sub-runs sharing --duration",
		configures: true,
		build:      buildRWRatios,
		charts:     []chartKind{chartLatencyByRequests, chartThroughputBars, chartHitRateBars},
	},
	"pool-constant": {
		summary:    "2 nodes, LRU, --rw for the whole --duration",
		configures: true,
		build:      func(env scenarioEnv) []phase { return buildPool(env, 2, 2) },
		charts:     poolCharts,
	},
	"pool-grow": {
		summary:    "2 nodes, grown to 4 halfway through --duration, LRU, --rw",
		configures: true,
		build:      func(env scenarioEnv) []phase { return buildPool(env, 2, 4) },
		charts:     poolCharts,
	},
	"pool-shrink": {
		summary:    "4 nodes, shrunk to 2 halfway through --duration, LRU, --rw",
		configures: true,
		build:      func(env scenarioEnv) []phase { return buildPool(env, 4, 2) },
		charts:     poolCharts,
	},
	"autoscale": {
		summary: fmt.Sprintf("automatic mode from 1 node of %d MB, under the target rule (miss rate %g) and then the ratios (max miss %.1f, min %.1f, ×2 / ×0.5): "+
			"each reads every key for a quarter of --duration, then a few small hot keys; needs minutes (see README)", autoscaleCacheMB, AutoscaleTargetMiss, AutoscaleMaxMiss, AutoscaleMinMiss),
		configures: true,
		build:      buildAutoscale,
		charts:     []chartKind{chartNodes, chartMissRate, chartThroughputOverTime, chartLatencyOverTime},
	},
}

var poolCharts = []chartKind{chartLatencyOverTime, chartThroughputOverTime, chartHitRateOverTime, chartNodes}

// Scenarios returns the names of the built-in scenarios.
func Scenarios() []string { return slices.Sorted(mapKeys(scenarios)) }

// ScenarioHelp is a line per scenario, for --help.
func ScenarioHelp() string {
	var s string
	for _, name := range Scenarios() {
		s += fmt.Sprintf("  %-13s %s\n", name, scenarios[name].summary)
	}
	return s
}

// cacheMB is the per-node capacity that holds share of the dataset on
// nodes nodes, in whole MB (at least 1): small enough that the policy
// decides what stays.
func cacheMB(dataset int64, share float64, nodes int) int {
	mb := int(float64(dataset)*share/float64(max(nodes, 1))/(1<<20)) + 1
	return max(mb, 1)
}

func values(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// buildRWRatios: each ratio with each policy, every cached phase starting
// cold (cacheSize=0 empties the nodes) so that no phase inherits
// another's warm cache. The pool keeps its size; manual mode keeps the
// autoscaler from resizing it mid-measurement.
func buildRWRatios(env scenarioEnv) []phase {
	size := fmt.Sprint(cacheMB(env.dataset, 0.3, env.nodes))
	ratios := []Ratio{{20, 80}, {50, 50}, {80, 20}}
	per := env.cfg.Duration / time.Duration(len(ratios)*3)
	var phases []phase
	for _, r := range ratios {
		for _, policy := range []string{"none", "RR", "LRU"} {
			ph := phase{name: r.String() + " " + policy, group: r.String(), series: policy,
				ratio: r, keys: keyDist{n: env.cfg.Keys}, duration: per,
				setup: []url.Values{values("mode", "manual", "cacheSize", "0")}}
			if policy != "none" {
				ph.setup = append(ph.setup, values("cacheSize", size, "policy", policy))
			}
			phases = append(phases, ph)
		}
	}
	return phases
}

// buildPool: from nodes from to nodes to halfway (the same if equal),
// LRU, each node holding a tenth of the dataset, starting cold.
func buildPool(env scenarioEnv, from, to int) []phase {
	ph := phase{name: fmt.Sprintf("pool %d→%d", from, to), group: "pool", series: fmt.Sprintf("%d→%d", from, to),
		ratio: env.cfg.Ratio, keys: keyDist{n: env.cfg.Keys}, duration: env.cfg.Duration, poll: true,
		setup: []url.Values{
			values("mode", "manual", "cacheSize", "0"),
			values("numNodes", fmt.Sprint(from), "cacheSize", fmt.Sprint(cacheMB(env.dataset, 0.2, 2)), "policy", "LRU"),
		}}
	if from == to {
		ph.name = fmt.Sprintf("pool %d", from)
		ph.series = fmt.Sprint(from)
	} else {
		ph.changes = []change{{after: env.cfg.Duration / 2, label: fmt.Sprintf("%d → %d nodes", from, to),
			values: values("numNodes", fmt.Sprint(to))}}
	}
	return []phase{ph}
}

// buildAutoscale: one node, a small cache and automatic mode; reads of
// every key (uniformly: nearly all miss) push the miss rate up, then reads
// of the few smallest keys that fit one node (nearly all hit) pull it
// down. It runs twice from one node, a quarter of --duration a half:
// under the target rule (AutoscaleTargetMiss, from the pool's miss-ratio
// curve), then under the ratios (the course's thresholds), so that the
// report shows both paths and miss rates on the same load, and the pool
// is left under the ratios, the default.
func buildAutoscale(env scenarioEnv) []phase {
	hot, sum := 0, int64(0)
	for hot < len(env.keySizes) && sum+env.keySizes[hot] <= autoscaleCacheMB<<20/4 {
		sum += env.keySizes[hot]
		hot++
	}
	hot = max(hot, 1)
	quarter := env.cfg.Duration / 4
	read := Ratio{1, 0}
	start := func(rule ...string) []url.Values {
		return []url.Values{
			values("mode", "manual", "numNodes", "1", "cacheSize", "0"),
			values("cacheSize", fmt.Sprint(autoscaleCacheMB), "policy", "LRU"),
			values(append([]string{"mode", "auto"}, rule...)...),
		}
	}
	var phases []phase
	for i, r := range []struct {
		name  string
		setup []url.Values
	}{
		{fmt.Sprintf("target %g", AutoscaleTargetMiss), start("rule", "target", "targetMiss", fmt.Sprint(AutoscaleTargetMiss))},
		{"ratios", start("rule", "ratios", "maxMiss", fmt.Sprint(AutoscaleMaxMiss), "minMiss", fmt.Sprint(AutoscaleMinMiss),
			"expRatio", "2", "shrinkRatio", "0.5")},
	} {
		rest := quarter
		if i == 1 {
			rest = env.cfg.Duration - 3*quarter
		}
		phases = append(phases,
			phase{name: "autoscale " + r.name + " cold", group: "autoscale", series: r.name + ": every key", ratio: read, poll: true,
				keys: keyDist{n: env.cfg.Keys, uniform: true}, duration: quarter, setup: r.setup},
			phase{name: "autoscale " + r.name + " hot", group: "autoscale", series: fmt.Sprintf("%s: %d hot keys", r.name, hot), ratio: read, poll: true,
				keys: keyDist{n: hot, uniform: true}, duration: rest})
	}
	return phases
}
