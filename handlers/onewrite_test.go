package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// countingWriter counts the Writes that reach the connection's side.
type countingWriter struct {
	*httptest.ResponseRecorder
	writes int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.writes++
	return c.ResponseRecorder.Write(b)
}

// TestServeBytesWritesOnce: a whole body goes out in one Write; a range
// gets exactly its bytes; HEAD gets none.
func TestServeBytesWritesOnce(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10_000) // 100 KB: ServeContent's copy took 4 writes
	for _, tc := range []struct {
		method, rng string
		status      int
		want        []byte
		writes      int
	}{
		{http.MethodGet, "", http.StatusOK, body, 1},
		{http.MethodGet, "bytes=5-14", http.StatusPartialContent, body[5:15], 1},
		{http.MethodHead, "", http.StatusOK, nil, 0},
	} {
		r := httptest.NewRequest(tc.method, "/image/k", nil)
		if tc.rng != "" {
			r.Header.Set("Range", tc.rng)
		}
		w := &countingWriter{ResponseRecorder: httptest.NewRecorder()}
		serveBytes(w, r, time.Unix(1e9, 0), body)
		if w.Code != tc.status || !bytes.Equal(w.Body.Bytes(), tc.want) || w.writes != tc.writes {
			t.Errorf("%s %q: %d, %d bytes in %d writes; want %d, %d bytes in %d", tc.method, tc.rng,
				w.Code, w.Body.Len(), w.writes, tc.status, len(tc.want), tc.writes)
		}
	}
}
