package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/picpool/picpool/gallery"
)

// Access says who may use a server's state-changing test API routes
// (upload, delete_all, configure_cache).
type Access struct {
	// Addr is where the server listens. On loopback the routes are open,
	// and the server answers only requests addressed to loopback (against
	// DNS rebinding, see loopbackOnly).
	Addr string
	// Open opens the routes to whoever reaches the server, with no token
	// (--open-test-api); on loopback it also lifts the loopback check, for
	// a reverse proxy on the same machine.
	Open bool
	// Token is the bearer token the routes need otherwise.
	Token string
}

// Guard is the test API's guard of the state-changing routes.
func (a Access) Guard() func(http.Handler) http.Handler {
	return APIGuard(a.Open || IsLoopback(a.Addr), a.Token)
}

// NeedsToken reports whether the routes need a token, and none was given.
func (a Access) NeedsToken() bool { return !a.Open && !IsLoopback(a.Addr) && a.Token == "" }

// WithToken returns a with a token when it needs one and has none: a
// fresh one, printed to out for the operator.
func (a Access) WithToken(out io.Writer) Access {
	if a.NeedsToken() {
		a.Token = rand.Text()
		fmt.Fprintf(out, "The test API's state-changing routes need \"Authorization: Bearer %s\" (set PICPOOL_MANAGER_API_TOKEN to choose it).\n", a.Token)
	}
	return a
}

// Limits are a server's connection limits. Idle keep-alive connections
// are closed; request bodies must keep up a minimum rate rather than meet
// a fixed deadline, so that the largest upload still works on a slow link
// while a stalled one is cut off in seconds; and only so many uploads are
// read at once, which bounds the memory they hold.
type Limits struct {
	ReadHeader time.Duration // a request's headers
	Idle       time.Duration // a keep-alive connection waiting for its next request
	MinRate    int64         // bytes per second a body must keep up with
	Stall      time.Duration // how far behind MinRate a body may fall
	// Read and Write bound a whole request, and an answer from the end of
	// its headers; 0 derives them from MaxUpload at MinRate (see Derive).
	Read, Write time.Duration
	MaxUpload   int64        // the largest upload, in bytes
	Uploads     *UploadSlots // shared by the servers of one process
}

// uploadQueueWait is how long an upload waits for a slot before a 503.
const uploadQueueWait = 5 * time.Second

// NewUploadSlotsFor returns room for n uploads at once, each waiting up to
// uploadQueueWait for its turn.
func NewUploadSlotsFor(n int) *UploadSlots { return NewUploadSlots(n, uploadQueueWait) }

// Derive fills in the read and write timeouts left at 0: the largest
// request (the largest upload and its form) and the largest answer (that
// image in base64, as /api/key sends it) at the minimum rate, plus one
// stall and, for the request, its headers. The caller checked the rest.
func (l Limits) Derive() (Limits, error) {
	if l.MinRate <= 0 {
		return l, fmt.Errorf("handlers: a minimum transfer rate of %d bytes/s", l.MinRate)
	}
	at := func(bytes int64) time.Duration {
		return (time.Duration(bytes) * time.Second / time.Duration(l.MinRate)).Round(time.Second)
	}
	if l.Read == 0 {
		l.Read = l.ReadHeader + l.Stall + at(l.MaxUpload+UploadFormOverhead)
	}
	if l.Write == 0 {
		l.Write = l.Stall + at(int64(base64.StdEncoding.EncodedLen(int(l.MaxUpload)))+1<<10)
	}
	return l, nil
}

// Protection is the guards of a whole server with access a and limits l.
func (l Limits) Protection(a Access) Protection {
	return Protection{
		LoopbackOnly: IsLoopback(a.Addr) && !a.Open,
		Uploads:      l.Uploads,
		Bodies:       BodyPace{MinRate: l.MinRate, Stall: l.Stall, ReadTimeout: l.Read, WriteTimeout: l.Write},
	}
}

// GalleryServer is what the gallery's server is built from.
type GalleryServer struct {
	Gallery    *gallery.Service
	Pool       gallery.PoolAdmin
	Configurer gallery.Configurer              // the pool's Control where it is owned, a Forwarder where it is followed
	ManagerURL string                          // linked from the home page; optional
	Guard      func(http.Handler) http.Handler // of the state-changing /api routes: Access.Guard
	Protection Protection                      // of the whole server: Limits.Protection
	Log        *slog.Logger
}

// Handler returns the gallery's server: pages, images, assets and /api,
// behind its guards.
func (s GalleryServer) Handler() http.Handler {
	r := chi.NewRouter()
	metrics := newServerMetrics(s.Pool, nil)
	r.Use(middleware.Recoverer, metrics.instrument)
	CommonRoutes(r)
	metrics.routes(r, s.Guard)
	NewGalleryPages(s.Gallery, s.ManagerURL, s.Log).Routes(r)
	NewAPI(s.Gallery, s.Pool, s.Configurer, s.Log).Routes(r, s.Guard)
	return s.Protection.Wrap(r)
}

// ManagerServer is what the manager's server is built from: its pages,
// and the test API's parts and guards, as the gallery's.
type ManagerServer struct {
	Pages ManagerDeps
	API   GalleryServer
}

// Handler returns the manager's server: login, configuration, charts,
// assets and /api, behind its guards.
func (s ManagerServer) Handler() http.Handler {
	r := chi.NewRouter()
	metrics := newServerMetrics(s.API.Pool, s.Pages.Decisions)
	r.Use(middleware.Recoverer, metrics.instrument)
	CommonRoutes(r)
	metrics.routes(r, s.API.Guard)
	NewManagerPages(s.Pages).Routes(r)
	NewAPI(s.API.Gallery, s.API.Pool, s.API.Configurer, s.Pages.Log).Routes(r, s.API.Guard)
	return s.API.Protection.Wrap(r)
}

// shutdownGrace is how long in-flight requests get to finish after a stop
// is asked for.
const shutdownGrace = 10 * time.Second

// Serve serves h on ln with limits l until ctx is done, then shuts down
// gracefully; what names the server in errors.
func Serve(ctx context.Context, log *slog.Logger, what string, ln net.Listener, h http.Handler, l Limits) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
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

// LocalURL turns a listener's address into a URL a person can open.
func LocalURL(ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
