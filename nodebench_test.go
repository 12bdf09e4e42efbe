package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/memproto"
)

// BenchmarkNodeVsMemcached compares one picpool node with memcached 1.6
// (Debian's package) on this machine, in one run: GET and SET of 100 KB
// values over loopback with 8 connections, each server in its own
// process, each driven by an equally lean client (one connection per
// goroutine, one reused read buffer, no per-request copy of the value).
// It reports ops/s, MB/s and the p50/p99 latency of each.
//
//	go tool task bench:node
func BenchmarkNodeVsMemcached(b *testing.B) {
	mc, err := exec.LookPath("memcached")
	if err != nil {
		b.Skip("memcached is not installed (apt-get install memcached): nothing to compare with")
	}
	const (
		conns     = 8
		valueSize = 100 << 10
		keys      = 64
		token     = "bench-token"
	)
	bin := buildPicpool(b)
	nodeHTTP, nodeBin, mcAddr := freePort(b), freePort(b), freePort(b)
	startProcess(b, nodeBin, bin, "node", "--addr", nodeHTTP, "--data-addr", nodeBin, "--token", token, "--capacity-mb", "1024")
	_, mcPort, _ := net.SplitHostPort(mcAddr)
	startProcess(b, mcAddr, mc, "-l", "127.0.0.1", "-p", mcPort, "-U", "0", "-m", "1024", "-u", "root")

	value := bytes.Repeat([]byte("0123456789abcdef"), valueSize/16)
	keyNames := make([]string, keys)
	for i := range keyNames {
		keyNames[i] = fmt.Sprintf("bench:%04d", i)
	}
	servers := []struct {
		name string
		dial func() (leanClient, error)
	}{
		{"picpool", func() (leanClient, error) {
			return sameClient{memproto.NewClient(nodeBin, memproto.ClientOptions{Token: token, MaxIdle: 1})}, nil
		}},
		{"memcached", func() (leanClient, error) { return dialMemcached(mcAddr) }},
	}
	for _, s := range servers {
		c, err := s.dial()
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range keyNames {
			if err := c.set(k, value); err != nil {
				b.Fatalf("%s: preload: %v", s.name, err)
			}
		}
		c.close()
	}
	for _, op := range []string{"get", "set"} {
		for _, s := range servers {
			b.Run(s.name+"/"+op, func(b *testing.B) {
				runLean(b, conns, s.dial, func(c leanClient, i int, buf []byte) error {
					k := keyNames[i%keys]
					if op == "get" {
						got, err := c.get(k, buf)
						if err == nil && len(got) != valueSize {
							err = fmt.Errorf("get %s: %d bytes, want %d", k, len(got), valueSize)
						}
						return err
					}
					return c.set(k, value)
				}, valueSize)
			})
		}
	}
}

// leanClient is what the benchmark needs of a server's client.
type leanClient interface {
	get(key string, buf []byte) ([]byte, error)
	set(key string, value []byte) error
	close()
}

// sameClient is memproto's client (mg, ms) over one connection: the pool's
// own, against either server.
type sameClient struct{ c *memproto.Client }

func (p sameClient) get(key string, buf []byte) ([]byte, error) {
	v, _, hit, err := p.c.GetInto(context.Background(), key, buf)
	if err == nil && !hit {
		err = fmt.Errorf("miss on %s", key)
	}
	return v, err
}

func (p sameClient) set(key string, value []byte) error {
	_, err := p.c.Set(context.Background(), key, 0, value)
	return err
}

func (p sameClient) close() { p.c.Close() }

// memcachedLean speaks memcached's text protocol with one reused buffer.
type memcachedLean struct {
	c    net.Conn
	br   *bufio.Reader
	line []byte
}

func dialMemcached(addr string) (*memcachedLean, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &memcachedLean{c: c, br: bufio.NewReaderSize(c, 32<<10)}, nil
}

func (m *memcachedLean) get(key string, buf []byte) ([]byte, error) {
	m.line = append(append(append(m.line[:0], "get "...), key...), "\r\n"...)
	if _, err := m.c.Write(m.line); err != nil {
		return nil, err
	}
	hdr, err := m.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	f := bytes.Fields(hdr) // VALUE <key> <flags> <bytes>
	if len(f) != 4 || string(f[0]) != "VALUE" {
		return nil, fmt.Errorf("memcached get %s: %q", key, hdr)
	}
	n, err := strconv.Atoi(string(f[3]))
	if err != nil {
		return nil, err
	}
	if cap(buf) < n+2 {
		buf = make([]byte, n+2)
	}
	buf = buf[:n+2]
	if _, err := ioReadFull(m.br, buf); err != nil {
		return nil, err
	}
	end, err := m.br.ReadSlice('\n')
	if err != nil || string(end) != "END\r\n" {
		return nil, fmt.Errorf("memcached get %s: trailer %q, %v", key, end, err)
	}
	return buf[:n], nil
}

func (m *memcachedLean) set(key string, value []byte) error {
	m.line = fmt.Appendf(m.line[:0], "set %s 0 0 %d\r\n", key, len(value))
	bufs := net.Buffers{m.line, value, []byte("\r\n")}
	if _, err := bufs.WriteTo(m.c); err != nil {
		return err
	}
	reply, err := m.br.ReadSlice('\n')
	if err != nil || string(reply) != "STORED\r\n" {
		return fmt.Errorf("memcached set %s: %q, %v", key, reply, err)
	}
	return nil
}

func (m *memcachedLean) close() { m.c.Close() }

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// runLean runs b.N operations over conns connections, one goroutine each,
// and reports (and returns) throughput, and reports latency percentiles.
func runLean(b *testing.B, conns int, dial func() (leanClient, error), op func(c leanClient, i int, buf []byte) error, valueSize int) (opsPerSec float64) {
	clients := make([]leanClient, conns)
	for i := range clients {
		c, err := dial()
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
		defer c.close()
	}
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	errs := make(chan error, conns)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g, c := range clients {
		wg.Go(func() {
			buf := make([]byte, valueSize+64)
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if err := op(c, i, buf); err != nil {
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
	opsPerSec = float64(b.N) / elapsed.Seconds()
	b.ReportMetric(opsPerSec, "ops/s")
	b.ReportMetric(float64(b.N)*float64(valueSize)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op") // wall time per op across 8 connections says little; ops/s does
	return opsPerSec
}

// startProcess starts a server and waits until addr accepts connections;
// it is stopped by PID when the benchmark ends.
func startProcess(b *testing.B, addr, name string, args ...string) {
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
			return
		}
	}
	b.Fatalf("%s did not listen on %s within 10 s:\n%s", filepath.Base(name), addr, strings.TrimSpace(out.String()))
}
