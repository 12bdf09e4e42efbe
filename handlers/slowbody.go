package handlers

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/picpool/picpool/internal/bytesize"
)

// BodyPace bounds how slowly a request body may arrive, so that a client
// that stalls or trickles cannot hold the memory of a half-read upload
// (or its connection) for long. A fixed deadline for the whole body would
// cut honest uploads of the largest size on slow links; a minimum rate
// does not: a body must keep up with MinRate, and may fall behind it by
// at most Stall (so a stalled body is cut off Stall after its last bytes,
// and one that trickles slower than MinRate soon after). The zero value
// paces nothing.
type BodyPace struct {
	MinRate int64         // bytes per second a body must keep up with; 0 turns pacing off
	Stall   time.Duration // how far behind MinRate a body may fall (its longest stall)
	// ReadTimeout is the longest any request may take to arrive, from its
	// first byte: the server's ReadTimeout, which the pacing's deadlines
	// replace and must not extend. 0: none.
	ReadTimeout time.Duration
	// WriteTimeout is the time the answer gets from the last body byte
	// read: the server's WriteTimeout counts from the request's headers,
	// and a slow upload must not eat the time of its answer. 0: none.
	WriteTimeout time.Duration
}

// pace wraps every request body in a bodyPacer.
func (p BodyPace) pace(next http.Handler) http.Handler {
	if p.MinRate <= 0 || p.Stall <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = newBodyPacer(r.Body, http.NewResponseController(w), p, time.Now())
		}
		next.ServeHTTP(w, r)
	})
}

// bodyPacer reads a request body under connection read deadlines that
// follow the body's progress. It keeps a credit of time: Stall at first,
// spent as time passes, earned back at 1 s per MinRate bytes received, and
// never more than Stall (time cannot be saved up); the next read's
// deadline is when the credit runs out.
type bodyPacer struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	pace   BodyPace
	credit time.Duration
	last   time.Time // when credit was last counted
	limit  time.Time // the request's ReadTimeout, zero for none
	err    error     // sticky: a body cut off stays cut off
}

func newBodyPacer(body io.ReadCloser, rc *http.ResponseController, p BodyPace, now time.Time) *bodyPacer {
	b := &bodyPacer{body: body, rc: rc, pace: p, credit: p.Stall, last: now}
	if p.ReadTimeout > 0 {
		b.limit = now.Add(p.ReadTimeout)
	}
	return b
}

func (b *bodyPacer) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	deadline := b.last.Add(b.credit)
	if !b.limit.IsZero() && b.limit.Before(deadline) {
		deadline = b.limit
	}
	if err := b.rc.SetReadDeadline(deadline); errors.Is(err, http.ErrNotSupported) {
		return b.body.Read(p) // a writer without deadlines (a test recorder): read unpaced
	}
	n, err := b.body.Read(p)
	now := time.Now()
	b.credit = min(b.pace.Stall, b.credit-now.Sub(b.last)+time.Duration(float64(n)/float64(b.pace.MinRate)*float64(time.Second)))
	b.last = now
	if b.pace.WriteTimeout > 0 {
		b.rc.SetWriteDeadline(now.Add(b.pace.WriteTimeout))
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// The whole body is here. Lift the deadline: net/http now reads
		// the connection in the background to see the client leave, and
		// a deadline firing there would cancel the request's context.
		b.rc.SetReadDeadline(time.Time{})
	case isTimeout(err):
		err = b.tooSlow(now)
	}
	b.err = err
	return n, err
}

// tooSlow is the error of a body cut off at now: a 408 for the user.
func (b *bodyPacer) tooSlow(now time.Time) error {
	if !b.limit.IsZero() && !now.Before(b.limit) {
		return httpErrorf(http.StatusRequestTimeout, "The request took longer than %s to arrive, the server's limit, so it stopped waiting; nothing was changed. Try again on a faster connection.", b.pace.ReadTimeout)
	}
	return httpErrorf(http.StatusRequestTimeout, "The upload arrived too slowly (under %s/s for more than %s), so the server stopped waiting; nothing was changed. Try again on a faster connection.",
		bytesize.Format(b.pace.MinRate), b.pace.Stall)
}

func (b *bodyPacer) Close() error { return b.body.Close() }

// isTimeout reports whether a read failed on its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
