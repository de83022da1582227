package autobahn

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD: the calling thread only.
const rusageThread = 1

// threadCPU returns the CPU time (user and system) the calling OS thread
// has used, and the thread's id, so that a caller can tell whether the
// goroutine stayed on one thread between two readings.
func threadCPU() (cpu time.Duration, tid int, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), syscall.Gettid(), true
}
