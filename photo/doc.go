// Package photo understands image files: it checks an upload (its format
// judged by its content, its size in bytes and pixels read from its
// headers, and every frame decoded whole within a memory budget, so that
// neither a damaged file nor a decompression bomb is stored).
package photo
