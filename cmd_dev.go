package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// runDev runs every role in one process on embedded defaults: what
// `go tool task dev` starts.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("dev", "Runs the gallery, the manager and a local pool of cache nodes in one process,\n"+
		"with embedded storage (SQLite and a local folder), so that nothing needs installing.", getenv, stdout)
	galleryAddr := f.string("gallery-addr", "PICPOOL_GALLERY_ADDR", ":5000", "address the gallery listens on")
	if err := f.parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	ln, err := listen(ctx, "gallery", *galleryAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	log.Info("gallery listening", "url", "http://"+ln.Addr().String())
	return serve(ctx, log, "gallery", ln, mux)
}
