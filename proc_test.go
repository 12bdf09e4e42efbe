package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Real processes, for tests of the production layout: the picpool binary
// built once per test run, each role started as its own process.

var picpoolBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary buildPicpool built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if picpoolBinary.dir != "" {
		os.RemoveAll(picpoolBinary.dir)
	}
	os.Exit(code)
}

// buildPicpool builds this module's binary once per test run and returns
// its path.
func buildPicpool(t testing.TB) string {
	t.Helper()
	picpoolBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "picpool-bin-")
		if err != nil {
			picpoolBinary.err = err
			return
		}
		picpoolBinary.dir, picpoolBinary.path = dir, filepath.Join(dir, "picpool")
		out, err := exec.Command("go", "build", "-o", picpoolBinary.path, ".").CombinedOutput()
		if err != nil {
			picpoolBinary.err = &buildError{err, string(out)}
		}
	})
	if picpoolBinary.err != nil {
		t.Fatalf("build picpool: %v", picpoolBinary.err)
	}
	return picpoolBinary.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// proc is one picpool process that a test runs.
type proc struct {
	t    testing.TB
	name string
	args []string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startProc starts `picpool args…` and stops it when the test ends.
func startProc(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, args: args}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.out = &syncBuffer{}
	p.cmd = exec.Command(buildPicpool(p.t), p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "GOMEMLIMIT=512MiB")
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
}

// waitLog waits until the process printed a line matching re, and returns
// the first submatch (or the match).
func (p *proc) waitLog(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before printing %q:\n%s", p.name, re, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("%s did not print %q in 60 s:\n%s", p.name, re, p.out.String())
	return ""
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s to %s: %v", sig, p.name, err)
	}
}

// kill stops the process at once (SIGCONT first, in case it is frozen)
// and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Kill()
	<-p.done
}

// restart kills the process and starts it again with the same arguments.
func (p *proc) restart() {
	p.t.Helper()
	p.kill()
	p.start()
}

// freePort returns a loopback address whose port is free now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
