package awsfake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FreePort returns a TCP port that no socket uses on any IPv4 address at
// the time of the call, so that every instance of a fake can listen on it
// at its own 127.0.0.x address, as every node of a real group listens on
// the same port at its own private IP.
func FreePort() (int, error) {
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		return 0, fmt.Errorf("awsfake: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// HTTPLauncher returns a Launcher that serves handler over HTTP on each
// instance's privateIP:port, and shuts the server down when the instance
// terminates. handler(instanceID) builds the instance's handler, so that
// tests can tell instances apart.
func HTTPLauncher(port int, handler func(instanceID string) http.Handler) Launcher {
	return func(ctx context.Context, instanceID, privateIP string) (func(), error) {
		addr := net.JoinHostPort(privateIP, strconv.Itoa(port))
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("awsfake: launch %s: %w", instanceID, err)
		}
		srv := &http.Server{Handler: handler(instanceID), ReadHeaderTimeout: 10 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Serve returns ErrServerClosed after Shutdown; any other error
			// leaves the instance unreachable, as a crashed server would,
			// which is what clients must cope with anyway.
			_ = srv.Serve(l)
		}()
		return func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close() // connections that would not finish: cut them
			}
			<-done
		}, nil
	}
}
