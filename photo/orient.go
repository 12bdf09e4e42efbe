package photo

// orientedSize is the upright size of a w×h image stored with the EXIF
// orientation o: orientations 5 to 8 turn it a quarter, swapping the sides.
func orientedSize(w, h, o int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}

// orient returns r turned upright from EXIF orientation o (1 to 8).
// Renditions are turned after resampling, on at most 1600 px, never on
// the 12 MP original.
func orient(r raster, o int) raster {
	if o < 2 || o > 8 {
		return r
	}
	w, h := orientedSize(r.w, r.h, o)
	out := raster{kind: r.kind, w: w, h: h, planes: make([]plane, len(r.planes))}
	for i, p := range r.planes {
		out.planes[i] = orientPlane(p, o)
	}
	return out
}

// orientPlane turns one plane upright. For each pixel (u, v) of the
// upright plane it reads the stored pixel (x, y) that EXIF says belongs
// there; for orientation 6, for example, the stored row 0 is the visual
// right-hand side and the stored column 0 the visual top.
func orientPlane(p plane, o int) plane {
	w, h := orientedSize(p.w, p.h, o)
	out := newPlane(w, h, p.ch)
	for v := range h {
		row := out.pix[v*out.stride:]
		for u := range w {
			var x, y int
			switch o {
			case 2: // mirrored left to right
				x, y = p.w-1-u, v
			case 3: // turned half a turn
				x, y = p.w-1-u, p.h-1-v
			case 4: // mirrored top to bottom
				x, y = u, p.h-1-v
			case 5: // mirrored along the top-left to bottom-right diagonal
				x, y = v, u
			case 6: // stored a quarter turn anticlockwise: shown a quarter turn clockwise
				x, y = v, p.h-1-u
			case 7: // mirrored along the other diagonal
				x, y = p.w-1-v, p.h-1-u
			case 8: // stored a quarter turn clockwise: shown a quarter turn anticlockwise
				x, y = p.w-1-v, u
			}
			copy(row[u*p.ch:(u+1)*p.ch], p.pix[y*p.stride+x*p.ch:])
		}
	}
	return out
}
