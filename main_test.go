package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
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
	for _, c := range commands() {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("--help does not list %q:\n%s", c.name, out.String())
		}
	}
}

func TestRunCommandHelpExplainsEveryFlag(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(t.Context(), []string{c.name, "--help"}, env(), &out); err != nil {
				t.Fatalf("run %s --help: %v", c.name, err)
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

// devServers is a `picpool dev` that a test runs on loopback.
type devServers struct {
	gallery, manager string      // base URLs, "http://localhost:PORT"
	log              *syncBuffer // what dev printed
	stop             func() error
}

// startDevServers runs `picpool dev` with both servers on loopback ports
// chosen by the system and its database and blobs in a temporary
// directory (never the working directory's data/), and waits until both
// servers listen. It stops when the test ends. The extra flags come last,
// so they win.
func startDevServers(t *testing.T, extra ...string) devServers {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	d := devServers{log: &syncBuffer{}}
	done := make(chan error, 1)
	args := append([]string{"dev", "--gallery-addr", "127.0.0.1:0", "--manager-addr", "127.0.0.1:0",
		"--db", "sqlite:" + filepath.Join(dir, "picpool.db"), "--blobs", "file:" + filepath.Join(dir, "blobs")}, extra...)
	go func() { done <- run(ctx, args, env(), d.log) }()
	re := regexp.MustCompile(`msg="(gallery|manager) listening" url=(http://[^\s]+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && (d.gallery == "" || d.manager == "") {
		for _, m := range re.FindAllStringSubmatch(d.log.String(), -1) {
			if m[1] == "gallery" {
				d.gallery = m[2]
			} else {
				d.manager = m[2]
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("dev exited early: %v\n%s", err, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if d.gallery == "" || d.manager == "" {
		cancel()
		t.Fatalf("dev did not print both URLs in 20 s:\n%s", d.log.String())
	}
	var once sync.Once
	var runErr error
	d.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = d.stop() })
	return d
}

// startDev runs `picpool dev` (see startDevServers) and returns its
// gallery's base URL.
func startDev(t *testing.T, extra ...string) (galleryURL string, stop func() error) {
	t.Helper()
	d := startDevServers(t, extra...)
	return d.gallery, d.stop
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
