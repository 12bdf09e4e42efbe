package node

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/memproto"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

// VersionHeader carries an item's version on the node's HTTP API.
const VersionHeader = "X-Picpool-Version"

// Handler returns the node's HTTP/1.1 API:
//
//	GET    /healthz              liveness, without a token
//	GET    /v1/items/{key}       the raw value, its version in X-Picpool-Version; 404 on a miss
//	                             (?peek=1: not counted in the statistics)
//	PUT    /v1/items/{key}       raw body, X-Picpool-Version; 204 stored, 409 an equal or newer version is resident
//	DELETE /v1/items/{key}       remove; with X-Picpool-Version, also keep older versions out for a while
//	DELETE /v1/items             clear
//	POST   /v1/items             an entry stream (see entries.go), each a versioned set
//	GET    /v1/stats             Status as JSON
//	GET    /metrics              Prometheus' text format, when Options.Metrics is set
//	GET    /v1/curve             the node's miss-ratio curve (mrc.Curve) as JSON
//	PUT    /v1/config            {"capacity": bytes, "policy": name}
//	GET    /v1/partitions/{p}    the entries (and tombstones) of partitions p ("7" or "1,5,9"), ?partitioner=rendezvous|ece1779
//	DELETE /v1/partitions/{p}    drop the items of partitions p (moved away, or about to move in)
//
// Every /v1 request needs "Authorization: Bearer <token>"; without it the
// answer is 401 and nothing else.
func (n *Node) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("/v1/items/{$}", func(w http.ResponseWriter, r *http.Request) {
		httpError(w, http.StatusBadRequest, "the key is empty")
	})
	api.HandleFunc("GET /v1/items/{key}", n.httpGet)
	api.HandleFunc("PUT /v1/items/{key}", n.httpPut)
	api.HandleFunc("DELETE /v1/items/{key}", n.httpDelete)
	api.HandleFunc("DELETE /v1/items", n.httpClear)
	api.HandleFunc("POST /v1/items", n.httpImport)
	api.HandleFunc("GET /v1/stats", n.httpStats)
	api.HandleFunc("GET /v1/curve", n.httpCurve)
	api.HandleFunc("PUT /v1/config", n.httpConfig)
	api.HandleFunc("GET /v1/partitions/{p}", n.httpPartitions)
	api.HandleFunc("DELETE /v1/partitions/{p}", n.httpDropPartitions)
	if n.opts.Metrics != nil {
		api.Handle("GET /metrics", n.opts.Metrics(n))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("/", n.authorized(api))
	return mux
}

// authorized lets a request through only with the node's bearer token.
func (n *Node) authorized(next http.Handler) http.Handler {
	want := []byte("Bearer " + n.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="picpool node"`)
			httpError(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, "cache node: %s\n", msg)
}

// pathKey returns the request's {key}, or writes a 400 and returns false.
func pathKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.PathValue("key")
	if msg := nodekey.Valid(key); msg != "" {
		httpError(w, http.StatusBadRequest, msg)
		return "", false
	}
	return key, true
}

// keyAndVersion returns the request's {key} and X-Picpool-Version, or
// writes a 400 and returns false.
func keyAndVersion(w http.ResponseWriter, r *http.Request) (string, uint64, bool) {
	key, ok := pathKey(w, r)
	if !ok {
		return "", 0, false
	}
	version, ok := headerVersion(w, r)
	return key, version, ok
}

// headerVersion parses X-Picpool-Version (absent is 0), or writes a 400.
func headerVersion(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	s := r.Header.Get(VersionHeader)
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		httpError(w, http.StatusBadRequest, VersionHeader+" must be a non-negative integer")
		return 0, false
	}
	return v, true
}

func (n *Node) httpGet(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	it, hit := n.store.Get(key, r.URL.Query().Get("peek") == "1")
	if !hit {
		httpError(w, http.StatusNotFound, "miss")
		return
	}
	defer it.Value.Release()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(it.Value.B)))
	h.Set(VersionHeader, strconv.FormatUint(it.CAS, 10))
	w.Write(it.Value.B)
}

// itemLimit is the largest value this node takes now: the configured
// maximum, and never more than could fit its capacity.
func (n *Node) itemLimit(key string) int64 {
	return min(n.opts.MaxItemBytes, n.Config().Capacity-int64(len(key))-cache.ItemOverhead)
}

func (n *Node) httpPut(w http.ResponseWriter, r *http.Request) {
	key, version, ok := keyAndVersion(w, r)
	if !ok {
		return
	}
	limit := n.itemLimit(key)
	if r.ContentLength > limit {
		// Refused before the body is read.
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a value of %d bytes exceeds this node's limit of %d", r.ContentLength, max(limit, 0)))
		return
	}
	var value memproto.Value
	if r.ContentLength >= 0 {
		var err error
		if value, err = n.store.Alloc(int(r.ContentLength)); err != nil {
			httpError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		if _, err := io.ReadFull(r.Body, value.B); err != nil {
			value.Release()
			httpError(w, http.StatusBadRequest, "body shorter than its Content-Length")
			return
		}
	} else {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max(limit, 0)))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the value exceeds this node's limit of %d bytes", max(limit, 0)))
			return
		} else if err != nil {
			httpError(w, http.StatusBadRequest, "reading the body: "+err.Error())
			return
		}
		value = memproto.Value{B: body}
	}
	switch n.set(key, version, value) {
	case setStored:
		w.WriteHeader(http.StatusNoContent)
	case setStale:
		httpError(w, http.StatusConflict, "a newer version is resident; ignored")
	case setTooLarge:
		httpError(w, http.StatusRequestEntityTooLarge, "the item does not fit this node's capacity")
	}
}

func (n *Node) httpDelete(w http.ResponseWriter, r *http.Request) {
	key, version, ok := keyAndVersion(w, r)
	if !ok {
		return
	}
	n.delete(key, version)
	w.WriteHeader(http.StatusNoContent)
}

func (n *Node) httpClear(w http.ResponseWriter, r *http.Request) {
	n.clear()
	w.WriteHeader(http.StatusNoContent)
}

// ImportResult is the answer to POST /v1/items: what became of the
// entries of the stream.
type ImportResult struct {
	Stored     int `json:"stored"`
	Stale      int `json:"stale"`
	TooLarge   int `json:"too_large"`
	Tombstones int `json:"tombstones"`
}

func (n *Node) httpImport(w http.ResponseWriter, r *http.Request) {
	br := bufio.NewReaderSize(r.Body, 64<<10)
	var res ImportResult
	for i := 1; ; i++ {
		var value memproto.Value
		e, err := readEntry(br, n.opts.MaxItemBytes, func(size int) []byte {
			value, _ = n.store.Alloc(size) // EngineBackend's Alloc does not fail
			return value.B
		})
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			if msg := nodekey.Valid(e.Key); msg != "" {
				err = errors.New(msg)
			}
		}
		if err != nil {
			value.Release()
			httpError(w, http.StatusBadRequest, fmt.Sprintf("entry %d: %v", i, err))
			return
		}
		if e.Tombstone {
			n.data.KeepOut(e.Key, e.Version)
			res.Tombstones++
			continue
		}
		switch n.set(e.Key, e.Version, value) {
		case setStored:
			res.Stored++
		case setStale:
			res.Stale++
		case setTooLarge:
			res.TooLarge++
		}
	}
	writeJSON(w, res)
}

func (n *Node) httpStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, n.Status())
}

func (n *Node) httpConfig(w http.ResponseWriter, r *http.Request) {
	var cfg Config
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		httpError(w, http.StatusBadRequest, `want {"capacity": <bytes>, "policy": "<name>"}: `+err.Error())
		return
	}
	if err := n.Configure(cfg); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, n.Status())
}

// partitionsRequest parses {p} and ?partitioner=, or writes a 400.
func partitionsRequest(w http.ResponseWriter, r *http.Request) (partition.Partitioner, map[int]bool, bool) {
	pt, err := partition.New(r.URL.Query().Get("partitioner"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil, nil, false
	}
	want, err := parsePartitions(r.PathValue("p"), pt.Partitions())
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil, nil, false
	}
	return pt, want, true
}

func (n *Node) httpPartitions(w http.ResponseWriter, r *http.Request) {
	pt, want, ok := partitionsRequest(w, r)
	if !ok {
		return
	}
	n.requests.Add(1)
	w.Header().Set("Content-Type", "application/x-picpool-entries")
	bw := bufio.NewWriterSize(w, 64<<10)
	err := n.partitionEntries(pt, want, func(e Entry) error { return WriteEntry(bw, e) })
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		n.log.Warn("stream partitions", "err", err) // the client sees a cut stream
	}
}

func (n *Node) httpDropPartitions(w http.ResponseWriter, r *http.Request) {
	pt, want, ok := partitionsRequest(w, r)
	if !ok {
		return
	}
	writeJSON(w, map[string]int{"dropped": n.dropPartitions(pt, want)})
}

// parsePartitions parses "7" or "1,5,9" into a set of partitions < limit.
func parsePartitions(s string, limit int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(f)
		if err != nil || p < 0 || p >= limit {
			return nil, fmt.Errorf("partition %q is not a number in 0..%d", f, limit-1)
		}
		set[p] = true
	}
	return set, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
