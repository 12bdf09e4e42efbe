package handlers

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/bytesize"
)

// API is the JSON test API, served under /api on both the gallery and
// the manager. Its bodies are exact: see the issue that defines them.
type API struct {
	gallery *gallery.Service
	pool    gallery.PoolAdmin
	control gallery.Configurer
	log     *slog.Logger
}

// NewAPI returns the test API. control is the pool's gallery.Control where the
// pool is owned, a gallery.Forwarder where it is followed.
func NewAPI(g *gallery.Service, pool gallery.PoolAdmin, control gallery.Configurer, log *slog.Logger) *API {
	return &API{gallery: g, pool: pool, control: control, log: log}
}

// Routes mounts /api on r. guard protects the routes that change state
// (see APIGuard); they also refuse cross-origin browser requests.
func (a *API) Routes(r chi.Router, guard func(http.Handler) http.Handler) {
	changes := func(h http.HandlerFunc) http.Handler { return crossOrigin(guard(h)) }
	r.Route("/api", func(r chi.Router) {
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeAPIError(w, http.StatusMethodNotAllowed, "Use POST for "+r.URL.Path+".")
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeAPIError(w, http.StatusNotFound, "No such API route: "+r.URL.Path+".")
		})
		r.Method(http.MethodPost, "/upload", changes(a.upload))
		r.Post("/list_keys", a.listKeys)
		r.Post("/key/{key}", a.key)
		r.Post("/key/", func(w http.ResponseWriter, r *http.Request) {
			writeAPIError(w, http.StatusBadRequest, "Give the key in the path: /api/key/<key>.")
		})
		r.Method(http.MethodPost, "/delete_all", changes(a.deleteAll))
		r.Post("/getNumNodes", a.numNodes)
		r.Post("/getRate", a.rate)
		r.Method(http.MethodPost, "/configure_cache", changes(a.configure))
	})
}

// fail answers with the error's status and message.
func (a *API) fail(w http.ResponseWriter, err error) {
	code, msg := errorStatus(a.log, err)
	writeAPIError(w, code, msg)
}

func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, a.gallery.MaxUpload()+UploadFormOverhead)
	key, data, err := readUpload(r, a.gallery.MaxUpload())
	var img gallery.Image
	if err == nil {
		img, err = a.gallery.Upload(r.Context(), key, data)
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success string `json:"success"`
		Key     string `json:"key"`
	}{"true", img.Key}) // the key as stored: in NFC
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.gallery.Keys(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	if keys == nil {
		keys = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Success string   `json:"success"`
		Keys    []string `json:"keys"`
	}{"true", keys})
}

func (a *API) key(w http.ResponseWriter, r *http.Request) {
	key, err := pathKey(r)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "The key in the path is not properly escaped.")
		return
	}
	f, err := a.gallery.Fetch(r.Context(), key)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("X-Cache", cacheLabel(f))
	writeJSON(w, http.StatusOK, struct {
		Success string `json:"success"`
		Key     string `json:"key"`
		Content string `json:"content"`
	}{"true", f.Key, base64.StdEncoding.EncodeToString(f.Data)})
}

func (a *API) deleteAll(w http.ResponseWriter, r *http.Request) {
	if err := a.gallery.DeleteAll(r.Context()); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success string `json:"success"`
	}{"true"})
}

func (a *API) numNodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Success  string `json:"success"`
		NumNodes int    `json:"numNodes"`
	}{"true", a.pool.Nodes()})
}

func (a *API) rate(w http.ResponseWriter, r *http.Request) {
	which := strings.ToLower(strings.TrimSpace(r.FormValue("rate")))
	if which != "miss" && which != "hit" {
		msg := "Say which rate: rate=miss or rate=hit."
		if which != "" {
			msg = "Unknown rate \"" + r.FormValue("rate") + "\": use rate=miss or rate=hit."
		}
		writeAPIError(w, http.StatusBadRequest, msg)
		return
	}
	c := a.pool.Window(r.Context())
	value := 0.0
	if lookups := c.Hits + c.Misses; lookups > 0 {
		if which == "miss" {
			value = float64(c.Misses) / float64(lookups)
		} else {
			value = float64(c.Hits) / float64(lookups)
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Success string  `json:"success"`
		Rate    string  `json:"rate"`
		Value   float64 `json:"value"`
	}{"true", which, value})
}

func (a *API) configure(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		writeAPIError(w, http.StatusBadRequest, "The parameters could not be read: send them as a form, multipart form or query.")
		return
	}
	if err := gallery.CheckParams(r.Form); err != nil {
		code, msg := errorStatus(a.log, err)
		writeAPIError(w, code, msg)
		return
	}
	ch, err := gallery.ParseChange(r.Form)
	var st gallery.PoolState
	if err == nil {
		st, err = a.control.Apply(r.Context(), ch)
	} else if more, cerr := a.control.Check(r.Context(), ch); cerr == nil {
		err = append(err.(gallery.FieldErrors), more...) // name every bad parameter at once
	}
	if err != nil {
		code, msg := errorStatus(a.log, err)
		writeAPIError(w, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success   string `json:"success"`
		Mode      string `json:"mode"`
		NumNodes  int    `json:"numNodes"`
		CacheSize int64  `json:"cacheSize"`
		Policy    string `json:"policy"`
	}{"true", string(st.Settings.Mode), st.Nodes, st.Config.Capacity / bytesize.MiB, gallery.PolicyName(st.Config.Policy)})
}
