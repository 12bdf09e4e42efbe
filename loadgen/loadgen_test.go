package loadgen

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRunStopsWhenNoUploadSucceeds: a server that refuses every upload
// (here a missing token) ends the run at once with its message, and the
// table still shows every failure.
func TestRunStopsWhenNoUploadSucceeds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"success":"false","error":{"code":401,"message":"This route needs the manager API token."}}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	start := time.Now()
	_, err := Run(t.Context(), Config{Target: srv.URL, Duration: time.Minute, Concurrency: 2, Ratio: Ratio{1, 1},
		Keys: 3, Sizes: Sizes{1024, 2048}, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "all 3 uploads failed, most often with status 401: This route needs the manager API token.") {
		t.Fatalf("Run = %v, want the uploads' failure", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Run took %s: it should stop at once", time.Since(start))
	}
	if !strings.Contains(out.String(), "failed 3× seed (401): This route needs the manager API token.") {
		t.Errorf("the table does not show the failures:\n%s", out.String())
	}
}
