package handlers

import (
	"net/http"
	"strconv"
	"time"
)

// smallBody is the largest request body read without an upload slot:
// every form but the upload form is far smaller.
const smallBody = 64 << 10

// UploadSlots bounds how many uploads (request bodies larger than 64 KiB,
// or of unknown length) a process reads at once, and so the memory they
// hold: each may hold up to the largest upload until its handler returns.
// A request that finds every slot taken waits for one a short while, then
// is refused with 503 and Retry-After. One UploadSlots may guard several
// servers of a process (dev's gallery and manager share one).
type UploadSlots struct {
	slots chan struct{}
	wait  time.Duration
}

// NewUploadSlots returns room for n uploads at once (at least 1); a
// request waits up to wait for a slot.
func NewUploadSlots(n int, wait time.Duration) *UploadSlots {
	return &UploadSlots{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// Size returns how many uploads are read at once at most.
func (s *UploadSlots) Size() int { return cap(s.slots) }

// limit makes large bodies take a slot for the whole of their request.
func (s *UploadSlots) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength >= 0 && r.ContentLength <= smallBody {
			next.ServeHTTP(w, r)
			return
		}
		timer := time.NewTimer(s.wait)
		defer timer.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-timer.C:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(s.wait)))
			refuse(w, r, http.StatusServiceUnavailable, "Too many uploads are arriving at once; nothing was changed. Try again in a few seconds.")
			return
		case <-r.Context().Done():
			return // the client left while it waited
		}
		defer func() { <-s.slots }()
		next.ServeHTTP(w, r)
	})
}

// retryAfterSeconds is the Retry-After of a refusal after waiting wait:
// about as long again, at least a second.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// leaveBodyUnread makes the answer the handler is about to write, without
// reading the request's body, the connection's last. Otherwise net/http
// reads a body under 256 KiB to its end, to reuse the connection: before
// it sends the answer, and again when it closes the body, so a client
// that stalls would wait for its refusal, then hold the connection, until
// the read timeout.
func leaveBodyUnread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}
