package photo

import (
	"errors"
	"fmt"
	"slices"
)

// Size names a rendition and bounds it.
type Size struct {
	// Name identifies the rendition to the caller, e.g. in a cache key.
	Name string
	// MaxSide is the most pixels on the rendition's long side.
	MaxSide int
}

// The renditions the gallery's pages use.
var (
	// Thumb fills a 160 px grid cell at twice the pixel density.
	Thumb = Size{Name: "thumb", MaxSide: 320}
	// Display is the size of the Show page.
	Display = Size{Name: "display", MaxSide: 1600}
)

// Options set what Renditions makes and how much work it takes on.
type Options struct {
	// MaxPixels is the largest original, in pixels (width × height), that
	// is decoded; a larger one fails with ErrTooLarge before its pixels are
	// read. Required: decoding costs about 4 bytes of memory per pixel.
	MaxPixels int64
	// Sizes are the renditions to make, in the order returned. Default
	// (nil): Display, then Thumb.
	Sizes []Size
	// Quality is the JPEG quality, 1 to 100. Default (0): DefaultQuality.
	Quality int
}

// Rendition is one encoded rendition of an original.
type Rendition struct {
	Size Size
	// Data is the encoded image.
	Data []byte
	// ContentType is "image/jpeg", or "image/png" for an image with
	// transparency.
	ContentType string
	// Width and Height are the rendition's pixel size, upright.
	Width, Height int
}

// validate checks opts and fills in its defaults.
func (o Options) validate() (Options, error) {
	if o.MaxPixels <= 0 {
		return o, errors.New("photo: Options.MaxPixels must be positive")
	}
	if o.Sizes == nil {
		o.Sizes = []Size{Display, Thumb}
	}
	for i, s := range o.Sizes {
		if s.MaxSide <= 0 {
			return o, fmt.Errorf("photo: size %q: MaxSide must be positive", s.Name)
		}
		if slices.ContainsFunc(o.Sizes[:i], func(t Size) bool { return t.Name == s.Name }) {
			return o, fmt.Errorf("photo: size %q is asked for twice", s.Name)
		}
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if o.Quality < 1 || o.Quality > 100 {
		return o, fmt.Errorf("photo: Options.Quality %d is not between 1 and 100", o.Quality)
	}
	return o, nil
}

// Renditions makes the renditions opts.Sizes asks for from the original's
// bytes. The original is decoded once; each rendition is resampled from
// the next larger one already made (a 1600 px display size is a good
// source for a 320 px thumbnail, with a sixth of the 12 MP original's
// pixels to read), upright, and encoded.
func Renditions(original []byte, opts Options) ([]Rendition, error) {
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	f := sniff(original)
	if f == formatUnknown {
		return nil, ErrFormat
	}
	cfg, err := decodeConfig(f, original)
	if err != nil {
		return nil, fmt.Errorf("photo: read %s header: %w", f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("photo: the %s header gives no size: %w", f, ErrFormat)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > opts.MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d is %d pixels, the limit is %d; scale the image down before uploading it",
			ErrTooLarge, cfg.Width, cfg.Height, px, opts.MaxPixels)
	}
	md := readMeta(f, original)
	img, err := decode(f, original)
	if err != nil {
		return nil, err
	}
	stored := toRaster(img)
	uw, uh := orientedSize(stored.w, stored.h, md.orientation)

	// Largest first, so each can be made from the one before it.
	order := make([]int, len(opts.Sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return opts.Sizes[b].MaxSide - opts.Sizes[a].MaxSide })

	out := make([]Rendition, len(opts.Sizes))
	var prev *raster // the last rendition made, already upright
	for _, i := range order {
		s := opts.Sizes[i]
		w, h := fit(uw, uh, s.MaxSide)
		var r raster
		if prev != nil {
			r = resize(*prev, w, h)
		} else {
			sw, sh := orientedSize(w, h, md.orientation) // the same size, as stored
			r = orient(resize(stored, sw, sh), md.orientation)
		}
		prev = &r
		data, ct, err := encode(r, md.icc, opts.Quality)
		if err != nil {
			return nil, err
		}
		out[i] = Rendition{Size: s, Data: data, ContentType: ct, Width: r.w, Height: r.h}
	}
	return out, nil
}

// fit is the size of a w×h image scaled to at most maxSide on its long
// side, keeping its aspect ratio; an image already small enough keeps its
// size (renditions are never enlarged). No side is less than 1 pixel.
func fit(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}
