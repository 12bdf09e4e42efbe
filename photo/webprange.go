package photo

import "image"

// expandStudioRange rescales, in place, the samples of a lossy WebP that
// golang.org/x/image/webp returns as an image.YCbCr (or the YCbCr part of
// an image.NYCbCrA). VP8 codes BT.601 "studio range" samples (Y in 16–235,
// Cb and Cr in 16–240), but Go's YCbCr conversion assumes JPEG's full
// range, so without this white comes out as RGB 235 and black as 16: every
// rendition of a WebP original would look grey and flat (golang/go#40173,
// open). Full-range JPEG conversion of the rescaled samples equals BT.601
// studio-range conversion of the originals: 1.402·255/224 = 1.596, the
// studio coefficient. Lossless WebP decodes to NRGBA and is left alone.
func expandStudioRange(m image.Image) {
	var p *image.YCbCr
	switch v := m.(type) {
	case *image.YCbCr:
		p = v
	case *image.NYCbCrA:
		p = &v.YCbCr
	default:
		return
	}
	var luma, chroma [256]byte
	for i := range 256 {
		luma[i] = clampRound((float64(i) - 16) * 255 / 219)
		chroma[i] = clampRound((float64(i)-128)*255/224 + 128)
	}
	for i, v := range p.Y {
		p.Y[i] = luma[v]
	}
	for i, v := range p.Cb {
		p.Cb[i] = chroma[v]
	}
	for i, v := range p.Cr {
		p.Cr[i] = chroma[v]
	}
}

// clampRound rounds v to the nearest byte value, clamping to 0–255.
func clampRound(v float64) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}
