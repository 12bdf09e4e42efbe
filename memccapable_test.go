package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// memccapableASCII is one line of memccapable's report: "ascii set   [pass]".
var memccapableASCII = regexp.MustCompile(`(?m)^(ascii [a-z ]+?)\s+\[(\w+)\]`)

// TestMemccapableAgainstNode runs libmemcached's conformance suite, its
// ASCII tests, against a real `picpool node --data-auth none` process on
// loopback: every test must pass. Without memccapable it skips, saying
// so, unless CI is set: CI installs it (.ci/run), so there it fails.
func TestMemccapableAgainstNode(t *testing.T) {
	bin, err := exec.LookPath("memccapable")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("memccapable is not installed and CI is set (.ci/run installs libmemcached-tools): %v", err)
		}
		t.Skip("memccapable is not installed (apt-get install libmemcached-tools): skipping the conformance suite")
	}
	n := startProc(t, "node", "node", "--addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0", "--data-auth", "none",
		"--token", "conformance", "--capacity-mb", "64")
	addr := n.waitLog(`msg="node listening" .*data=(\S+)`)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("data address %q: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-a", "-t", "10", "-h", "127.0.0.1", "-p", port).CombinedOutput()
	if err != nil {
		t.Fatalf("memccapable -a: %v\n%s", err, out)
	}
	tests := memccapableASCII.FindAllStringSubmatch(string(out), -1)
	// memccapable 1.x runs 27 ASCII tests; fewer means it stopped early.
	if len(tests) < 27 {
		t.Fatalf("memccapable reported %d ASCII tests, want 27:\n%s", len(tests), out)
	}
	for _, m := range tests {
		if m[2] != "pass" {
			t.Errorf("%s: %s", m[1], m[2])
		}
	}
	if !strings.Contains(string(out), "All tests passed") {
		t.Errorf("memccapable did not report all tests passed:\n%s", out)
	}
}
