package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// requestTimeout bounds one request, so that a run always ends.
const requestTimeout = 30 * time.Second

// client speaks the test API and times every call.
type client struct {
	base  string
	token string
	http  *http.Client
	start time.Time // samples are timed from here
}

func newClient(base *url.URL, token string, concurrency int, start time.Time) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency + 8 // workers and pollers keep their connections
	tr.MaxIdleConnsPerHost = concurrency + 8
	return &client{
		base:  base.String(),
		token: token,
		http:  &http.Client{Transport: tr, Timeout: requestTimeout},
		start: start,
	}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// apiAnswer is the part of a test API answer the generator reads.
type apiAnswer struct {
	Success   string   `json:"success"`
	Key       string   `json:"key"`
	NumNodes  *int     `json:"numNodes"`
	Value     *float64 `json:"value"`
	Mode      string   `json:"mode"`
	CacheSize *int64   `json:"cacheSize"`
	Policy    string   `json:"policy"`
	Error     struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// post sends one request and returns its sample; the answer is decoded
// when it is JSON.
func (c *client) post(ctx context.Context, typ, path, contentType string, body []byte) (Sample, apiAnswer) {
	s := Sample{Type: typ, At: time.Since(c.start)}
	var ans apiAnswer
	t0 := time.Now()
	defer func() { s.Latency = time.Since(t0) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		s.Err = err.Error()
		return s, ans
	}
	req.Header.Set("Content-Type", contentType)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		s.Err = transportError(err)
		return s, ans
	}
	defer resp.Body.Close()
	s.Status = resp.StatusCode
	s.Cache = resp.Header.Get("X-Cache")
	raw, err := io.ReadAll(resp.Body)
	s.Latency = time.Since(t0) // the whole answer, as a user waits for it
	switch {
	case err != nil:
		s.Err = "reading the answer: " + transportError(err)
	case json.Unmarshal(raw, &ans) != nil:
		s.Err = fmt.Sprintf("not a JSON answer: %q", clip(string(raw), 80))
	case resp.StatusCode != http.StatusOK || ans.Success != "true":
		s.Err = ans.Error.Message
		if s.Err == "" {
			s.Err = fmt.Sprintf("success %q without an error message", ans.Success)
		}
	}
	return s, ans
}

// transportError names a failure with no HTTP answer without the URL
// (which differs per key and would split one cause into many rows).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled (the run was interrupted)"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", requestTimeout)
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// read fetches key.
func (c *client) read(ctx context.Context, key string) Sample {
	s, ans := c.post(ctx, TypeRead, "/api/key/"+url.PathEscape(key), "application/x-www-form-urlencoded", nil)
	if s.OK() && ans.Key != key {
		s.Err = "answer names another key"
	}
	return s
}

// upload sends img under key, as type typ (seed or write).
func (c *client) upload(ctx context.Context, typ, key string, img Image) Sample {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", img.Name) // writes to a buffer do not fail
	fw.Write(img.Data)
	mw.Close()
	s, ans := c.post(ctx, typ, "/api/upload", mw.FormDataContentType(), body.Bytes())
	if s.OK() && ans.Key != key {
		s.Err = "answer names another key"
	}
	return s
}

// configure calls configure_cache with v.
func (c *client) configure(ctx context.Context, v url.Values) Sample {
	s, _ := c.post(ctx, TypeConfigure, "/api/configure_cache", "application/x-www-form-urlencoded", []byte(v.Encode()))
	if !s.OK() {
		s.Err = "configure_cache " + v.Encode() + ": " + s.Err
	}
	return s
}

// state returns the pool's configuration: configure_cache with nothing
// to change answers with it.
func (c *client) state(ctx context.Context) (Sample, apiAnswer) {
	s, ans := c.post(ctx, TypeConfigure, "/api/configure_cache", "application/x-www-form-urlencoded", nil)
	if s.OK() && (ans.NumNodes == nil || ans.CacheSize == nil) {
		s.Err = "configure_cache answered without numNodes or cacheSize"
	}
	return s, ans
}

// numNodes polls the pool's size.
func (c *client) numNodes(ctx context.Context) Sample {
	s, ans := c.post(ctx, TypeNodes, "/api/getNumNodes", "application/x-www-form-urlencoded", nil)
	if s.OK() {
		if ans.NumNodes == nil {
			s.Err = "answer without numNodes"
		} else {
			s.Value, s.HasVal = float64(*ans.NumNodes), true
		}
	}
	return s
}

// missRate polls the pool's miss rate over the last minute.
func (c *client) missRate(ctx context.Context) Sample {
	s, ans := c.post(ctx, TypeRate, "/api/getRate?rate=miss", "application/x-www-form-urlencoded", nil)
	if s.OK() {
		if ans.Value == nil {
			s.Err = "answer without value"
		} else {
			s.Value, s.HasVal = *ans.Value, true
		}
	}
	return s
}

// healthy waits up to d for GET /healthz to answer 200.
func (c *client) healthy(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = transportError(err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("loadgen: %s/healthz did not answer 200 within %s (last: %s)", c.base, d, strings.TrimSpace(last))
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
