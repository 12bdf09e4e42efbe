package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/picpool/picpool/assets"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/photo"
	"github.com/picpool/picpool/views"
)

// keysPerPage is the size of a page of the key list.
const keysPerPage = 24

// GalleryPages serves the gallery's pages and images.
type GalleryPages struct {
	gallery    *gallery.Service
	managerURL string
	log        *slog.Logger
}

// NewGalleryPages returns the gallery's page handlers; managerURL, when
// set, is linked from the home page.
func NewGalleryPages(g *gallery.Service, managerURL string, log *slog.Logger) *GalleryPages {
	return &GalleryPages{gallery: g, managerURL: managerURL, log: log}
}

// Routes mounts the pages on r; the forms that change state refuse
// cross-origin posts.
func (p *GalleryPages) Routes(r chi.Router) {
	r.Get("/", p.home)
	r.Get("/upload", p.uploadForm)
	r.With(crossOrigin).Post("/upload", p.upload)
	r.Get("/show", p.show)
	r.Get("/image/{key}", p.image)
	r.Head("/image/{key}", p.image)
	r.Get("/keys", p.keys)
}

// CommonRoutes mounts what both servers serve: assets and the health check.
func CommonRoutes(r chi.Router) {
	r.Handle(assets.Prefix+"*", assets.Handler())
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

// render writes a component with status 200, the full page or the htmx
// fragment as the request asks.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, page, fragment templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "HX-Request")
	c := page
	if fragment != nil && isHTMX(r) {
		c = fragment
	}
	// Not cancelled with the request: net/http cancels it when reading the
	// body fails (a client too slow, see bodyPacer), and that is exactly
	// when the page must still say why.
	if err := c.Render(context.WithoutCancel(r.Context()), w); err != nil {
		log.Warn("render page", "path", r.URL.Path, "err", err)
	}
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

func (p *GalleryPages) home(w http.ResponseWriter, r *http.Request) {
	m := views.Home{Nodes: p.gallery.Nodes(), ManagerURL: p.managerURL}
	if _, total, err := p.gallery.List(r.Context(), gallery.ListOptions{Limit: 1}); err == nil {
		m.Images = int64(total)
	} else {
		p.log.Warn("count images for the home page", "err", err)
	}
	render(w, r, p.log, views.HomePage(m), nil)
}

func (p *GalleryPages) uploadForm(w http.ResponseWriter, r *http.Request) {
	render(w, r, p.log, views.UploadPage(views.Upload{MaxBytes: p.gallery.MaxUpload()}), nil)
}

func (p *GalleryPages) upload(w http.ResponseWriter, r *http.Request) {
	m := views.Upload{MaxBytes: p.gallery.MaxUpload()}
	r.Body = http.MaxBytesReader(w, r.Body, p.gallery.MaxUpload()+UploadFormOverhead)
	key, data, err := readUpload(r, p.gallery.MaxUpload())
	m.Key = key
	if err == nil {
		var img gallery.Image
		img, err = p.gallery.Upload(r.Context(), key, data)
		if err == nil {
			m.Saved, m.Image = true, viewImage(img)
		}
	}
	if err != nil {
		p.formError(&m, err)
	}
	// A refused form is answered with 200: htmx swaps only 2xx.
	render(w, r, p.log, views.UploadPage(m), views.UploadResult(m))
}

// formError puts an upload's error next to its field, or in the result.
func (p *GalleryPages) formError(m *views.Upload, err error) {
	var e *gallery.Error
	switch {
	case errors.As(err, &e) && e.Field == "key":
		m.KeyError = e.Message
	case errors.As(err, &e) && e.Field == "file":
		m.FileError = e.Message
	default:
		_, m.Error = errorStatus(p.log, err)
	}
}

func viewImage(img gallery.Image) views.Image {
	return withSizes(views.Image{
		Key: img.Key, ContentType: img.ContentType, Size: img.Size, Version: img.Version, Updated: img.Updated,
		Hash: img.Hash,
	}, img.Width, img.Height)
}

// withSizes fills in the pixel sizes of an upright w×h original and of
// its renditions.
func withSizes(im views.Image, w, h int) views.Image {
	size := func(name string) views.Dimensions {
		w, h := gallery.RenditionSize(name, w, h)
		return views.Dimensions{W: w, H: h}
	}
	im.Original = views.Dimensions{W: w, H: h}
	im.Small, im.Thumb, im.Display = size(gallery.Small.Name), size(photo.Thumb.Name), size(photo.Display.Name)
	return im
}

func (p *GalleryPages) show(w http.ResponseWriter, r *http.Request) {
	m := views.Show{Key: r.URL.Query().Get("key")}
	if m.Key != "" {
		f, err := p.gallery.Fetch(r.Context(), m.Key)
		var e *gallery.Error
		switch {
		case err == nil:
			m.Found, m.CacheHit, m.Latency = true, f.Hit, f.Latency
			m.Image = withSizes(views.Image{
				Key: f.Key, ContentType: f.ContentType, Size: int64(len(f.Data)), Version: f.Version,
				Updated: f.Modified, Hash: f.Hash,
			}, f.Width, f.Height)
		case errors.As(err, &e) && e.Code == gallery.NotFound:
			// Neither found nor an error: the page says nothing is stored there.
		case errors.As(err, &e) && e.Field == "key":
			m.KeyError = e.Message
		default:
			_, m.Error = errorStatus(p.log, err)
		}
	}
	render(w, r, p.log, views.ShowPage(m), nil)
}

// pathKey returns the {key} of an image route, unescaped. chi matches on
// r.URL.RawPath when the request's path needs it (an escaped "/" or "%"),
// and on the already unescaped r.URL.Path otherwise: only the first needs
// unescaping, and unescaping the second again would turn a key "a%20b"
// into "a b".
func pathKey(r *http.Request) (string, error) {
	key := chi.URLParam(r, "key")
	if r.URL.RawPath == "" {
		return key, nil
	}
	return url.PathUnescape(key)
}

func cacheLabel(f gallery.Fetched) string {
	switch {
	case f.CacheOff:
		return "OFF"
	case f.Hit:
		return "HIT"
	}
	return "MISS"
}

func (p *GalleryPages) keys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := views.Keys{Prefix: q.Get("prefix"), Page: 1, PerPage: keysPerPage}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 1_000_000 {
		m.Page = n
	}
	items, total, err := p.gallery.List(r.Context(), gallery.ListOptions{Prefix: m.Prefix, Limit: keysPerPage, Offset: (m.Page - 1) * keysPerPage})
	if last := (total + keysPerPage - 1) / keysPerPage; err == nil && len(items) == 0 && m.Page > 1 && total > 0 {
		// A page past the end (a stale link, images deleted since): show the last one.
		m.Page = last
		items, total, err = p.gallery.List(r.Context(), gallery.ListOptions{Prefix: m.Prefix, Limit: keysPerPage, Offset: (m.Page - 1) * keysPerPage})
	}
	if err != nil {
		_, m.Error = errorStatus(p.log, err)
	}
	m.Total = total
	for _, img := range items {
		m.Items = append(m.Items, viewImage(img))
	}
	render(w, r, p.log, views.KeysPage(m), views.KeyList(m))
}
