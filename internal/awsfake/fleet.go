package awsfake

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Fleet is the fixture of tests over the fake: a Server whose instances
// each serve a page, "instance <id>", over real HTTP at Port on their
// 127.0.0.x address, as a group's instances serve at their private IPs.
type Fleet struct {
	*Server
	Port int // every instance's port
}

// NewFleet starts a Fleet with cfg, whose Launch it sets: the page
// server, wrapped by wrap when it is not nil (to delay, fail or watch
// launches). The fleet closes when tb ends.
func NewFleet(tb testing.TB, cfg Config, wrap func(Launcher) Launcher) *Fleet {
	tb.Helper()
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	launch := HTTPLauncher(port, func(id string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, Page(id)) })
	})
	if wrap != nil {
		launch = wrap(launch)
	}
	cfg.Launch = launch
	s := NewServer(cfg)
	tb.Cleanup(s.Close)
	return &Fleet{Server: s, Port: port}
}

// Page is what the fleet's instance id serves.
func Page(id string) string { return "instance " + id }

// Addr is the address the instance at privateIP serves at.
func (f *Fleet) Addr(privateIP string) string {
	return net.JoinHostPort(privateIP, strconv.Itoa(f.Port))
}

// Get fetches the page served at addr (host:port), or returns the error
// of trying.
func (f *Fleet) Get(addr string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// InstanceID is the ID the fake gives its n-th launch, 1 first.
func InstanceID(n int) string { return fmt.Sprintf("i-%017x", 0xfa4e0000+n) }
