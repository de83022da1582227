// Command nbio is the lesismal/nbio echo server that cmd/compare starts: the
// endpoint of internal/peers, served as that library recommends.
package main

import "github.com/rfc6455/ws/bench/servers"

func main() { servers.Main("nbio", nil) }
