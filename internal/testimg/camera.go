package testimg

import (
	"encoding/binary"
	"image"
	"math"
	"math/rand/v2"
)

// Camera is a w×h picture with what a camera photo has and flat noise
// lacks: a smooth sky gradient, a sun with a hard edge, textured ground
// with fine detail, and mild sensor noise, from a fixed seed.
func Camera(w, h int) *image.RGBA {
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
			m.Pix[o+0], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = Clamp(r+n), Clamp(g+n), Clamp(b+n), 0xFF
		}
	}
	return m
}

// Clamp rounds v to the nearest byte value, clamping to 0..255.
func Clamp(v float64) byte { return byte(math.Round(min(max(v, 0), 255))) }

// EXIFOrientation is TIFF-structured EXIF data with one IFD0 entry, Orientation,
// in the given byte order, as a camera writes it.
func EXIFOrientation(orientation int, order binary.AppendByteOrder) []byte {
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

// WithEXIF returns the JPEG with an APP1 "Exif" segment holding the
// orientation right after SOI, where cameras put it, plus a GPS-like
// payload so that a test can tell it is not copied.
func WithEXIF(jpg []byte, orientation int) []byte {
	tiff := EXIFOrientation(orientation, binary.BigEndian)
	tiff = append(tiff, "GPS 51.5007N 0.1246W"...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}
