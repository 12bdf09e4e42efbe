package photo

import (
	"image"
	"image/draw"
)

// plane is a w×h grid of 8-bit samples with ch interleaved channels.
type plane struct {
	pix      []byte
	w, h, ch int
	stride   int
}

func newPlane(w, h, ch int) plane {
	return plane{pix: make([]byte, w*h*ch), w: w, h: h, ch: ch, stride: w * ch}
}

// rasterKind says what a raster's planes hold.
type rasterKind int

const (
	kindYCbCr rasterKind = iota // Y, Cb, Cr planes; the rasters this package makes are 4:2:0
	kindGray                    // one luma plane
	kindRGBA                    // one plane of premultiplied RGBA
)

// raster is an image as planes, the form the resampler and the orientation
// work on. A JPEG stays in YCbCr from decoder to encoder: no colour
// conversion of the 12 MP original, and the chroma is resampled at its
// own resolution instead of being upsampled and subsampled again.
type raster struct {
	kind   rasterKind
	w, h   int
	planes []plane
}

// toRaster wraps or converts a decoded image. YCbCr and Gray images are
// wrapped without copying; anything else is drawn into premultiplied RGBA,
// which makes resampling correct at transparent edges.
func toRaster(m image.Image) raster {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	switch v := m.(type) {
	case *image.YCbCr:
		if b.Min == (image.Point{}) {
			cw, ch := chromaSize(w, h, v.SubsampleRatio)
			return raster{kind: kindYCbCr, w: w, h: h, planes: []plane{
				{pix: v.Y, w: w, h: h, ch: 1, stride: v.YStride},
				{pix: v.Cb, w: cw, h: ch, ch: 1, stride: v.CStride},
				{pix: v.Cr, w: cw, h: ch, ch: 1, stride: v.CStride},
			}}
		}
	case *image.Gray:
		if b.Min == (image.Point{}) {
			return raster{kind: kindGray, w: w, h: h, planes: []plane{{pix: v.Pix, w: w, h: h, ch: 1, stride: v.Stride}}}
		}
	case *image.RGBA:
		if b.Min == (image.Point{}) {
			return raster{kind: kindRGBA, w: w, h: h, planes: []plane{{pix: v.Pix, w: w, h: h, ch: 4, stride: v.Stride}}}
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
	return raster{kind: kindRGBA, w: w, h: h, planes: []plane{{pix: dst.Pix, w: w, h: h, ch: 4, stride: dst.Stride}}}
}

// planeSizes are the plane sizes of a w×h raster of the given kind as this
// package makes it (YCbCr always 4:2:0, which a rotation keeps 4:2:0).
func planeSizes(kind rasterKind, w, h int) []image.Point {
	if kind == kindYCbCr {
		c := image.Pt(ceilDiv(w, 2), ceilDiv(h, 2))
		return []image.Point{{w, h}, c, c}
	}
	return []image.Point{{w, h}}
}

// resize resamples every plane of r to make it w×h; a YCbCr raster comes
// out 4:2:0 whatever its subsampling went in.
func resize(r raster, w, h int) raster {
	sizes := planeSizes(r.kind, w, h)
	out := raster{kind: r.kind, w: w, h: h, planes: make([]plane, len(r.planes))}
	for i, p := range r.planes {
		out.planes[i] = resample(p, sizes[i].X, sizes[i].Y)
	}
	return out
}

// image returns the raster as an image the standard encoders take
// without copying.
func (r raster) image() image.Image {
	rect := image.Rect(0, 0, r.w, r.h)
	p := r.planes
	switch r.kind {
	case kindYCbCr:
		return &image.YCbCr{Y: p[0].pix, Cb: p[1].pix, Cr: p[2].pix, YStride: p[0].stride, CStride: p[1].stride,
			SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: rect}
	case kindGray:
		return &image.Gray{Pix: p[0].pix, Stride: p[0].stride, Rect: rect}
	}
	return &image.RGBA{Pix: p[0].pix, Stride: p[0].stride, Rect: rect}
}

// opaque reports whether every pixel is fully opaque.
func (r raster) opaque() bool {
	if r.kind != kindRGBA {
		return true
	}
	p := r.planes[0]
	for y := range p.h {
		row := p.pix[y*p.stride : y*p.stride+p.w*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

// chromaSize is the size of a chroma plane of a w×h YCbCr image at the
// origin, as image.NewYCbCr lays it out.
func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return ceilDiv(w, 2), h
	case image.YCbCrSubsampleRatio420:
		return ceilDiv(w, 2), ceilDiv(h, 2)
	case image.YCbCrSubsampleRatio440:
		return w, ceilDiv(h, 2)
	case image.YCbCrSubsampleRatio411:
		return ceilDiv(w, 4), h
	case image.YCbCrSubsampleRatio410:
		return ceilDiv(w, 4), ceilDiv(h, 2)
	}
	return w, h
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
