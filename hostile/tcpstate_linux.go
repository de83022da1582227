package hostile

import (
	"net"
	"syscall"
	"unsafe"
)

// peerClosed reports whether the server has closed or reset nc, without
// reading from it: the attacks that never read cannot learn it from a
// read. It asks the kernel for the socket's TCP state (TCP_INFO): anything
// past ESTABLISHED means a FIN or an RST came in. known is false when the
// state could not be read.
func peerClosed(nc *net.TCPConn) (closed, known bool) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return false, false
	}
	var info syscall.TCPInfo
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		// syscall has no getsockopt for a struct; TCP_INFO needs one.
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err != nil || errno != 0 {
		return false, false
	}
	const tcpEstablished = 1 // include/net/tcp_states.h
	return info.State != tcpEstablished, true
}
