//go:build !unix

package conn

import "net"

// rawReader is not available on this platform: the frame reader keeps its
// buffer for the life of the connection.
type rawReader struct{ rc any }

func readsWithoutBuffer(net.Conn) bool { return false }

func (c *Conn) initRawRead(buffered int) {}

func (c *Conn) awaitInput() error { return nil }
