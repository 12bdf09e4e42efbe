package photo

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
)

// DefaultQuality is the JPEG quality of renditions when Options leaves it
// zero: 82, the figure WordPress also uses for its resized images. On the
// camera-like 12 MP test picture the 1600 px rendition measured 194 KB and
// 33.3 dB PSNR at quality 75, 247 KB and 35.4 dB at 82, 366 KB and 39.3 dB
// at 90: below 82 blocking starts to show in skies, above it each dB costs
// more bytes on every view of the Show page. A 320 px thumbnail is 3–4 KB
// at any of these qualities.
const DefaultQuality = 82

// Renditions are JPEG rather than WebP. On a camera-like 1600 px
// rendition, libwebp (through github.com/gen2brain/webp: WebAssembly under
// wazero, no cgo) reached the PSNR of JPEG quality 85 (35.2 dB, 290 KB)
// in 127 KB at quality 60, method 1: less than half the bytes. But it
// encoded 3.9× slower than image/jpeg at method 1 (152 ms against 39 ms,
// adding half again to the 245 ms an original costs) and 14× slower at
// libwebp's default method 4; and importing that package registers a
// second "webp" decoder for the whole program, and makes it load the
// system's libwebp.so, when one is installed and the binary is dynamically
// linked, instead of the WebAssembly build. Worth revisiting once cache
// capacity or bandwidth, not CPU, is what limits the gallery.

// encode writes a rendition: JPEG for opaque images, PNG for images with
// any transparency, so that a transparent PNG stays transparent instead
// of turning black (JPEG has no alpha) or white on a page of another
// colour. Neither output carries EXIF, XMP or comments: Go's encoders
// write none, and the only thing added is a kept ICC profile.
func encode(r raster, icc []byte, quality int) (data []byte, contentType string, err error) {
	var buf bytes.Buffer
	if !r.opaque() {
		if err := png.Encode(&buf, r.image()); err != nil {
			return nil, "", fmt.Errorf("photo: encode PNG: %w", err)
		}
		data = buf.Bytes()
		if keepICC(icc, "RGB ") {
			data = withPNGICC(data, icc)
		}
		return data, "image/png", nil
	}
	if err := jpeg.Encode(&buf, r.image(), &jpeg.Options{Quality: quality}); err != nil {
		return nil, "", fmt.Errorf("photo: encode JPEG: %w", err)
	}
	data = buf.Bytes()
	space := "RGB "
	if r.kind == kindGray {
		space = "GRAY"
	}
	if keepICC(icc, space) {
		data = withJPEGICC(data, icc)
	}
	return data, "image/jpeg", nil
}
