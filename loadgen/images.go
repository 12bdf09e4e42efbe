package loadgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/picpool/picpool/internal/bytesize"
)

// Image is one file the generator uploads.
type Image struct {
	Name string // a file name for the multipart form
	Data []byte
}

// maxDistinctImages bounds the images generated: keys share them, which
// costs the server nothing (it stores each upload as its own object) and
// keeps the generator's CPU for sending requests.
const maxDistinctImages = 64

// GenerateImages returns n images whose sizes are spread evenly over
// sizes, alternately PNG and JPEG, of random noise: noise does not
// compress, so the bytes on the wire are the sizes asked for (roughly:
// PNG within a few hundred bytes, JPEG within some percent).
func GenerateImages(r *rand.Rand, n int, sizes Sizes) ([]Image, error) {
	n = min(n, maxDistinctImages)
	images := make([]Image, n)
	for i := range n {
		target := sizes.Min
		if n > 1 {
			target += (sizes.Max - sizes.Min) * int64(i) / int64(n-1)
		}
		var err error
		if i%2 == 0 {
			images[i].Name = fmt.Sprintf("noise-%d.png", i)
			images[i].Data, err = noisePNG(r, target)
		} else {
			images[i].Name = fmt.Sprintf("noise-%d.jpg", i)
			images[i].Data, err = noiseJPEG(r, target)
		}
		if err != nil {
			return nil, fmt.Errorf("loadgen: generate an image of %s: %w", bytesize.Format(target), err)
		}
	}
	return images, nil
}

// noiseImage is an opaque w×h image of random pixels.
func noiseImage(r *rand.Rand, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	pix := img.Pix
	for i := 0; i+8 <= len(pix); i += 8 {
		binary.LittleEndian.PutUint64(pix[i:], r.Uint64())
	}
	for i := 3; i < len(pix); i += 4 {
		pix[i] = 255 // opaque: PNG then stores 3 bytes a pixel
	}
	return img
}

// side returns a w×h about as large as pixels, roughly square.
func side(pixels float64) (w, h int) {
	pixels = max(pixels, 1)
	w = max(int(math.Sqrt(pixels)), 1)
	return w, max(int(pixels)/w, 1)
}

// noisePNG is an uncompressed PNG of about target bytes: 3 bytes a pixel
// and one filter byte a row, plus headers (noise would not compress, so
// compressing would only cost time).
func noisePNG(r *rand.Rand, target int64) ([]byte, error) {
	const overhead = 120 // signature, IHDR, IEND, zlib and stored-block headers
	w, h := side(float64(target-overhead) / 3)
	for ; h > 1 && int64(h*(3*w+1))+overhead > target; h-- {
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, noiseImage(r, w, h)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// noiseJPEG is a JPEG of about target bytes: a small sample measures the
// bytes a noise pixel costs at quality 90, then one correction.
func noiseJPEG(r *rand.Rand, target int64) ([]byte, error) {
	encode := func(pixels float64) ([]byte, error) {
		var buf bytes.Buffer
		w, h := side(pixels)
		err := jpeg.Encode(&buf, noiseImage(r, w, h), &jpeg.Options{Quality: 90})
		return buf.Bytes(), err
	}
	pixels := float64(64 * 64)
	var b []byte
	for range 3 {
		var err error
		if b, err = encode(pixels); err != nil {
			return nil, err
		}
		got := float64(len(b))
		if math.Abs(got-float64(target)) < 0.03*float64(target) {
			break
		}
		pixels *= float64(target) / got
	}
	return b, nil
}

// imageExts are the file types the server accepts.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// LoadImages reads the images in dir (not its subfolders), up to limit
// files in name order. The server judges them by content; a file it
// refuses shows as a failed seed upload.
func LoadImages(dir string, limit int) ([]Image, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loadgen: --images: %w", err)
	}
	var images []Image
	for _, e := range entries {
		if len(images) >= limit {
			break
		}
		if !e.Type().IsRegular() || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("loadgen: --images: %w", err)
		}
		if info.Size() > MaxImageBytes {
			return nil, fmt.Errorf("loadgen: --images: %s is larger than %s", e.Name(), bytesize.Format(MaxImageBytes))
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("loadgen: --images: %w", err)
		}
		images = append(images, Image{Name: e.Name(), Data: b})
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("loadgen: --images %s: no .png, .jpg, .jpeg, .gif or .webp file in it", dir)
	}
	return images, nil
}
