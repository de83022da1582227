//go:build !unix

package server

// fileLimit reports that the limit on open descriptors is unknown here.
func fileLimit() (uint64, bool) { return 0, false }
