package main

import (
	"fmt"

	"github.com/picpool/picpool/handlers"
)

// addMaxMegapixels adds --max-megapixels, the largest image a server
// takes: every upload is decoded whole, and this bounds what a decode may
// cost (see handlers.ImageLimits).
func addMaxMegapixels(f *flags) *int {
	return f.int("max-megapixels", "PICPOOL_MAX_MEGAPIXELS", handlers.DefaultMaxPixels/1_000_000,
		"largest image accepted, in megapixels: its canvas, and every frame of an animation together; "+
			"larger ones are refused (413) before they are decoded. "+
			fmt.Sprintf("Decodes in flight hold at most %d bytes a pixel of it between them (%d MB at the default)",
				handlers.MaxDecodeBytesPerPixel, handlers.MaxDecodeBytesPerPixel*handlers.DefaultMaxPixels/1_000_000))
}

// imageLimits turns the upload flags into limits, refusing sizes that are
// not positive.
func imageLimits(cmd string, maxUploadMB, maxMegapixels int) (handlers.ImageLimits, error) {
	if maxUploadMB <= 0 {
		return handlers.ImageLimits{}, fmt.Errorf("%s: --max-upload-mb must be more than 0; got %d", cmd, maxUploadMB)
	}
	if maxMegapixels <= 0 {
		return handlers.ImageLimits{}, fmt.Errorf("%s: --max-megapixels must be more than 0; got %d", cmd, maxMegapixels)
	}
	return handlers.ImageLimits{MaxBytes: int64(maxUploadMB) * mebibyte, MaxPixels: int64(maxMegapixels) * 1_000_000}, nil
}
