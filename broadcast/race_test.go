//go:build race

package broadcast_test

// raceEnabled reports a race-detector build, in which sync.Pool drops
// items at random and allocation counts mean nothing.
const raceEnabled = true
