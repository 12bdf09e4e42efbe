package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long in-flight requests get to finish after a stop
// is asked for.
const shutdownGrace = 10 * time.Second

// listen opens addr before anything is served, so that a port in use is an
// error at start and tests can pass ":0" and read the port back.
func listen(ctx context.Context, what, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", what, addr, err)
	}
	return ln, nil
}

// httpTimeouts bound each phase of a connection (see http.Server); zero
// is no bound.
type httpTimeouts struct {
	ReadHeader time.Duration // a request's headers
	Read       time.Duration // a whole request, headers and body
	Write      time.Duration // an answer, from the end of the request's headers
	Idle       time.Duration // a keep-alive connection waiting for its next request
}

// serve serves h on ln until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, log *slog.Logger, what string, ln net.Listener, h http.Handler, to httpTimeouts) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("%s: %w", what, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", what, err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
