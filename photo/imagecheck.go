package photo

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/semaphore"
)

// DefaultMaxPixels is the largest image accepted unless the server says
// otherwise: 32 megapixels. It takes every common camera's full-size
// photo (24 MP is 6000 × 4000, 30 MP is 6720 × 4480) and is beyond what a
// phone's 12–16 MP photo or a 4K screenshot (8.3 MP) needs, while one full
// decode of it stays within 128 MB for an 8-bit PNG and 768 MB for the
// costliest kind of image (see MaxDecodeBytesPerPixel).
const DefaultMaxPixels = 32_000_000

// maxFrames bounds the frames of an animation: each frame costs a
// decoder of its own, whatever its size (a 1 × 1 frame takes some 20
// bytes of file), so pixels alone do not bound the work.
const maxFrames = 10_000

// Limits bound what an upload may be and what checking it may cost.
type Limits struct {
	// MaxBytes is the largest file, in bytes. Required.
	MaxBytes int64
	// MaxPixels bounds an image's pixels: its canvas, and all its frames
	// together (every frame of an animation is decoded). 0 means
	// DefaultMaxPixels.
	MaxPixels int64
}

// Checker checks uploads: it sniffs the format, reads the pixel
// count from the headers, and decodes every frame whole, so that neither
// a damaged file nor a decompression bomb is stored. Decodes in flight
// hold at most MaxDecodeBytesPerPixel × MaxPixels bytes between them,
// however many uploads come at once: each takes from the budget what its
// headers say it costs (the semaphore serves waiters in order, so a
// costly decode is not starved by cheap ones).
type Checker struct {
	limits Limits
	memory *semaphore.Weighted
	budget int64
}

// NewChecker returns a checker of uploads within l.
func NewChecker(l Limits) *Checker {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	budget := l.MaxPixels * MaxDecodeBytesPerPixel
	return &Checker{limits: l, memory: semaphore.NewWeighted(budget), budget: budget}
}

// Limits returns the checker's limits, defaults filled in.
func (c *Checker) Limits() Limits { return c.limits }

// Check returns the content type of an upload judged by its content, or a
// *Refusal saying why it is not acceptable: Empty, TooLarge (bytes or
// pixels), NotImage (none of the four formats), Damaged (does not decode
// whole), or Busy when ctx ends while it waits its turn to decode.
func (c *Checker) Check(ctx context.Context, data []byte) (string, error) {
	f, err := sniffImage(data, c.limits.MaxBytes)
	if err != nil {
		return "", err
	}
	p, perr := f.inspect(data)
	if perr != nil {
		return "", damaged(f, p, perr)
	}
	if err := c.withinLimits(f, p); err != nil {
		return "", err
	}
	if err := c.memory.Acquire(ctx, min(p.cost, c.budget)); err != nil {
		return "", refuse(Busy, "The server is busy checking other images and this request ended while it waited. Please try again in a moment.")
	}
	defer c.memory.Release(min(p.cost, c.budget))
	for i, fr := range p.frames {
		if err := f.decode(fr.reader()); err != nil {
			return "", damaged(f, p, frameError{i, err})
		}
	}
	return f.contentType, nil
}

// withinLimits refuses, from the headers alone, an image whose decode
// would cost too much.
func (c *Checker) withinLimits(f *imageFormat, p picture) error {
	max := c.limits.MaxPixels
	canvas := int64(p.width) * int64(p.height)
	switch {
	case canvas > max:
		return refuse(TooLarge, "The image is %d × %d pixels (%s); the limit is %s. Please scale it down.",
			p.width, p.height, megapixels(canvas), megapixels(max))
	case p.count > maxFrames:
		return refuse(TooLarge, "The %s animation has %d frames; the limit is %d. Please shorten it.", f.name, p.count, maxFrames)
	case p.pixels > max:
		return refuse(TooLarge, "The %s animation's %d frames hold %s in all; the limit is %s. Please shorten it or scale it down.",
			f.name, p.count, megapixels(p.pixels), megapixels(max))
	case p.scans > maxJPEGScans:
		return refuse(TooLarge, "The JPEG image has %d scans; the limit is %d. Please save it again as a baseline or an ordinary progressive JPEG.", p.scans, maxJPEGScans)
	}
	return nil
}

// megapixels writes a pixel count in megapixels for people: "2500
// megapixels", "33.6 megapixels", "1 megapixel".
func megapixels(n int64) string {
	mp := float64(n) / 1e6
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", mp), ".0")
	if mp >= 100 {
		s = fmt.Sprintf("%.0f", mp)
	}
	if s == "1" {
		return "1 megapixel"
	}
	return s + " megapixels"
}

// frameError is a frame that does not decode.
type frameError struct {
	frame int
	err   error
}

func (e frameError) Error() string { return e.err.Error() }
func (e frameError) Unwrap() error { return e.err }

// damaged is the 415 for a file whose headers or data do not decode:
// "cut short" when the data ends before the image does, else the
// decoder's own words.
func damaged(f *imageFormat, p picture, err error) error {
	where := ""
	if fe, ok := err.(frameError); ok && p.count > 1 {
		where = fmt.Sprintf(" of frame %d of %d", fe.frame+1, p.count)
	}
	if isCutShort(err) {
		return refuse(Damaged, "The %s image is damaged: the image data%s is cut short.", f.name, where)
	}
	return refuse(Damaged, "The %s image is damaged: the image data%s does not decode (%v).", f.name, where, err)
}
