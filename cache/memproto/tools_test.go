package memproto

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runTool runs a Debian memcached tool with a deadline and returns its
// standard output and error together.
func runTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// asciiTest is one line of memccapable's report: "ascii set   [pass]".
var asciiTest = regexp.MustCompile(`(?m)^(ascii [a-z ]+?)\s+\[(\w+)\]`)

// TestMemccapable runs libmemcached's conformance suite, ASCII tests
// only, against a server without authentication: every test must pass.
func TestMemccapable(t *testing.T) {
	bin := needTool(t, "memccapable", "libmemcached-tools")
	addr, _ := startServer(t, Options{})
	out := runTool(t, bin, "-a", "-t", "10", "-h", "127.0.0.1", "-p", fmt.Sprint(portOf(t, addr)))
	tests := asciiTest.FindAllStringSubmatch(out, -1)
	// memccapable 1.x runs 27 ASCII tests; fewer means it stopped early.
	if len(tests) < 27 {
		t.Fatalf("memccapable reported %d ASCII tests, want 27:\n%s", len(tests), out)
	}
	for _, m := range tests {
		if m[2] != "pass" {
			t.Errorf("%s: %s", m[1], m[2])
		}
	}
	if !strings.Contains(out, "All tests passed") {
		t.Errorf("memccapable did not report all tests passed:\n%s", out)
	}
}

// TestMemcstatAndMemcdump checks that memcached's command-line tools read
// a server: memcstat its stats under memcached's names, memcdump its keys.
func TestMemcstatAndMemcdump(t *testing.T) {
	memcstat := needTool(t, "memcstat", "libmemcached-tools")
	memcdump := needTool(t, "memcdump", "libmemcached-tools")
	addr, _ := startServer(t, Options{})
	r := dialRaw(t, addr)
	if got := r.exchange("set alpha 0 0 3\r\nabc\r\nset beta 0 0 2\r\nxy\r\nget alpha nope\r\n"); !strings.HasPrefix(got, "STORED\r\nSTORED\r\nVALUE alpha") {
		t.Fatalf("setup answered %q", got)
	}
	servers := "--servers=" + addr
	stats := runTool(t, memcstat, servers)
	for _, want := range []string{"curr_items: 2", "get_hits: 1", "get_misses: 1", "limit_maxbytes: 67108864", "policy: lru", "evictions: 0"} {
		if !strings.Contains(stats, "\t"+want+"\n") {
			t.Errorf("memcstat output lacks %q:\n%s", want, stats)
		}
	}
	if !regexp.MustCompile(`(?m)^\tbytes: [1-9]\d*$`).MatchString(stats) {
		t.Errorf("memcstat reports no bytes held:\n%s", stats)
	}
	dump := strings.Fields(runTool(t, memcdump, servers))
	if strings.Join(dump, " ") != "alpha beta" && strings.Join(dump, " ") != "beta alpha" {
		t.Errorf("memcdump listed %q, want alpha and beta once each", dump)
	}
}
