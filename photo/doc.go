// Package photo understands image files. It has two jobs on one subject:
// it checks an upload (its format judged by its content, its size in bytes
// and pixels read from its headers, and every frame decoded whole within a
// memory budget, so that neither a damaged file nor a decompression bomb is
// stored), and it turns a stored original into renditions, smaller copies
// for pages to show.
//
// Renditions takes the original's bytes (JPEG, PNG, GIF or WebP; the first
// frame of an animated GIF) and returns, for each requested Size, an
// encoded image no larger than Size.MaxSide on its long side, never larger
// than the original, turned upright by the original's EXIF orientation,
// with its pixel width and height for the page's width and height
// attributes. It refuses an original over the caller's pixel limit before
// decoding its pixels.
//
// Renditions carry no metadata: no EXIF (so no GPS position, camera serial
// or orientation), no XMP, no comments. The one thing kept is an ICC
// colour profile other than sRGB, which the colours need (see icc.go).
// Opaque images become JPEG (DefaultQuality); images with transparency
// become PNG, so that transparency survives.
//
// The package does no I/O and keeps no state: caching, HTTP and the
// choice of when to make renditions belong to its callers.
package photo
