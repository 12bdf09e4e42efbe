package photo

import "errors"

// Errors of Renditions, for errors.Is.
var (
	// ErrFormat means the original is not a JPEG, PNG, GIF or WebP image.
	ErrFormat = errors.New("photo: the file is not a JPEG, PNG, GIF or WebP image")
	// ErrTooLarge means the original has more pixels than Options.MaxPixels.
	ErrTooLarge = errors.New("photo: the image has too many pixels")
)
