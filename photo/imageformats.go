package photo

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/webp"
)

// imageFormat is one format the gallery takes: its content type, its name
// for people, how to read what its headers promise, and how to decode one
// frame.
type imageFormat struct {
	contentType, name string
	inspect           func(data []byte) (picture, error)
	decode            func(r io.Reader) error
}

// imageFormats are the formats the gallery takes.
var imageFormats = []*imageFormat{
	{"image/png", "PNG", inspectPNG, decodeWith(png.Decode)},
	{"image/jpeg", "JPEG", inspectJPEG, decodeWith(jpeg.Decode)},
	{"image/gif", "GIF", inspectGIF, decodeWith(gif.Decode)},
	{"image/webp", "WebP", inspectWebP, decodeWith(webp.Decode)},
}

// picture is what an image's headers say, read before any pixel is
// decoded.
type picture struct {
	width, height int     // the canvas
	count         int     // frames in the file
	frames        []frame // the first maxFrames+1 of them
	pixels        int64   // of all frames together
	cost          int64   // bytes the costliest frame's decode may allocate
	scans         int     // a JPEG's scans (0 for other formats)
}

// frame is one frame as a file its format's decoder takes alone, in
// pieces: slices of the upload and the few bytes that make them a file.
type frame [][]byte

func (f frame) reader() io.Reader {
	if len(f) == 1 {
		return bytes.NewReader(f[0])
	}
	rs := make([]io.Reader, len(f))
	for i, b := range f {
		rs[i] = bytes.NewReader(b)
	}
	return io.MultiReader(rs...)
}

// add counts a frame of w × h pixels, keeping it while there are at most
// maxFrames+1: more are refused whatever they are.
func (p *picture) add(f frame, w, h int) {
	p.count++
	if len(p.frames) <= maxFrames {
		p.frames = append(p.frames, f)
	}
	p.pixels += int64(w) * int64(h)
}

// still is the picture of a one-frame image of w × h pixels whose decode
// costs bytesPerPixel a pixel of an area padded to a multiple of block.
func still(data []byte, w, h int, bytesPerPixel float64, block int) picture {
	p := picture{width: w, height: h, cost: decodeCost(w, h, bytesPerPixel, block)}
	p.add(frame{data}, w, h)
	return p
}

// Decode costs, from reading the decoders (Go 1.26, x/image v0.47) and
// checked against their allocations by TestDecodeCostBoundsAllocations.
const (
	// decodeOverhead is what a decode allocates beside its pixels:
	// readers, Huffman and LZW tables, rows being unfiltered.
	decodeOverhead = 256 << 10
	// MaxDecodeBytesPerPixel is the most a decode costs a pixel, that of
	// a progressive four-component JPEG: 64 int32 coefficients per 8 × 8
	// block of each component (16 bytes a pixel) kept across scans,
	// beside the planes decoded (4) and the CMYK image made of them (4).
	// Decodes in flight share a budget of this many bytes a pixel of the
	// pixel limit.
	MaxDecodeBytesPerPixel = 24
)

// decodeCost is what decoding a w × h frame allocates at most.
func decodeCost(w, h int, bytesPerPixel float64, block int) int64 {
	pw, ph := (w+block-1)/block*block, (h+block-1)/block*block
	return int64(float64(pw)*float64(ph)*bytesPerPixel) + decodeOverhead
}

func decodeWith(decode func(io.Reader) (image.Image, error)) func(io.Reader) error {
	return func(r io.Reader) error {
		_, err := decode(r)
		return err
	}
}

func inspectPNG(data []byte) (picture, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return picture{}, err
	}
	bpp := float64(modelBytes(cfg.ColorModel))
	// An interlaced (Adam7) image is decoded pass by pass into images of
	// their own, then merged into the whole one: twice the pixels.
	if len(data) > 28 && data[28] == 1 {
		bpp *= 2
	}
	return still(data, cfg.Width, cfg.Height, bpp, 1), nil
}

// modelBytes is the bytes a pixel of a decoded image of model takes.
func modelBytes(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

func inspectJPEG(data []byte) (picture, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return picture{}, err
	}
	progressive, scans := jpegScans(data)
	// Planes of 1 byte a pixel and component (padded to whole blocks of
	// up to 32 × 32 pixels), an RGBA or CMYK image made of three or four
	// of them, and a progressive image's coefficients, 4 bytes a pixel and
	// component.
	var components, image float64
	switch cfg.ColorModel {
	case color.GrayModel:
		components, image = 1, 1
	case color.CMYKModel:
		components, image = 4, 4+4
	default:
		components, image = 3, 3+4
	}
	if progressive {
		image += 4 * components
	}
	p := still(data, cfg.Width, cfg.Height, image, 32)
	p.scans = scans
	return p, nil
}

// maxJPEGScans bounds a JPEG's scans: each goes over the whole image, so
// a file of many tiny scans is a bomb of work rather than of memory. An
// encoder's progressive JPEG has about 10 (libjpeg's default script).
const maxJPEGScans = 100

// jpegScans walks a JPEG's markers and says whether its frame is
// progressive and how many scans it has. It is lenient: whether the file
// decodes is the decoder's call, so on anything unexpected it counts
// what it has seen.
func jpegScans(data []byte) (progressive bool, scans int) {
	for i := 2; i+1 < len(data); {
		if data[i] != 0xff {
			i++ // entropy-coded data, or junk
			continue
		}
		switch m := data[i+1]; {
		case m == 0xff:
			i++ // fill byte
		case m == 0x00 || m == 0x01 || m == 0xd8 || 0xd0 <= m && m <= 0xd7:
			i += 2 // stuffed 0xff, TEM, SOI, restart: no length follows
		case m == 0xd9:
			return progressive, scans // EOI
		default:
			if i+4 > len(data) {
				return progressive, scans
			}
			switch m {
			case 0xc2:
				progressive = true
			case 0xda:
				scans++
			}
			i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
		}
	}
	return progressive, scans
}

// errCutShort is a file that ends before its image does.
var errCutShort = errors.New("the data ends before the image does")

// isCutShort reports whether a decode failed for want of data. The image
// decoders of the standard library and x/image say so with
// io.ErrUnexpectedEOF or io.EOF, wrapped or only in words, or in words of
// their own (TestCheckImageRefusesDamaged holds each decoder to them).
func isCutShort(err error) bool {
	if errors.Is(err, errCutShort) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	msg := err.Error()
	return strings.HasSuffix(msg, "EOF") ||
		strings.HasSuffix(msg, "not enough pixel data") || // png: the IDAT chunks end early
		strings.HasSuffix(msg, "not enough image data") || // gif: a frame's LZW data ends early
		strings.HasSuffix(msg, "short Huffman data") // jpeg: a scan ends early
}
