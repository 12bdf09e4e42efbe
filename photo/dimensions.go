package photo

import "fmt"

// Dimensions returns an image's pixel size upright, as its renditions and
// a browser showing it have it: from its header, turned by its EXIF
// orientation. It reads no pixels.
func Dimensions(data []byte) (width, height int, err error) {
	f := sniff(data)
	if f == formatUnknown {
		return 0, 0, ErrFormat
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return 0, 0, fmt.Errorf("photo: read %s header: %w", f, err)
	}
	w, h := orientedSize(cfg.Width, cfg.Height, readMeta(f, data).orientation)
	return w, h, nil
}

// Fit returns the pixel size of the rendition s of an upright w×h image:
// at most s.MaxSide on its long side, never enlarged (what Renditions
// makes).
func (s Size) Fit(w, h int) (int, int) { return fit(w, h, s.MaxSide) }
