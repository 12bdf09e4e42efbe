package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server runs a node on its listeners: the HTTP API, the data port
// (memcached's protocol, when Data is set) and the stats loop. The node command and the local
// provider both run nodes through it.
type Server struct {
	Node *Node
	HTTP net.Listener
	Data net.Listener // the data port; nil: items are served over HTTP only

	srv    *http.Server
	cancel context.CancelFunc
	done   sync.WaitGroup
	errs   chan error
}

// Start serves the node until Stop.
func (s *Server) Start() {
	// No read or write timeout: a partition's entries stream out for as
	// long as a warm resize takes. Idle connections are closed after
	// longer than the pool's client keeps them (net/http's 90 s), so that
	// the client, not the node, closes them and never sends a request down
	// a connection the node is closing.
	s.srv = &http.Server{Handler: s.Node.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.errs = cancel, make(chan error, 2)
	s.done.Go(func() {
		if err := s.srv.Serve(s.HTTP); !errors.Is(err, http.ErrServerClosed) {
			s.errs <- fmt.Errorf("node HTTP API: %w", err)
		}
	})
	if s.Data != nil {
		s.done.Go(func() {
			if err := s.Node.ServeData(ctx, s.Data); err != nil {
				s.errs <- fmt.Errorf("node data path: %w", err)
			}
		})
	}
	s.done.Go(func() { s.Node.Run(ctx) })
}

// Stop gives requests in flight grace to finish, then closes every
// connection (0: at once, as a crash would) and waits for everything the
// server runs. It returns the failures of the listeners, if any.
func (s *Server) Stop(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if grace <= 0 || s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	s.cancel()
	s.done.Wait()
	close(s.errs)
	var errs []error
	for err := range s.errs {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Name is the name a node listening on listenAddr publishes its
// statistics under: its address as the pool lists it. Listening on all
// interfaces, it takes the host's first non-loopback IPv4 address (an EC2
// instance's private IP).
func Name(listenAddr string) string {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil || (host != "" && host != "::" && host != "0.0.0.0") {
		return listenAddr
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return net.JoinHostPort(ip.IP.String(), port)
		}
	}
	return listenAddr
}

// Serve runs a node with opts on httpAddr (its HTTP API) and dataAddr
// (its data port, memcached's protocol; "" for none) until ctx is done, then gives
// requests in flight grace to finish. A node without a Name is named
// after its HTTP address (see Name), and one without a MaxCapacity takes
// what fits in its host's memory (see HostMaxCapacity). It returns once
// everything stopped.
func Serve(ctx context.Context, httpAddr, dataAddr string, opts Options, grace time.Duration) error {
	if err := CheckDataAuth(dataAddr, opts.DataAuth); err != nil {
		return err
	}
	var lc net.ListenConfig
	hl, err := lc.Listen(ctx, "tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("node: listen on %s: %w", httpAddr, err)
	}
	defer hl.Close()
	s := &Server{HTTP: hl}
	if dataAddr != "" {
		if s.Data, err = lc.Listen(ctx, "tcp", dataAddr); err != nil {
			return fmt.Errorf("node: listen on %s: %w", dataAddr, err)
		}
		defer s.Data.Close()
	}
	if opts.Name == "" {
		opts.Name = Name(hl.Addr().String())
	}
	if opts.MaxCapacity == 0 {
		if opts.MaxCapacity, err = HostMaxCapacity(); err != nil {
			return fmt.Errorf("node: find the memory a node may fill (or set its largest capacity): %w", err)
		}
	}
	if s.Node, err = New(opts); err != nil {
		return err
	}
	s.Start()
	if opts.Log != nil {
		if s.Data != nil {
			dataAddr = s.Data.Addr().String()
		}
		opts.Log.Info("node listening", "url", "http://"+hl.Addr().String(), "data", dataAddr, "data_auth", cmp.Or(opts.DataAuth, DataAuthToken), "capacity_mb", s.Node.Config().Capacity>>20, "max_capacity_mb", opts.MaxCapacity>>20, "policy", s.Node.Config().Policy)
	}
	<-ctx.Done()
	return s.Stop(grace)
}
