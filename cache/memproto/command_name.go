package memproto

// CommandName names a command line's command for statistics: the
// retrievals as "get", the classic stores as "set", "delete", the meta
// commands by their own names (mg, ms, md, ma, mn), and everything else
// as "other", so that a client cannot grow a label set. It does not
// allocate.
func CommandName(cmd []byte) string {
	switch string(cmd) {
	case "get", "gets", "gat", "gats":
		return "get"
	case "set", "add", "replace", "append", "prepend", "cas":
		return "set"
	case "delete":
		return "delete"
	case "mg":
		return "mg"
	case "ms":
		return "ms"
	case "md":
		return "md"
	case "ma":
		return "ma"
	case "mn":
		return "mn"
	}
	return "other"
}
