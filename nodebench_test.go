package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/picpool/picpool/cache/memproto"
)

// The workload of issue 14: 100 KB values, 8 connections, 200 keys.
const (
	nodeBenchValueBytes = 100 << 10
	nodeBenchConns      = 8
	nodeBenchKeys       = 200
)

// BenchmarkNodeVsMemcached compares a `picpool node` process with Debian's
// memcached 1.6 on this machine, in one run, each server in its own
// process on loopback, driven by the same client (memproto's, the pool's:
// mg and ms over 8 pooled connections): a SET phase then a GET phase of
// 100 KB values over 200 keys, the servers taking turns. Then memcslap, a
// client that owes nothing to PicPool, runs its own SET and GET tests
// against both. It prints one table: ops/s, p50 and p99, the server's
// CPU per operation, and picpool/memcached ratios.
//
//	go tool task bench:node
func BenchmarkNodeVsMemcached(b *testing.B) {
	mc, err := exec.LookPath("memcached")
	if err != nil {
		b.Skip("memcached is not installed (apt-get install memcached): nothing to compare with")
	}
	bin := buildPicpool(b)
	nodeAddr, mcAddr := freePort(b), freePort(b)
	// Without authentication (loopback), so that memcslap reaches it too;
	// the pool's token costs one exchange per connection, not per request.
	nodePID := startProcess(b, nodeAddr, bin, "node", "--addr", freePort(b), "--data-addr", nodeAddr, "--data-auth", "none",
		"--token", "bench", "--capacity-mb", "1024")
	_, mcPort, _ := net.SplitHostPort(mcAddr)
	mcArgs := []string{"-l", "127.0.0.1", "-p", mcPort, "-U", "0", "-m", "1024"}
	if os.Geteuid() == 0 {
		mcArgs = append(mcArgs, "-u", "root") // memcached refuses to run as root otherwise
	}
	mcPID := startProcess(b, mcAddr, mc, mcArgs...)
	servers := []struct {
		name, addr string
		pid        int
	}{{"picpool", nodeAddr, nodePID}, {"memcached", mcAddr, mcPID}}

	value := bytes.Repeat([]byte("0123456789abcdef"), nodeBenchValueBytes/16)
	keys := make([]string, nodeBenchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%04d", i)
	}
	results := map[string]phaseResult{}
	for _, phase := range []string{"set", "get"} {
		for _, s := range servers {
			b.Run(s.name+"/"+phase, func(b *testing.B) {
				c := memproto.NewClient(s.addr, memproto.ClientOptions{MaxIdle: nodeBenchConns})
				defer c.Close()
				results[s.name+"/"+phase] = runNodePhase(b, c, s.pid, phase, keys, value)
			})
		}
	}
	// The pool's own sets carry versions (ms E), which memcached 1.6.18
	// refuses: what the version check costs, on the node alone.
	b.Run("picpool/set-versioned", func(b *testing.B) {
		c := memproto.NewClient(nodeAddr, memproto.ClientOptions{MaxIdle: nodeBenchConns})
		defer c.Close()
		results["picpool/set-versioned"] = runNodePhase(b, c, nodePID, "set-versioned", keys, value)
	})
	// memcslap runs once per server and test, whatever b.N: its own
	// 8 × 10000 operations.
	slap := map[string]float64{}
	if memcslap, err := exec.LookPath("memcslap"); err == nil {
		for _, test := range []string{"set", "get"} {
			for _, s := range servers {
				slap[s.name+"/"+test] = float64(8*10000) / runMemcslap(b, memcslap, s.addr, test)
			}
		}
	} else {
		fmt.Println("memcslap is not installed (apt-get install libmemcached-tools): no second client")
	}
	fmt.Print(nodeBenchTable(results, slap)) // always shown, unlike b.Log
}

// phaseResult is one server's figures for one phase.
type phaseResult struct {
	opsPerSec float64
	p50, p99  time.Duration
	cpuPerOp  time.Duration // the server process's CPU time per operation; <0 if unknown
}

// nodeBenchVersion numbers the versioned sets across runs.
var nodeBenchVersion atomic.Uint64

// runNodePhase runs b.N operations of one phase from nodeBenchConns
// goroutines over c's pooled connections, and reports what it measured.
func runNodePhase(b *testing.B, c *memproto.Client, pid int, phase string, keys []string, value []byte) phaseResult {
	ctx := context.Background()
	if phase == "get" { // every key held, so every GET is a 100 KB hit
		for _, k := range keys {
			if _, err := c.Set(ctx, k, 0, value); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu0 := processCPU(pid)
	r := measureLoad(b, nodeBenchConns, len(value), func(g, i int, buf []byte) error {
		k := keys[(g*7919+i)%len(keys)]
		switch phase {
		case "get":
			got, _, hit, err := c.GetInto(ctx, k, buf)
			if err == nil && (!hit || len(got) != len(value)) {
				err = fmt.Errorf("get %s: hit %v, %d bytes", k, hit, len(got))
			}
			return err
		case "set":
			_, err := c.Set(ctx, k, 0, value)
			return err
		}
		_, err := c.Set(ctx, k, nodeBenchVersion.Add(1), value) // rising: every set stores
		return err
	})
	r.cpuPerOp = -1
	if cpu1 := processCPU(pid); cpu0 >= 0 && cpu1 >= 0 {
		r.cpuPerOp = (cpu1 - cpu0) / time.Duration(b.N)
		b.ReportMetric(float64(r.cpuPerOp)/float64(time.Microsecond), "server-cpu-µs/op")
	}
	return r
}

// measureLoad runs b.N operations from conns goroutines, op(g, i, buf)
// being goroutine g's i-th with a buffer of valueSize bytes it reuses,
// and reports throughput and latency percentiles.
func measureLoad(b *testing.B, conns, valueSize int, op func(g, i int, buf []byte) error) phaseResult {
	lat := make([][]time.Duration, conns)
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	b.SetBytes(int64(valueSize))
	b.ResetTimer()
	start := time.Now()
	for g := range conns {
		n := b.N / conns
		if g < b.N%conns {
			n++
		}
		lat[g] = make([]time.Duration, 0, n)
		wg.Go(func() {
			buf := make([]byte, 0, valueSize)
			for i := range n {
				t0 := time.Now()
				if err := op(g, i, buf); err != nil {
					errs <- err
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := phaseResult{opsPerSec: float64(b.N) / elapsed.Seconds(), p50: all[len(all)/2], p99: all[len(all)*99/100]}
	b.ReportMetric(r.opsPerSec, "ops/s")
	b.ReportMetric(float64(r.p50)/float64(time.Microsecond), "p50-µs")
	b.ReportMetric(float64(r.p99)/float64(time.Microsecond), "p99-µs")
	b.ReportMetric(0, "ns/op") // wall time per op across the connections says little; ops/s does
	return r
}

// nodeBenchTable is the benchmark's summary: each figure of both servers
// and their ratio, with the machine's load.
func nodeBenchTable(r map[string]phaseResult, slap map[string]float64) string {
	var out strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&out, "picpool node vs memcached, %d KB values, %d connections, %d keys; load average %s\n",
		nodeBenchValueBytes>>10, nodeBenchConns, nodeBenchKeys, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tpicpool\tmemcached\tratio\ttarget\t")
	row := func(name string, pp, mc float64, unit, target string) {
		if pp <= 0 || mc <= 0 {
			return
		}
		fmt.Fprintf(tw, "%s\t%.0f %s\t%.0f %s\t%.2fx\t%s\t\n", name, pp, unit, mc, unit, pp/mc, target)
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	pg, mg, ps, ms := r["picpool/get"], r["memcached/get"], r["picpool/set"], r["memcached/set"]
	row("GET", pg.opsPerSec, mg.opsPerSec, "ops/s", "≥ 1.0")
	row("SET", ps.opsPerSec, ms.opsPerSec, "ops/s", "≥ 1.0")
	row("GET p50", us(pg.p50), us(mg.p50), "µs", "≤ 1.2")
	row("GET p99", us(pg.p99), us(mg.p99), "µs", "")
	row("SET p50", us(ps.p50), us(ms.p50), "µs", "")
	row("GET server CPU/op", us(pg.cpuPerOp), us(mg.cpuPerOp), "µs", "")
	row("SET server CPU/op", us(ps.cpuPerOp), us(ms.cpuPerOp), "µs", "")
	row("SET E<version> (pool's)", r["picpool/set-versioned"].opsPerSec, ms.opsPerSec, "ops/s", "")
	row("memcslap GET", slap["picpool/get"], slap["memcached/get"], "ops/s", "")
	row("memcslap SET", slap["picpool/set"], slap["memcached/set"], "ops/s", "")
	tw.Flush()
	return out.String()
}

// runMemcslap runs one memcslap test (its own small values, 8 threads,
// 10000 operations each) and returns the seconds it reports.
func runMemcslap(b *testing.B, bin, addr, test string) float64 {
	out, err := exec.Command(bin, "--servers="+addr, "--test="+test, "--concurrency=8", "--execute-number=10000").CombinedOutput()
	if err != nil {
		b.Fatalf("memcslap: %v\n%s", err, out)
	}
	// "Time to get  80000 keys by  8 threads:  0.560 seconds."
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "Time to "+test) && len(f) > 2 {
			if secs, err := strconv.ParseFloat(f[len(f)-2], 64); err == nil && secs > 0 {
				return secs
			}
		}
	}
	b.Fatalf("memcslap printed no %s time:\n%s", test, out)
	return 0
}

// processCPU returns the user and system CPU time a process has used,
// from /proc (Linux), or -1 when it cannot be read.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// After the command name (in parentheses, maybe with spaces), utime
	// and stime are the 12th and 13th fields, in clock ticks (USER_HZ).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * time.Second / 100
}

// startProcess starts a server, waits until addr accepts connections and
// returns its pid; it is stopped by that pid when the benchmark ends.
func startProcess(b *testing.B, addr, name string, args ...string) int {
	b.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd.Process.Pid
		}
	}
	b.Fatalf("%s did not listen on %s within 10 s:\n%s", filepath.Base(name), addr, strings.TrimSpace(out.String()))
	return 0
}
