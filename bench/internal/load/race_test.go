//go:build race

package load

// raceEnabled: under the race detector sync.Pool drops items at random, so
// pooled buffers are allocated again and allocation counts mean nothing.
const raceEnabled = true
