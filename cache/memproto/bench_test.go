package memproto

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchServeEnv, when set to an address, makes the test binary serve an
// EngineBackend there instead of running tests: the benchmark starts the
// server in its own process, as memcached runs in its own.
const benchServeEnv = "MEMPROTO_BENCH_SERVE"

func TestMain(m *testing.M) {
	if addr := os.Getenv(benchServeEnv); addr != "" {
		if err := serveForBenchmark(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveForBenchmark serves a 1 GiB sizelfu EngineBackend (PicPool's
// default policy) on addr until the process is killed.
func serveForBenchmark(addr string) error {
	b, err := NewEngineBackend("sizelfu", 1<<30, EngineOptions{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return NewServer(b, Options{}).Serve(context.Background(), ln)
}

// startBenchServer runs this package's server in a child process.
func startBenchServer(b *testing.B) (addr string, pid int) {
	b.Helper()
	addr = freeAddr(b)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchServeEnv+"="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitListening(b, addr)
	return addr, cmd.Process.Pid
}

// The workload of issue 14: 100 KB values, 8 connections, 200 keys.
const (
	benchValueBytes = 100 << 10
	benchConns      = 8
	benchKeys       = 200
)

// benchResult is one server's figures for one phase.
type benchResult struct {
	opsPerSec  float64
	p50, p99   time.Duration
	cpuPerOpUS float64 // the server process's CPU time per operation; <0 if unknown
}

// BenchmarkVsMemcached compares this package's server (in its own
// process, over a sizelfu EngineBackend) with Debian's memcached 1.6,
// driven by the same Client: a SET phase then a GET phase of 100 KB
// values over 200 keys from 8 connections, the two servers taking turns.
// It reports each side's ops/s, p50, p99 and server CPU per operation,
// and logs the ratios (shown with -v).
//
//	go test -run '^$' -bench VsMemcached -benchtime 20000x -v ./cache/memproto
func BenchmarkVsMemcached(b *testing.B) {
	mcAddr := startMemcached(b, "-m", "1024")
	mcPID := pidListening(b, mcAddr)
	ppAddr, ppPID := startBenchServer(b)
	servers := []struct {
		name string
		addr string
		pid  int
	}{{"memcached", mcAddr, mcPID}, {"picpool", ppAddr, ppPID}}
	value := bytes.Repeat([]byte("0123456789abcdef"), benchValueBytes/16)
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%04d", i)
	}
	results := map[string]benchResult{}
	for _, phase := range []string{"set", "get"} {
		for _, s := range servers {
			b.Run(s.name+"/"+phase, func(b *testing.B) {
				c := NewClient(s.addr, ClientOptions{MaxIdle: benchConns})
				defer c.Close()
				results[s.name+"/"+phase] = runPhase(b, c, s.pid, phase, keys, value)
			})
		}
	}
	// PicPool's own sets carry versions (ms E), which memcached 1.6.18
	// does not take: what the version check costs, on this server alone.
	b.Run("picpool/set-versioned", func(b *testing.B) {
		c := NewClient(ppAddr, ClientOptions{MaxIdle: benchConns})
		defer c.Close()
		runPhase(b, c, ppPID, "set-versioned", keys, value)
	})
	var summary strings.Builder
	fmt.Fprintf(&summary, "picpool / memcached, %d KB values, %d connections, %d keys:\n", benchValueBytes>>10, benchConns, benchKeys)
	for _, phase := range []string{"set", "get"} {
		mc, pp := results["memcached/"+phase], results["picpool/"+phase]
		if mc.opsPerSec == 0 || pp.opsPerSec == 0 {
			continue
		}
		fmt.Fprintf(&summary, "  %s: throughput %.2fx (%.0f vs %.0f ops/s), p50 %.2fx (%v vs %v), p99 %v vs %v, server CPU/op %.1f vs %.1f µs\n",
			strings.ToUpper(phase), pp.opsPerSec/mc.opsPerSec, pp.opsPerSec, mc.opsPerSec,
			float64(pp.p50)/float64(mc.p50), pp.p50, mc.p50, pp.p99, mc.p99, pp.cpuPerOpUS, mc.cpuPerOpUS)
	}
	b.Log(summary.String())
}

// benchVersion numbers the versioned sets across runs.
var benchVersion atomic.Uint64

// runPhase runs b.N operations of one phase from benchConns goroutines,
// each on its own pooled connection, and reports what it measured.
func runPhase(b *testing.B, c *Client, pid int, phase string, keys []string, value []byte) benchResult {
	ctx := context.Background()
	if phase == "get" { // every key held, so every GET is a 100 KB hit
		for _, k := range keys {
			if _, err := c.Set(ctx, k, 0, value); err != nil {
				b.Fatal(err)
			}
		}
	}
	lat := make([][]time.Duration, benchConns)
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	cpu0 := processCPU(pid)
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	start := time.Now()
	for g := range benchConns {
		n := b.N / benchConns
		if g < b.N%benchConns {
			n++
		}
		lat[g] = make([]time.Duration, 0, n)
		wg.Go(func() {
			buf := make([]byte, 0, len(value))
			for i := range n {
				k := keys[(g*7919+i)%len(keys)]
				t0 := time.Now()
				var err error
				if phase == "get" {
					var got []byte
					var hit bool
					got, _, hit, err = c.GetInto(ctx, k, buf)
					if err == nil && (!hit || len(got) != len(value)) {
						err = fmt.Errorf("get %s: hit %v, %d bytes", k, hit, len(got))
					}
				} else {
					var version uint64
					if phase == "set-versioned" {
						version = benchVersion.Add(1) // rising: nearly every set stores
					}
					_, err = c.Set(ctx, k, version, value)
				}
				if err != nil {
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
	cpu1 := processCPU(pid)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := benchResult{opsPerSec: float64(b.N) / elapsed.Seconds(), p50: all[len(all)/2], p99: all[len(all)*99/100], cpuPerOpUS: -1}
	if cpu0 >= 0 && cpu1 >= 0 {
		r.cpuPerOpUS = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(b.N)
		b.ReportMetric(r.cpuPerOpUS, "server-cpu-µs/op")
	}
	b.ReportMetric(r.opsPerSec, "ops/s")
	b.ReportMetric(float64(r.p50)/float64(time.Microsecond), "p50-µs")
	b.ReportMetric(float64(r.p99)/float64(time.Microsecond), "p99-µs")
	return r
}

// processCPU returns the user and system CPU time a process has used, from
// /proc (Linux), or -1 when it cannot be read.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which is in parentheses and may hold
	// spaces): utime and stime are the 12th and 13th, in clock ticks.
	rest := data[bytes.LastIndexByte(data, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// pidListening returns the pid of the memcached serving addr, found by its
// command line in /proc, or -1.
func pidListening(b *testing.B, addr string) int {
	b.Helper()
	port := strconv.Itoa(portOf(b, addr))
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "memcached") && slices.Contains(args, port) {
			return pid
		}
	}
	return -1
}

// BenchmarkMemcslap runs libmemcached's memcslap, a second client that
// owes nothing to this package, against memcached and this server: SET
// then GET of its own small values, 8 threads, 10000 operations each.
//
//	go test -run '^$' -bench Memcslap -benchtime 1x ./cache/memproto
func BenchmarkMemcslap(b *testing.B) {
	bin, err := exec.LookPath("memcslap")
	if err != nil {
		b.Skip("memcslap is not installed (apt-get install libmemcached-tools)")
	}
	mcAddr := startMemcached(b, "-m", "1024")
	ppAddr, _ := startBenchServer(b)
	for _, test := range []string{"set", "get"} {
		for _, s := range []struct{ name, addr string }{{"memcached", mcAddr}, {"picpool", ppAddr}} {
			b.Run(s.name+"/"+test, func(b *testing.B) {
				for range b.N {
					secs := memcslap(b, bin, s.addr, test)
					b.ReportMetric(float64(8*10000)/secs, "ops/s")
				}
			})
		}
	}
}

// memcslap runs one memcslap test and returns the seconds it reports for
// the 8 threads' operations.
func memcslap(b *testing.B, bin, addr, test string) float64 {
	out, err := exec.Command(bin, "--servers="+addr, "--test="+test, "--concurrency=8", "--execute-number=10000").CombinedOutput()
	if err != nil {
		b.Fatalf("memcslap: %v\n%s", err, out)
	}
	// "Time to get  80000 keys by  8 threads:  0.560 seconds."
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Time to "+test) && strings.Contains(line, "threads") {
			f := strings.Fields(line)
			secs, err := strconv.ParseFloat(f[len(f)-2], 64)
			if err == nil {
				return secs
			}
		}
	}
	b.Fatalf("memcslap printed no %s time:\n%s", test, out)
	return 0
}
