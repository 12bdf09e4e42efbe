// Package gallery is PicPool's domain: the image (Image), its key rules
// (ParseKey), the errors a request can meet and their codes (Error,
// Code), the limits of a pool's configuration, the gallery service
// (upload, fetch, list, delete all through the store and the cache pool)
// and the control service (configure and resize the pool, hand changes
// over to the process that owns it). Transports (handlers) and storage
// (store) import it; it imports neither.
package gallery
