//go:build !linux

package autobahn

import "time"

// threadCPU is not available here: the suite reports no CPU per case.
func threadCPU() (cpu time.Duration, tid int, ok bool) { return 0, 0, false }
