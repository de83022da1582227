//go:build !amd64 || purego

package frame

// useAVX2 is false where there is no assembly (other architectures, or the
// purego build tag); Mask then uses its pure-Go word loop only.
var useAVX2 = false

// maskWide returns p unchanged: the pure-Go loop in Mask does all the work.
func maskWide(key32 uint32, p []byte) []byte { return p }
