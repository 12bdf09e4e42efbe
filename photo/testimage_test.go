package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math"
	"sync"

	"github.com/picpool/picpool/internal/testimg"
)

// camera12MP is a 4000×3000 camera-like JPEG at quality 92, about what a
// phone writes, made once per test binary.
var camera12MP = sync.OnceValue(func() []byte {
	return mustJPEG(testimg.Camera(4000, 3000), 92)
})

func mustJPEG(m image.Image, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		panic(err) // an in-memory RGBA encode cannot fail
	}
	return buf.Bytes()
}

// withPNGChunk returns the PNG with a chunk of the given type inserted
// right after IHDR, with its CRC.
func withPNGChunk(pngData []byte, typ string, body []byte) []byte {
	const ihdrEnd = 33
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, pngData[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, pngData[ihdrEnd:]...)
}

// psnr is the peak signal-to-noise ratio of b against a, in dB, over the
// RGB samples: a higher figure means b is closer to a.
func psnr(a, b image.Image) float64 {
	var se float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range [3]float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*r.Dx()*r.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// zonePlate is a w×h grey pattern of rings whose spatial frequency rises
// from the centre to near the Nyquist limit at the edges: a resampler that
// aliases draws false rings (moiré) on it.
func zonePlate(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := float64(x-w/2), float64(y-h/2)
			v := clampRound(127.5 + 127.5*math.Cos(math.Pi*(dx*dx+dy*dy)/float64(w)*0.9))
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = v, v, v, 0xFF
		}
	}
	return m
}

// The camera-like picture and its EXIF live in internal/testimg, for the
// gallery's tests too.
var (
	cameraImage = testimg.Camera
	exifTIFF    = testimg.EXIFOrientation
	withEXIF    = testimg.WithEXIF
)
