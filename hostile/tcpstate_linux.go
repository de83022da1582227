package hostile

import (
	"encoding/binary"
	"net"
	"syscall"
)

// peerClosed reports whether the server has closed or reset nc, without
// reading from it: the attacks that never read cannot learn it from a
// read. It asks the kernel for the socket's TCP state (TCP_INFO): anything
// past ESTABLISHED means a FIN or an RST came in. known is false when the
// state could not be read.
//
// The state is the first byte of struct tcp_info, so a 4-byte getsockopt
// (syscall.GetsockoptInt, which every Linux architecture has, 386's
// socketcall included) is enough: the kernel copies as much of the struct
// as asked for. The int is read back as the bytes the kernel wrote.
func peerClosed(nc *net.TCPConn) (closed, known bool) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return false, false
	}
	var v int
	var gerr error
	err = rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_TCP, syscall.TCP_INFO)
	})
	if err != nil || gerr != nil {
		return false, false
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	const tcpEstablished = 1 // include/net/tcp_states.h
	return b[0] != tcpEstablished, true
}
