package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// format is an original's container format, judged by its first bytes.
type format int

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatWebP
)

// String names the format for people.
func (f format) String() string {
	return [...]string{"unknown", "JPEG", "PNG", "GIF", "WebP"}[f]
}

// sniff judges the format by magic bytes, never by a file name.
func sniff(data []byte) format {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return formatGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP
	}
	return formatUnknown
}

// decodeConfig reads the pixel size from the header alone, so that an
// original over the pixel limit is refused before any pixel is decoded.
func decodeConfig(f format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, ErrFormat
}

// decode decodes the pixels; for a GIF, its first frame only (gif.Decode
// stops there). Lossy WebP samples are moved to the full range that Go's
// YCbCr types assume (see expandStudioRange).
func decode(f format, data []byte) (image.Image, error) {
	r := bytes.NewReader(data)
	var m image.Image
	var err error
	switch f {
	case formatJPEG:
		m, err = jpeg.Decode(r)
	case formatPNG:
		m, err = png.Decode(r)
	case formatGIF:
		m, err = gif.Decode(r)
	case formatWebP:
		m, err = webp.Decode(r)
		if err == nil {
			expandStudioRange(m)
		}
	default:
		return nil, ErrFormat
	}
	if err != nil {
		return nil, fmt.Errorf("photo: decode %s: %w", f, err)
	}
	return m, nil
}
