package handlers

import (
	"bytes"
	"image/color"
	"net/http"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// TestAPIUploadRefusesDamagedImagesAndBombs: through the test API, a
// damaged file of each format is refused with 415 and a bomb with 413,
// each saying why, at the server's default limit of 32 megapixels; a
// refused upload stores nothing.
func TestAPIUploadRefusesDamagedImagesAndBombs(t *testing.T) {
	pngData := testimg.EncodePNG(t, testimg.Noise(64, 64))
	idat := testimg.IDATOf(t, pngData)
	jpegData := testimg.EncodeJPEG(t, testimg.Noise(64, 64))
	gifHeader, gifBlock := testimg.GIFParts(t, testimg.EncodeGIF(t, testimg.Noise(64, 64)))
	noisy := testimg.VP8L(64, 64, color.NRGBA{9, 9, 9, 255}, true)
	tests := []struct {
		name string
		data []byte
		code int
		msg  string
	}{
		{"png whose IDAT is cut", testimg.PNGWithIDAT(t, pngData, idat[:len(idat)/2]), 415, "The PNG image is damaged: the image data is cut short."},
		{"png of 64 megapixels", testimg.PNGBomb(t, 8000, 8000), 413, "The image is 8000 × 8000 pixels (64 megapixels); the limit is 32 megapixels. Please scale it down."},
		{"jpeg cut short", jpegData[:len(jpegData)*2/3], 415, "The JPEG image is damaged: the image data is cut short."},
		{"jpeg whose header says 50000 × 50000", testimg.WithJPEGSize(t, jpegData, 50000, 50000), 413, "The image is 50000 × 50000 pixels (2500 megapixels); the limit is 32 megapixels. Please scale it down."},
		{"gif whose frame 2 of 3 is cut short", bytes.Join([][]byte{gifHeader, gifBlock, testimg.CutLZW(t, gifBlock, 100), gifBlock, {0x3b}}, nil), 415,
			"The GIF image is damaged: the image data of frame 2 of 3 is cut short."},
		{"gif whose frames hold 36 megapixels", testimg.EncodeGIF(t, testimg.BlankFrames(3, 4000, 3000)...), 413,
			"The GIF animation's 3 frames hold 36 megapixels in all; the limit is 32 megapixels. Please shorten it or scale it down."},
		{"webp whose bitstream is cut", testimg.WebPStill(noisy[:len(noisy)/2]), 415, "The WebP image is damaged: the image data is cut short."},
		{"webp whose frame 2 of 2 is cut", testimg.WebPAnimated(64, 64, testimg.SolidFrame(64, 64), testimg.WebPFrame{W: 64, H: 64, Bitstream: noisy[:len(noisy)/2]}), 415,
			"The WebP image is damaged: the image data of frame 2 of 2 is cut short."},
		{"webp of 16384 × 16384", testimg.WebPStill(testimg.VP8L(16384, 16384, color.NRGBA{}, false)), 413, "The image is 16384 × 16384 pixels (268 megapixels); the limit is 32 megapixels. Please scale it down."},
	}
	f := newFixture(t, setup{maxUpload: 1 << 20})
	srv := f.galleryServer(t, openAPI)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAPIError(t, upload(t, srv.URL, "/api/upload", "refused", tt.data), tt.code, tt.msg)
			if keys := f.images.keys(); len(keys) != 0 {
				t.Errorf("stored %q", keys)
			}
		})
	}
}

// TestAPIUploadAcceptsAnimations: every frame of an animated GIF and an
// animated WebP decodes, so both are stored.
func TestAPIUploadAcceptsAnimations(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	for key, data := range map[string][]byte{
		"gif":  testimg.EncodeGIF(t, testimg.Noise(32, 32), testimg.Noise(32, 32), testimg.Noise(32, 32)),
		"webp": testimg.WebPAnimated(32, 32, testimg.SolidFrame(32, 32), testimg.WebPFrame{W: 16, H: 16, Bitstream: testimg.VP8L(16, 16, color.NRGBA{1, 2, 3, 4}, true)}),
	} {
		checkJSON(t, upload(t, srv.URL, "/api/upload", key, data), http.StatusOK, okKey(key))
	}
}

// TestUploadFormSaysWhyAnImageIsRefused: the gallery's form shows the
// refusal next to the file field.
func TestUploadFormSaysWhyAnImageIsRefused(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	r := postMultipart(t, srv.URL+"/upload", []formPart{keyPart("bomb"), filePart("b.webp", testimg.WebPStill(testimg.VP8L(16384, 16384, color.NRGBA{}, false)))}, "HX-Request", "true")
	doc := checkHTML(t, r, false)
	want := "The image is 16384 × 16384 pixels (268 megapixels); the limit is 32 megapixels. Please scale it down."
	if got := byTestID(doc, "upload-file-error").Text(); got != want {
		t.Errorf("file error %q, want %q", got, want)
	}
	if keys := f.images.keys(); len(keys) != 0 {
		t.Errorf("stored %q", keys)
	}
}
