// Package gallery is PicPool's domain: what an image is (Image), which
// keys are valid (ParseKey), how failures are told apart (Error and its
// Codes, the sentinels ErrNotFound, ErrInvalid, ErrUnavailable and
// ErrOutcomeUnknown), and the two services the servers call: Service
// (upload, fetch through the cache pool, list, delete all) and Control
// (the pool's capacity, policy and size, manual or automatic, and the
// hand-over of a change to the process that owns the pool).
//
// It knows no transport: handlers maps its Codes to HTTP statuses in one
// place, and store implements the interfaces it declares (ImageStore,
// the forward queue) and returns its types.
package gallery
