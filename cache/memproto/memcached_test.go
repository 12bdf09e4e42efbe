package memproto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startMemcached runs Debian's memcached on a free loopback port until
// the test ends and returns its address, or skips the test saying why.
// extra are more command-line arguments (-Y authfile, -m 1024…).
func startMemcached(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin := needTool(tb, "memcached", "memcached")
	addr := freeAddr(tb)
	_, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-l", "127.0.0.1", "-p", port, "-U", "0"}, extra...)
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses to run as root otherwise
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start memcached: %v", err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitListening(tb, addr)
	return addr
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits up to 10 s for addr to accept connections.
func waitListening(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("nothing listens on %s after 10 s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeAuthFile writes a memcached -Y file with one user and returns its
// path.
func writeAuthFile(tb testing.TB, user, password string) string {
	tb.Helper()
	p := tb.TempDir() + "/auth"
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%s:%s\n", user, password)), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// portOf returns the port of a host:port address.
func portOf(tb testing.TB, addr string) int {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
