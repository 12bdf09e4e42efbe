package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while run() writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestRunHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"--help"}, env(), &out); err != nil {
		t.Fatalf("run --help: %v", err)
	}
	for _, c := range commands(env(), io.Discard) {
		if !strings.Contains(out.String(), "  "+c.Name+" ") {
			t.Errorf("--help does not list %q:\n%s", c.Name, out.String())
		}
	}
}

func TestRunCommandHelpExplainsEveryFlag(t *testing.T) {
	for _, c := range commands(env(), io.Discard) {
		t.Run(c.Name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(t.Context(), []string{c.Name, "--help"}, env(), &out); err != nil {
				t.Fatalf("run %s --help: %v", c.Name, err)
			}
			// Every flag line ("  -name type") is followed by its explanation.
			lines := strings.Split(out.String(), "\n")
			flagLine := regexp.MustCompile(`^  -[a-z]`)
			for i, l := range lines {
				if flagLine.MatchString(l) && (i+1 >= len(lines) || len(strings.TrimSpace(lines[i+1])) < 10) {
					t.Errorf("flag %q has no explanation", strings.TrimSpace(l))
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  func(string) string
		want string
	}{
		{nil, env(), "no command given"},
		{[]string{"frobnicate"}, env(), `unknown command "frobnicate"`},
		{[]string{"dev", "--no-such-flag"}, env(), "flag provided but not defined: -no-such-flag"},
		{[]string{"dev", "stray"}, env(), `dev: unexpected argument "stray"`},
		{[]string{"dev", "--gallery-addr", "256.0.0.1:99999"}, env(), "gallery: listen on 256.0.0.1:99999"},
		{[]string{"dev", "--nodes", "9"}, env(), "--nodes must be from 1 to 8; got 9"},
		{[]string{"dev", "--policy", "mru"}, env(), `--policy "mru": cache: unknown replacement policy`},
		{[]string{"dev", "--metrics", "graphite"}, env(), `unknown metrics backend "graphite"`},
		{[]string{"dev", "--db", "oracle://x"}, env(), "oracle"},
		{[]string{"manager"}, env(), "set a password with --password or PICPOOL_MANAGER_PASSWORD"},
		{[]string{"gallery", "--addr", "127.0.0.1:0"}, env(), "--node-token (or PICPOOL_NODE_TOKEN) is required"},
		{[]string{"node"}, env(), "--token (or PICPOOL_NODE_TOKEN) is required"},
		{[]string{"node", "--token", "t", "--addr", "127.0.0.1:0", "--data-addr", "", "--capacity-mb", "100", "--max-capacity-mb", "50"}, env(), "a capacity of 100 MB is more than this node can hold (at most 50 MB, from its memory)"},
		{[]string{"node", "--token", "t", "--addr", "127.0.0.1:0", "--data-auth", "none"}, env(), `only with a loopback --data-addr (127.0.0.1:PORT), not ":11211"`},
		{[]string{"node", "--token", "t", "--addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0"}, env("PICPOOL_NODE_DATA_AUTH", "open"), `data auth "open" (want token or none)`},
		{[]string{"dev", "--autoscale-period", "soon"}, env(), `invalid value "soon" for flag -autoscale-period`},
		{[]string{"dev"}, env("PICPOOL_OPEN_TEST_API", "maybe"), `PICPOOL_OPEN_TEST_API="maybe": want true or false`},
		{[]string{"dev", "--max-megapixels", "0"}, env(), "dev: --max-megapixels must be at least 1; got 0"},
		{[]string{"dev"}, env("PICPOOL_MAX_MEGAPIXELS", "-5"), "dev: --max-megapixels must be at least 1; got -5"},
		{[]string{"gallery", "--max-megapixels", "0"}, env(), "gallery: --max-megapixels must be at least 1; got 0"},
		{[]string{"manager", "--password", "pw", "--max-upload-mb", "0"}, env(), "manager: --max-upload-mb must be at least 1; got 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(t.Context(), tt.args, tt.env, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// startDev runs `picpool dev` on loopback ports, with its data in a
// temporary directory, and returns its gallery's base URL; extra flags
// come last, so they override. The process stops when the test ends.
func startDev(t testing.TB, extra ...string) (galleryURL string, stop func() error) {
	t.Helper()
	urls, stop := startCommand(t, "dev", []string{"gallery", "manager"}, append(devArgs(t), extra...)...)
	return urls["gallery"], stop
}

// devArgs are flags that keep a test's `picpool dev` to itself.
func devArgs(t testing.TB) []string {
	dir := t.TempDir()
	return []string{"--gallery-addr", "127.0.0.1:0", "--manager-addr", "127.0.0.1:0",
		"--db", "sqlite:" + dir + "/picpool.db", "--blobs", "file:" + dir + "/blobs"}
}

// devServers is a `picpool dev` that a test runs on loopback.
type devServers struct {
	gallery, manager string      // base URLs, "http://localhost:PORT"
	log              *syncBuffer // what dev printed
	stop             func() error
}

// startDevServers runs `picpool dev` (see startDev) and returns both URLs
// and its log.
func startDevServers(t testing.TB, extra ...string) devServers {
	t.Helper()
	s := launch(t, "dev", []string{"gallery", "manager"}, append(devArgs(t), extra...)...)
	return devServers{gallery: s.urls["gallery"], manager: s.urls["manager"], log: s.log, stop: s.stop}
}

// startCommand runs a picpool command through run() and waits until it
// logs the URL of each named server ("gallery listening" url=…); it
// stops when the test ends.
func startCommand(t testing.TB, command string, servers []string, args ...string) (urls map[string]string, stop func() error) {
	t.Helper()
	s := launch(t, command, servers, args...)
	return s.urls, s.stop
}

// launched is a command started by launch.
type launched struct {
	urls map[string]string
	log  *syncBuffer
	stop func() error
}

func launch(t testing.TB, command string, servers []string, args ...string) launched {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{command}, args...), env(), out) }()
	urls := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(urls) < len(servers) && time.Now().Before(deadline) {
		for _, name := range servers {
			re := regexp.MustCompile(`msg="` + name + ` listening" url=(http://[^\s]+)`)
			if m := re.FindStringSubmatch(out.String()); m != nil {
				urls[name] = m[1]
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("%s exited early: %v\n%s", command, err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(urls) < len(servers) {
		cancel()
		t.Fatalf("%s did not print its URLs in 30 s:\n%s", command, out.String())
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("%s stopped with an error: %v\n%s", command, err, out.String())
		}
	})
	return launched{urls: urls, log: out, stop: stop}
}

func TestDevServesHealthAndStops(t *testing.T) {
	base, stop := startDev(t)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("dev did not stop cleanly: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("gallery still answers after stop")
	}
}
