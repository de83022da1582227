// Command gws is the gws echo server that cmd/compare starts: gws's own
// server (gws.NewServer, its Quick Start) with the echo handler of
// internal/peers; -compress enables PermessageDeflate as its README does.
package main

import (
	"net"

	"github.com/lxzan/gws"
	"github.com/rfc6455/ws/bench/internal/peers"
	"github.com/rfc6455/ws/bench/servers"
)

func main() {
	servers.Main("gws", func(ln net.Listener, o peers.Options) error {
		return gws.NewServer(peers.GWSHandler(), peers.GWSServerOption(o)).RunListener(ln)
	})
}
