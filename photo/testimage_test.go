package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
)

// cameraImage is a w×h picture with what a camera photo has and flat noise
// lacks: a smooth sky gradient, a sun with a hard edge, textured ground
// with fine detail, and mild sensor noise, from a fixed seed.
func cameraImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(15, 1600))
	colWave := make([]float64, w)
	for x := range w {
		colWave[x] = math.Sin(float64(x) * 0.9)
	}
	horizon := h * 11 / 20
	for y := range h {
		fy := float64(y) / float64(h)
		rowWave := math.Sin(float64(y) * 0.7)
		for x := range w {
			fx := float64(x) / float64(w)
			var r, g, b float64
			if y < horizon {
				r, g, b = 90+120*fy, 140+60*fx-50*fy, 230-150*fy
				if dx, dy := fx-0.7, (fy-0.25)*float64(h)/float64(w); dx*dx+dy*dy < 0.004 {
					r, g, b = 250, 215, 90
				}
			} else {
				t := colWave[(x+y/3)%w] * rowWave // grass-like texture at 1–3 px
				r, g, b = 70+35*t+30*fx, 115+45*t, 45+20*t
			}
			n := rng.NormFloat64() * 3
			o := m.PixOffset(x, y)
			m.Pix[o+0], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = clampRound(r+n), clampRound(g+n), clampRound(b+n), 0xFF
		}
	}
	return m
}

// camera12MP is a 4000×3000 camera-like JPEG at quality 92, about what a
// phone writes, made once per test binary.
var camera12MP = sync.OnceValue(func() []byte {
	return mustJPEG(cameraImage(4000, 3000), 92)
})

func mustJPEG(m image.Image, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		panic(err) // an in-memory RGBA encode cannot fail
	}
	return buf.Bytes()
}

// exifTIFF is TIFF-structured EXIF data with one IFD0 entry, Orientation,
// in the given byte order, as a camera writes it.
func exifTIFF(orientation int, order binary.AppendByteOrder) []byte {
	var b []byte
	if order == binary.LittleEndian {
		b = append(b, "II"...)
	} else {
		b = append(b, "MM"...)
	}
	b = order.AppendUint16(b, 42)
	b = order.AppendUint32(b, 8) // IFD0 right after the header
	b = order.AppendUint16(b, 1) // one entry
	b = order.AppendUint16(b, 0x0112)
	b = order.AppendUint16(b, 3) // SHORT
	b = order.AppendUint32(b, 1) // one value, held in the first two bytes
	b = order.AppendUint16(b, uint16(orientation))
	b = order.AppendUint16(b, 0)
	b = order.AppendUint32(b, 0) // no next IFD
	return b
}

// withEXIF returns the JPEG with an APP1 "Exif" segment holding the
// orientation right after SOI, where cameras put it, plus a GPS-like
// payload so that a test can tell it is not copied.
func withEXIF(jpg []byte, orientation int) []byte {
	tiff := exifTIFF(orientation, binary.BigEndian)
	tiff = append(tiff, "GPS 51.5007N 0.1246W"...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
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
