// Package assets holds the front-end files the pages load, embedded in the
// binary: htmx and Apache ECharts vendored from npm (with their licence
// notices beside them in static/), PicPool's stylesheet and its small
// scripts. Nothing is loaded from a CDN or another host.
//
// Mount Handler under /assets/ and link files with URL, which adds a
// content hash so that browsers may cache them for a year:
//
//	mux.Handle("GET /assets/", assets.Handler())
//	<script src={ assets.URL(assets.HTMX) }></script>
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Names of the files pages link to, for URL.
const (
	HTMX     = "htmx.min.js"    // htmx 2, from npm htmx.org (dist/htmx.min.js)
	ECharts  = "echarts.min.js" // Apache ECharts 5, from npm echarts (dist/echarts.min.js)
	CSS      = "picpool.css"    // PicPool's stylesheet
	SiteJS   = "site.js"        // on every page: shows failed htmx requests in the flash area
	UploadJS = "upload.js"      // upload page: progress bar, drag and drop, client-side hints
	StatsJS  = "stats.js"       // statistics page: draws the charts and applies live updates
	Favicon  = "favicon.svg"    // the tab icon: PicPool's mark
)

// Prefix is the URL path Handler is mounted at.
const Prefix = "/assets/"

//go:embed static
var static embed.FS

// file is one embedded file, ready to serve.
type file struct {
	name        string
	body        []byte
	contentType string
	hash        string        // hex SHA-256 of body: the version in URL and the ETag
	gzipped     func() []byte // body gzip-compressed, computed on first use; nil if not worth it
}

// contentTypes maps the extensions in static/ to what browsers need; a
// wrong type for a script breaks it under X-Content-Type-Options: nosniff.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
	".md":  "text/markdown; charset=utf-8",
	".svg": "image/svg+xml",
}

// files is every embedded file by name, loaded once.
var files = sync.OnceValue(func() map[string]*file {
	m := map[string]*file{}
	entries, _ := fs.ReadDir(static, "static") // an embedded directory always reads
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, _ := fs.ReadFile(static, "static/"+e.Name())
		sum := sha256.Sum256(body)
		f := &file{
			name:        e.Name(),
			body:        body,
			contentType: contentTypes[path.Ext(e.Name())],
			hash:        hex.EncodeToString(sum[:]),
		}
		if f.contentType == "" {
			f.contentType = "application/octet-stream"
		}
		if strings.HasSuffix(f.name, ".js") || strings.HasSuffix(f.name, ".css") {
			f.gzipped = sync.OnceValue(func() []byte { return compress(body) })
		}
		m[e.Name()] = f
	}
	return m
})

// compress gzips b; echarts shrinks from about 1 MB to about 330 KB.
func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(b)                                              // writes to a bytes.Buffer do not fail
	zw.Close()
	return buf.Bytes()
}

// URL returns the path a page links to for the named file, with a version
// taken from its content, so that a new build never meets a stale copy in
// a browser's cache. An unknown name gets a plain path (and a 404).
func URL(name string) string {
	if f, ok := files()[name]; ok {
		return Prefix + name + "?v=" + f.hash[:12]
	}
	return Prefix + name
}

// Content returns the bytes of the named file, for a program that inlines
// it rather than serving it (loadgen's self-contained report). The slice
// is shared: do not modify it.
func Content(name string) ([]byte, bool) {
	f, ok := files()[name]
	if !ok {
		return nil, false
	}
	return f.body, true
}

// Names returns the names of every embedded file.
func Names() []string {
	var names []string
	for n := range files() {
		names = append(names, n)
	}
	return names
}

// Handler serves the embedded files at /assets/{name} (or /{name} when the
// router strips the prefix), GET and HEAD only. A request whose ?v= matches
// the file's version is cacheable for a year (immutable); any other must
// revalidate, which the ETag makes cheap. Scripts and CSS go gzipped to
// clients that accept it.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	f, ok := files()[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if v := r.URL.Query().Get("v"); v != "" && strings.HasPrefix(f.hash, v) && len(v) >= 12 {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, `"`+f.hash[:32]+`"`
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		// Ranges of a compressed body would confuse a resuming client: send
		// the identity body when one is asked for.
		if r.Header.Get("Range") == "" && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gzipped(), `"`+f.hash[:32]+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (present and not weighted q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
